//! End-to-end capture tests on the real kernel: start `sensor watch`, run
//! inert scripts in every form, and check the events it prints.
//!
//! These need root and BPF. They fail (never skip) when the sensor cannot
//! load its programs, with the sensor's own error message.
//!
//! Waiting is by content, never by time: each scenario runs, then the test
//! waits until its event shows up (a deadline only turns a hang into a clear
//! failure). "No event" is checked by running a sentinel exec afterwards and
//! waiting for it: the ring buffer is ordered, so anything earlier would have
//! arrived before it.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use sensor::event::{ExecEvent, RawString, Script, StdinKind};

const DEADLINE: Duration = Duration::from_secs(120);
const PYTHON: &str = "/usr/bin/python3";

/// A running `sensor watch --output FILE`.
struct Sensor {
    child: Mutex<Child>,
    output: PathBuf,
    stderr: PathBuf,
    seen: Mutex<(u64, Vec<ExecEvent>)>,
    _dir: tempfile::TempDir,
}

impl Sensor {
    fn start(extra: &[&str]) -> Sensor {
        let dir = tempfile::tempdir().expect("temp dir");
        let output = dir.path().join("events.jsonl");
        let stderr = dir.path().join("stderr.txt");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sensor"));
        cmd.arg("watch")
            .arg("--output")
            .arg(&output)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        // The sensor must not outlive the test process.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn sensor watch");
        let sensor = Sensor {
            child: Mutex::new(child),
            output,
            stderr,
            seen: Mutex::new((0, Vec::new())),
            _dir: dir,
        };
        sensor.wait_ready();
        sensor
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Exec a marker until it is captured: the programs are attached.
    fn wait_ready(&self) {
        let marker = format!(": ready-{}", nonce());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
                panic!(
                    "sensor watch exited ({status}) before capturing anything; BPF capture must work \
                     on this machine (root, BTF, BPF). Its stderr:\n{}",
                    self.stderr_text()
                );
            }
            run(Command::new("/bin/bash").args(["-c", &marker]));
            if self.find(|e| argv_has(e, &marker)).is_some() {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "sensor never reported its readiness exec; stderr:\n{}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Read new complete lines of the output.
    fn poll(&self) {
        let mut seen = self.seen.lock().unwrap();
        let Ok(mut file) = std::fs::File::open(&self.output) else {
            return;
        };
        file.seek(std::io::SeekFrom::Start(seen.0)).unwrap();
        let mut text = Vec::new();
        file.read_to_end(&mut text).unwrap();
        let complete = match text.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => 0,
        };
        for line in BufReader::new(&text[..complete]).lines() {
            let line = line.unwrap();
            let event: ExecEvent = serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!("sensor printed a line that is not an ExecEvent ({e}): {line}")
            });
            seen.1.push(event);
        }
        seen.0 += complete as u64;
    }

    fn find(&self, pred: impl Fn(&ExecEvent) -> bool) -> Option<ExecEvent> {
        self.poll();
        self.seen
            .lock()
            .unwrap()
            .1
            .iter()
            .find(|e| pred(e))
            .cloned()
    }

    fn all(&self, pred: impl Fn(&ExecEvent) -> bool) -> Vec<ExecEvent> {
        self.poll();
        self.seen
            .lock()
            .unwrap()
            .1
            .iter()
            .filter(|e| pred(e))
            .cloned()
            .collect()
    }

    /// Wait until an event matches; fail clearly at the deadline.
    fn wait_for(&self, what: &str, pred: impl Fn(&ExecEvent) -> bool) -> ExecEvent {
        let started = Instant::now();
        loop {
            if let Some(event) = self.find(&pred) {
                return event;
            }
            if started.elapsed() > DEADLINE {
                let seen = self.seen.lock().unwrap();
                let tail: Vec<String> = seen
                    .1
                    .iter()
                    .rev()
                    .take(10)
                    .map(|e| serde_json::to_string(e).unwrap())
                    .collect();
                panic!(
                    "no event for {what}; last events:\n{}\nsensor stderr:\n{}",
                    tail.join("\n"),
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Run a sentinel exec and wait for it: everything before it has arrived.
    fn barrier(&self) {
        let marker = format!(": barrier-{}", nonce());
        run(Command::new("/bin/bash").args(["-c", &marker]));
        self.wait_for("the barrier exec", |e| argv_has(e, &marker));
    }

    /// SIGTERM, wait, and return the summary line from stderr.
    fn stop(&self) -> String {
        let mut child = self.child.lock().unwrap();
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "sensor watch failed: {}",
            self.stderr_text()
        );
        self.stderr_text()
            .lines()
            .find(|l| l.starts_with("sensor watch:"))
            .unwrap_or_else(|| panic!("no summary line on stderr:\n{}", self.stderr_text()))
            .to_string()
    }
}

fn shared() -> &'static Sensor {
    static SENSOR: OnceLock<Sensor> = OnceLock::new();
    SENSOR.get_or_init(|| {
        // Started from a thread that lives as long as the process, so the
        // death signal only fires when the test process ends.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let sensor = Sensor::start(&[]);
            tx.send(sensor).unwrap();
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("sensor start")
    })
}

fn nonce() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn run(cmd: &mut Command) -> std::process::ExitStatus {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run command")
}

fn spawn(cmd: &mut Command) -> u32 {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn argv_has(e: &ExecEvent, needle: &str) -> bool {
    e.argv.iter().any(|a| {
        a.as_bytes()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    })
}

fn s(text: &str) -> RawString {
    RawString::from(text)
}

fn ns_inode(kind: &str) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap();
    let text = link.to_string_lossy();
    text.trim_end_matches(']')
        .rsplit('[')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Inode of this process's cgroup2 directory (= bpf_get_current_cgroup_id).
fn cgroup_id() -> u64 {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("a cgroup2 line in /proc/self/cgroup");
    for root in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        let dir = format!("{root}{path}");
        if let Ok(meta) = std::fs::metadata(&dir) {
            if Path::new(root).join("cgroup.controllers").exists() || root.ends_with("unified") {
                return meta.ino();
            }
        }
    }
    panic!("cannot find the cgroup2 directory of {path}");
}

/// Identity fields every event of a child of this test process shares.
fn assert_identity(e: &ExecEvent, pid: u32, comm: &str) {
    assert_eq!(e.pid, pid, "pid: {e:?}");
    assert_eq!(e.tid, pid, "tid: {e:?}");
    assert_eq!(e.ppid, std::process::id(), "ppid: {e:?}");
    // The parent (this test process, spawning from one of its threads) as
    // its /proc/PID/stat shows it.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let own_comm = &stat[stat.find('(').unwrap() + 1..stat.rfind(')').unwrap()];
    let parent = e.parent.as_ref().unwrap_or_else(|| panic!("parent: {e:?}"));
    assert_eq!(parent.comm, own_comm, "parent comm: {e:?}");
    assert_eq!(
        parent.ppid,
        unsafe { libc::getppid() } as u32,
        "parent ppid: {e:?}"
    );
    assert_eq!(e.uid, unsafe { libc::getuid() });
    assert_eq!(e.gid, unsafe { libc::getgid() });
    assert_eq!(e.comm, comm);
    assert_eq!(e.cgroup_id, cgroup_id(), "cgroup_id: {e:?}");
    assert_eq!(e.mnt_ns, ns_inode("mnt"));
    assert_eq!(e.pid_ns, ns_inode("pid"));
    assert!(e.ktime_ns > 0);
    let t = time::OffsetDateTime::parse(&e.time, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|err| panic!("time {:?} is not RFC 3339: {err}", e.time));
    assert_eq!(t.offset(), time::UtcOffset::UTC);
}

struct Scripts {
    dir: tempfile::TempDir,
}

impl Scripts {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn write(&self, name: &str, text: &str, executable: bool) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).unwrap();
        if executable {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    }
}

