//! `cargo xtask bench [--quick]`: detection latency, throughput, overhead,
//! classifier, replay and cache figures, written to `bench/REPORT.md`,
//! `bench/results.json` and SVG plots next to them.
//!
//! Everything is measured on the real product: the release `sensor` binary
//! (`sensor run`, `record`, `replay`) driven by the `loadgen` exec load
//! generator and the `classifier-bench` size sweep (crate `bench/tools`).
//! A figure that cannot be measured (no live capture, a phase that failed)
//! is reported as "not measured: <reason>", never made up.
//!
//! `--quick` runs every phase for a few seconds into `target/bench-quick/`
//! (never `bench/`): CI checks that the bench completes and writes its
//! report; its numbers mean nothing. It measures the debug binaries that
//! `cargo test --workspace` builds anyway (see [`build`]), so in `cargo xtask
//! test` the smoke run adds its ~45 s of phases and no build of its own.

mod live;
mod loadgen;
mod machine;
mod phases;
mod plot;
mod prom;
mod report;
mod results;
mod stats;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::{run, setup, util};
use results::Results;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Every phase for a few seconds: a smoke test of the harness (CI).
    #[arg(long)]
    pub quick: bool,
    /// Where REPORT.md, results.json and the plots go
    /// (default: bench/, or target/bench-quick/ with --quick).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Build and measure the debug binaries (default with --quick).
    #[arg(long, conflicts_with = "release")]
    pub debug: bool,
    /// Build and measure the release binaries (default without --quick).
    #[arg(long)]
    pub release: bool,
    /// Do not run `cargo xtask setup` first.
    #[arg(long)]
    pub no_setup: bool,
    /// Run only these phases (comma-separated): machine, classifier, replay,
    /// latency, throughput, overhead, cache.
    #[arg(long, value_delimiter = ',', value_name = "PHASES")]
    pub only: Vec<String>,
}

pub const PHASES: &[&str] = &[
    "machine",
    "classifier",
    "replay",
    "latency",
    "throughput",
    "overhead",
    "cache",
];

/// What every phase needs.
pub struct Ctx {
    pub quick: bool,
    pub sensor: PathBuf,
    pub loadgen: PathBuf,
    pub classifier_bench: PathBuf,
    /// Scratch space (scripts, traces, logs); removed at the end.
    pub work: PathBuf,
    /// Next unused exec id (ids are unique across the whole bench).
    pub next_id: u64,
    pub env: Vec<(&'static str, std::ffi::OsString)>,
    /// Execs in flight that gave the machine its highest exec rate.
    pub best_concurrency: usize,
    /// Highest shell-mix exec rate with no sensor (the ramp's 100%).
    pub machine_max_mix: Option<f64>,
    /// Why the live sensor cannot be measured, once that is known.
    pub live_broken: Option<String>,
    /// Highest VmHWM of any live sensor, KiB.
    pub rss_max_kb: u64,
}

impl Ctx {
    /// A fresh id range of `n` ids.
    pub fn ids(&mut self, n: u64) -> u64 {
        let base = self.next_id;
        // Round up so ranges are easy to read in logs.
        self.next_id += n.div_ceil(1_000_000).max(1) * 1_000_000;
        base
    }

    /// Seconds, scaled down in quick mode.
    pub fn secs(&self, full: f64, quick: f64) -> f64 {
        if self.quick {
            quick
        } else {
            full
        }
    }

    pub fn count(&self, full: u64, quick: u64) -> u64 {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

pub fn main(args: Args) -> Result<()> {
    for phase in &args.only {
        if !PHASES.contains(&phase.as_str()) {
            bail!(
                "unknown phase {phase:?} in --only; phases are {}",
                PHASES.join(", ")
            );
        }
    }
    let started = Instant::now();
    let release = args.release || (!args.quick && !args.debug);
    if !args.no_setup {
        setup::ensure(&setup::Args::default())?;
    }
    let root = util::workspace_root();
    let out = args.out.clone().unwrap_or_else(|| {
        if args.quick {
            root.join("target/bench-quick")
        } else {
            root.join("bench")
        }
    });
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    eprintln!(
        "xtask bench: building sensor and bench tools ({})",
        if release { "release" } else { "debug" }
    );
    let build_started = Instant::now();
    let (sensor, tools) = build(release)?;
    let build_s = build_started.elapsed().as_secs_f64();
    let work = std::env::temp_dir().join(format!("sensor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let mut ctx = Ctx {
        quick: args.quick,
        sensor,
        loadgen: tools.join("loadgen"),
        classifier_bench: tools.join("classifier-bench"),
        work: work.clone(),
        next_id: 1_000_000,
        env: setup::sensor_env(),
        best_concurrency: 4,
        machine_max_mix: None,
        live_broken: None,
        rss_max_kb: 0,
    };

    let mut results = Results::new(args.quick, release);
    results.machine = machine::facts(&root);
    let wanted = |p: &str| args.only.is_empty() || args.only.iter().any(|o| o == p);
    let outcome = phases::run_all(&mut ctx, &mut results, &wanted);
    results.machine.load_after = machine::loadavg();
    results.duration_s = started.elapsed().as_secs_f64();
    results.build_s = build_s;
    results.finish();

    report::write(&out, &results)?;
    let _ = std::fs::remove_dir_all(&work);
    eprintln!(
        "xtask bench: wrote {} (and results.json, plots) in {:.0} s ({:.0} s of it building)",
        out.join("REPORT.md").display(),
        results.duration_s,
        results.build_s
    );
    report::check_written(&out)?;
    outcome?;
    if args.quick && !results.errors.is_empty() {
        bail!(
            "bench --quick: {} phase(s) failed: {}",
            results.errors.len(),
            results.errors.join("; ")
        );
    }
    Ok(())
}

/// Builds `sensor` and the bench tools; returns the sensor binary and the
/// folder holding `loadgen` and `classifier-bench`.
///
/// Debug: exactly what `cargo test --workspace` builds (`--no-run`), whose
/// integration tests make cargo build `sensor`, `loadgen` and
/// `classifier-bench` as plain binaries. Any other cargo invocation unifies
/// features differently and rebuilds half the dependency tree; this way the
/// smoke run in `cargo xtask test` shares one build with the test run.
fn build(release: bool) -> Result<(PathBuf, PathBuf)> {
    if !release {
        let mut cmd = util::cargo();
        cmd.args(["test", "--workspace", "--no-run"])
            .envs(setup::sensor_env());
        util::run(
            &mut cmd,
            "the workspace's debug build (as `cargo test` builds it) failed; see the compiler errors above",
        )?;
        let dir = run::target_dir()?.join("debug");
        for bin in ["sensor", "loadgen", "classifier-bench"] {
            if !dir.join(bin).is_file() {
                bail!(
                    "`cargo test --workspace --no-run` did not leave {} (the crate's integration tests are what make cargo build it)",
                    dir.join(bin).display()
                );
            }
        }
        return Ok((dir.join("sensor"), dir));
    }
    let sensor = run::build_sensor(release)?;
    let mut cmd = util::cargo();
    cmd.args(["build", "--package", "bench-tools", "--bins"]);
    if release {
        cmd.arg("--release");
    }
    util::run(
        &mut cmd,
        "the bench tools (bench/tools) did not build; see the compiler errors above",
    )?;
    let dir = sensor
        .parent()
        .context("the sensor binary has no folder")?
        .to_path_buf();
    Ok((sensor, dir))
}
