//! Running `loadgen` (bench/tools) and reading what it recorded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::Ctx;

#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Open loop at this many execs/s.
    Rate(f64),
    /// K in flight.
    Closed(usize),
    /// N at once every `interval_ms`.
    Burst { n: u64, interval_ms: u64 },
}

#[derive(Debug, Clone, Copy)]
pub enum Amount {
    Count(u64),
    Seconds(f64),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Summary {
    pub mode: String,
    pub execs: u64,
    pub spawn_failures: u64,
    pub failed_execs: u64,
    pub elapsed_s: f64,
    pub achieved_rate_per_s: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KindRec {
    pub lang: String,
    pub form: String,
    pub malicious: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExecRec {
    pub id: u64,
    pub pid: u32,
    pub kind: KindRec,
    pub spawn_ns: u64,
    pub exit_ns: u64,
}

pub struct LoadRun {
    pub workload: String,
    pub summary: Summary,
    pub records: Vec<ExecRec>,
    /// CPU seconds (user + system) of loadgen and every exec it reaped:
    /// what the load itself cost, eBPF programs and syscall hooks included
    /// (they run in the exec'ing tasks), the sensor's own threads not.
    pub cpu_s: f64,
}

impl LoadRun {
    /// By id.
    pub fn by_id(&self) -> HashMap<u64, &ExecRec> {
        self.records.iter().map(|r| (r.id, r)).collect()
    }

    /// The exec that was running as `pid` at boot time `ktime_ns`.
    pub fn by_pid_at<'a>(&'a self) -> impl Fn(u32, u64) -> Option<&'a ExecRec> + 'a {
        let mut map: HashMap<u32, Vec<&ExecRec>> = HashMap::new();
        for r in &self.records {
            map.entry(r.pid).or_default().push(r);
        }
        move |pid, ktime| {
            map.get(&pid)?.iter().copied().find(|r| {
                let end = if r.exit_ns == 0 { u64::MAX } else { r.exit_ns };
                ktime + 5_000_000 >= r.spawn_ns && ktime <= end.saturating_add(5_000_000)
            })
        }
    }
}

/// Run loadgen; with `log`, read back every exec it made.
pub fn run(
    ctx: &mut Ctx,
    workload: &str,
    mode: Mode,
    amount: Amount,
    log: bool,
) -> Result<LoadRun> {
    let expected = match (amount, mode) {
        (Amount::Count(n), _) => n,
        (Amount::Seconds(s), Mode::Rate(r)) => (r * s) as u64 + 1,
        (Amount::Seconds(s), _) => (s * 5000.0) as u64 + 1,
    };
    let id_base = ctx.ids(expected);
    let workdir = ctx.work.join(format!("scripts-{id_base}"));
    let log_path: Option<PathBuf> = log.then(|| ctx.work.join(format!("loadgen-{id_base}.jsonl")));
    let mut cmd = Command::new(&ctx.loadgen);
    cmd.arg("run")
        .args(["--workload", workload])
        .arg("--workdir")
        .arg(&workdir)
        .args(["--id-base", &id_base.to_string()]);
    match mode {
        Mode::Rate(r) => cmd.args(["--rate", &format!("{r}")]),
        Mode::Closed(k) => cmd.args(["--concurrency", &k.to_string()]),
        Mode::Burst { n, interval_ms } => cmd.args([
            "--burst",
            &n.to_string(),
            "--burst-interval-ms",
            &interval_ms.to_string(),
        ]),
    };
    match amount {
        Amount::Count(n) => cmd.args(["--count", &n.to_string()]),
        Amount::Seconds(s) => cmd.args(["--duration", &format!("{s}")]),
    };
    if let Some(path) = &log_path {
        cmd.arg("--log").arg(path);
    }
    let cpu_before = children_cpu_s();
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {}", ctx.loadgen.display()))?;
    let cpu_s = children_cpu_s() - cpu_before;
    if !out.status.success() {
        bail!(
            "loadgen ({workload}) failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Summary = serde_json::from_str(stdout.trim())
        .with_context(|| format!("loadgen printed no summary: {stdout}"))?;
    if summary.execs == 0 {
        bail!("loadgen ({workload}) started no exec");
    }
    let mut records = Vec::new();
    if let Some(path) = &log_path {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for line in text.lines() {
            records.push(serde_json::from_str(line).context("bad loadgen log line")?);
        }
        let _ = std::fs::remove_file(path);
    }
    // The scripts stay until the bench ends: the sensor may still be reading them.
    Ok(LoadRun {
        workload: workload.to_string(),
        summary,
        records,
        cpu_s,
    })
}

/// User + system CPU seconds of this process's reaped children (loadgen
/// reaps its execs, so their time is in its own once it is waited for).
/// Only loadgen is reaped while it runs: a sensor under test is a child
/// too, but is waited for only when it is stopped.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
