//! The exec event: what capture hands to every later stage (resolve, score,
//! finding, trace). Field names are the public JSON contract of `sensor watch`
//! and of the trace format, so renaming one is a breaking change.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One successful exec of an interpreter (or a shell reading a `#!`-less
/// script after ENOEXEC), as seen by the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecEvent {
    /// `bpf_ktime_get_boot_ns()` at the exec: monotonic, includes suspend.
    pub ktime_ns: u64,
    /// Wall-clock time of the exec, RFC 3339 UTC with nanoseconds.
    pub time: String,
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub comm: String,
    /// Inode of the process's cgroup2 directory.
    pub cgroup_id: u64,
    /// Inode numbers of the mount and pid namespaces (as in `/proc/PID/ns/*`).
    pub mnt_ns: u64,
    pub pid_ns: u64,
    /// The interpreter actually executed (for `./x.sh` with `#!/bin/bash`: /bin/bash).
    pub binary: RawString,
    /// What was passed to execve.
    pub filename: RawString,
    /// argv after any `#!` rewrite.
    pub argv: Vec<RawString>,
    pub argv_truncated: bool,
    pub cwd: RawString,
    pub script: Script,
    /// The direct parent (pid `ppid`) as the kernel saw it at the exec;
    /// None in traces recorded before the kernel captured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
}

/// The direct parent of an exec'd process, from the kernel: what
/// `/proc/<ppid>/stat` would show, without reading it (or racing its exit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    /// The parent's own parent (its ppid).
    pub ppid: u32,
    /// The parent's comm (its thread group leader's).
    pub comm: String,
}

/// How the script reached the interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum Script {
    /// `bash x.sh`, `python3 x.py`, `./x.sh`; `path` as given (relative to `cwd` when not absolute).
    File { path: RawString },
    /// `bash -c CODE`, `python3 -c CODE`.
    Inline { inline: RawString },
    /// `bash`, `bash -s`, `python3 -`, `sh < file`, `curl … | bash`.
    Stdin { stdin: StdinInfo },
    /// `/dev/fd/N`, `/proc/self/fd/N`, memfd exec.
    Fd { path: RawString },
    /// `python3 -m module`.
    Module { module: String },
}

/// What file descriptor 0 was when the interpreter started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StdinInfo {
    #[serde(rename = "type")]
    pub kind: StdinKind,
    /// Path of the file (or tty device) behind stdin, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<RawString>,
    /// Inode of the pipe or socket, to find the process on the other end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StdinKind {
    Pipe,
    File,
    Socket,
    Tty,
    /// A character device that is not a tty (e.g. /dev/null).
    Device,
    /// stdin was closed.
    Closed,
    Unknown,
}

/// Bytes from the kernel (paths, argv) that are usually but not always UTF-8.
///
/// Serialized as a plain JSON string when valid UTF-8; otherwise as
/// `{"lossy": "<text with U+FFFD>", "base64": "<exact bytes>"}` so nothing is
/// dropped and a trace round-trips byte for byte.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct RawString(pub Vec<u8>);

impl RawString {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text with invalid UTF-8 replaced by U+FFFD.
    pub fn to_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for RawString {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<String> for RawString {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl From<Vec<u8>> for RawString {
    fn from(b: Vec<u8>) -> Self {
        Self(b)
    }
}

impl From<&[u8]> for RawString {
    fn from(b: &[u8]) -> Self {
        Self(b.to_vec())
    }
}

impl fmt::Debug for RawString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_lossy(), f)
    }
}

impl fmt::Display for RawString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_lossy())
    }
}

#[derive(Serialize, Deserialize)]
struct NonUtf8 {
    lossy: String,
    base64: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStringRepr {
    Text(String),
    Bytes(NonUtf8),
}

impl Serialize for RawString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => NonUtf8 {
                lossy: self.to_lossy().into_owned(),
                base64: base64::engine::general_purpose::STANDARD.encode(&self.0),
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RawString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match RawStringRepr::deserialize(deserializer)? {
            RawStringRepr::Text(text) => Ok(Self(text.into_bytes())),
            RawStringRepr::Bytes(NonUtf8 { base64, .. }) => {
                base64::engine::general_purpose::STANDARD
                    .decode(base64.as_bytes())
                    .map(Self)
                    .map_err(|e| {
                        serde::de::Error::custom(format!("invalid base64 in raw string: {e}"))
                    })
            }
        }
    }
}

/// `CLOCK_BOOTTIME` now, in ns: the clock of `ExecEvent::ktime_ns`
/// (`bpf_ktime_get_boot_ns`).
pub fn boot_time_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
impl ExecEvent {
    /// A host exec by `pid` of `binary` with `argv`, for unit tests; the
    /// other fields are constants a test overrides when it cares.
    pub(crate) fn for_test(pid: u32, binary: &str, argv: &[&str], script: Script) -> Self {
        Self {
            ktime_ns: 1,
            time: "2024-01-01T00:00:00Z".into(),
            pid,
            tid: pid,
            ppid: 1,
            uid: 0,
            gid: 0,
            comm: binary.rsplit('/').next().unwrap_or(binary).into(),
            cgroup_id: 1,
            mnt_ns: 0,
            pid_ns: 0,
            binary: binary.into(),
            filename: binary.into(),
            argv: argv.iter().map(|a| RawString::from(*a)).collect(),
            argv_truncated: false,
            cwd: "/".into(),
            script,
            parent: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_a_plain_string() {
        let json = serde_json::to_string(&RawString::from("bash -c 'echo hi'")).unwrap();
        assert_eq!(json, r#""bash -c 'echo hi'""#);
    }

    #[test]
    fn non_utf8_round_trips_exactly() {
        let raw = RawString(vec![b'a', 0xff, 0xfe, b'z']);
        let json = serde_json::to_string(&raw).unwrap();
        assert_eq!(json, r#"{"lossy":"a��z","base64":"Yf/+eg=="}"#);
        assert_eq!(serde_json::from_str::<RawString>(&json).unwrap(), raw);
    }

    #[test]
    fn script_sources_are_tagged() {
        let inline = Script::Inline {
            inline: "id".into(),
        };
        assert_eq!(
            serde_json::to_string(&inline).unwrap(),
            r#"{"source":"inline","inline":"id"}"#
        );
        let stdin = Script::Stdin {
            stdin: StdinInfo {
                kind: StdinKind::Pipe,
                path: None,
                inode: Some(42),
            },
        };
        assert_eq!(
            serde_json::to_string(&stdin).unwrap(),
            r#"{"source":"stdin","stdin":{"type":"pipe","inode":42}}"#
        );
    }
}
