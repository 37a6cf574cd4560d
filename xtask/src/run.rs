//! `cargo xtask run [-- ARGS]`: setup, build the sensor, and exec it with ARGS
//! (default `run`: the live sensor printing findings).
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{setup, util};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Build and run the debug binary (quicker to build, slower to run).
    #[arg(long)]
    debug: bool,
    /// Do not run `cargo xtask setup` first.
    #[arg(long)]
    no_setup: bool,
    /// Arguments for `sensor`, e.g. `-- watch --duration 10` (default: `run`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "SENSOR_ARGS"
    )]
    args: Vec<OsString>,
}

pub fn main(args: Args) -> Result<()> {
    if !args.no_setup {
        setup::ensure(&setup::Args::default())?;
    }
    let sensor = build_sensor(!args.debug)?;
    let sensor_args = if args.args.is_empty() {
        vec![OsString::from("run")]
    } else {
        args.args
    };
    eprintln!(
        "xtask: exec {} {}",
        sensor.display(),
        sensor_args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let err = Command::new(&sensor)
        .args(&sensor_args)
        .envs(setup::sensor_env())
        .exec();
    Err(err).with_context(|| format!("could not start {}", sensor.display()))
}

/// Builds `sensor` (release unless told otherwise) and returns its path.
pub fn build_sensor(release: bool) -> Result<PathBuf> {
    let mut cmd = util::cargo();
    cmd.args(["build", "--package", "sensor", "--bin", "sensor"]);
    if release {
        cmd.arg("--release");
    }
    util::run(
        &mut cmd,
        "the sensor did not build; see the compiler errors above \
         (`cargo xtask setup --check` shows whether a tool is missing)",
    )?;
    Ok(target_dir()?
        .join(if release { "release" } else { "debug" })
        .join("sensor"))
}

/// The cargo target directory, wherever CARGO_TARGET_DIR or config put it.
pub fn target_dir() -> Result<PathBuf> {
    let json = util::output(
        util::cargo().args(["metadata", "--format-version", "1", "--no-deps"]),
        "cargo metadata failed; is Cargo.toml valid?",
    )?;
    let meta: serde_json::Value = serde_json::from_str(&json).context("parsing cargo metadata")?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}
