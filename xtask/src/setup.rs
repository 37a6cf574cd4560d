//! `cargo xtask setup`: installs what building, running and testing the sensor
//! needs, skipping what is already there, one step at a time:
//!
//! 1. preflight: root, kernel BTF, the bpf() syscall (nothing can fix these here)
//! 2. tracefs mounted at /sys/kernel/tracing (tracepoint attach reads it)
//! 3. Debian packages: LLVM 22 for bpf-linker, podman + runc + debootstrap, python3-venv
//! 4. Rust: clippy + rustfmt, the nightly toolchain with rust-src (eBPF crate)
//! 5. bpf-linker, built from crates.io against LLVM 22
//! 6. /etc/containers/containers.conf: runc and ulimits that work on this host
//! 7. the podman test image, from a debootstrap rootfs
//! 8. the onnxruntime library, from PyPI's wheel, in models/.venv (see train.rs)
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use sensor_classifier::runtime;

use crate::util::{self, find_in_path, output, probe, run};

/// Image the container tests run in. Built by `tests/support/test-image.sh`.
pub const TEST_IMAGE: &str = "localhost/sensor-test:bookworm";

/// The onnxruntime library the sensor loads (ort's load-dynamic): the one in
/// the PyPI wheel that `cargo xtask train`'s venv (models/.venv) holds. Present
/// only after setup has installed it.
pub fn ort_dylib_path() -> Option<PathBuf> {
    runtime::venv_library(&util::workspace_root().join(runtime::VENV_DIR))
}

/// Environment every sensor and test process gets from the xtask. A value the
/// user already exported wins.
pub fn sensor_env() -> Vec<(&'static str, OsString)> {
    let user = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
    let mut env = Vec::new();
    if let Some(ort) = user("ORT_DYLIB_PATH").or_else(|| ort_dylib_path().map(Into::into)) {
        env.push(("ORT_DYLIB_PATH", ort));
    }
    env.push((
        "SENSOR_TEST_IMAGE",
        user("SENSOR_TEST_IMAGE").unwrap_or_else(|| TEST_IMAGE.into()),
    ));
    env.push(("PATH", util::path_with_cargo_bin()));
    env
}

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Only report what is present and what is missing; install nothing.
    #[arg(long)]
    pub check: bool,
}

const LLVM_PACKAGES: &[&str] = &["llvm-22-dev", "libpolly-22-dev"];
/// Debian packages and why each is needed.
const APT_PACKAGES: &[(&str, &str)] = &[
    ("build-essential", "C linker for cargo builds"),
    ("llvm-22-dev", "LLVM 22 that bpf-linker links against"),
    (
        "libpolly-22-dev",
        "needed by llvm-config --link-shared of LLVM 22",
    ),
    ("podman", "runs the container end-to-end tests"),
    (
        "runc",
        "the OCI runtime podman must use on this host (crun fails)",
    ),
    ("debootstrap", "builds the podman test image's rootfs"),
    (
        "containerd",
        "a real containerd for the Kubernetes-style container test (the test starts its own)",
    ),
    ("iproute2", "ip(8), for network namespaces in tests"),
    ("python3-venv", "venvs for onnxruntime and model training"),
];
/// Wait for another apt/dpkg run to finish instead of failing at once.
const APT_LOCK_WAIT: &str = "-oDPkg::Lock::Timeout=300";
const CONTAINERS_CONF: &str = "/etc/containers/containers.conf";
const ULIMITS: &[&str] = &["nofile=20000:20000", "nproc=4096:4096"];

pub fn main(args: Args) -> Result<()> {
    let missing = ensure(&args)?;
    if args.check && !missing.is_empty() {
        bail!(
            "{} missing (listed above); `cargo xtask setup` installs them",
            missing.len()
        );
    }
    Ok(())
}

/// Runs every step. Returns the names of missing pieces (only non-empty with `--check`).
pub fn ensure(args: &Args) -> Result<Vec<String>> {
    let mut s = Steps {
        check: args.check,
        missing: Vec::new(),
        podman_changed: false,
    };
    preflight()?;
    s.tracefs()?;
    s.apt_packages()?;
    s.rust_toolchains()?;
    s.bpf_linker()?;
    s.containers_conf()?;
    s.test_image()?;
    s.onnxruntime()?;
    Ok(s.missing)
}