#[test]
fn script_file_as_argument() {
    let sensor = shared();
    let dir = Scripts::new();
    let name = format!("file-{}.sh", nonce());
    dir.write(&name, "exit 0\n", false);
    let pid = spawn(Command::new("/bin/bash").arg(&name).current_dir(dir.path()));
    let e = sensor.wait_for("bash FILE", |e| {
        e.pid == pid && e.binary.as_bytes() == b"/bin/bash"
    });
    assert_identity(&e, pid, "bash");
    assert_eq!(e.filename, s("/bin/bash"));
    assert_eq!(e.argv, vec![s("/bin/bash"), s(&name)]);
    assert!(!e.argv_truncated);
    assert_eq!(e.cwd, RawString::from(dir.path().to_str().unwrap()));
    assert_eq!(e.script, Script::File { path: s(&name) });

    let py = format!("file-{}.py", nonce());
    dir.write(&py, "pass\n", false);
    let pid = spawn(Command::new(PYTHON).arg(&py).current_dir(dir.path()));
    let e = sensor.wait_for("python3 FILE", |e| e.pid == pid);
    assert_identity(&e, pid, "python3");
    assert_eq!(e.binary, s(PYTHON));
    assert_eq!(e.script, Script::File { path: s(&py) });
}

#[test]
fn shebang_script_reports_the_interpreter() {
    let sensor = shared();
    let dir = Scripts::new();
    let name = format!("sb-{}.sh", nonce());
    dir.write(&name, "#!/bin/bash -e\nexit 0\n", true);
    let relative = format!("./{name}");
    let pid = spawn(Command::new(&relative).current_dir(dir.path()));
    let e = sensor.wait_for("./shebang.sh", |e| e.pid == pid);
    // comm is the script's basename, cut to 15 bytes by the kernel.
    assert_identity(&e, pid, &name[..name.len().min(15)]);
    assert_eq!(e.binary, s("/bin/bash"), "binary is the #! interpreter");
    assert_eq!(e.filename, s(&relative), "filename is what execve got");
    assert_eq!(e.argv, vec![s("/bin/bash"), s("-e"), s(&relative)]);
    assert_eq!(e.script, Script::File { path: s(&relative) });
    assert_eq!(e.cwd, RawString::from(dir.path().to_str().unwrap()));
}

