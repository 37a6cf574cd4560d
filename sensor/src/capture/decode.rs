//! Ring-buffer records -> `ExecEvent` (and content/exit records).

use sensor_common::{
    ContentHeader, ExecHeader, ExitRecord, FLAG_ARGV_TRUNCATED, FLAG_ARG_IS_DASH,
    FLAG_CWD_TRUNCATED, FLAG_PARENT, FLAG_SCAN_EXHAUSTED, FLAG_SCRIPT_ARG, FLAG_SEEN_C,
    FLAG_SEEN_M, FLAG_SEEN_S, FLAG_STDIN_PATH, KIND_CONTENT, KIND_ENOEXEC, KIND_EXEC, KIND_EXIT,
    KIND_WAKE,
};

use crate::event::{ExecEvent, Parent, RawString, Script, StdinInfo, StdinKind};
use crate::script::{self, Family, KernelScan, Located};

/// A record the kernel sent, decoded.
// Exec is the variant that comes most (one per exec): boxing it would
// cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Exec(ExecEvent),
    /// Bytes a tracked interpreter read (`offset` within what it read from `fd`).
    Content {
        pid: u32,
        fd: u32,
        ino: u64,
        offset: u64,
        bytes: Vec<u8>,
        /// Nothing more will come: the kernel's limit or end of file.
        last: bool,
    },
    Exit {
        pid: u32,
    },
    /// A busybox applet that is not a shell (not an interpreter exec), or a
    /// wakeup record (no data).
    Ignored,
}

/// A record that could not be decoded (kernel/user layout mismatch).
#[derive(Debug, thiserror::Error)]
#[error("malformed ring-buffer record ({len} bytes): {what}")]
pub struct DecodeError {
    pub len: usize,
    pub what: &'static str,
}

/// Per-event limits applied while decoding.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_args: usize,
}

/// Converts `bpf_ktime_get_boot_ns` to wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// realtime - boottime, in ns.
    offset_ns: i128,
}

impl Clock {
    pub fn now() -> Self {
        let realtime = clock_ns(libc::CLOCK_REALTIME);
        let boottime = clock_ns(libc::CLOCK_BOOTTIME);
        Self {
            offset_ns: realtime - boottime,
        }
    }

    /// RFC 3339 UTC with nanoseconds.
    pub fn wall(&self, ktime_ns: u64) -> String {
        let nanos = self.offset_ns + ktime_ns as i128;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
}

fn clock_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid clock id and out pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

fn read_struct<T: Copy>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: length checked; T is a plain #[repr(C)] integer struct.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr() as *const T) })
}

pub fn decode(bytes: &[u8], limits: DecodeLimits, clock: &Clock) -> Result<Record, DecodeError> {
    let err = |what| DecodeError {
        len: bytes.len(),
        what,
    };
    let kind: u32 = read_struct(bytes).ok_or_else(|| err("shorter than its kind"))?;
    match kind {
        KIND_EXEC | KIND_ENOEXEC => {
            decode_exec(bytes, limits, clock).ok_or_else(|| err("exec record"))
        }
        KIND_CONTENT => {
            let h: ContentHeader = read_struct(bytes).ok_or_else(|| err("content header"))?;
            let start = std::mem::size_of::<ContentHeader>();
            let data = bytes
                .get(start..start + h.len as usize)
                .ok_or_else(|| err("content length"))?;
            Ok(Record::Content {
                pid: h.pid,
                fd: h.fd,
                ino: h.ino,
                offset: h.offset,
                bytes: data.to_vec(),
                last: h.last != 0,
            })
        }
        KIND_EXIT => {
            let h: ExitRecord = read_struct(bytes).ok_or_else(|| err("exit record"))?;
            Ok(Record::Exit { pid: h.pid })
        }
        KIND_WAKE => Ok(Record::Ignored),
        _ => Err(err("unknown kind")),
    }
}

/// Splits the data area into its sections, in the order the kernel wrote them.
struct Sections<'a> {
    data: &'a [u8],
}

