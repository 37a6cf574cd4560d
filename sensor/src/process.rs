//! Process facts from `/proc`: a process's ancestry (pid, ppid, comm, exe,
//! cmdline) and, for an interpreter reading a pipe, the process that writes
//! into that pipe (found through the pipe inode in `/proc/*/fd`).

use std::path::Path;

use crate::detection::ProcessInfo;
use crate::event::RawString;

/// `/proc/PID/stat` fields we need. comm may contain spaces and `)`, so the
/// fields are taken after the *last* `)`.
fn parse_stat(text: &str) -> Option<(String, u32)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let mut rest = text.get(close + 1..)?.split_ascii_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

/// One process as `/proc` shows it now (None when it is gone).
pub fn process_info(proc: &Path, pid: u32) -> Option<ProcessInfo> {
    let dir = proc.join(pid.to_string());
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    let (comm, ppid) = parse_stat(&stat)?;
    let binary = std::fs::read_link(dir.join("exe"))
        .ok()
        .map(|p| RawString(p.into_os_string().into_encoded_bytes()));
    let args = std::fs::read(dir.join("cmdline"))
        .map(|bytes| split_cmdline(&bytes))
        .unwrap_or_default();
    Some(ProcessInfo {
        pid,
        ppid,
        comm,
        binary,
        args,
    })
}

fn split_cmdline(bytes: &[u8]) -> Vec<RawString> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes.split(|b| *b == 0).map(RawString::from).collect()
}

/// The parent of the exec'd process, then its parent, up to `max_depth`
/// processes, stopping at pid 1 (included) or the first one already gone.
pub fn ancestors(proc: &Path, ppid: u32, max_depth: usize) -> Vec<ProcessInfo> {
    let mut out = Vec::new();
    let mut next = ppid;
    while next != 0 && out.len() < max_depth {
        let Some(info) = process_info(proc, next) else {
            break;
        };
        next = if info.pid == 1 { 0 } else { info.ppid };
        out.push(info);
    }
    out
}

/// Processes other than `reader` that hold `pipe:[inode]` open for writing.
/// Scans every process's fds, so it is only done for stdin-fed interpreters.
pub fn pipe_writers(proc: &Path, inode: u64, reader: u32) -> Vec<u32> {
    let target = format!("pipe:[{inode}]");
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut writers = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == reader {
            continue;
        }
        let fd_dir = entry.path().join("fd");
        let Ok(fds) = std::fs::read_dir(&fd_dir) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            if link.as_os_str() != target.as_str() {
                continue;
            }
            let writes = fd
                .file_name()
                .to_str()
                .map(|n| fd_is_writable(&entry.path().join("fdinfo").join(n)))
                .unwrap_or(false);
            if writes {
                writers.push(pid);
                break;
            }
        }
    }
    writers.sort_unstable();
    writers
}

/// `flags:` in `/proc/PID/fdinfo/N` is octal; write end when O_WRONLY or O_RDWR.
fn fd_is_writable(fdinfo: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(fdinfo) else {
        return false;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .map(|flags| flags & (libc::O_ACCMODE as u32) != libc::O_RDONLY as u32)
        .unwrap_or(false)
}

/// The process feeding `reader`'s stdin pipe: of all writers, prefer one that
/// is not a shell holding the pipe by inheritance (a sibling such as `curl`),
/// else the first.
pub fn stdin_feeder(proc: &Path, inode: u64, reader: u32, reader_ppid: u32) -> Option<ProcessInfo> {
    let writers = pipe_writers(proc, inode, reader);
    let infos: Vec<ProcessInfo> = writers
        .into_iter()
        .filter_map(|pid| process_info(proc, pid))
        .collect();
    infos
        .iter()
        .find(|p| p.pid != reader_ppid)
        .or_else(|| infos.first())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::process::{Command, Stdio};

    #[test]
    fn stat_with_odd_comm() {
        assert_eq!(
            parse_stat("42 (a) b (c)) S 7 42 42 0 -1"),
            Some(("a) b (c)".to_string(), 7))
        );
        assert_eq!(parse_stat("1 (init) S 0 1 1"), Some(("init".into(), 0)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn cmdline_split_keeps_empty_args() {
        let args = split_cmdline(b"bash\0-c\0\0echo\0");
        assert_eq!(args.len(), 4);
        assert_eq!(args[2], RawString::from(""));
        assert!(split_cmdline(b"").is_empty());
    }

    #[test]
    fn ancestry_of_this_test_reaches_init() {
        let proc = Path::new("/proc");
        let me = std::process::id();
        let info = process_info(proc, me).unwrap();
        assert_eq!(info.pid, me);
        assert!(!info.args.is_empty());
        let chain = ancestors(proc, info.ppid, 64);
        assert_eq!(chain.first().map(|p| p.pid), Some(info.ppid));
        // Every link's ppid is the next link's pid.
        for pair in chain.windows(2) {
            assert_eq!(pair[0].ppid, pair[1].pid);
        }
        assert!(ancestors(proc, info.ppid, 1).len() <= 1);
    }

    #[test]
    fn finds_the_writer_of_a_pipe() {
        // `sleep` writes into a pipe whose read end this test holds.
        let mut writer = Command::new("/bin/sleep")
            .arg("30")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let read_end = writer.stdout.as_ref().unwrap();
        let inode = std::fs::metadata(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(read_end)
        ))
        .unwrap()
        .ino();
        let me = std::process::id();
        let writers = pipe_writers(Path::new("/proc"), inode, me);
        let feeder = stdin_feeder(Path::new("/proc"), inode, me, 0);
        writer.kill().unwrap();
        writer.wait().unwrap();
        assert_eq!(writers, vec![writer.id()]);
        let feeder = feeder.unwrap();
        assert_eq!(feeder.pid, writer.id());
        assert_eq!(feeder.comm, "sleep");
    }
}