#[test]
fn inline_code_with_flags_before_c() {
    let sensor = shared();
    let code = format!(": lc-{}", nonce());
    let pid = spawn(Command::new("/bin/bash").args(["-lc", &code]));
    let e = sensor.wait_for("bash -lc", |e| e.pid == pid && argv_has(e, &code));
    assert_identity(&e, pid, "bash");
    assert_eq!(e.argv, vec![s("/bin/bash"), s("-lc"), s(&code)]);
    assert_eq!(e.script, Script::Inline { inline: s(&code) });

    let code = format!("pass  # {}", nonce());
    let pid = spawn(Command::new(PYTHON).args(["-I", "-c", &code]));
    let e = sensor.wait_for("python3 -I -c", |e| e.pid == pid);
    assert_identity(&e, pid, "python3");
    assert_eq!(e.binary, s(PYTHON));
    assert_eq!(e.argv, vec![s(PYTHON), s("-I"), s("-c"), s(&code)]);
    assert_eq!(e.script, Script::Inline { inline: s(&code) });

    let code = format!(": sh-{}", nonce());
    let pid = spawn(Command::new("/bin/sh").args(["-e", "-c", &code, "arg0"]));
    let e = sensor.wait_for("sh -e -c", |e| e.pid == pid);
    assert_eq!(e.script, Script::Inline { inline: s(&code) });
}

#[test]
fn stdin_from_a_pipe() {
    let sensor = shared();
    let mut child = Command::new("/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let pipe_ino = {
        use std::os::fd::AsRawFd;
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::fstat(stdin.as_raw_fd(), &mut st) }, 0);
        st.st_ino
    };
    stdin.write_all(b"exit 0\n").unwrap();
    drop(stdin);
    child.wait().unwrap();
    let e = sensor.wait_for("sh reading a pipe", |e| e.pid == pid);
    assert_identity(&e, pid, "sh");
    assert_eq!(e.argv, vec![s("/bin/sh")]);
    let Script::Stdin { stdin } = &e.script else {
        panic!("expected stdin, got {:?}", e.script)
    };
    assert_eq!(stdin.kind, StdinKind::Pipe);
    assert_eq!(stdin.inode, Some(pipe_ino), "inode of the pipe");
    assert_eq!(stdin.path, None);
}

