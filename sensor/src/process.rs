//! Process facts from `/proc`: a process's ancestry (pid, ppid, comm, exe,
//! cmdline) and, for an interpreter reading a pipe, the process that writes
//! into that pipe (found through the pipe inode in the `/proc/PID/fd` of the
//! reader's family: parent, siblings and children).

use std::path::Path;

use crate::detection::ProcessInfo;
use crate::event::RawString;

/// `/proc/PID/stat` fields we need. comm may contain spaces and `)`, so the
/// fields are taken after the *last* `)`.
fn parse_stat(text: &str) -> Option<(String, u32)> {
    parse_stat_full(text).map(|(comm, ppid, _)| (comm, ppid))
}

/// comm, ppid and start time (field 22, clock ticks after boot: with the
/// pid, it names one process for good).
fn parse_stat_full(text: &str) -> Option<(String, u32, u64)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let mut rest = text.get(close + 1..)?.split_ascii_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    // Fields 5..=21 come between ppid (4) and starttime (22).
    let start = rest.nth(17).and_then(|v| v.parse().ok()).unwrap_or(0);
    Some((comm, ppid, start))
}

/// A small `/proc` file, read whole: open and read into a 4 KiB buffer (no
/// `statx` for a size hint that procfs reports as 0, no 32-byte probe read,
/// as `std::fs::read` does), growing only for a larger file.
pub fn read_proc_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// `read_proc_file` as text (stat, children, fdinfo are ASCII).
fn read_proc_text(path: &Path) -> Option<String> {
    String::from_utf8(read_proc_file(path).ok()?).ok()
}

/// One process as `/proc` shows it now (None when it is gone).
pub fn process_info(proc: &Path, pid: u32) -> Option<ProcessInfo> {
    let dir = proc.join(pid.to_string());
    let stat = read_proc_text(&dir.join("stat"))?;
    let (comm, ppid) = parse_stat(&stat)?;
    Some(process_rest(&dir, pid, ppid, comm))
}

/// pid, ppid and comm only (one read of `/proc/PID/stat`): enough for the
/// finding rules' look at the parent, without its exe and cmdline.
pub fn process_link(proc: &Path, pid: u32) -> Option<ProcessInfo> {
    let stat = read_proc_text(&proc.join(pid.to_string()).join("stat"))?;
    let (comm, ppid) = parse_stat(&stat)?;
    Some(ProcessInfo {
        pid,
        ppid,
        comm,
        binary: None,
        args: Vec::new(),
    })
}

/// exe and cmdline of the process whose stat gave `ppid` and `comm`.
fn process_rest(dir: &Path, pid: u32, ppid: u32, comm: String) -> ProcessInfo {
    let binary = std::fs::read_link(dir.join("exe"))
        .ok()
        .map(|p| RawString(p.into_os_string().into_encoded_bytes()));
    let args = read_proc_file(&dir.join("cmdline"))
        .map(|bytes| split_cmdline(&bytes))
        .unwrap_or_default();
    ProcessInfo {
        pid,
        ppid,
        comm,
        binary,
        args,
    }
}

/// (pid, start time) -> when it was read, and what.
type LinkCache = lru::LruCache<(u32, u64), (std::time::Instant, ProcessInfo)>;

/// A parent's (pid, start time) -> when its ancestry was walked, the
/// processes above it (its parent first), and whether that walk reached
/// init (else it stopped at the depth limit).
type ChainCache = lru::LruCache<(u32, u64), (std::time::Instant, Vec<ProcessInfo>, bool)>;

/// pid -> the direct parent last read for it: when, what, and its start time.
type ParentCache = lru::LruCache<u32, (std::time::Instant, ProcessInfo, u64)>;

/// How long a parent's walked ancestry is reused without reading any of its
/// links again: a busy parent (a shell loop exec'ing hundreds of times a
/// second) walks its chain a few times a second instead of once per exec.
const CHAIN_TTL: std::time::Duration = std::time::Duration::from_millis(250);