impl<'a> Sections<'a> {
    fn take(&mut self, len: u32) -> Option<&'a [u8]> {
        let len = len as usize;
        if len > self.data.len() {
            return None;
        }
        let (head, rest) = self.data.split_at(len);
        self.data = rest;
        Some(head)
    }
}

fn decode_exec(bytes: &[u8], limits: DecodeLimits, clock: &Clock) -> Option<Record> {
    let h: ExecHeader = read_struct(bytes)?;
    let mut sections = Sections {
        data: &bytes[std::mem::size_of::<ExecHeader>()..],
    };
    let filename = sections.take(h.filename_len)?.to_vec();
    let binary_raw = sections.take(h.binary_len)?;
    let cwd_raw = sections.take(h.cwd_len)?;
    let stdin_raw = sections.take(h.stdin_path_len)?;
    let argv_raw = sections.take(h.argv_len)?;
    let script_arg = sections.take(h.script_arg_len)?;

    let enoexec = h.kind == KIND_ENOEXEC;
    let binary = if enoexec {
        // The shell's executable, walked from its dentry like cwd.
        join_components(binary_raw, true)
    } else {
        binary_raw.to_vec()
    };
    let cwd = join_components(cwd_raw, h.flags & FLAG_CWD_TRUNCATED == 0);

    let stdin = stdin_info(&h, stdin_raw);

    // argv: NUL-separated; a window that ends without NUL cut the last one.
    let mut truncated = h.flags & FLAG_ARGV_TRUNCATED != 0;
    let mut argv: Vec<RawString> = Vec::new();
    if !argv_raw.is_empty() {
        let body = argv_raw.strip_suffix(&[0]).unwrap_or(argv_raw);
        argv = body.split(|&b| b == 0).map(RawString::from).collect();
    }
    let complete = !truncated;
    let family = Family::from_kernel(h.family).unwrap_or(Family::Shell);

    let script = if enoexec {
        // The shell interprets the `#!`-less file it tried to exec.
        Script::File {
            path: RawString(filename.clone()),
        }
    } else {
        let scan = if complete {
            KernelScan::NotNeeded
        } else if h.flags & FLAG_SCRIPT_ARG != 0 {
            let bytes = match script_arg.iter().position(|&b| b == 0) {
                Some(nul) => &script_arg[..nul],
                None => script_arg,
            };
            KernelScan::Found(Located {
                index: h.script_arg_index,
                bytes: bytes.to_vec(),
                seen_c: h.flags & FLAG_SEEN_C != 0,
                seen_m: h.flags & FLAG_SEEN_M != 0,
                seen_s: h.flags & FLAG_SEEN_S != 0,
                is_dash: h.flags & FLAG_ARG_IS_DASH != 0,
            })
        } else if h.flags & FLAG_SCAN_EXHAUSTED != 0 {
            KernelScan::Exhausted
        } else {
            KernelScan::NoScriptArg
        };
        match script::classify(family, &argv, complete, &stdin, &scan) {
            Some(script) => script,
            None => return Some(Record::Ignored),
        }
    };

    if argv.len() > limits.max_args {
        argv.truncate(limits.max_args);
        truncated = true;
    }

    Some(Record::Exec(ExecEvent {
        ktime_ns: h.ktime_ns,
        time: clock.wall(h.ktime_ns),
        pid: h.pid,
        tid: h.tid,
        ppid: h.ppid,
        uid: h.uid,
        gid: h.gid,
        comm: cstr(&h.comm),
        cgroup_id: h.cgroup_id,
        mnt_ns: h.mnt_ns,
        pid_ns: h.pid_ns,
        binary: RawString(binary),
        filename: RawString(filename),
        argv,
        argv_truncated: truncated,
        cwd: RawString(cwd),
        script,
        parent: (h.flags & FLAG_PARENT != 0).then(|| Parent {
            ppid: h.parent_ppid,
            comm: cstr(&h.parent_comm),
        }),
    }))
}