fn report(step: &str, what: impl AsRef<str>) {
    eprintln!("setup: {step:<20} {}", what.as_ref());
}

struct Steps {
    check: bool,
    missing: Vec<String>,
    /// containers.conf or the image changed: smoke-test podman once at the end.
    podman_changed: bool,
}

impl Steps {
    /// In `--check` mode, records `what` as missing and returns false: skip installing.
    fn may_install(&mut self, step: &str, what: &str) -> bool {
        if self.check {
            report(step, format!("MISSING: {what}"));
            self.missing.push(what.to_string());
            false
        } else {
            report(step, format!("installing {what}"));
            true
        }
    }

    fn tracefs(&mut self) -> Result<()> {
        const STEP: &str = "tracefs";
        let dir = Path::new("/sys/kernel/tracing");
        if dir.join("events").is_dir() {
            report(STEP, "present (/sys/kernel/tracing)");
            return Ok(());
        }
        let supported = fs::read_to_string("/proc/filesystems")
            .map(|f| {
                f.lines()
                    .any(|l| l.split_whitespace().any(|w| w == "tracefs"))
            })
            .unwrap_or(false);
        if !supported {
            bail!(
                "this kernel has no tracefs (CONFIG_TRACING), so tracepoints cannot be attached; \
                 use a kernel built with CONFIG_FTRACE/CONFIG_TRACING"
            );
        }
        if self.may_install(STEP, "tracefs mount at /sys/kernel/tracing") {
            run(
                Command::new("mount")
                    .args(["-t", "tracefs", "tracefs"])
                    .arg(dir),
                "mount tracefs by hand (`mount -t tracefs tracefs /sys/kernel/tracing`) and rerun",
            )?;
            report(STEP, "mounted /sys/kernel/tracing");
        }
        Ok(())
    }