/// Ancestry lookups with the grandparents and above remembered: every exec
/// of a busy parent (a shell loop, a load generator, a CI runner) walks the
/// same chain, and reading each link's exe and cmdline is most of the cost.
/// A link is keyed by pid and start time (its stat is read every time, so a
/// reused pid is never mistaken for an old process) and kept for `ttl`,
/// which bounds how stale it can be when that process exec's something else.
/// The direct parent's stat is read every time, its exe and cmdline again
/// once they are a quarter of a second old ([`CHAIN_TTL`]). Above it, the
/// whole chain a parent (pid, start time) was last seen with is reused for
/// as long when the parent's own parent is still its first link: no `/proc`
/// read at all for the grandparents and above then.
#[derive(Debug, Clone)]
pub struct AncestryCache {
    links: std::sync::Arc<std::sync::Mutex<LinkCache>>,
    parents: std::sync::Arc<std::sync::Mutex<ParentCache>>,
    chains: std::sync::Arc<std::sync::Mutex<ChainCache>>,
    ttl: std::time::Duration,
}

impl AncestryCache {
    pub fn new(capacity: usize, ttl: std::time::Duration) -> Self {
        Self {
            links: std::sync::Arc::new(std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(capacity.max(1)).expect("non-zero"),
            ))),
            chains: std::sync::Arc::new(std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(capacity.max(1)).expect("non-zero"),
            ))),
            parents: std::sync::Arc::new(std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(capacity.max(1)).expect("non-zero"),
            ))),
            ttl,
        }
    }

    /// As [`ancestors`], from the cache where it can.
    pub fn ancestors(&self, proc: &Path, ppid: u32, max_depth: usize) -> Vec<ProcessInfo> {
        self.ancestors_of(proc, ppid, None, max_depth)
    }

    /// As [`ancestors`](Self::ancestors), with the direct parent's ppid and
    /// comm as the kernel saw them at the exec (`ExecEvent::parent`): when
    /// they are those of the parent read for this pid less than
    /// [`CHAIN_TTL`] ago, that read is reused with no `/proc` read at all
    /// (its `stat` was read for every exec of a busy parent before). Within
    /// that quarter second, the same pid, comm and ppid are the same process:
    /// another one would need the pid space to wrap around in between.
    pub fn ancestors_of(
        &self,
        proc: &Path,
        ppid: u32,
        kernel_parent: Option<&crate::event::Parent>,
        max_depth: usize,
    ) -> Vec<ProcessInfo> {
        if ppid == 0 || max_depth == 0 {
            return Vec::new();
        }
        let known = kernel_parent.and_then(|kp| {
            let mut parents = self.parents.lock().unwrap_or_else(|p| p.into_inner());
            let (at, info, start) = parents.get(&ppid)?;
            (at.elapsed() < CHAIN_TTL && info.ppid == kp.ppid && info.comm == kp.comm)
                .then(|| (info.clone(), *start))
        });
        let Some((parent, start)) = known.or_else(|| {
            let (info, start, read_at) = self.link_read_at(proc, ppid, CHAIN_TTL)?;
            if kernel_parent.is_some() {
                self.parents
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .put(ppid, (read_at, info.clone(), start));
            }
            Some((info, start))
        }) else {
            return Vec::new();
        };
        let above = if parent.pid == 1 { 0 } else { parent.ppid };
        let key = (parent.pid, start);
        let mut out = vec![parent];
        if above == 0 || max_depth == 1 {
            return out;
        }
        if let Some((at, chain, to_init)) = self.lock_chains().get(&key) {
            if at.elapsed() < CHAIN_TTL
                && chain.first().is_some_and(|p| p.pid == above)
                && (*to_init || chain.len() >= max_depth - 1)
            {
                out.extend(chain.iter().take(max_depth - 1).cloned());
                return out;
            }
        }
        let mut next = above;
        while next != 0 && out.len() < max_depth {
            let Some((info, _)) = self.link(proc, next, self.ttl) else {
                break;
            };
            next = if info.pid == 1 { 0 } else { info.ppid };
            out.push(info);
        }
        // A walk cut short by a process gone meanwhile is not kept.
        if next == 0 || out.len() == max_depth {
            let chain = out[1..].to_vec();
            self.lock_chains()
                .put(key, (std::time::Instant::now(), chain, next == 0));
        }
        out
    }

    fn lock_chains(&self) -> std::sync::MutexGuard<'_, ChainCache> {
        self.chains.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One link and its start time.
    fn link(
        &self,
        proc: &Path,
        pid: u32,
        max_age: std::time::Duration,
    ) -> Option<(ProcessInfo, u64)> {
        self.link_read_at(proc, pid, max_age)
            .map(|(info, start, _)| (info, start))
    }

    /// One link, its start time and when its exe and cmdline were read.
    fn link_read_at(
        &self,
        proc: &Path,
        pid: u32,
        max_age: std::time::Duration,
    ) -> Option<(ProcessInfo, u64, std::time::Instant)> {
        let dir = proc.join(pid.to_string());
        let stat = read_proc_text(&dir.join("stat"))?;
        let (comm, ppid, start) = parse_stat_full(&stat)?;
        let key = (pid, start);
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, info)) = links.get(&key) {
            // Same comm and parent as now, and recent: the same program.
            if at.elapsed() < max_age && info.comm == comm && info.ppid == ppid {
                return Some((info.clone(), start, *at));
            }
        }
        drop(links);
        let info = process_rest(&dir, pid, ppid, comm);
        let now = std::time::Instant::now();
        self.links
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .put(key, (now, info.clone()));
        Some((info, start, now))
    }
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

