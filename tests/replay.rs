//! Golden replay: every `tests/traces/*.trace.jsonl` replays (no root, no
//! eBPF, no host lookups) into exactly its `*.findings.jsonl`.
//! After an intended change to findings: `UPDATE_GOLDEN=1 cargo test --test replay`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/traces")
}

fn traces() -> Vec<PathBuf> {
    let mut traces: Vec<PathBuf> = std::fs::read_dir(traces_dir())
        .expect("tests/traces exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".trace.jsonl"))
        .collect();
    traces.sort();
    assert!(!traces.is_empty(), "no golden traces in tests/traces");
    traces
}

fn golden_for(trace: &Path) -> PathBuf {
    PathBuf::from(
        trace
            .to_string_lossy()
            .replace(".trace.jsonl", ".findings.jsonl"),
    )
}

/// `sensor replay ARGS TRACE`: (stdout, stderr), asserting success.
fn replay(trace: &Path, extra: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sensor"))
        .arg("replay")
        .args(extra)
        .arg(trace)
        // Replay must not need the host: no config, run from an empty dir.
        .current_dir(std::env::temp_dir())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run sensor replay");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        out.status.success(),
        "sensor replay {} failed:\n{stderr}",
        trace.display()
    );
    (stdout, stderr)
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("finding {} differs:\n  want: {w}\n  got:  {g}", i + 1);
        }
    }
    format!(
        "{} findings expected, {} replayed",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn golden_traces_replay_to_golden_findings() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for trace in traces() {
        let (findings, stderr) = replay(&trace, &[]);
        assert!(stderr.contains("events/s"), "no rate reported: {stderr}");
        let golden = golden_for(&trace);
        if update {
            std::fs::write(&golden, &findings).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|_| {
            panic!(
                "missing {}; create it with UPDATE_GOLDEN=1 cargo test --test replay",
                golden.display()
            )
        });
        assert!(
            want == findings,
            "{} no longer replays to {}: {}",
            trace.display(),
            golden.display(),
            first_difference(&want, &findings)
        );
        // Replay is deterministic: a second run is byte-identical.
        assert_eq!(replay(&trace, &[]).0, findings);
    }
}

#[test]
fn malformed_lines_are_reported_by_number_and_skipped() {
    let trace = traces_dir().join("host.trace.jsonl");
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    // Line 3 becomes garbage, and the trace ends with a cut-off record.
    lines.insert(2, "{\"type\":\"exec\",\"event\":");
    let cut = &lines[lines.len() - 1][..40];
    let mut broken = lines.join("\n");
    broken.push('\n');
    broken.push_str(cut);
    let dir = tempfile::tempdir().unwrap();
    let broken_path = dir.path().join("broken.trace.jsonl");
    std::fs::write(&broken_path, broken).unwrap();

    let (findings, stderr) = replay(&broken_path, &[]);
    assert!(stderr.contains("trace line 3:"), "{stderr}");
    assert!(
        stderr.contains(&format!("trace line {}:", lines.len() + 1)),
        "{stderr}"
    );
    assert!(stderr.contains("2 bad lines skipped"), "{stderr}");
    // Everything else replays as before.
    let (clean, _) = replay(&trace, &[]);
    assert_eq!(findings, clean);
}

#[test]
fn rescoring_agrees_with_the_recorded_verdicts() {
    // The recorded traces hold clear-cut scripts: scoring them again with
    // this build's classifier finds the same executions malicious.
    for trace in traces() {
        let (recorded, _) = replay(&trace, &[]);
        let (rescored, _) = replay(&trace, &["--rescore"]);
        assert_eq!(
            recorded.lines().count(),
            rescored.lines().count(),
            "{}: rescoring changed which execs are malicious",
            trace.display()
        );
    }
}

#[test]
fn realtime_pacing_gives_the_same_findings() {
    let trace = traces_dir().join("host.trace.jsonl");
    let (paced, _) = replay(&trace, &["--realtime", "--speed", "1000"]);
    let (flat_out, _) = replay(&trace, &[]);
    assert_eq!(paced, flat_out);
}

#[test]
fn not_a_trace_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jsonl");
    std::fs::write(&path, "{\"hello\":1}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sensor"))
        .arg("replay")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a trace header"), "{stderr}");
    assert!(stderr.contains("x.jsonl"), "{stderr}");
}
