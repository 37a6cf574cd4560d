//! The bench tools' command lines. Declaring an integration test also makes
//! `cargo test` build `loadgen` and `classifier-bench` as plain binaries, so
//! `cargo xtask bench --quick` can run the very artifacts the test run builds.

use std::process::Command;

#[test]
fn loadgen_writes_one_exec_event_per_line() {
    let dir = tempfile_dir();
    let out = dir.join("events.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["gen-events", "--count", "32", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 32);
    for line in lines {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(event["pid"].is_u64(), "{line}");
        assert!(event["argv"].is_array(), "{line}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn both_tools_describe_themselves() {
    for tool in [
        env!("CARGO_BIN_EXE_loadgen"),
        env!("CARGO_BIN_EXE_classifier-bench"),
    ] {
        let out = Command::new(tool).arg("--help").output().unwrap();
        assert!(out.status.success(), "{tool} --help failed");
        assert!(!out.stdout.is_empty());
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bench-tools-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
