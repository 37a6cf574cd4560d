//! `cargo xtask image`: the sensor's container image (deploy/Containerfile),
//! from the release build and the onnxruntime library setup installed.
use anyhow::{Context, Result};

use crate::{run, setup, util};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image name and tag.
    #[arg(long, default_value = "localhost/runtime-script-sensor:dev")]
    tag: String,
    /// Base image (a glibc distribution at least as new as this machine's).
    #[arg(long, default_value = "docker.io/library/debian:bookworm-slim")]
    base: String,
}

pub fn main(args: Args) -> Result<()> {
    setup::ensure(&setup::Args::default())?;
    let sensor = run::build_sensor(true)?;
    let ort = setup::ort_dylib_path()
        .context("onnxruntime is not installed in models/.venv; run `cargo xtask setup`")?;
    let script = util::workspace_root().join("deploy/build-image.sh");
    let mut cmd = std::process::Command::new(&script);
    cmd.arg(&sensor).arg(&ort).arg(&args.tag).arg(&args.base);
    util::run(
        &mut cmd,
        "podman could not build the image; see its output above",
    )?;
    eprintln!(
        "xtask: built {}; `kubectl apply -k deploy/` runs it as a DaemonSet (deploy/README.md)",
        args.tag
    );
    Ok(())
}
