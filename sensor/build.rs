//! Compiles `sensor-ebpf` (nightly, bpfel-unknown-none, bpf-linker) with
//! aya-build; the object is embedded by `capture::loader`.
//!
//! `AYA_BUILD_SKIP=1` skips it (then the embedded object is empty and
//! `sensor watch` says so at start).

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let ebpf_dir = manifest.join("../sensor-ebpf").canonicalize()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", ebpf_dir.display());
    println!("cargo:rerun-if-changed=../sensor-common/src");
    // Keep a placeholder so include_bytes! works when the eBPF build is skipped.
    let object = out_dir.join("sensor");
    if !object.exists() {
        std::fs::write(&object, b"")?;
    }
    // aya-build runs `cargo build --package sensor-ebpf` in the current
    // directory; sensor-ebpf is its own workspace (excluded from ours).
    std::env::set_current_dir(&ebpf_dir)?;
    let package = aya_build::Package {
        name: "sensor-ebpf",
        root_dir: ebpf_dir.to_str().expect("utf-8 path"),
        ..Default::default()
    };
    aya_build::build_ebpf([package], aya_build::Toolchain::default()).map_err(|err| {
        anyhow::anyhow!(
            "building the eBPF programs (sensor-ebpf) failed: {err:#}\n\
             They need the nightly toolchain with rust-src and bpf-linker: \
             run `cargo xtask setup`."
        )
    })
}