/// Processes other than `reader` that hold `pipe:[inode]` open for writing,
/// among every process on the host. Costly (every process's fds): the
/// sensor uses [`stdin_feeder`], which only looks at the reader's family.
pub fn pipe_writers(proc: &Path, inode: u64, reader: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let pids = entries.flatten().filter_map(|entry| {
        entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
    });
    pipe_writers_among(proc, inode, reader, pids)
        .into_iter()
        .map(|w| w.pid)
        .collect()
}

/// A process holding the write end of a pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeWriter {
    pub pid: u32,
    /// Every write end it holds is close-on-exec: it loses them at its next
    /// exec. A process that feeds a pipe on purpose has the end dup'd onto
    /// a descriptor (its stdout) or carried through an exec; a fork that has
    /// not exec'd yet holds its parent's ends this way for a moment.
    pub close_on_exec: bool,
}

/// The processes of `pids` other than `reader` that hold `pipe:[inode]`
/// open for writing, sorted by pid.
pub fn pipe_writers_among(
    proc: &Path,
    inode: u64,
    reader: u32,
    pids: impl IntoIterator<Item = u32>,
) -> Vec<PipeWriter> {
    let target = format!("pipe:[{inode}]");
    let mut writers: Vec<PipeWriter> = Vec::new();
    for pid in pids {
        if pid == reader {
            continue;
        }
        let dir = proc.join(pid.to_string());
        let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
            continue;
        };
        let mut found: Option<PipeWriter> = None;
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            if link.as_os_str() != target.as_str() {
                continue;
            }
            let Some(flags) = fd
                .file_name()
                .to_str()
                .and_then(|n| fd_flags(&dir.join("fdinfo").join(n)))
            else {
                continue;
            };
            if flags & (libc::O_ACCMODE as u32) == libc::O_RDONLY as u32 {
                continue;
            }
            let close_on_exec = flags & libc::O_CLOEXEC as u32 != 0;
            let w = found.get_or_insert(PipeWriter { pid, close_on_exec });
            w.close_on_exec &= close_on_exec;
            if !w.close_on_exec {
                break;
            }
        }
        writers.extend(found);
    }
    writers.sort_unstable_by_key(|w| w.pid);
    writers.dedup_by_key(|w| w.pid);
    writers
}

/// At most this many siblings are searched (a parent such as init or a
/// load generator may have thousands of children).
const MAX_FAMILY: usize = 256;

