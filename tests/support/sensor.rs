//! The real sensor binary run by a test (`#[path]`-included).
#![allow(dead_code)] // each test uses its own subset

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `sensor`; killed if the test fails midway.
pub struct Sensor {
    child: Child,
    stderr_lines: mpsc::Receiver<String>,
}

impl Drop for Sensor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sensor {
    /// `sensor ARGS` (e.g. `run --output F`), returned once its programs are attached.
    pub fn start<S: AsRef<OsStr>>(args: &[S]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sensor"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the sensor");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("sensor: {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let sensor = Self {
            child,
            stderr_lines: rx,
        };
        // Not a timing assertion: a bound against hanging.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match sensor.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains("capturing interpreter execs") => break,
                Ok(_) => continue,
                Err(_) => panic!("the sensor never started capturing"),
            }
        }
        sensor
    }

    /// SIGTERM, then the exit summary.
    pub fn stop(mut self) -> Value {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the sensor exited with {status}");
        let lines: Vec<String> = self.stderr_lines.try_iter().collect();
        lines
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v.get("summary").is_some())
            .unwrap_or_else(|| panic!("no exit summary in: {lines:?}"))
    }
}

/// The findings written to `path` so far.
pub fn findings(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn script_path(f: &Value) -> Option<&str> {
    f.pointer("/finding/processes/0/script/path")?.as_str()
}

/// Wait (bounded) until `want` holds for the findings so far.
pub fn wait_for(path: &Path, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let all = findings(path);
        if want(&all) || Instant::now() > deadline {
            return all;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