    fn apt_packages(&mut self) -> Result<()> {
        const STEP: &str = "debian packages";
        let names: Vec<&str> = APT_PACKAGES.iter().map(|(p, _)| *p).collect();
        let missing = missing_debs(&names);
        if missing.is_empty() {
            report(STEP, format!("present ({})", names.join(" ")));
            return Ok(());
        }
        for (package, why) in APT_PACKAGES.iter().filter(|(p, _)| missing.contains(p)) {
            report(STEP, format!("{package} is missing: {why}"));
        }
        if !self.may_install(STEP, &missing.join(" ")) {
            return Ok(());
        }
        if find_in_path("apt-get").is_none() {
            bail!(
                "these Debian packages are missing and there is no apt-get: {}. \
                 This setup supports Debian 12 (bookworm); install their equivalents by hand.",
                missing.join(" ")
            );
        }
        apt_update()?;
        let no_candidate: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|p| !has_candidate(p))
            .collect();
        if no_candidate.iter().any(|p| LLVM_PACKAGES.contains(p)) {
            add_bookworm_security_source()?;
            apt_update()?;
        }
        if let Some(p) = missing.iter().find(|p| !has_candidate(p)) {
            bail!(
                "apt has no installable version of {p} (see `apt-cache policy {p}`). \
                 On Debian 12 bookworm LLVM 22 comes from bookworm-security; check that \
                 /etc/apt/sources.list(.d) lists deb.debian.org/debian and debian-security."
            );
        }
        run(
            Command::new("apt-get")
                .args(["install", "-y", "-q", APT_LOCK_WAIT])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "see apt's message above; fix it and rerun `cargo xtask setup`",
        )?;
        let still = missing_debs(&missing);
        if !still.is_empty() {
            bail!(
                "apt-get install finished but {} still not installed",
                still.join(" ")
            );
        }
        report(STEP, format!("installed {}", missing.join(" ")));
        Ok(())
    }

    fn rust_toolchains(&mut self) -> Result<()> {
        const STEP: &str = "rust toolchains";
        if find_in_path("rustup").is_none() {
            bail!(
                "rustup is not installed (or not on PATH); install it from https://rustup.rs \
                 with the stable toolchain, then rerun `cargo xtask setup`"
            );
        }
        const NET_HINT: &str = "check network access to static.rust-lang.org, then rerun";
        let mut acted = false;
        // clippy and rustfmt for the toolchain that builds the workspace.
        for (tool, component) in [("clippy", "clippy"), ("fmt", "rustfmt")] {
            if probe(util::cargo().args([tool, "--version"])).is_some() {
                continue;
            }
            acted = true;
            if self.may_install(STEP, &format!("{component} component")) {
                run(
                    Command::new("rustup").args(["component", "add", component]),
                    NET_HINT,
                )?;
            }
        }
        // The eBPF crate builds with nightly and its rust-src (build-std=core).
        let toolchains = output(
            Command::new("rustup").args(["toolchain", "list"]),
            "rustup is broken; reinstall it from https://rustup.rs",
        )?;
        let has_nightly = toolchains
            .lines()
            .any(|l| l.starts_with("nightly-") || l.starts_with("nightly "));
        if !has_nightly {
            acted = true;
            if self.may_install(STEP, "nightly toolchain with rust-src") {
                run(
                    Command::new("rustup").args([
                        "toolchain",
                        "install",
                        "nightly",
                        "--profile",
                        "minimal",
                        "--component",
                        "rust-src",
                    ]),
                    NET_HINT,
                )?;
            }
        } else {
            let components = output(
                Command::new("rustup").args([
                    "component",
                    "list",
                    "--installed",
                    "--toolchain",
                    "nightly",
                ]),
                "the nightly toolchain is broken: `rustup toolchain uninstall nightly` and rerun",
            )?;
            let has_src = components
                .lines()
                .any(|l| l == "rust-src" || l.starts_with("rust-src-"));
            if !has_src {
                acted = true;
                if self.may_install(STEP, "rust-src component for nightly") {
                    run(
                        Command::new("rustup").args([
                            "component",
                            "add",
                            "rust-src",
                            "--toolchain",
                            "nightly",
                        ]),
                        NET_HINT,
                    )?;
                }
            }
        }
        if !acted {
            report(STEP, "present (clippy, rustfmt, nightly + rust-src)");
        } else if !self.check {
            report(STEP, "installed");
        }
        Ok(())
    }

    fn bpf_linker(&mut self) -> Result<()> {
        const STEP: &str = "bpf-linker";
        let mut reinstall = false;
        if let Some(path) = find_in_path("bpf-linker") {
            match linked_llvm(&path) {
                LinkedLlvm::Llvm22 | LinkedLlvm::Static => {
                    report(STEP, format!("present ({})", path.display()));
                    return Ok(());
                }
                LinkedLlvm::Other(lib) => {
                    report(STEP, format!("{} links {lib}, not LLVM 22", path.display()));
                    reinstall = true;
                }
                LinkedLlvm::Broken(why) => {
                    report(STEP, format!("{} is broken: {why}", path.display()));
                    reinstall = true;
                }
            }
        }
        if !self.may_install(STEP, "bpf-linker (cargo install, about 5 minutes)") {
            return Ok(());
        }
        let llvm_bin = Path::new("/usr/lib/llvm-22/bin");
        if !llvm_bin.join("llvm-config").exists() {
            bail!(
                "/usr/lib/llvm-22/bin/llvm-config is missing: install llvm-22-dev and \
                 libpolly-22-dev (`apt-get install llvm-22-dev libpolly-22-dev`) and rerun"
            );
        }
        let path = std::env::join_paths(
            std::iter::once(llvm_bin.to_path_buf())
                .chain(std::env::split_paths(&util::path_with_cargo_bin())),
        )?;
        let mut cmd = Command::new("cargo");
        cmd.args([
            "install",
            "bpf-linker",
            "--version",
            "0.13.0",
            "--no-default-features",
            "--features",
            "llvm-22",
        ])
        .env("PATH", path)
        // Outside the workspace, so its .cargo/config.toml plays no part.
        .current_dir(std::env::temp_dir());
        if reinstall {
            cmd.arg("--force");
        }
        run(
            &mut cmd,
            "bpf-linker must build against LLVM 22 from llvm-22-dev; see cargo's error above",
        )?;
        report(STEP, "installed");
        Ok(())
    }

    fn containers_conf(&mut self) -> Result<()> {
        const STEP: &str = "containers.conf";
        let path = Path::new(CONTAINERS_CONF);
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {CONTAINERS_CONF}")),
        };
        let mut doc: toml_edit::DocumentMut = text.parse().with_context(|| {
            format!("{CONTAINERS_CONF} is not valid TOML; fix or remove it and rerun")
        })?;
        let changes = apply_podman_settings(&mut doc);
        if changes.is_empty() {
            report(STEP, format!("present ({CONTAINERS_CONF}: runc, ulimits)"));
            return Ok(());
        }
        if !self.may_install(STEP, &format!("{CONTAINERS_CONF}: {}", changes.join(", "))) {
            return Ok(());
        }
        let mut new = doc.to_string();
        if text.is_empty() {
            new = format!(
                "# Written by `cargo xtask setup`: crun fails on this host's hybrid cgroup\n\
                 # setup, and the default rlimits are refused by runc here.\n{new}"
            );
        } else {
            let backup = path.with_extension("conf.before-sensor-setup");
            if !backup.exists() {
                fs::copy(path, &backup).with_context(|| format!("backing up {CONTAINERS_CONF}"))?;
            }
        }
        fs::create_dir_all(path.parent().unwrap())?;
        fs::write(path, new).with_context(|| format!("writing {CONTAINERS_CONF}"))?;
        self.podman_changed = true;
        report(STEP, format!("wrote {CONTAINERS_CONF}"));
        Ok(())
    }

    fn test_image(&mut self) -> Result<()> {
        const STEP: &str = "podman test image";
        let image = sensor_env()
            .into_iter()
            .find(|(k, _)| *k == "SENSOR_TEST_IMAGE")
            .map(|(_, v)| v)
            .unwrap();
        let exists = find_in_path("podman").is_some()
            && probe(Command::new("podman").args(["image", "exists"]).arg(&image)).is_some();
        if exists {
            report(STEP, format!("present ({})", image.to_string_lossy()));
        } else if self.may_install(
            STEP,
            &format!(
                "{} (debootstrap bookworm, about 1 minute)",
                image.to_string_lossy()
            ),
        ) {
            let script = util::workspace_root().join("tests/support/test-image.sh");
            run(
                Command::new(&script)
                    .env("SENSOR_TEST_IMAGE", &image)
                    .stdout(std::process::Stdio::null()),
                "debootstrap needs http://deb.debian.org; see the log above, then rerun",
            )?;
            self.podman_changed = true;
            report(STEP, "built");
        }
        if self.podman_changed && !self.check {
            let out = output(
                Command::new("podman")
                    .args(["run", "--rm"])
                    .arg(&image)
                    .args(["/usr/bin/python3", "-c", "print('podman ok')"]),
                "podman cannot run containers; check /etc/containers/containers.conf \
                 (runtime = \"runc\", default_ulimits) and `podman info`",
            )?;
            report(STEP, format!("smoke test: {}", out.trim()));
        }
        Ok(())
    }

    fn onnxruntime(&mut self) -> Result<()> {
        const STEP: &str = "onnxruntime";
        if let Some(lib) = ort_dylib_path() {
            report(STEP, format!("present ({})", lib.display()));
            return Ok(());
        }
        let what = format!(
            "onnxruntime=={} from PyPI into {}",
            runtime::ORT_VERSION,
            runtime::VENV_DIR
        );
        if !self.may_install(STEP, &what) {
            return Ok(());
        }
        // The training venv holds the wheel; train.rs owns how it is made.
        let lib = crate::train::ensure_onnxruntime().with_context(|| {
            format!(
                "installing {what} failed: pip needs access to pypi.org, and `python3 -m venv` \
                 needs Debian's python3-venv"
            )
        })?;
        report(STEP, format!("installed ({})", lib.display()));
        Ok(())
    }
}

