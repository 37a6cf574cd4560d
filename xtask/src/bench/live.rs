//! The live sensor under test: `sensor run` with findings on a pipe to us
//! (each line timestamped the moment it is read: "finding written to the
//! sink"), metrics scraped over HTTP, CPU and memory read from /proc.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::prom::{self, Scrape};
use super::Ctx;

/// One line the sensor wrote to stdout, and when we read it.
#[derive(Debug, Clone)]
pub struct Line {
    pub real_ns: u64,
    pub boot_ns: u64,
    pub text: String,
}

pub struct LiveSensor {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    reader: Option<JoinHandle<Vec<Line>>>,
    lines: Arc<AtomicUsize>,
    stderr_path: PathBuf,
    label: String,
}

/// What a stopped sensor left behind.
pub struct Stopped {
    pub lines: Vec<Line>,
    /// The exit summary's `summary` object, if it printed one.
    pub summary: Option<Value>,
    /// Its `capture` object (kernel counters), when live.
    pub capture: Option<Value>,
    pub vm_hwm_kb: u64,
    pub clean_exit: bool,
    pub label: String,
}

impl LiveSensor {
    /// `sensor run --metrics-addr ... EXTRA`, ready when its first exec event
    /// has gone through capture.
    pub fn start(ctx: &Ctx, label: &str, extra: &[String]) -> Result<Self> {
        let addr = free_port()?;
        let stderr_path = ctx.work.join(format!("sensor-{label}.stderr"));
        let stderr = std::fs::File::create(&stderr_path)
            .with_context(|| format!("cannot create {}", stderr_path.display()))?;
        let mut cmd = Command::new(&ctx.sensor);
        cmd.arg("run")
            .args(["--metrics-addr", &addr.to_string()])
            .args(extra)
            .envs(ctx.env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", ctx.sensor.display()))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let lines = Arc::new(AtomicUsize::new(0));
        let counter = lines.clone();
        let reader = std::thread::spawn(move || {
            // The instrument must not add its own queueing to what it
            // measures: at the sensor's default real-time priority, this
            // thread reads a finding as soon as it is written, not when the
            // interpreters keeping both cores busy let it.
            run_realtime_if_root();
            let mut out = Vec::new();
            let mut reader = BufReader::with_capacity(1 << 20, stdout);
            let mut buf = String::new();
            loop {
                buf.clear();
                match reader.read_line(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        // Timestamp first; parse after the run, never here.
                        let real_ns = bench_clock(libc::CLOCK_REALTIME);
                        let boot_ns = bench_clock(libc::CLOCK_BOOTTIME);
                        out.push(Line {
                            real_ns,
                            boot_ns,
                            text: buf.trim_end().to_string(),
                        });
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            out
        });
        let mut sensor = LiveSensor {
            pid: child.id(),
            child,
            addr,
            reader: Some(reader),
            lines,
            stderr_path,
            label: label.to_string(),
        };
        let timeout = Duration::from_secs(if ctx.quick { 90 } else { 120 });
        if let Err(err) = sensor.wait_ready(timeout) {
            let tail = sensor.stderr_tail();
            let _ = sensor.kill();
            return Err(err.context(format!(
                "`sensor run` did not become ready; its stderr:\n{tail}"
            )));
        }
        Ok(sensor)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("`sensor run` exited ({status}) before it was ready");
            }
            if let Ok(scrape) = prom::scrape(self.addr) {
                if scrape.sum("sensor_events_total") >= 1.0 {
                    return Ok(());
                }
                // A canary exec for capture to see.
                let _ = Command::new("/bin/bash")
                    .args(["-c", ": bench-ready"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            if started.elapsed() > timeout {
                bail!(
                    "no exec event reached the pipeline within {} s",
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn scrape(&self) -> Result<Scrape> {
        prom::scrape(self.addr)
    }

    /// Lines (findings) read so far.
    pub fn lines(&self) -> usize {
        self.lines.load(Ordering::Relaxed)
    }

    /// CPU seconds (user + system, all threads) used so far.
    pub fn cpu_s(&self) -> Result<f64> {
        cpu_seconds(self.pid)
    }

    /// Wait until `want` lines arrived, or nothing new came for `quiet`
    /// (events and lines both still), or `max` passed.
    pub fn settle(&self, want: usize, quiet: Duration, max: Duration) {
        let started = Instant::now();
        let mut last = (self.lines(), self.events());
        let mut last_change = Instant::now();
        while started.elapsed() < max {
            if self.lines() >= want {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
            let now = (self.lines(), self.events());
            if now != last {
                last = now;
                last_change = Instant::now();
            } else if last_change.elapsed() >= quiet {
                return;
            }
        }
    }

    fn events(&self) -> u64 {
        self.scrape()
            .map(|s| s.sum("sensor_events_total") as u64)
            .unwrap_or(0)
    }

    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// SIGINT, then wait for the drain and flush (SIGKILL after a minute).
    pub fn stop(mut self) -> Result<Stopped> {
        let vm_hwm_kb = vm_hwm_kb(self.pid).unwrap_or(0);
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.pid as i32, libc::SIGINT) };
        let started = Instant::now();
        let mut clean_exit = false;
        loop {
            if let Some(status) = self.child.try_wait()? {
                clean_exit = status.success();
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let lines = self
            .reader
            .take()
            .map(|r| r.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let exit_line = stderr
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v.get("summary").is_some());
        let summary = exit_line.as_ref().and_then(|v| v.get("summary").cloned());
        let capture = exit_line.as_ref().and_then(|v| v.get("capture").cloned());
        Ok(Stopped {
            lines,
            summary,
            capture,
            vm_hwm_kb,
            clean_exit,
            label: self.label.clone(),
        })
    }

    fn kill(&mut self) -> Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        Ok(())
    }
}

impl Drop for LiveSensor {
    fn drop(&mut self) {
        if self.reader.is_some() {
            let _ = self.kill();
        }
    }
}

fn bench_clock(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn free_port() -> Result<SocketAddr> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind a port on 127.0.0.1")?;
    Ok(listener.local_addr()?)
}

/// utime + stime of every thread of `pid`, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("process {pid} is gone"))?;
    // Fields after the `(comm)`, which may hold spaces: state is field 3,
    // utime 14, stime 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("bad /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .context("short /proc/PID/stat")?
            .parse::<f64>()?)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((ticks(11)? + ticks(12)?) / hz)
}

/// Peak resident set (VmHWM) of `pid`, in KiB.
pub fn vm_hwm_kb(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmHWM in /proc/PID/status")
}

/// What the bench needs from one finding line.
#[derive(Debug, Clone)]
pub struct FindingFacts {
    pub bench_id: Option<u64>,
    pub pid: Option<u32>,
    /// Exec -> written to the sink, in µs.
    pub latency_us: Option<f64>,
    /// Exec -> verdict, as the sensor measured it.
    pub verdict_latency_us: Option<f64>,
    /// The exec's time on CLOCK_BOOTTIME (ktime, or wall time converted).
    pub event_boot_ns: Option<u64>,
}

/// Parse a finding line: SCC NotificationMessage (`finding.eventTime`,
/// `finding.processes[0].pid`, `sourceProperties.detection_latency_us`) or
/// any shape that carries the exec event (`ktime_ns`, `time`, `pid`).
///
/// Tens of thousands of findings are read per run by this (debug-built)
/// xtask, so the usual fields are found by a plain text search (quotes inside
/// JSON strings are escaped, so `"key":` only matches keys); a full parse is
/// the fallback for other shapes.
pub fn finding_facts(line: &Line) -> FindingFacts {
    let text = line.text.as_str();
    let bench_id = find_bench_id(text);
    let ktime_ns = raw_field(text, "ktime_ns").and_then(|v| v.parse().ok());
    let event_time = raw_field(text, "eventTime").and_then(parse_rfc3339_ns);
    if ktime_ns.is_some() || event_time.is_some() {
        let pid = text
            .find("\"processes\":[")
            .and_then(|at| raw_field(&text[at..], "pid"))
            .or_else(|| raw_field(text, "pid"))
            .and_then(|v| v.parse().ok());
        let verdict_latency_us =
            raw_field(text, "detection_latency_us").and_then(|v| v.parse().ok());
        return facts(
            line,
            bench_id,
            pid,
            ktime_ns,
            event_time,
            verdict_latency_us,
        );
    }
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return facts(line, bench_id, None, None, None, None);
    };
    let ktime_ns = find_key(&v, "ktime_ns").and_then(Value::as_u64);
    let event_time = v
        .pointer("/finding/eventTime")
        .or_else(|| find_key(&v, "eventTime"))
        .or_else(|| v.pointer("/detection/event/time"))
        .and_then(Value::as_str)
        .and_then(parse_rfc3339_ns);
    let pid = v
        .pointer("/finding/processes/0/pid")
        .or_else(|| v.pointer("/detection/event/pid"))
        .or_else(|| find_key(&v, "pid"))
        .and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()))
        .map(|p| p as u32);
    let verdict_latency_us = find_key(&v, "detection_latency_us")
        .and_then(|x| x.as_f64().or_else(|| x.as_str()?.parse().ok()));
    facts(
        line,
        bench_id,
        pid,
        ktime_ns,
        event_time,
        verdict_latency_us,
    )
}

fn facts(
    line: &Line,
    bench_id: Option<u64>,
    pid: Option<u32>,
    ktime_ns: Option<u64>,
    event_time: Option<u64>,
    verdict_latency_us: Option<f64>,
) -> FindingFacts {
    let latency_us = match (ktime_ns, event_time) {
        (Some(k), _) => Some(line.boot_ns.saturating_sub(k) as f64 / 1000.0),
        (None, Some(t)) => Some(line.real_ns.saturating_sub(t) as f64 / 1000.0),
        _ => None,
    };
    let boot_offset = line.real_ns as i128 - line.boot_ns as i128;
    let event_boot_ns = ktime_ns.or_else(|| {
        let t = event_time? as i128 - boot_offset;
        u64::try_from(t).ok()
    });
    FindingFacts {
        bench_id,
        pid,
        latency_us,
        verdict_latency_us,
        event_boot_ns,
    }
}

/// The raw value of the first `"key":` in JSON text: a string's contents
/// (no unescaping) or a number/literal.
pub fn raw_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\":");
    let at = text.find(&pattern)? + pattern.len();
    let rest = text[at..].trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        return Some(&s[..s.find('"')?]);
    }
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The first value under `key` anywhere in `v` (depth first).
fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|x| find_key(x, key))),
        Value::Array(items) => items.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