#[test]
fn stdin_from_a_file() {
    let sensor = shared();
    let dir = Scripts::new();
    let path = dir.write(&format!("in-{}.sh", nonce()), "exit 0\n", false);
    let ino = std::fs::metadata(&path).unwrap().ino();
    let file = std::fs::File::open(&path).unwrap();
    let mut child = Command::new("/bin/bash")
        .arg("-s")
        .stdin(file)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let e = sensor.wait_for("bash -s < file", |e| e.pid == pid);
    assert_identity(&e, pid, "bash");
    let Script::Stdin { stdin } = &e.script else {
        panic!("expected stdin, got {:?}", e.script)
    };
    assert_eq!(stdin.kind, StdinKind::File);
    assert_eq!(stdin.path, Some(RawString::from(path.to_str().unwrap())));
    assert_eq!(stdin.inode, Some(ino));
}

#[test]
fn stdin_from_a_socket_and_a_tty() {
    let sensor = shared();
    // A socket: `nc host port | sh`-like, or a reverse shell's stdin.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut child = Command::new("/bin/sh")
        .stdin(std::os::fd::OwnedFd::from(theirs))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    (&ours).write_all(b"exit 0\n").unwrap();
    child.wait().unwrap();
    let e = sensor.wait_for("sh reading a socket", |e| e.pid == pid);
    let Script::Stdin { stdin } = &e.script else {
        panic!("expected stdin, got {:?}", e.script)
    };
    assert_eq!(stdin.kind, StdinKind::Socket);
    assert!(stdin.inode.is_some());

    // A terminal: an interactive shell.
    let (mut master, mut slave) = (0, 0);
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    let tty_path = std::fs::read_link(format!("/proc/self/fd/{slave}")).unwrap();
    let slave = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(slave) };
    let mut master = unsafe {
        std::fs::File::from(<std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(master))
    };
    let mut child = Command::new("/bin/sh")
        .stdin(slave)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    master.write_all(b"exit 0\n").unwrap();
    child.wait().unwrap();
    let e = sensor.wait_for("sh on a tty", |e| e.pid == pid);
    let Script::Stdin { stdin } = &e.script else {
        panic!("expected stdin, got {:?}", e.script)
    };
    assert_eq!(stdin.kind, StdinKind::Tty);
    assert_eq!(
        stdin.path,
        Some(RawString::from(tty_path.to_str().unwrap()))
    );
}

#[test]
fn python_module() {
    let sensor = shared();
    let pid = spawn(Command::new(PYTHON).args(["-m", "json.tool"]));
    let e = sensor.wait_for("python3 -m json.tool", |e| e.pid == pid);
    assert_identity(&e, pid, "python3");
    assert_eq!(e.argv, vec![s(PYTHON), s("-m"), s("json.tool")]);
    assert_eq!(
        e.script,
        Script::Module {
            module: "json.tool".into()
        }
    );
}

#[test]
fn dev_fd_script() {
    let sensor = shared();
    let dir = Scripts::new();
    let path = dir.write(&format!("fd-{}.sh", nonce()), "exit 0\n", false);
    let outer = spawn(
        Command::new("/bin/bash")
            .arg("-c")
            .arg(format!("/bin/bash /dev/fd/3 3< '{}'; :", path.display())),
    );
    let e = sensor.wait_for("bash /dev/fd/3", |e| e.ppid == outer);
    assert_eq!(e.argv, vec![s("/bin/bash"), s("/dev/fd/3")]);
    assert_eq!(
        e.script,
        Script::Fd {
            path: s("/dev/fd/3")
        }
    );
}

#[test]
fn memfd_exec() {
    let sensor = shared();
    // A script in a memfd, executed through /proc/self/fd/N: never on disk.
    let program = r##"
import os
fd = os.memfd_create("payload", 0)
os.write(fd, b"#!/bin/sh\nexit 0\n")
os.execv(f"/proc/self/fd/{fd}", ["payload"])
"##;
    let pid = spawn(Command::new(PYTHON).args(["-c", program]));
    let e = sensor.wait_for("memfd exec", |e| {
        e.pid == pid && e.binary.as_bytes() == b"/bin/sh"
    });
    assert!(
        e.filename.as_bytes().starts_with(b"/proc/self/fd/"),
        "{e:?}"
    );
    assert_eq!(e.argv, vec![s("/bin/sh"), e.filename.clone()]);
    assert_eq!(
        e.script,
        Script::Fd {
            path: e.filename.clone()
        }
    );
    assert_eq!(e.ppid, std::process::id());

    // fexecve: execveat(fd, "", AT_EMPTY_PATH) -> /dev/fd/N.
    let program = r##"
import os
fd = os.memfd_create("payload", 0)
os.write(fd, b"#!/bin/sh\nexit 0\n")
os.execve(fd, ["payload"], {})
"##;
    let pid = spawn(Command::new(PYTHON).args(["-c", program]));
    let e = sensor.wait_for("fexecve", |e| {
        e.pid == pid && e.binary.as_bytes() == b"/bin/sh"
    });
    assert!(e.filename.as_bytes().starts_with(b"/dev/fd/"), "{e:?}");
    assert_eq!(
        e.script,
        Script::Fd {
            path: e.filename.clone()
        }
    );
}

