//! The bench's exec load generator: starts interpreters (posix_spawn through
//! std, i.e. clone(CLONE_VFORK)+execve) at a controlled rate, in bursts, or
//! flat out with K in flight, and records its own timing.
//!
//! `loadgen run ...` prints one JSON summary on stdout and, with `--log`, one
//! JSON line per exec (id, pid, kind, CLOCK_BOOTTIME around the spawn and at
//! the exit). `loadgen gen-events ...` writes synthetic exec events (the
//! `sensor watch` JSON contract) for the replay bench.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use bench_tools::workload::{ExecSpec, Kind, Lang, Workload};
use bench_tools::{boot_ns, percentile};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Exec load generator for `cargo xtask bench`"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start interpreters and time them.
    Run(RunArgs),
    /// Write synthetic exec events (JSON lines) for `sensor record --from-events`.
    GenEvents(GenArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[arg(long, value_enum)]
    workload: Workload,
    /// Where script files are written.
    #[arg(long)]
    workdir: PathBuf,
    /// Open loop: start this many execs per second, whatever they cost.
    #[arg(long, conflicts_with_all = ["concurrency", "burst"])]
    rate: Option<f64>,
    /// Closed loop: keep this many execs in flight, each started when one ends.
    #[arg(long, conflicts_with = "burst")]
    concurrency: Option<usize>,
    /// Bursts: start this many execs at once every --burst-interval-ms.
    #[arg(long)]
    burst: Option<u64>,
    #[arg(long, default_value_t = 1000)]
    burst_interval_ms: u64,
    /// Total execs (open loop and bursts: default rate x duration).
    #[arg(long)]
    count: Option<u64>,
    /// Seconds to run.
    #[arg(long)]
    duration: Option<f64>,
    /// First exec id (ids stay unique across phases of one bench).
    #[arg(long, default_value_t = 0)]
    id_base: u64,
    /// Threads that start execs in open loop and burst mode (default: one
    /// per 100 execs/s, 4 to 16: each blocks until its child has exec'd,
    /// which takes milliseconds on a busy machine).
    #[arg(long)]
    spawners: Option<usize>,
    /// One JSON line per exec.
    #[arg(long)]
    log: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct GenArgs {
    #[arg(long)]
    count: u64,
    #[arg(long)]
    out: PathBuf,
}

/// One exec as the load generator saw it (CLOCK_BOOTTIME ns).
#[derive(Debug, Clone, serde::Serialize)]
struct ExecRecord {
    id: u64,
    pid: u32,
    kind: Kind,
    /// When the schedule wanted it started (open loop, bursts).
    due_ns: u64,
    /// Just before the spawn call.
    spawn_ns: u64,
    /// When the spawn call returned: with vfork semantics the child has
    /// exec'd by then, so the kernel's exec timestamp lies in between.
    spawned_ns: u64,
    /// When it was reaped (0: never).
    exit_ns: u64,
    /// Raw wait status (-1: not reaped).
    status: i32,
}

#[derive(Debug, serde::Serialize)]
struct Summary {
    workload: Workload,
    mode: String,
    target_rate_per_s: Option<f64>,
    concurrency: Option<usize>,
    execs: u64,
    spawn_failures: u64,
    failed_execs: u64,
    elapsed_s: f64,
    achieved_rate_per_s: f64,
    lateness_us: Pcts,
    exec_wall_us: Pcts,
    first_spawn_boot_ns: u64,
    last_exit_boot_ns: u64,
}

#[derive(Debug, Default, serde::Serialize)]
struct Pcts {
    p50: u64,
    p90: u64,
    p99: u64,
    max: u64,
}

impl Pcts {
    fn of(mut v: Vec<u64>) -> Self {
        v.sort_unstable();
        Self {
            p50: percentile(&v, 50.0),
            p90: percentile(&v, 90.0),
            p99: percentile(&v, 99.0),
            max: v.last().copied().unwrap_or(0),
        }
    }
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Run(args) => run(args),
        Cmd::GenEvents(args) => gen_events(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loadgen: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn command(spec: &ExecSpec) -> Command {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    cmd
}

/// Start one exec; returns (pid, spawn_ns, spawned_ns).
fn spawn(spec: &ExecSpec) -> std::io::Result<(std::process::Child, u64, u64)> {
    let mut cmd = command(spec);
    let spawn_ns = boot_ns();
    let mut child = cmd.spawn()?;
    let spawned_ns = boot_ns();
    if let (Some(bytes), Some(mut pipe)) = (&spec.stdin, child.stdin.take()) {
        // Scripts are far below the pipe's 64 KiB: this never blocks. A
        // child that exits early makes it EPIPE, which is fine.
        let _ = pipe.write_all(bytes);
    }
    Ok((child, spawn_ns, spawned_ns))
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.workdir)
        .with_context(|| format!("cannot create {}", args.workdir.display()))?;
    // A child's SIGPIPE must not be ours.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let (mode, records, failures, started, ended) = if let Some(k) = args.concurrency {
        let (r, f, s, e) = closed_loop(&args, k.max(1))?;
        ("closed".to_string(), r, f, s, e)
    } else if args.rate.is_some() || args.burst.is_some() {
        let (r, f, s, e) = open_loop(&args)?;
        let mode = if args.burst.is_some() {
            "burst"
        } else {
            "rate"
        };
        (mode.to_string(), r, f, s, e)
    } else {
        bail!("give --rate R, --concurrency K or --burst N");
    };
    let execs = records.len() as u64;
    let failed = records.iter().filter(|r| r.status != 0).count() as u64;
    let elapsed_s = (ended.saturating_sub(started)) as f64 / 1e9;
    let summary = Summary {
        workload: args.workload,
        mode,
        target_rate_per_s: args.rate,
        concurrency: args.concurrency,
        execs,
        spawn_failures: failures,
        failed_execs: failed,
        elapsed_s,
        achieved_rate_per_s: execs as f64 / elapsed_s.max(1e-9),
        lateness_us: Pcts::of(
            records
                .iter()
                .filter(|r| r.due_ns > 0)
                .map(|r| r.spawn_ns.saturating_sub(r.due_ns) / 1000)
                .collect(),
        ),
        exec_wall_us: Pcts::of(
            records
                .iter()
                .filter(|r| r.exit_ns > 0)
                .map(|r| r.exit_ns.saturating_sub(r.spawn_ns) / 1000)
                .collect(),
        ),
        first_spawn_boot_ns: started,
        last_exit_boot_ns: ended,
    };
    if let Some(path) = &args.log {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        );
        for r in &records {
            serde_json::to_writer(&mut out, r)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

type Outcome = (Vec<ExecRecord>, u64, u64, u64);

/// K workers, each: start an exec, wait for it, start the next.
fn closed_loop(args: &RunArgs, k: usize) -> anyhow::Result<Outcome> {
    let limit = args.count.unwrap_or(u64::MAX);
    let duration = args.duration.map(Duration::from_secs_f64);
    if args.count.is_none() && duration.is_none() {
        bail!("closed loop needs --count or --duration");
    }
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let started = boot_ns();
    let deadline = duration.map(|d| started + d.as_nanos() as u64);
    let mut workers = Vec::new();
    for _ in 0..k {
        let next = next.clone();
        let failures = failures.clone();
        let workload = args.workload;
        let dir = args.workdir.clone();
        let id_base = args.id_base;
        workers.push(std::thread::spawn(
            move || -> anyhow::Result<Vec<ExecRecord>> {
                let mut out = Vec::new();
                loop {
                    if deadline.is_some_and(|d| boot_ns() >= d) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= limit {
                        break;
                    }
                    let id = id_base + i;
                    let spec = workload.prepare(id, &dir)?;
                    match spawn(&spec) {
                        Ok((mut child, spawn_ns, spawned_ns)) => {
                            let status = child.wait()?;
                            out.push(ExecRecord {
                                id,
                                pid: child.id(),
                                kind: spec.kind,
                                due_ns: 0,
                                spawn_ns,
                                spawned_ns,
                                exit_ns: boot_ns(),
                                status: std::os::unix::process::ExitStatusExt::into_raw(status),
                            });
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok(out)
            },
        ));
    }
    let mut records = Vec::new();
    for w in workers {
        records.extend(w.join().expect("worker panicked")?);
    }
    let ended = records.iter().map(|r| r.exit_ns).max().unwrap_or(started);
    records.sort_by_key(|r| r.id);
    Ok((records, failures.load(Ordering::Relaxed), started, ended))
}

/// A schedule of due times; spawner threads take them in order and a reaper
/// collects exits, so a slow exec never delays the next start.
fn open_loop(args: &RunArgs) -> anyhow::Result<Outcome> {
    let count = match (args.count, args.rate, args.burst, args.duration) {
        (Some(n), ..) => n,
        (None, Some(rate), _, Some(d)) => (rate * d).round() as u64,
        (None, None, Some(burst), Some(d)) => {
            burst * ((d * 1000.0) as u64 / args.burst_interval_ms.max(1)).max(1)
        }
        _ => bail!("give --count or --duration"),
    };
    let interval_ns = args.rate.map(|r| (1e9 / r.max(1e-6)) as u64);
    let burst = args.burst.unwrap_or(1).max(1);
    let burst_interval_ns = args.burst_interval_ms * 1_000_000;
    let due_of = move |i: u64| -> u64 {
        match interval_ns {
            Some(step) => i * step,
            None => (i / burst) * burst_interval_ns,
        }
    };
    let t0 = boot_ns() + 20_000_000;
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let spawning_done = Arc::new(AtomicBool::new(false));
    let exits: Arc<Mutex<Vec<(u32, u64, i32)>>> = Arc::new(Mutex::new(Vec::new()));

    let reaper = {
        let spawning_done = spawning_done.clone();
        let exits = exits.clone();
        std::thread::spawn(move || {
            let mut local = Vec::with_capacity(count as usize);
            loop {
                let mut status = 0;
                // SAFETY: waitpid writes the status int.
                let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
                if pid > 0 {
                    local.push((pid as u32, boot_ns(), status));
                    continue;
                }
                let err = std::io::Error::last_os_error().raw_os_error();
                if err == Some(libc::EINTR) {
                    continue;
                }
                // ECHILD: no child is running right now. Once every spawner is
                // done none can appear, so that ends the loop. (Counting spawns
                // instead hung: std reaps the child of a failed spawn itself.)
                if spawning_done.load(Ordering::Acquire) {
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            exits.lock().unwrap().extend(local);
        })
    };

    let mut spawners = Vec::new();
    let spawners_n = args.spawners.unwrap_or_else(|| {
        let per_s = args.rate.unwrap_or(0.0).max(args.burst.unwrap_or(0) as f64);
        ((per_s / 100.0).ceil() as usize).clamp(4, 16)
    });
    for _ in 0..spawners_n.max(1) {
        let next = next.clone();
        let failures = failures.clone();
        let workload = args.workload;
        let dir = args.workdir.clone();
        let id_base = args.id_base;
        spawners.push(std::thread::spawn(
            move || -> anyhow::Result<Vec<ExecRecord>> {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let id = id_base + i;
                    let spec = workload.prepare(id, &dir)?;
                    let due = t0 + due_of(i);
                    let now = boot_ns();
                    if due > now {
                        std::thread::sleep(Duration::from_nanos(due - now));
                    }
                    match spawn(&spec) {
                        Ok((child, spawn_ns, spawned_ns)) => out.push(ExecRecord {
                            id,
                            pid: child.id(),
                            kind: spec.kind,
                            due_ns: due,
                            spawn_ns,
                            spawned_ns,
                            exit_ns: 0,
                            status: -1,
                        }),
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok(out)
            },
        ));
    }
    let mut records = Vec::new();
    let mut first_err = None;
    for s in spawners {
        match s.join().expect("spawner panicked") {
            Ok(r) => records.extend(r),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    spawning_done.store(true, Ordering::Release);
    reaper.join().expect("reaper panicked");
    if let Some(e) = first_err {
        return Err(e);
    }
    // Match exits to spawns: a pid is reused only after it was reaped, so per
    // pid the n-th spawn ends with the n-th exit.
    let mut exits = std::mem::take(&mut *exits.lock().unwrap());
    exits.sort_by_key(|(pid, t, _)| (*pid, *t));
    records.sort_by_key(|r| (r.pid, r.spawn_ns));
    let mut e = 0;
    for r in records.iter_mut() {
        while e < exits.len()
            && (exits[e].0 < r.pid || (exits[e].0 == r.pid && exits[e].1 < r.spawn_ns))
        {
            e += 1;
        }
        if e < exits.len() && exits[e].0 == r.pid {
            r.exit_ns = exits[e].1;
            r.status = exits[e].2;
            e += 1;
        }
    }
    records.sort_by_key(|r| r.id);
    let started = records.iter().map(|r| r.spawn_ns).min().unwrap_or(t0);
    let ended = records.iter().map(|r| r.exit_ns).max().unwrap_or(started);
    Ok((records, failures.load(Ordering::Relaxed), started, ended))
}

/// Synthetic `-c` execs (the mix's texts, bash and Python) with fake pids
/// that no longer exist: `sensor record --from-events` scores and records
/// them without any file to read.
fn gen_events(args: GenArgs) -> anyhow::Result<()> {
    let mnt_ns = std::fs::metadata("/proc/self/ns/mnt")
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap_or(0);
    let boot0 = boot_ns().saturating_sub(args.count * 100_000);
    let real0 = bench_tools::real_ns().saturating_sub(args.count * 100_000);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?,
    );
    for i in 0..args.count {
        let kind = Workload::Mix.kind(i);
        let text = bench_tools::workload::script(kind.lang, kind.malicious, i);
        let (binary, comm) = match kind.lang {
            Lang::Shell => (bench_tools::workload::BASH, "bash"),
            Lang::Python => (bench_tools::workload::PYTHON, "python3"),
        };
        // 100 µs apart, ending now.
        let offset = i * 100_000;
        let wall = time::OffsetDateTime::from_unix_timestamp_nanos((real0 + offset) as i128)?
            .format(&time::format_description::well_known::Rfc3339)?;
        let pid = 4_000_000 + (i % 190_000) as u32;
        let event = serde_json::json!({
            "ktime_ns": boot0 + offset,
            "time": wall,
            "pid": pid,
            "tid": pid,
            "ppid": 1,
            "uid": 0,
            "gid": 0,
            "comm": comm,
            "cgroup_id": 1,
            "mnt_ns": mnt_ns,
            "pid_ns": 0,
            "binary": binary,
            "filename": binary,
            "argv": [comm, "-c", text],
            "argv_truncated": false,
            "cwd": "/",
            "script": {"source": "inline", "inline": text},
        });
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