fn cstr(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Components written leaf first, NUL-terminated -> `/a/b/c`. A walk that
/// did not reach the root yields a relative path (its top is unknown).
pub fn join_components(raw: &[u8], absolute: bool) -> Vec<u8> {
    let body = raw.strip_suffix(&[0]).unwrap_or(raw);
    let mut out = Vec::with_capacity(raw.len() + 1);
    if !body.is_empty() {
        for (i, part) in body.split(|&b| b == 0).rev().enumerate() {
            if absolute || i > 0 {
                out.push(b'/');
            }
            out.extend_from_slice(part);
        }
    }
    if out.is_empty() && absolute {
        out.push(b'/');
    }
    out
}

const S_IFMT: u32 = 0o170000;
const S_IFIFO: u32 = 0o010000;
const S_IFCHR: u32 = 0o020000;
const S_IFREG: u32 = 0o100000;
const S_IFSOCK: u32 = 0o140000;

/// Character-device majors of terminals: tty/ttyS (4), tty/console/ptmx (5),
/// Unix98 pty slaves (136-143).
fn is_tty_major(major: u32) -> bool {
    major == 4 || major == 5 || (136..=143).contains(&major)
}

fn stdin_info(h: &ExecHeader, path_raw: &[u8]) -> StdinInfo {
    let path = (h.flags & FLAG_STDIN_PATH != 0).then(|| RawString(join_components(path_raw, true)));
    let ino = Some(h.stdin_ino);
    // Kernel dev_t: major in the top 12 bits, minor in the low 20.
    let major = h.stdin_rdev >> 20;
    match h.stdin_mode & S_IFMT {
        0 if h.stdin_mode == 0 => StdinInfo {
            kind: StdinKind::Closed,
            path: None,
            inode: None,
        },
        S_IFIFO => StdinInfo {
            kind: StdinKind::Pipe,
            path: None,
            inode: ino,
        },
        S_IFSOCK => StdinInfo {
            kind: StdinKind::Socket,
            path: None,
            inode: ino,
        },
        S_IFREG => StdinInfo {
            kind: StdinKind::File,
            path,
            inode: ino,
        },
        S_IFCHR if is_tty_major(major) => StdinInfo {
            kind: StdinKind::Tty,
            path,
            inode: None,
        },
        S_IFCHR => StdinInfo {
            kind: StdinKind::Device,
            path,
            inode: None,
        },
        _ => StdinInfo {
            kind: StdinKind::Unknown,
            path: None,
            inode: ino,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_join_leaf_first() {
        assert_eq!(join_components(b"c\0b\0a\0", true), b"/a/b/c");
        assert_eq!(join_components(b"", true), b"/");
        assert_eq!(join_components(b"c\0b\0", false), b"b/c");
    }

    fn header(flags: u32) -> ExecHeader {
        ExecHeader {
            kind: KIND_EXEC,
            flags,
            family: sensor_common::FAMILY_SHELL as u32,
            pid: 10,
            tid: 10,
            ppid: 1,
            comm: *b"bash\0\0\0\0\0\0\0\0\0\0\0\0",
            stdin_mode: S_IFIFO | 0o600,
            stdin_ino: 99,
            ..ExecHeader::default()
        }
    }

    fn record(h: &mut ExecHeader, sections: &[&[u8]]) -> Vec<u8> {
        h.filename_len = sections[0].len() as u32;
        h.binary_len = sections[1].len() as u32;
        h.cwd_len = sections[2].len() as u32;
        h.stdin_path_len = sections[3].len() as u32;
        h.argv_len = sections[4].len() as u32;
        h.script_arg_len = sections[5].len() as u32;
        // SAFETY: plain repr(C) struct viewed as bytes.
        let mut out = unsafe {
            std::slice::from_raw_parts(
                h as *const ExecHeader as *const u8,
                std::mem::size_of::<ExecHeader>(),
            )
        }
        .to_vec();
        for s in sections {
            out.extend_from_slice(s);
        }
        out
    }

    #[test]
    fn decodes_an_exec_record() {
        let mut h = header(0);
        let bytes = record(
            &mut h,
            &[
                b"./x.sh",
                b"/bin/bash",
                b"tmp\0",
                b"",
                b"/bin/bash\0./x.sh\0",
                b"",
            ],
        );
        let limits = DecodeLimits { max_args: 64 };
        let Record::Exec(ev) = decode(&bytes, limits, &Clock::now()).unwrap() else {
            panic!("not an exec")
        };
        assert_eq!(ev.filename.as_bytes(), b"./x.sh");
        assert_eq!(ev.binary.as_bytes(), b"/bin/bash");
        assert_eq!(ev.cwd.as_bytes(), b"/tmp");
        assert_eq!(
            ev.argv,
            vec![RawString::from("/bin/bash"), RawString::from("./x.sh")]
        );
        assert!(!ev.argv_truncated);
        assert_eq!(ev.comm, "bash");
        assert_eq!(
            ev.script,
            Script::File {
                path: "./x.sh".into()
            }
        );
    }

    #[test]
    fn parent_facts_only_when_flagged() {
        let sections: [&[u8]; 6] = [b"/bin/sh", b"/bin/sh", b"", b"", b"sh\0", b""];
        let limits = DecodeLimits { max_args: 64 };
        let decode_with =
            |h: &mut ExecHeader| match decode(&record(h, &sections), limits, &Clock::now()) {
                Ok(Record::Exec(ev)) => ev,
                other => panic!("not an exec: {other:?}"),
            };
        let mut h = header(FLAG_PARENT);
        h.parent_comm = *b"make\0\0\0\0\0\0\0\0\0\0\0\0";
        h.parent_ppid = 7;
        assert_eq!(
            decode_with(&mut h).parent,
            Some(Parent {
                ppid: 7,
                comm: "make".into()
            })
        );
        let mut h = header(0);
        assert_eq!(decode_with(&mut h).parent, None);
    }

    #[test]
    fn truncated_argv_takes_the_located_argument() {
        let mut h = header(FLAG_ARGV_TRUNCATED | FLAG_SCRIPT_ARG | FLAG_SEEN_C);
        h.script_arg_index = 500;
        let bytes = record(
            &mut h,
            &[
                b"/bin/bash",
                b"/bin/bash",
                b"",
                b"",
                b"bash\0-x\0-x\0-",
                b"id; echo\0",
            ],
        );
        let Record::Exec(ev) =
            decode(&bytes, DecodeLimits { max_args: 64 }, &Clock::now()).unwrap()
        else {
            panic!()
        };
        assert!(ev.argv_truncated);
        assert_eq!(
            ev.script,
            Script::Inline {
                inline: "id; echo".into()
            }
        );
    }

    #[test]
    fn arg_count_limit_truncates() {
        let mut h = header(0);
        let bytes = record(
            &mut h,
            &[
                b"/bin/sh",
                b"/bin/sh",
                b"",
                b"",
                b"sh\0x.sh\0a\0b\0c\0",
                b"",
            ],
        );
        let Record::Exec(ev) = decode(&bytes, DecodeLimits { max_args: 3 }, &Clock::now()).unwrap()
        else {
            panic!()
        };
        assert_eq!(ev.argv.len(), 3);
        assert!(ev.argv_truncated);
        assert_eq!(
            ev.script,
            Script::File {
                path: "x.sh".into()
            }
        );
    }

    #[test]
    fn stdin_kinds() {
        let mut h = header(FLAG_STDIN_PATH);
        h.stdin_mode = S_IFCHR | 0o620;
        h.stdin_rdev = (136 << 20) | 3;
        assert_eq!(stdin_info(&h, b"3\0pts\0dev\0").kind, StdinKind::Tty);
        assert_eq!(
            stdin_info(&h, b"3\0pts\0dev\0").path,
            Some("/dev/pts/3".into())
        );
        h.stdin_rdev = (1 << 20) | 3;
        assert_eq!(stdin_info(&h, b"null\0dev\0").kind, StdinKind::Device);
        h.stdin_mode = 0;
        assert_eq!(stdin_info(&h, b"").kind, StdinKind::Closed);
        h.stdin_mode = S_IFSOCK;
        assert_eq!(stdin_info(&h, b"").inode, Some(99));
    }

    #[test]
    fn wall_clock_is_rfc3339() {
        let t = Clock::now().wall(1_000_000_000);
        assert!(t.ends_with('Z') && t.contains('T'), "{t}");
    }
}