#[test]
fn argv_padded_past_the_limit_still_yields_the_script() {
    let sensor = shared();
    let dir = Scripts::new();
    let name = format!("deep-{}.sh", nonce());
    dir.write(&name, "exit 0\n", false);
    // 3,000 flags (9 KB) before the script: far past the 4 KiB window.
    let mut cmd = Command::new("/bin/bash");
    cmd.args(std::iter::repeat_n("-e", 3000))
        .arg(&name)
        .current_dir(dir.path());
    let pid = spawn(&mut cmd);
    let e = sensor.wait_for("padded bash FILE", |e| e.pid == pid);
    assert!(e.argv_truncated);
    assert!(
        e.argv.len() <= 64,
        "at most 64 args kept, got {}",
        e.argv.len()
    );
    assert_eq!(e.argv[0], s("/bin/bash"));
    assert_eq!(e.script, Script::File { path: s(&name) });

    // python3 -W x ... -c CODE
    let code = format!("pass  # {}", nonce());
    let mut cmd = Command::new(PYTHON);
    for _ in 0..1500 {
        cmd.args(["-W", "ignore"]);
    }
    cmd.args(["-c", &code]);
    let pid = spawn(&mut cmd);
    let e = sensor.wait_for("padded python3 -c", |e| e.pid == pid);
    assert!(e.argv_truncated);
    assert_eq!(e.script, Script::Inline { inline: s(&code) });

    // A -c literal longer than the window: the kernel copies it whole.
    let code = format!("{}: tail-{}", " ".repeat(6000), nonce());
    let pid = spawn(Command::new("/bin/bash").args(["-c", &code]));
    let e = sensor.wait_for("long bash -c", |e| e.pid == pid);
    assert!(e.argv_truncated);
    assert_eq!(e.script, Script::Inline { inline: s(&code) });

    // More than 64 arguments but few bytes.
    let name = format!("many-{}.sh", nonce());
    dir.write(&name, "exit 0\n", false);
    let mut cmd = Command::new("/bin/sh");
    cmd.arg(&name)
        .args(std::iter::repeat_n("a", 100))
        .current_dir(dir.path());
    let pid = spawn(&mut cmd);
    let e = sensor.wait_for("sh FILE with 100 args", |e| e.pid == pid);
    assert!(e.argv_truncated);
    assert_eq!(e.argv.len(), 64);
    assert_eq!(e.script, Script::File { path: s(&name) });
}

#[test]
fn non_utf8_argv_is_kept_exactly() {
    let sensor = shared();
    let mut code = b": \xff\xfe ".to_vec();
    code.extend_from_slice(nonce().as_bytes());
    let pid = spawn(
        Command::new("/bin/bash")
            .arg("-c")
            .arg(OsStr::from_bytes(&code)),
    );
    let e = sensor.wait_for("non-UTF-8 bash -c", |e| e.pid == pid);
    assert_eq!(e.argv[2], RawString(code.clone()));
    assert_eq!(
        e.script,
        Script::Inline {
            inline: RawString(code)
        }
    );
    // And the JSON form carries the exact bytes.
    let json = serde_json::to_value(&e).unwrap();
    assert!(json["argv"][2]["base64"].is_string(), "{json}");
}