/// Failures nothing here can install around: stop with what to do instead.
fn preflight() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "must run as root: setup installs Debian packages and the sensor loads eBPF \
             programs. Rerun as root, e.g. `sudo -E env PATH=\"$PATH\" cargo xtask ...` \
             (`cargo xtask run --no-setup -- replay TRACE` needs no root once the tools are installed)"
        );
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        bail!(
            "this kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing); the sensor \
             needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"
        );
    }
    check_bpf_syscall()?;
    report("preflight", "ok (root, BTF, bpf() syscall)");
    Ok(())
}

/// Creates (and closes) a one-entry array map: the cheapest proof that bpf() works.
fn check_bpf_syscall() -> Result<()> {
    #[repr(C)]
    struct MapCreate {
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
        map_flags: u32,
    }
    const BPF_MAP_CREATE: libc::c_long = 0;
    const BPF_MAP_TYPE_ARRAY: u32 = 2;
    let attr = MapCreate {
        map_type: BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        map_flags: 0,
    };
    // SAFETY: attr is a valid, fully initialized bpf_attr prefix of the size passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_CREATE,
            &attr as *const MapCreate,
            std::mem::size_of::<MapCreate>() as u32,
        )
    };
    if fd >= 0 {
        // SAFETY: fd was just returned by the kernel and is owned here.
        unsafe { libc::close(fd as i32) };
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ENOSYS) => bail!(
            "this kernel has no bpf() syscall (CONFIG_BPF_SYSCALL is off); the sensor needs eBPF"
        ),
        Some(libc::EPERM) => bail!(
            "the kernel refused bpf() ({err}): run as root with CAP_BPF and CAP_SYS_ADMIN \
             (in a container: --privileged)"
        ),
        _ => bail!("bpf() failed: {err}; the sensor needs a kernel with working eBPF"),
    }
}