/// The children of `pid` (of every one of its threads), from
/// `/proc/PID/task/TID/children`.
pub fn children(proc: &Path, pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(proc.join(pid.to_string()).join("task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        if let Some(text) = read_proc_text(&task.path().join("children")) {
            out.extend(
                text.split_ascii_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// Where the writer of a reader's stdin pipe is looked for: its parent, its
/// siblings (the members of a shell pipeline, `curl URL | bash`, share a
/// parent) and its own children (`bash <(curl URL)` from a subshell).
/// Scanning every process's fds instead costs milliseconds per exec, and
/// more the busier the host.
fn family(proc: &Path, reader: u32, reader_ppid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    if reader_ppid != 0 {
        pids.push(reader_ppid);
        pids.extend(children(proc, reader_ppid).into_iter().take(MAX_FAMILY));
    }
    pids.extend(children(proc, reader).into_iter().take(MAX_FAMILY));
    pids.retain(|p| *p != reader);
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// `flags:` in `/proc/PID/fdinfo/N` (octal; O_CLOEXEC is shown there too).
fn fd_flags(fdinfo: &Path) -> Option<u32> {
    let text = read_proc_text(fdinfo)?;
    text.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
}

/// The process feeding `reader`'s stdin pipe, among the reader's family
/// (parent, siblings, children): preferably one other than the parent that
/// holds the pipe on purpose (a sibling such as `curl` in `curl URL | bash`,
/// whose stdout it is), else the parent (a program writing into its child's
/// stdin). A sibling that holds the pipe only close-on-exec is never named:
/// that is a child the parent has just forked for something else, which
/// drops the parent's ends when it execs, not the feeder.
pub fn stdin_feeder(proc: &Path, inode: u64, reader: u32, reader_ppid: u32) -> Option<ProcessInfo> {
    let writers = pipe_writers_among(proc, inode, reader, family(proc, reader, reader_ppid));
    let deliberate = writers
        .iter()
        .filter(|w| w.pid != reader_ppid && !w.close_on_exec);
    let parent = writers.iter().filter(|w| w.pid == reader_ppid);
    deliberate
        .chain(parent)
        .find_map(|w| process_info(proc, w.pid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::process::{Command, Stdio};

    #[test]
    fn proc_files_are_read_whole_at_any_size() {
        let stat = read_proc_text(Path::new("/proc/self/stat")).unwrap();
        let (_, ppid) = parse_stat(&stat).unwrap();
        assert_eq!(ppid, std::os::unix::process::parent_id());
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("big"), &big).unwrap();
        assert_eq!(read_proc_file(&dir.path().join("big")).unwrap(), big);
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        assert!(read_proc_file(&dir.path().join("empty"))
            .unwrap()
            .is_empty());
        assert!(read_proc_file(&dir.path().join("missing")).is_err());
    }

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
    fn stat_start_time() {
        let stat = "42 (a b) S 7 42 42 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat_full(stat), Some(("a b".into(), 7, 98765)));
    }

    #[test]
    fn cached_ancestry_matches_a_fresh_walk() {
        let proc = Path::new("/proc");
        let me = std::process::id();
        let cache = AncestryCache::new(64, std::time::Duration::from_secs(60));
        let fresh = ancestors(proc, me, 64);
        assert_eq!(cache.ancestors(proc, me, 64), fresh);
        // Second walk: from the cache above the first link, same answer.
        assert_eq!(cache.ancestors(proc, me, 64), fresh);
        assert_eq!(cache.ancestors(proc, me, 1), ancestors(proc, me, 1));
        assert_eq!(cache.ancestors(proc, me, 2), ancestors(proc, me, 2));
        // A chain kept from a walk cut at the depth limit never answers a deeper one.
        let cache = AncestryCache::new(64, std::time::Duration::from_secs(60));
        assert_eq!(cache.ancestors(proc, me, 2), ancestors(proc, me, 2));
        assert_eq!(cache.ancestors(proc, me, 64), fresh);
    }

    #[test]
    fn the_kernels_parent_facts_reuse_a_recent_read() {
        let proc = Path::new("/proc");
        let me = std::process::id();
        let cache = AncestryCache::new(64, std::time::Duration::from_secs(60));
        let fresh = ancestors(proc, me, 64);
        let kernel = crate::event::Parent {
            ppid: fresh[0].ppid,
            comm: fresh[0].comm.clone(),
        };
        assert_eq!(cache.ancestors_of(proc, me, Some(&kernel), 64), fresh);
        // From the parent cache this time: the same answer.
        assert_eq!(cache.ancestors_of(proc, me, Some(&kernel), 64), fresh);
        // Facts that do not match what was read are never answered from it.
        let other = crate::event::Parent {
            ppid: fresh[0].ppid,
            comm: "not-this-one".into(),
        };
        assert_eq!(cache.ancestors_of(proc, me, Some(&other), 64), fresh);
        assert!(cache.parents.lock().unwrap().get(&me).is_some());
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

    #[test]
    fn finds_a_sibling_feeding_a_pipeline() {
        // `sh -c 'sleep 30 | cat'`: cat reads, its sibling sleep writes.
        let mut shell = Command::new("/bin/sh")
            .args(["-c", "/bin/sleep 30 | /bin/cat"])
            .spawn()
            .unwrap();
        let proc = Path::new("/proc");
        let (mut reader, mut inode) = (None, None);
        for _ in 0..500 {
            for pid in children(proc, shell.id()) {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
                if exe.ends_with("cat") {
                    reader = Some(pid);
                    inode = std::fs::metadata(format!("/proc/{pid}/fd/0"))
                        .ok()
                        .map(|m| m.ino());
                }
            }
            if reader.is_some() && children(proc, shell.id()).len() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let feeder = stdin_feeder(proc, inode.unwrap(), reader.unwrap(), shell.id());
        for pid in children(proc, shell.id()) {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        shell.kill().ok();
        shell.wait().unwrap();
        assert_eq!(feeder.unwrap().comm, "sleep");
    }

    #[test]
    fn a_parent_writing_into_its_childs_stdin_is_the_feeder_not_a_fresh_fork() {
        // The parent (this test) writes into `sleep`'s stdin. A sibling holds
        // the same write end close-on-exec only, as a child the parent has
        // forked for something else does until it execs. Once the parent has
        // closed its end, there is no feeder to name.
        let (read_end, write_end) = std::io::pipe().unwrap();
        let inode = std::fs::metadata(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&read_end)
        ))
        .unwrap()
        .ino();
        let mut reader = Command::new("/bin/sleep")
            .arg("30")
            .stdin(read_end)
            .spawn()
            .unwrap();
        let keep_cloexec_copy = "import os, time\n\
            kept = os.dup(1)  # close-on-exec, as Python makes every new fd\n\
            os.dup2(os.open('/dev/null', os.O_WRONLY), 1)\n\
            open('/dev/stderr', 'w').write('ready\\n')\n\
            time.sleep(30)\n";
        let mut sibling = Command::new("/usr/bin/python3")
            .args(["-c", keep_cloexec_copy])
            .stdout(write_end.try_clone().unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(sibling.stderr.take().unwrap()),
            &mut ready,
        )
        .unwrap();
        let proc = Path::new("/proc");
        let me = std::process::id();
        let writers = pipe_writers_among(proc, inode, reader.id(), [me, sibling.id()]);
        let feeder = stdin_feeder(proc, inode, reader.id(), me);
        drop(write_end);
        let after_close = stdin_feeder(proc, inode, reader.id(), me);
        for child in [&mut reader, &mut sibling] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        assert_eq!(ready, "ready\n");
        assert_eq!(
            writers,
            vec![
                PipeWriter {
                    pid: me.min(sibling.id()),
                    close_on_exec: true
                },
                PipeWriter {
                    pid: me.max(sibling.id()),
                    close_on_exec: true
                }
            ]
        );
        assert_eq!(feeder.unwrap().pid, me);
        assert_eq!(after_close, None);
    }
}