#[test]
fn a_shell_running_a_script_without_shebang_is_caught() {
    let sensor = shared();
    let dir = Scripts::new();
    let path = dir.write(&format!("noshebang-{}.sh", nonce()), "exit 0\n", true);
    // execve fails with ENOEXEC; bash then reads the file itself, no new exec.
    let outer = spawn(
        Command::new("/bin/bash")
            .arg("-c")
            .arg(format!("'{}'; :", path.display())),
    );
    let e = sensor.wait_for("ENOEXEC under bash", |e| {
        e.filename.as_bytes() == path.as_os_str().as_bytes() && e.ppid == outer
    });
    assert!(e.binary.as_bytes().ends_with(b"/bash"), "the shell: {e:?}");
    assert_eq!(
        e.parent.as_ref().map(|p| p.ppid),
        Some(std::process::id()),
        "the shell's parent is this test: {e:?}"
    );
    assert_eq!(e.argv, vec![RawString::from(path.to_str().unwrap())]);
    assert_eq!(
        e.script,
        Script::File {
            path: RawString::from(path.to_str().unwrap())
        }
    );
}

#[test]
fn failed_exec_and_non_interpreters_are_not_reported() {
    let sensor = shared();
    let marker = format!("enoent-{}", nonce());
    // python builds the marker at run time so its own -c code does not match.
    let program = format!(
        "import os\ntry:\n    os.execv('/nonexistent/bash', ['bash', '-c', ': ' + '{}'[::-1]])\nexcept OSError:\n    pass\n",
        marker.chars().rev().collect::<String>()
    );
    run(Command::new(PYTHON).args(["-c", &program]));
    let true_marker = format!("true-{}", nonce());
    run(Command::new("/bin/true").arg(&true_marker));
    sensor.barrier();
    assert!(
        sensor
            .find(|e| argv_has(e, &format!(": {marker}")))
            .is_none(),
        "a failed exec was reported"
    );
    assert!(
        sensor.find(|e| argv_has(e, &true_marker)).is_none(),
        "/bin/true was reported"
    );
}

#[test]
fn a_thousand_rapid_execs_are_all_seen_without_drops() {
    let sensor = Sensor::start(&[]);
    let run_id = nonce();
    for i in 0..1000 {
        let status = run(Command::new("/bin/bash").args(["-c", &format!(": rapid-{run_id}-{i}")]));
        assert!(status.success());
    }
    let last = format!(": rapid-{run_id}-999");
    sensor.wait_for("the 1000th rapid exec", |e| argv_has(e, &last));
    let prefix = format!(": rapid-{run_id}-");
    let mut seen: Vec<u32> = sensor
        .all(|e| argv_has(e, &prefix))
        .iter()
        .map(|e| {
            let code = e.argv[2].to_lossy();
            code.rsplit('-').next().unwrap().parse().unwrap()
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 1000, "every exec seen exactly once");
    let summary = sensor.stop();
    assert!(summary.contains(" 0 dropped"), "zero drops: {summary}");
}

#[test]
fn limits_are_configurable_at_load_time() {
    let sensor = Sensor::start(&["--max-args", "4", "--max-argv-bytes", "256"]);
    let dir = Scripts::new();
    let name = format!("limits-{}.sh", nonce());
    dir.write(&name, "exit 0\n", false);
    let mut cmd = Command::new("/bin/bash");
    cmd.args(std::iter::repeat_n("-e", 200))
        .arg(&name)
        .current_dir(dir.path());
    let pid = spawn(&mut cmd);
    let e = sensor.wait_for("bash with 200 flags under a 256-byte window", |e| {
        e.pid == pid
    });
    assert!(e.argv_truncated);
    assert_eq!(e.argv.len(), 4);
    assert_eq!(e.script, Script::File { path: s(&name) });
    let summary = sensor.stop();
    assert!(summary.starts_with("sensor watch: "), "{summary}");
}

#[test]
fn not_root_is_a_clear_error() {
    // A copy nobody can run wherever the checkout lives (e.g. under /root).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let binary = dir.path().join("sensor");
    std::fs::copy(env!("CARGO_BIN_EXE_sensor"), &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Another test's fork may still hold the copy's write descriptor for a
    // moment (ETXTBSY): retry rather than fail on that race.
    let mut tries = 0;
    let output = loop {
        match Command::new(&binary)
            .args(["watch", "--duration", "1"])
            .current_dir("/")
            .uid(65534)
            .gid(65534)
            .output()
        {
            Err(err) if err.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.unwrap(),
        }
    };
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs root"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