/// Debian packages among `names` that are not installed.
fn missing_debs<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Package}\t${db:Status-Abbrev}\n"])
        .args(names)
        .stderr(std::process::Stdio::null())
        .output();
    let listing = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    names
        .iter()
        .copied()
        .filter(|name| {
            !listing.lines().any(|l| {
                let mut cols = l.split('\t');
                let pkg = cols.next().unwrap_or("");
                let pkg = pkg.split(':').next().unwrap_or("");
                pkg == *name && cols.next().unwrap_or("").starts_with("ii")
            })
        })
        .collect()
}

fn apt_update() -> Result<()> {
    run(
        Command::new("apt-get")
            .args(["update", "-q", APT_LOCK_WAIT])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "apt could not refresh its package lists; check network access to deb.debian.org",
    )
}

fn has_candidate(package: &str) -> bool {
    probe(Command::new("apt-cache").args(["policy", package]))
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).lines().any(|l| {
                l.trim()
                    .strip_prefix("Candidate:")
                    .is_some_and(|c| c.trim() != "(none)")
            })
        })
        .unwrap_or(false)
}

/// LLVM 22 reaches bookworm through its security suite; add it where an image
/// stripped it from the sources.
fn add_bookworm_security_source() -> Result<()> {
    let codename = fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME=").map(str::to_string))
        .unwrap_or_default();
    if codename != "bookworm" {
        bail!(
            "LLVM 22 packages are not available from this system's apt sources \
             (release '{codename}'); this setup supports Debian 12 bookworm"
        );
    }
    let mut sources = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        sources.extend(dir.flatten().map(|e| e.path()));
    }
    let listed = sources.iter().any(|p| {
        let is_source = p.extension().is_some_and(|e| e == "list" || e == "sources")
            || p.ends_with("sources.list");
        is_source
            && fs::read_to_string(p).is_ok_and(|t| {
                t.lines()
                    .any(|l| !l.trim_start().starts_with('#') && l.contains("bookworm-security"))
            })
    });
    if listed {
        return Ok(());
    }
    let file = "/etc/apt/sources.list.d/sensor-bookworm-security.sources";
    report(
        "debian packages",
        format!("adding bookworm-security in {file}"),
    );
    fs::write(
        file,
        "# Added by `cargo xtask setup`: LLVM 22 for Debian 12 ships in bookworm-security.\n\
         Types: deb\n\
         URIs: http://deb.debian.org/debian-security\n\
         Suites: bookworm-security\n\
         Components: main\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    )
    .with_context(|| format!("writing {file}"))
}

enum LinkedLlvm {
    Llvm22,
    Static,
    Other(String),
    Broken(String),
}

