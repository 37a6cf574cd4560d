//! Content capture on the real kernel, through the library API: the bytes an
//! interpreter reads from its script arrive even when the process exits at
//! once, the file is deleted right after launch, or the script comes from a
//! pipe. Needs root and BPF; fails (never skips) when capture cannot start.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sensor::capture::{Capture, CaptureConfig, CaptureEvent};
use sensor::event::{ExecEvent, Script};
use tokio::sync::mpsc::Receiver;

const PYTHON: &str = "/usr/bin/python3";
const DEADLINE: Duration = Duration::from_secs(120);

/// One capture at a time in this binary: each loads its own programs.
static ONE_CAPTURE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What one pid read, put together by offset, once it exited.
#[derive(Default, Debug)]
struct Stream {
    exec: Option<ExecEvent>,
    bytes: Vec<u8>,
    exited: bool,
    /// The kernel said nothing more will come (limit or end of file).
    last: bool,
}

struct Collector {
    events: Receiver<CaptureEvent>,
    by_pid: HashMap<u32, Stream>,
}

impl Collector {
    fn take(&mut self, event: CaptureEvent) {
        match event {
            CaptureEvent::Exec(exec) => {
                // A new program in this pid starts a new stream.
                self.by_pid.insert(
                    exec.pid,
                    Stream {
                        exec: Some(exec),
                        ..Stream::default()
                    },
                );
            }
            CaptureEvent::Content {
                pid,
                offset,
                bytes,
                last,
                ..
            } => {
                let stream = self.by_pid.entry(pid).or_default();
                stream.last |= last;
                let end = offset as usize + bytes.len();
                if stream.bytes.len() < end {
                    stream.bytes.resize(end, 0);
                }
                stream.bytes[offset as usize..end].copy_from_slice(&bytes);
            }
            CaptureEvent::Exit { pid } => {
                self.by_pid.entry(pid).or_default().exited = true;
            }
        }
    }

    /// Wait until the kernel marks `pid`'s stream complete while it still
    /// runs (the process must not exit first); return what it read.
    async fn completed_while_running(&mut self, pid: u32, what: &str) -> Vec<u8> {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Some(stream) = self.by_pid.get(&pid) {
                assert!(
                    !stream.exited,
                    "{what}: exited before its stream was complete"
                );
                if stream.last {
                    return self.by_pid.remove(&pid).unwrap().bytes;
                }
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.take(event),
                Ok(None) => panic!("capture stopped before {what} was seen"),
                Err(_) => panic!("pid {pid}'s stream was never complete for {what}"),
            }
        }
    }

    /// Wait until `pid` has exited and return what it read.
    async fn finished(&mut self, pid: u32, what: &str) -> (ExecEvent, Vec<u8>) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Some(stream) = self.by_pid.get(&pid) {
                if stream.exited && stream.exec.is_some() {
                    let stream = self.by_pid.remove(&pid).unwrap();
                    return (stream.exec.unwrap(), stream.bytes);
                }
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.take(event),
                Ok(None) => panic!("capture stopped before {what} was seen"),
                Err(_) => panic!("no exec + exit of pid {pid} for {what}"),
            }
        }
    }
}

async fn start() -> (Capture, Collector) {
    let config = CaptureConfig {
        max_content_bytes: 64 * 1024,
        ..CaptureConfig::default()
    };
    let (capture, events) = Capture::start(config)
        .unwrap_or_else(|err| panic!("capture must start on this machine (root, BTF, BPF): {err}"));
    (
        capture,
        Collector {
            events,
            by_pid: HashMap::new(),
        },
    )
}

/// `cmd` started with `input` on a pipe as its stdin, closed after it.
fn piped(cmd: &mut Command, input: &[u8]) -> Child {
    let mut child = cmd.stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child
}

