//! What the stages after capture add to an exec event: the script as read,
//! the interpreter binary, the container and ancestry, and the verdict.
//! `finding` turns a `Detection` into an SCC finding; `trace` records the
//! enrichment (everything that needed the host) so replay needs no host lookups.

use serde::{Deserialize, Serialize};

use crate::event::{ExecEvent, RawString};

/// A file as read for the finding (the script or the interpreter binary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Absolute path inside the process's own mount namespace; None for
    /// scripts that never were on disk (stdin, memfd without a name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<RawString>,
    pub size: u64,
    /// Lowercase hex sha256 of the first `hashed_size` bytes.
    pub sha256: String,
    pub hashed_size: u64,
    /// A prefix of the file (lossy UTF-8), at most the configured contents limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
}

impl FileInfo {
    pub fn partially_hashed(&self) -> bool {
        self.hashed_size < self.size
    }
}

/// Where the script text that was scored came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentOrigin {
    /// Bytes the kernel copied as the interpreter read them.
    KernelCapture,
    /// Copied from the interpreter's stdin pipe before it read them
    /// (`tee(2)`), after the kernel's copy of any it had read already.
    StdinPeek,
    /// Read from user space through /proc/PID/root.
    FileRead,
    /// The `-c` literal itself.
    Inline,
    /// Nothing could be had; `missing_reason` says why.
    Missing,
}

/// The container the process runs in, from its cgroup path and runtime metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// 64-hex container id.
    pub id: String,
    /// podman, docker, containerd, cri-o.
    pub runtime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image reference (`uri` in the finding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<(String, String)>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Kubernetes pod, when the labels or cgroup path name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    /// Pod UID, from a `kubepods` cgroup path or the runtime's annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
}

/// An ancestor of the interpreter (or the process feeding its stdin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: u32,
    pub ppid: u32,
    pub comm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<RawString>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<RawString>,
}

/// Everything learned about one exec that needed the host; recorded in traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// The script file (for inline code: path None, hashed over the literal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<FileInfo>,
    /// The full text that is scored (may be longer than `script.contents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_text: Option<String>,
    pub content_origin: ContentOrigin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<FileInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Parent first, then its parent, as far as known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<ProcessInfo>,
    /// For stdin-fed interpreters: the process on the other end of the pipe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin_feeder: Option<ProcessInfo>,
    /// The host (node) name.
    pub hostname: String,
}

/// The classifier's answer for one script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub score: f32,
    pub threshold: f32,
    pub model_version: String,
    pub malicious: bool,
    /// Analyst-readable reasons, strongest first ("downloads with curl and pipes into sh").
    pub evidence: Vec<String>,
}

/// One exec, enriched and scored: the input of the finding builder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub event: ExecEvent,
    pub enrichment: Enrichment,
    pub verdict: Verdict,
    /// Microseconds from the exec (kernel time) to the verdict.
    pub detection_latency_us: u64,
    /// RFC 3339 time the finding was made.
    pub create_time: String,
}