/// The `bench-id` of the script a finding is about: the one in the first
/// `contents` (the flagged process's script), else the first anywhere. Other
/// ids can appear earlier in the line: a stdin feeder's command line may be
/// another bench exec's.
pub fn find_bench_id(text: &str) -> Option<u64> {
    let from = text.find("\"contents\":").unwrap_or(0);
    let at = text[from..]
        .find("bench-id=")
        .map(|i| from + i)
        .or_else(|| text.find("bench-id="))?
        + "bench-id=".len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn parse_rfc3339_ns(s: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp_nanos()).ok()
}

/// SCHED_FIFO priority 1 (the sensor's default) for the calling thread;
/// without the privilege the bench reads at normal priority.
fn run_realtime_if_root() {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: pid 0 is the calling thread; the kernel only reads `param`.
    unsafe {
        libc::sched_setscheduler(0, libc::SCHED_FIFO, &param);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_from_an_scc_finding() {
        let text = r##"{"finding":{"eventTime":"2026-01-05T10:00:00.000100Z","processes":[{"pid":42,"args":["bash","-c","# bench-id=77\n..."]}],"sourceProperties":{"detection_latency_us":900}}}"##;
        let real = parse_rfc3339_ns("2026-01-05T10:00:00.002100Z").unwrap();
        let f = finding_facts(&Line {
            real_ns: real,
            boot_ns: 0,
            text: text.into(),
        });
        assert_eq!(f.bench_id, Some(77));
        assert_eq!(f.pid, Some(42));
        assert_eq!(f.latency_us, Some(2000.0));
        assert_eq!(f.verdict_latency_us, Some(900.0));
    }

    #[test]
    fn the_bench_id_is_the_flagged_scripts_not_its_feeders() {
        let text = r##"{"finding":{"description":"fed by `bash -c # bench-id=9`","processes":[{"pid":42,"script":{"contents":"# bench-id=77\n..."}}]}}"##;
        assert_eq!(find_bench_id(text), Some(77));
        assert_eq!(find_bench_id("args: # bench-id=5"), Some(5));
    }

    #[test]
    fn ktime_wins_over_wall_time() {
        let text =
            r#"{"detection":{"event":{"ktime_ns":1000000,"time":"2026-01-05T10:00:00Z","pid":5}}}"#;
        let f = finding_facts(&Line {
            real_ns: 0,
            boot_ns: 4_000_000,
            text: text.into(),
        });
        assert_eq!(f.latency_us, Some(3000.0));
        assert_eq!(f.pid, Some(5));
    }

    #[test]
    fn text_search_skips_keys_inside_strings() {
        let text = r##"{"finding":{"eventTime":"2026-01-05T10:00:00Z","processes":[{"args":["x \"pid\": 9"],"pid":7}],"sourceProperties":{"detection_latency_us":12}}}"##;
        let f = finding_facts(&Line {
            real_ns: parse_rfc3339_ns("2026-01-05T10:00:01Z").unwrap(),
            boot_ns: 0,
            text: text.into(),
        });
        assert_eq!(f.pid, Some(7));
        assert_eq!(f.verdict_latency_us, Some(12.0));
        assert_eq!(f.latency_us, Some(1_000_000.0));
    }

    #[test]
    fn cpu_and_memory_of_ourselves() {
        let me = std::process::id();
        assert!(cpu_seconds(me).unwrap() >= 0.0);
        assert!(vm_hwm_kb(me).unwrap() > 0);
    }
}