/// Which libLLVM a bpf-linker binary loads (a build against another LLVM, or
/// one whose LLVM was removed, must be rebuilt).
fn linked_llvm(bin: &Path) -> LinkedLlvm {
    let Some(out) = probe(Command::new("ldd").arg(bin)) else {
        return match probe(Command::new(bin).arg("--version")) {
            Some(_) => LinkedLlvm::Static,
            None => LinkedLlvm::Broken("it does not run".into()),
        };
    };
    let text = String::from_utf8_lossy(&out.stdout);
    if let Some(line) = text.lines().find(|l| l.contains("not found")) {
        return LinkedLlvm::Broken(line.trim().to_string());
    }
    match text.lines().find(|l| l.contains("libLLVM")) {
        None => LinkedLlvm::Static,
        Some(l) if l.contains("libLLVM.so.22") || l.contains("libLLVM-22") => LinkedLlvm::Llvm22,
        Some(l) => LinkedLlvm::Other(l.split_whitespace().next().unwrap_or(l).to_string()),
    }
}

/// Sets `[engine] runtime` and `[containers] default_ulimits`; returns what it changed.
fn apply_podman_settings(doc: &mut toml_edit::DocumentMut) -> Vec<String> {
    use toml_edit::{value, Array, Item, Table};
    let mut changes = Vec::new();
    let table = |doc: &mut toml_edit::DocumentMut, name: &str| {
        if !doc.contains_table(name) {
            doc.insert(name, Item::Table(Table::new()));
        }
    };
    table(doc, "engine");
    if doc["engine"].get("runtime").and_then(|v| v.as_str()) != Some("runc") {
        doc["engine"]["runtime"] = value("runc");
        changes.push("[engine] runtime = \"runc\"".to_string());
    }
    table(doc, "containers");
    let current: Vec<String> = doc["containers"]
        .get("default_ulimits")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if ULIMITS.iter().any(|u| !current.iter().any(|c| c == u)) {
        // Keep limits for other resources; replace nofile/nproc with ours.
        let mut ulimits: Array = current
            .iter()
            .filter(|c| !c.starts_with("nofile=") && !c.starts_with("nproc="))
            .map(String::as_str)
            .collect();
        ulimits.extend(ULIMITS.iter().copied());
        doc["containers"]["default_ulimits"] = value(ulimits);
        changes.push(format!("[containers] default_ulimits = {ULIMITS:?}"));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podman_settings_written_into_empty_file() {
        let mut doc = toml_edit::DocumentMut::new();
        assert_eq!(apply_podman_settings(&mut doc).len(), 2);
        let text = doc.to_string();
        assert!(text.contains("[engine]\nruntime = \"runc\""), "{text}");
        assert!(text.contains("nofile=20000:20000"), "{text}");
        // A second pass finds nothing to change.
        let mut again: toml_edit::DocumentMut = text.parse().unwrap();
        assert!(apply_podman_settings(&mut again).is_empty());
    }

    #[test]
    fn podman_settings_keep_other_keys() {
        let mut doc: toml_edit::DocumentMut = "# mine\n[engine]\nruntime = \"crun\"\n\
             events_logger = \"file\"\n[containers]\ndefault_ulimits = [\"core=0:0\", \"nofile=1:1\"]\n"
            .parse()
            .unwrap();
        apply_podman_settings(&mut doc);
        let text = doc.to_string();
        assert!(text.contains("# mine"), "{text}");
        assert!(text.contains("events_logger = \"file\""), "{text}");
        assert!(text.contains("runtime = \"runc\""), "{text}");
        assert!(text.contains("core=0:0"), "{text}");
        assert!(!text.contains("nofile=1:1"), "{text}");
    }

    #[test]
    fn apt_candidates() {
        if find_in_path("apt-cache").is_none() {
            return; // not a Debian machine
        }
        assert!(has_candidate("dpkg"));
        assert!(!has_candidate("surely-not-a-debian-package-xyz"));
    }

    #[test]
    fn dpkg_listing_of_unknown_package_is_missing() {
        assert_eq!(
            missing_debs(&["surely-not-a-debian-package-xyz"]),
            vec!["surely-not-a-debian-package-xyz"]
        );
    }
}
