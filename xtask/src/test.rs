//! `cargo xtask test`: setup, then formatting, lints, the benchmark smoke run
//! (`cargo xtask bench --quick`) and the whole test suite (unit tests and the
//! real-eBPF end-to-end tests, which need root). CI runs exactly this through
//! `.ci/run`. The test run goes last so its closing lines end the output.
use std::ffi::OsString;

use anyhow::{bail, Result};

use crate::{setup, util};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not run `cargo xtask setup` first.
    #[arg(long)]
    no_setup: bool,
    /// Skip the benchmark smoke run (`cargo xtask bench --quick`).
    #[arg(long)]
    no_bench: bool,
    /// Extra arguments for `cargo test`, e.g. `-- -p sensor --test replay` or `-- -- FILTER`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CARGO_TEST_ARGS"
    )]
    args: Vec<OsString>,
}

pub fn main(args: Args) -> Result<()> {
    if !args.no_setup {
        setup::ensure(&setup::Args::default())?;
    }
    let root = util::workspace_root();
    let mut failed = Vec::new();

    let mut fmt = util::cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step(&mut failed, &mut fmt);
    // The eBPF crate sits outside the workspace; format-check it on its own.
    let ebpf_manifest = root.join("sensor-ebpf/Cargo.toml");
    if ebpf_manifest.exists() {
        let mut fmt = util::cargo();
        fmt.args(["fmt", "--check", "--manifest-path"])
            .arg(&ebpf_manifest);
        step(&mut failed, &mut fmt);
    }

    let mut clippy = util::cargo();
    clippy
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .envs(setup::sensor_env());
    step(&mut failed, &mut clippy);

    // The bench harness must keep working (issue 5): its quick smoke run, no
    // timing assertions. Skipped when the test run is narrowed.
    if !args.no_bench && args.args.is_empty() {
        // Build what the test run below builds, once: the smoke run measures
        // these very debug binaries, and the test run then rebuilds nothing.
        let mut build = util::cargo();
        build
            .args(["test", "--workspace", "--no-run"])
            .envs(setup::sensor_env());
        step(&mut failed, &mut build);
        let mut bench = std::process::Command::new(std::env::current_exe()?);
        bench
            .args(["bench", "--quick", "--no-setup"])
            .current_dir(&root)
            .envs(setup::sensor_env());
        step(&mut failed, &mut bench);
    }

    let mut test = util::cargo();
    test.args(["test", "--no-fail-fast"]);
    // `-p CRATE` narrows the run; cargo would ignore it next to --workspace.
    let picks_package = args.args.iter().any(|a| {
        let a = a.to_string_lossy();
        a == "-p" || a.starts_with("--package") || (a.starts_with("-p") && a.len() > 2)
    });
    if !picks_package {
        test.arg("--workspace");
    }
    test.args(&args.args).envs(setup::sensor_env());
    step(&mut failed, &mut test);

    if !failed.is_empty() {
        bail!("failed: {}", failed.join("; "));
    }
    Ok(())
}

fn step(failed: &mut Vec<String>, cmd: &mut std::process::Command) {
    let shown = util::display(cmd);
    eprintln!("xtask: {shown}");
    if let Err(err) = util::run(cmd, "") {
        eprintln!("xtask: {err}");
        failed.push(format!("`{shown}`"));
    }
}