fn script_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// One test function: one set of programs loaded for all the cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_contents_are_captured_in_the_kernel() {
    let _one = ONE_CAPTURE.lock().await;
    let (capture, mut events) = start().await;
    let dir = script_dir();

    // curl ... | bash: the script only ever exists in a pipe.
    let script = b"# piped script\nexit 0\n".to_vec();
    let mut child = piped(Command::new("/bin/bash").stdout(Stdio::null()), &script);
    let pid = child.id();
    child.wait().unwrap();
    let (exec, bytes) = events.finished(pid, "bash reading a pipe").await;
    assert!(matches!(exec.script, Script::Stdin { .. }), "{exec:?}");
    assert_eq!(bytes, script, "the piped script, byte for byte");

    // A piped line longer than the kernel gathers in one record (bash reads
    // it byte by byte), and a last line without a newline (sent at end of
    // file): still byte for byte, in order.
    let script = format!("# {}\n: middle\nexit 0", "x".repeat(300)).into_bytes();
    let mut child = piped(Command::new("/bin/bash").stdout(Stdio::null()), &script);
    let pid = child.id();
    child.wait().unwrap();
    let (_, bytes) = events.finished(pid, "bash reading long lines").await;
    assert_eq!(bytes, script, "long and unterminated lines, byte for byte");

    // python3 - reads a piped script to its end before running any of it:
    // the end of file completes the stream while the script still runs.
    let script = b"import time\ntime.sleep(600)\n".to_vec();
    let mut child = piped(Command::new(PYTHON).arg("-"), &script);
    let pid = child.id();
    let bytes = events
        .completed_while_running(pid, "python3 - at end of file")
        .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(bytes, script);

    // The script hands its stdin to another program: what that program reads
    // is not script (bash reads a pipe byte by byte, so the split is exact).
    let mut child = piped(
        Command::new("/bin/bash").stdout(Stdio::null()),
        b"exec /bin/cat\nNOT-SCRIPT DATA\n",
    );
    let pid = child.id();
    child.wait().unwrap();
    let (_, bytes) = events.finished(pid, "bash exec'ing cat").await;
    assert_eq!(bytes, b"exec /bin/cat\n");

    // A redirection takes fd 0 for a loop (`done <file`): the file's lines
    // read through fd 0 are not script, and the script lines after the loop
    // are (bash may have moved its script pipe to another fd meanwhile).
    let lines = dir.path().join("lines.txt");
    std::fs::write(&lines, "NOT-SCRIPT DATA\n").unwrap();
    let script = format!(
        "while read -r line; do :; done < {}\n: after the loop\nexit 0\n",
        lines.display()
    )
    .into_bytes();
    let mut child = piped(Command::new("/bin/bash").stdout(Stdio::null()), &script);
    let pid = child.id();
    child.wait().unwrap();
    let (_, bytes) = events.finished(pid, "bash redirecting fd 0").await;
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&script),
        "the piped script only"
    );

    // A script that deletes itself first thing and exits at once.
    let path = dir.path().join("dropper.sh");
    let script = b"rm -f -- \"$0\"\nexit 0\n".to_vec();
    std::fs::write(&path, &script).unwrap();
    let status_pid = {
        let mut child = Command::new("/bin/bash").arg(&path).spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    assert!(!path.exists(), "the script deleted itself");
    let (exec, bytes) = events
        .finished(status_pid, "self-deleting bash script")
        .await;
    assert!(matches!(exec.script, Script::File { .. }), "{exec:?}");
    assert_eq!(bytes, script);

    // python3 FILE: python reads the file twice; offsets keep one copy, and
    // the files python reads at startup (.pyc, .pth) are not the script.
    let path = dir.path().join("hello.py");
    let script = b"import sys\nsys.exit(0)\n".to_vec();
    std::fs::write(&path, &script).unwrap();
    let mut child = Command::new(PYTHON).arg(&path).spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let (_, bytes) = events.finished(pid, "python3 FILE").await;
    assert_eq!(bytes, script);

    // ./x.sh with #!: the kernel knows the file; the interpreter reads it.
    let path = dir.path().join("shebang.sh");
    let script = b"#!/bin/sh\nexit 0\n".to_vec();
    std::fs::write(&path, &script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = Command::new(&path).spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let (exec, bytes) = events.finished(pid, "#! script").await;
    assert_eq!(exec.binary.as_bytes(), b"/bin/sh");
    assert_eq!(bytes, script);

    // A memfd script: never on disk.
    let program = r##"
import os
fd = os.memfd_create("payload", 0)
os.write(fd, b"#!/bin/sh\n# from memfd\nexit 0\n")
os.execv(f"/proc/self/fd/{fd}", ["payload"])
"##;
    let mut child = Command::new(PYTHON).args(["-c", program]).spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let (exec, bytes) = events.finished(pid, "memfd script").await;
    assert_eq!(exec.binary.as_bytes(), b"/bin/sh");
    assert_eq!(bytes, b"#!/bin/sh\n# from memfd\nexit 0\n");

    let stats = capture.stop().await;
    assert_eq!(stats.exec_drops, 0);
    assert_eq!(stats.content_drops, 0);
}

/// The reader never waits for its consumer: with nobody reading, records
/// that find the channel full are dropped and counted, and the ring buffer
/// keeps being drained (a stalled consumer must not make the kernel lose
/// every CPU's records).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_consumer_costs_counted_drops() {
    const CAPACITY: usize = 8;
    const EXECS: u64 = 100;
    let config = CaptureConfig {
        channel_capacity: CAPACITY,
        ..CaptureConfig::default()
    };
    let _one = ONE_CAPTURE.lock().await;
    let (capture, mut events) = Capture::start(config)
        .unwrap_or_else(|err| panic!("capture must start on this machine (root, BTF, BPF): {err}"));
    for i in 0..EXECS {
        let status = Command::new("/bin/bash")
            .args(["-c", &format!(": stalled-consumer-{i}")])
            .status()
            .unwrap();
        assert!(status.success());
    }
    // Detach and drain the ring (into the full channel), then read it.
    let stats = capture.stop().await;
    let mut delivered = 0u64;
    while let Some(event) = events.recv().await {
        if matches!(event, CaptureEvent::Exec(_)) {
            delivered += 1;
        }
    }
    assert_eq!(delivered, stats.events, "{stats:?}");
    assert!(stats.events <= CAPACITY as u64, "{stats:?}");
    assert!(stats.exec_drops > 0, "a full channel is counted: {stats:?}");
    assert!(
        stats.events + stats.exec_drops >= EXECS,
        "every exec delivered or counted: {stats:?}"
    );
}
