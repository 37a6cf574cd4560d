//! Enrich stage: everything about one exec that needs the live host — the
//! script (resolve + read + hash), the interpreter binary, the container, the
//! ancestry and the process feeding stdin. The result (`Enrichment`) is what
//! traces record, so replay never touches the host.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lru::LruCache;

use crate::container::{ContainerResolver, MetadataRoots};
use crate::content::{self, ContentCache, ReadContent, ReadLimits};
use crate::detection::{ContentOrigin, Enrichment, FileInfo};
use crate::event::{ExecEvent, RawString, Script, StdinKind};
use crate::process;
use crate::resolve::{self, FoundFile, ResolveError, Root};

/// Tunables of the enrich stage.
#[derive(Debug, Clone)]
pub struct EnrichConfig {
    /// Where procfs is mounted (tests point this elsewhere).
    pub proc: PathBuf,
    pub limits: ReadLimits,
    /// Interpreter binaries are hashed whole up to this size.
    pub binary_hash_limit: u64,
    pub max_ancestors: usize,
    pub metadata_roots: MetadataRoots,
    /// Reported as `hostname`; read from the kernel when None.
    pub hostname: Option<String>,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        Self {
            proc: "/proc".into(),
            limits: ReadLimits::default(),
            binary_hash_limit: 256 * 1024 * 1024,
            max_ancestors: 16,
            metadata_roots: MetadataRoots::default(),
            hostname: None,
        }
    }
}

/// What the enricher did, for metrics (not recorded in traces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrichStats {
    /// The script came from the content cache.
    pub content_cache_hit: bool,
    /// The process was gone and its mount namespace was reached through a
    /// root kept from an earlier process in the same namespace.
    pub used_cached_root: bool,
}

/// The enrich stage. Cheap to clone; all caches are shared.
#[derive(Debug, Clone)]
pub struct Enricher {
    cfg: Arc<EnrichConfig>,
    hostname: Arc<str>,
    contents: ContentCache,
    binaries: ContentCache,
    containers: ContainerResolver,
    /// Mount namespace inode -> its root, so a process that exits within a
    /// millisecond can still have its script read from its container, and
    /// so a later exec of the namespace reuses the root instead of opening
    /// it and checking its namespace again.
    roots: Arc<Mutex<LruCache<u64, KeptRoot>>>,
    ancestry: process::AncestryCache,
}

/// A mount namespace's root, kept open with its mount id and inode. While
/// the fd is held its mount lives, so no other mount can have that id: a
/// process whose root has this id and inode has this very directory of this
/// very mount as its root, and every path resolves for it as through this
/// fd (a chrooted process, a bind mount of the same directory included,
/// has another id or inode). That holds whatever became of the namespace.
#[derive(Debug)]
struct KeptRoot {
    root: Arc<Root>,
    id: resolve::RootId,
}

/// Namespaces whose root is kept (one fd each).
const KEPT_ROOTS: usize = 1024;

/// Script contents kept by the content cache: thousands of small scripts,
/// or a few hundred at the 64 KiB contents limit.
const CONTENT_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// `label: detail`; the label is what metrics count.
fn missing(label: &str, detail: impl std::fmt::Display) -> String {
    format!("{label}: {detail}")
}

/// The metrics label of a recorded `missing_reason`.
pub fn missing_label(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason).trim()
}

impl Enricher {
    pub fn new(cfg: EnrichConfig) -> Self {
        let hostname = cfg.hostname.clone().unwrap_or_else(host_name);
        let mut roots = LruCache::new(NonZeroUsize::new(KEPT_ROOTS).expect("non-zero"));
        // The sensor's own namespace is the host's: short-lived host processes resolve there.
        if let (Some(ns), Ok(root)) = (
            resolve::mnt_ns_of_pid(&cfg.proc, std::process::id()),
            Root::open(Path::new("/")),
        ) {
            if let Ok(id) = root.id() {
                roots.put(
                    ns,
                    KeptRoot {
                        root: Arc::new(root),
                        id,
                    },
                );
            }
        }
        Self {
            containers: ContainerResolver::new(cfg.metadata_roots.clone()),
            cfg: Arc::new(cfg),
            hostname: hostname.into(),
            contents: ContentCache::with_byte_budget(4096, CONTENT_CACHE_BYTES),
            binaries: ContentCache::new(256),
            roots: Arc::new(Mutex::new(roots)),
            ancestry: process::AncestryCache::new(1024, std::time::Duration::from_secs(2)),
        }
    }

    pub fn config(&self) -> &EnrichConfig {
        &self.cfg
    }

    /// The host name recorded in every enrichment.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Enrich one event. `kernel_content` is script text the kernel copied as
    /// the interpreter read it; when present it wins over a user-space read.
    pub fn enrich(
        &self,
        event: &ExecEvent,
        kernel_content: Option<&[u8]>,
    ) -> (Enrichment, EnrichStats) {
        self.enrich_pinned(event, kernel_content, None)
    }

    /// As [`enrich`](Self::enrich), with the root [`pin_root`](Self::pin_root)
    /// opened for this very exec at capture time (not opened again).
    pub fn enrich_pinned(
        &self,
        event: &ExecEvent,
        kernel_content: Option<&[u8]>,
        pinned: Option<Arc<Root>>,
    ) -> (Enrichment, EnrichStats) {
        let mut stats = EnrichStats::default();
        let proc = &self.cfg.proc;
        // The race with process exit starts now: open what needs the live process first.
        let root = match pinned {
            Some(root) => Ok(root),
            None => self.root_for(event, &mut stats),
        };
        let opened_script = self.open_script(event, root.as_deref());
        let opened_binary = self.open_binary(event, root.as_deref());
        let container = self
            .containers
            .for_pid(proc, event.pid, event.cgroup_id, event.ktime_ns)
            .map(|c| (*c).clone());
        // `curl URL | bash` (stdin) and `bash <(curl URL)` (/dev/fd/63): name
        // the process writing into the pipe.
        let pipe_inode = match &event.script {
            Script::Stdin { stdin } if stdin.kind == StdinKind::Pipe => stdin.inode,
            Script::Fd { path } => resolve::fd_number(&path.0).and_then(|fd| {
                let link = proc
                    .join(event.pid.to_string())
                    .join("fd")
                    .join(fd.to_string());
                pipe_inode_of(&std::fs::read_link(link).ok()?)
            }),
            _ => None,
        };
        let stdin_feeder =
            pipe_inode.and_then(|ino| process::stdin_feeder(proc, ino, event.pid, event.ppid));
        let ancestors = self.ancestry.ancestors_of(
            proc,
            event.ppid,
            event.parent.as_ref(),
            self.cfg.max_ancestors,
        );

        let limits = self.cfg.limits;
        let (script, content_origin, missing_reason) = match (kernel_content, opened_script) {
            (Some(bytes), _) => (
                Some(content::from_bytes(bytes, limits).file_info(script_path(event), true)),
                ContentOrigin::KernelCapture,
                None,
            ),
            (None, ScriptSource::Inline(code)) => {
                (Some(self.inline_script(&code)), ContentOrigin::Inline, None)
            }
            (None, ScriptSource::Opened { file, path }) => {
                match self.contents.get_or_open(&file, limits) {
                    Ok(Ok((read, hit))) => {
                        stats.content_cache_hit = hit;
                        (
                            Some(read.file_info(path, true)),
                            ContentOrigin::FileRead,
                            None,
                        )
                    }
                    Ok(Err(err)) => (
                        None,
                        ContentOrigin::Missing,
                        Some(missing("read_error", err)),
                    ),
                    Err(err) => (
                        None,
                        ContentOrigin::Missing,
                        Some(missing(err.label(), err)),
                    ),
                }
            }
            (None, ScriptSource::Missing(reason)) => (None, ContentOrigin::Missing, Some(reason)),
        };
        let binary = opened_binary.and_then(|file| {
            let limits = ReadLimits {
                hash_limit: self.cfg.binary_hash_limit,
                contents_limit: 0,
            };
            let (read, _) = self.binaries.get_or_open(&file, limits).ok()?.ok()?;
            Some(binary_info(&read, event.binary.clone()))
        });
        // With no script text, score what is known: the command line, and
        // for `curl URL | bash` the feeding command too.
        let script_text = script
            .is_none()
            .then(|| command_line_text(event, stdin_feeder.as_ref()));
        (
            Enrichment {
                script,
                script_text,
                content_origin,
                missing_reason,
                binary,
                container,
                ancestors,
                stdin_feeder,
                hostname: self.hostname.to_string(),
            },
            stats,
        )
    }

    /// What the finding rules need of a `-c` exec, with none of the host
    /// lookups that only fill a finding in: the literal (hashed and kept as
    /// a full enrichment would), and the direct parent's pid, ppid and comm.
    /// None for any other kind of script. The pipeline uses it to skip
    /// enriching a text that is already judged and warrants no finding.
    /// Without the parent: call [`add_parent`](Self::add_parent) once the
    /// text turns out to be judged already (a miss needs no `/proc` read).
    pub fn inline_facts(&self, event: &ExecEvent) -> Option<Enrichment> {
        let Script::Inline { inline } = &event.script else {
            return None;
        };
        Some(Enrichment {
            script: Some(self.inline_script(&inline.0)),
            script_text: None,
            content_origin: ContentOrigin::Inline,
            missing_reason: None,
            binary: None,
            container: None,
            ancestors: Vec::new(),
            stdin_feeder: None,
            hostname: self.hostname.to_string(),
        })
    }

    /// A `-c` literal as the script (hashed and kept): one place, so the
    /// judged-text shortcut and a full enrichment score the same text.
    fn inline_script(&self, code: &[u8]) -> FileInfo {
        content::from_bytes(code, self.cfg.limits).file_info(None, true)
    }

    /// The direct parent's pid, ppid and comm, into `enrichment.ancestors`:
    /// as the kernel saw them at the exec when the event carries them (no
    /// /proc read, no race with the parent's exit), else from /proc
    /// (events from older traces or event files).
    pub fn add_parent(&self, event: &ExecEvent, enrichment: &mut Enrichment) {
        if event.ppid == 0 {
            return;
        }
        let link = match &event.parent {
            Some(parent) => Some(crate::detection::ProcessInfo {
                pid: event.ppid,
                ppid: parent.ppid,
                comm: parent.comm.clone(),
                binary: None,
                args: Vec::new(),
            }),
            None => process::process_link(&self.cfg.proc, event.ppid),
        };
        enrichment.ancestors.extend(link);
    }

    /// Use script bytes captured in the kernel (the process read them) or
    /// peeked at in its stdin pipe, in place of a script that could not be
    /// read from user space.
    pub fn apply_kernel_content(
        &self,
        event: &ExecEvent,
        enrichment: &mut Enrichment,
        bytes: &[u8],
        origin: ContentOrigin,
    ) {
        enrichment.script =
            Some(content::from_bytes(bytes, self.cfg.limits).file_info(script_path(event), true));
        enrichment.content_origin = origin;
        enrichment.missing_reason = None;
        enrichment.script_text = None;
    }

    /// The process's root, checked to still be the exec'd process's mount
    /// namespace; else a root kept from that namespace.
    /// Keep the root of `event`'s mount namespace open now, from capture's
    /// reader, before the event waits in any queue: a container whose
    /// processes are all gone by the time the event is enriched is still
    /// readable. Cheap: for a namespace seen before, one `stat` of
    /// `/proc/PID/root`; None if the process is gone.
    /// The root returned is this exec's: give it to
    /// [`enrich_pinned`](Self::enrich_pinned) instead of opening it again.
    pub fn pin_root(&self, event: &ExecEvent) -> Option<Arc<Root>> {
        if event.mnt_ns == 0 {
            return None;
        }
        self.live_root(event).ok()
    }

    /// The live process's root. The root kept for the exec's namespace when
    /// the process's root is that very directory of that very mount (one
    /// `statx` of `/proc/PID/root`); else its own, opened and checked to be
    /// in the exec's namespace (as every exec was before), and kept.
    fn live_root(&self, event: &ExecEvent) -> Result<Arc<Root>, ResolveError> {
        let proc = &self.cfg.proc;
        if event.mnt_ns == 0 {
            return Root::of_pid(proc, event.pid).map(Arc::new);
        }
        let kept = self
            .lock_roots()
            .get(&event.mnt_ns)
            .map(|kept| (kept.root.clone(), kept.id));
        if let Some((root, id)) = kept {
            if resolve::root_id_of_pid(proc, event.pid)? == id {
                return Ok(root);
            }
        }
        let root = Arc::new(Root::of_pid(proc, event.pid)?);
        match resolve::mnt_ns_of_pid(proc, event.pid) {
            Some(ns) if ns == event.mnt_ns => {}
            Some(_) => return Err(ResolveError::NamespaceChanged),
            None => return Err(ResolveError::ProcessGone),
        }
        if let Ok(id) = root.id() {
            // Always the latest: namespace inode numbers are reused once
            // freed, and a chrooted process's root gives way to the next one's.
            self.lock_roots().put(
                event.mnt_ns,
                KeptRoot {
                    root: root.clone(),
                    id,
                },
            );
        }
        Ok(root)
    }

    fn lock_roots(&self) -> std::sync::MutexGuard<'_, LruCache<u64, KeptRoot>> {
        self.roots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn root_for(
        &self,
        event: &ExecEvent,
        stats: &mut EnrichStats,
    ) -> Result<Arc<Root>, ResolveError> {
        self.live_root(event).or_else(|err| {
            let kept = (event.mnt_ns != 0)
                .then(|| {
                    self.lock_roots()
                        .get(&event.mnt_ns)
                        .map(|kept| kept.root.clone())
                })
                .flatten();
            match kept {
                Some(root) => {
                    stats.used_cached_root = true;
                    Ok(root)
                }
                None => Err(err),
            }
        })
    }

    fn open_script(&self, event: &ExecEvent, root: Result<&Root, &ResolveError>) -> ScriptSource {
        let proc = &self.cfg.proc;
        match &event.script {
            Script::Inline { inline } => ScriptSource::Inline(inline.0.clone()),
            Script::File { path } => {
                let root = match root {
                    Ok(root) => root,
                    Err(err) => return ScriptSource::Missing(missing(err.label(), err)),
                };
                let cwd = cwd_of(proc, event);
                let full = resolve::path_in_namespace(&cwd, &path.0);
                match root.find_regular(&full) {
                    Ok(file) => ScriptSource::Opened {
                        file,
                        path: Some(RawString(full)),
                    },
                    Err(err) => ScriptSource::Missing(missing(err.label(), err)),
                }
            }
            Script::Fd { path } => match resolve::fd_number(&path.0) {
                Some(fd) => {
                    let link = proc
                        .join(event.pid.to_string())
                        .join("fd")
                        .join(fd.to_string());
                    match resolve::find_magic_link(&link) {
                        Ok(file) => ScriptSource::Opened {
                            file,
                            path: Some(path.clone()),
                        },
                        // Process substitution: reading would steal the interpreter's input.
                        Err(ResolveError::NotRegular(resolve::FileKind::Fifo)) => {
                            ScriptSource::Missing(missing(
                                "fd_pipe",
                                "script is a pipe (process substitution); only kernel capture sees it",
                            ))
                        }
                        Err(err) => ScriptSource::Missing(missing(err.label(), err)),
                    }
                }
                // A path that only looks like an fd: resolve it as a file.
                None => self.open_script(
                    &ExecEvent {
                        script: Script::File { path: path.clone() },
                        ..event.clone()
                    },
                    root,
                ),
            },
            Script::Stdin { stdin } => match stdin.kind {
                // `sh < file`: read the file through the interpreter's own fd 0, with pread.
                StdinKind::File => {
                    let link = proc.join(event.pid.to_string()).join("fd/0");
                    match resolve::find_magic_link(&link) {
                        Ok(file) => ScriptSource::Opened {
                            file,
                            path: stdin.path.clone(),
                        },
                        Err(err) => ScriptSource::Missing(missing(err.label(), err)),
                    }
                }
                // Reading a pipe, socket or tty would steal the interpreter's input.
                StdinKind::Pipe => ScriptSource::Missing(missing(
                    "stdin_pipe",
                    "piped script; only kernel capture sees it",
                )),
                StdinKind::Socket => ScriptSource::Missing(missing(
                    "stdin_socket",
                    "script read from a socket; only kernel capture sees it",
                )),
                StdinKind::Tty => {
                    ScriptSource::Missing(missing("stdin_tty", "interactive interpreter"))
                }
                StdinKind::Device | StdinKind::Closed | StdinKind::Unknown => {
                    ScriptSource::Missing(missing(
                        "stdin_other",
                        format!("stdin is {:?}", stdin.kind).to_lowercase(),
                    ))
                }
            },
            Script::Module { module } => {
                let root = match root {
                    Ok(root) => root,
                    Err(err) => return ScriptSource::Missing(missing(err.label(), err)),
                };
                let cwd = cwd_of(proc, event);
                for candidate in module_candidates(module, &cwd, event.binary.as_bytes()) {
                    if let Ok(file) = root.find_regular(&candidate) {
                        return ScriptSource::Opened {
                            file,
                            path: Some(RawString(candidate)),
                        };
                    }
                }
                ScriptSource::Missing(missing(
                    "python_module",
                    format!("-m {module}: no module file found in the process's root"),
                ))
            }
        }
    }

    /// The event's binary path inside the process's root (dentries the
    /// kernel has cached: no `/proc` walk); else, with no root or no file
    /// there, `/proc/PID/exe` when it is still the exec'd interpreter. Where
    /// both exist they are one file, unless something was mounted over the
    /// path since the exec. The binary cache answers from the file's
    /// identity: a known interpreter is never reopened.
    fn open_binary(
        &self,
        event: &ExecEvent,
        root: Result<&Root, &ResolveError>,
    ) -> Option<FoundFile> {
        if let Ok(found) = root
            .map_err(|_| ())
            .and_then(|root| root.find_regular(event.binary.as_bytes()).map_err(|_| ()))
        {
            return Some(found);
        }
        let exe = self.cfg.proc.join(event.pid.to_string()).join("exe");
        let same = std::fs::read_link(&exe)
            .map(|p| p.as_os_str().as_encoded_bytes() == event.binary.as_bytes())
            .unwrap_or(false);
        if same {
            return resolve::find_magic_link(&exe).ok();
        }
        None
    }
}

enum ScriptSource {
    Inline(Vec<u8>),
    Opened {
        file: FoundFile,
        path: Option<RawString>,
    },
    Missing(String),
}

fn script_path(event: &ExecEvent) -> Option<RawString> {
    match &event.script {
        Script::File { path } => Some(RawString(resolve::path_in_namespace(&event.cwd.0, &path.0))),
        Script::Fd { path } => Some(path.clone()),
        Script::Stdin { stdin } => stdin.path.clone(),
        Script::Inline { .. } | Script::Module { .. } => None,
    }
}

/// Where `python3 -m a.b` finds its code, in Python's search order (the cwd
/// first: a dropped `evil.py` next to the command wins over the stdlib):
/// `a/b.py` or the package's `a/b/__main__.py` under the cwd, then the
/// standard library and site directories of the interpreter's version.
fn module_candidates(module: &str, cwd: &[u8], binary: &[u8]) -> Vec<Vec<u8>> {
    let valid = !module.is_empty()
        && module
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !valid {
        return Vec::new();
    }
    let rel = module.replace('.', "/");
    let base = binary.rsplit(|b| *b == b'/').next().unwrap_or(binary);
    let version = std::str::from_utf8(base)
        .ok()
        .filter(|b| b.starts_with("python3.") && b[8..].chars().all(|c| c.is_ascii_digit()))
        .map(str::to_owned);
    let mut dirs: Vec<Vec<u8>> = vec![if cwd.is_empty() {
        b"/".to_vec()
    } else {
        cwd.to_vec()
    }];
    if let Some(v) = version {
        for dir in [
            format!("/usr/lib/{v}"),
            format!("/usr/local/lib/{v}"),
            format!("/usr/local/lib/{v}/site-packages"),
            format!("/usr/local/lib/{v}/dist-packages"),
            format!("/usr/lib/{v}/site-packages"),
        ] {
            dirs.push(dir.into_bytes());
        }
    }
    dirs.push(b"/usr/lib/python3/dist-packages".to_vec());
    let mut out = Vec::new();
    for dir in dirs {
        for tail in [format!("{rel}.py"), format!("{rel}/__main__.py")] {
            let mut p = dir.clone();
            if p.last() != Some(&b'/') {
                p.push(b'/');
            }
            p.extend_from_slice(tail.as_bytes());
            out.push(p);
        }
    }
    out
}

/// `pipe:[12345]` (an fd's link text) -> 12345.
fn pipe_inode_of(link: &Path) -> Option<u64> {
    link.to_str()?
        .strip_prefix("pipe:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// `feeder args | interpreter args` (or just the interpreter's args), the
/// text scored when the script itself could not be had.
pub fn command_line_text(
    event: &ExecEvent,
    feeder: Option<&crate::detection::ProcessInfo>,
) -> String {
    let join = |args: &[RawString]| {
        args.iter()
            .map(|a| a.to_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let own = join(&event.argv);
    match feeder {
        Some(f) if !f.args.is_empty() => format!("{} | {own}", join(&f.args)),
        _ => own,
    }
}

fn binary_info(read: &ReadContent, path: RawString) -> FileInfo {
    read.file_info(Some(path), false)
}

/// The kernel's host name (the node name in a cluster).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The event's cwd, or the live process's when capture could not read it.
fn cwd_of(proc: &Path, event: &ExecEvent) -> Vec<u8> {
    if event.cwd.is_empty() {
        resolve::cwd_of_pid(proc, event.pid).unwrap_or_default()
    } else {
        event.cwd.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::StdinInfo;

    pub(crate) fn event_for(pid: u32, script: Script, binary: &str) -> ExecEvent {
        ExecEvent {
            comm: "bash".into(),
            ..ExecEvent::for_test(pid, binary, &[binary], script)
        }
    }

    fn enricher() -> Enricher {
        Enricher::new(EnrichConfig {
            hostname: Some("test-host".into()),
            ..Default::default()
        })
    }

    #[test]
    fn inline_code_is_hashed_as_its_own_text() {
        let ev = event_for(
            std::process::id(),
            Script::Inline {
                inline: "echo hi".into(),
            },
            "/bin/bash",
        );
        let (e, _) = enricher().enrich(&ev, None);
        assert_eq!(e.content_origin, ContentOrigin::Inline);
        let script = e.script.unwrap();
        assert_eq!(script.path, None);
        assert_eq!(script.contents.as_deref(), Some("echo hi"));
        assert_eq!(script.size, 7);
        assert_eq!(e.hostname, "test-host");
    }

    #[test]
    fn script_file_is_read_through_the_process_root_and_cached() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("x.sh");
        std::fs::write(&script, "echo from file\n").unwrap();
        // This test process stands in for the interpreter: its root is the host's.
        let me = std::process::id();
        let enricher = enricher();
        let ev = event_for(
            me,
            Script::File {
                path: "x.sh".into(),
            },
            "/bin/bash",
        );
        let ev = ExecEvent {
            cwd: RawString::from(dir.path().to_str().unwrap()),
            ..ev
        };
        let (e, stats) = enricher.enrich(&ev, None);
        assert_eq!(
            e.content_origin,
            ContentOrigin::FileRead,
            "{:?}",
            e.missing_reason
        );
        assert!(!stats.content_cache_hit);
        let file = e.script.unwrap();
        assert_eq!(file.contents.as_deref(), Some("echo from file\n"));
        assert_eq!(
            file.path.unwrap().as_bytes(),
            script.as_os_str().as_encoded_bytes()
        );
        let (_, stats) = enricher.enrich(&ev, None);
        assert!(stats.content_cache_hit);
        // The test binary is the "interpreter" here; /bin/bash is looked up by path.
        assert!(e.binary.is_some());
        assert!(!e.ancestors.is_empty());
    }

    #[test]
    fn missing_and_refused_scripts_have_reasons() {
        let me = std::process::id();
        let enricher = enricher();
        let gone = event_for(
            me,
            Script::File {
                path: "/nonexistent/x.sh".into(),
            },
            "/bin/bash",
        );
        let (e, _) = enricher.enrich(&gone, None);
        assert_eq!(e.content_origin, ContentOrigin::Missing);
        assert_eq!(
            missing_label(e.missing_reason.as_deref().unwrap()),
            "not_found"
        );

        let dev = event_for(
            me,
            Script::File {
                path: "/dev/zero".into(),
            },
            "/bin/bash",
        );
        let (e, _) = enricher.enrich(&dev, None);
        assert_eq!(
            missing_label(e.missing_reason.as_deref().unwrap()),
            "not_regular_file"
        );

        let piped = event_for(
            me,
            Script::Stdin {
                stdin: StdinInfo {
                    kind: StdinKind::Pipe,
                    path: None,
                    inode: Some(1),
                },
            },
            "/bin/bash",
        );
        let (e, _) = enricher.enrich(&piped, None);
        assert_eq!(
            missing_label(e.missing_reason.as_deref().unwrap()),
            "stdin_pipe"
        );

        let dead = event_for(
            u32::MAX - 1,
            Script::File {
                path: "/etc/hostname".into(),
            },
            "/bin/bash",
        );
        let (e, _) = enricher.enrich(&dead, None);
        assert_eq!(
            missing_label(e.missing_reason.as_deref().unwrap()),
            "process_gone"
        );
    }

    #[test]
    fn exited_host_process_resolves_through_the_kept_namespace_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("y.sh"), "echo y\n").unwrap();
        let enricher = enricher();
        let my_ns = resolve::mnt_ns_of_pid(Path::new("/proc"), std::process::id()).unwrap();
        let mut ev = event_for(
            u32::MAX - 1,
            Script::File {
                path: RawString::from(dir.path().join("y.sh").to_str().unwrap()),
            },
            "/bin/bash",
        );
        ev.mnt_ns = my_ns;
        let (e, stats) = enricher.enrich(&ev, None);
        assert!(stats.used_cached_root);
        assert_eq!(e.script.unwrap().contents.as_deref(), Some("echo y\n"));
    }

    #[test]
    fn python_modules_resolve_cwd_first_then_stdlib() {
        let c = module_candidates("http.server", b"/work", b"/usr/bin/python3.11");
        let c: Vec<String> = c
            .into_iter()
            .map(|p| String::from_utf8(p).unwrap())
            .collect();
        assert_eq!(c[0], "/work/http/server.py");
        assert_eq!(c[1], "/work/http/server/__main__.py");
        assert!(c.contains(&"/usr/lib/python3.11/http/server.py".to_string()));
        assert!(module_candidates("../etc", b"/", b"/usr/bin/python3").is_empty());
        assert!(module_candidates("a..b", b"/", b"/usr/bin/python3").is_empty());

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("evil.py"), "import os\n").unwrap();
        let mut ev = event_for(
            std::process::id(),
            Script::Module {
                module: "evil".into(),
            },
            "/usr/bin/python3.11",
        );
        ev.cwd = RawString::from(dir.path().to_str().unwrap());
        let (e, _) = enricher().enrich(&ev, None);
        assert_eq!(
            e.content_origin,
            ContentOrigin::FileRead,
            "{:?}",
            e.missing_reason
        );
        assert_eq!(e.script.unwrap().contents.as_deref(), Some("import os\n"));
    }

    #[test]
    fn process_substitution_names_the_feeder_and_never_reads_the_pipe() {
        use std::os::fd::AsRawFd;
        // This test process plays `bash /dev/fd/N`; `sleep` writes into the pipe.
        let mut writer = std::process::Command::new("/bin/sleep")
            .arg("30")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let fd = writer.stdout.as_ref().unwrap().as_raw_fd();
        let ev = event_for(
            std::process::id(),
            Script::Fd {
                path: RawString::from(format!("/dev/fd/{fd}")),
            },
            "/bin/bash",
        );
        let (e, _) = enricher().enrich(&ev, None);
        writer.kill().unwrap();
        writer.wait().unwrap();
        assert_eq!(
            missing_label(e.missing_reason.as_deref().unwrap()),
            "fd_pipe"
        );
        let feeder = e.stdin_feeder.unwrap();
        assert_eq!(feeder.pid, writer.id());
        assert!(e.script_text.unwrap().starts_with("/bin/sleep 30 | "));
        assert_eq!(pipe_inode_of(Path::new("pipe:[42]")), Some(42));
        assert_eq!(pipe_inode_of(Path::new("/tmp/x")), None);
    }

    #[test]
    fn a_root_pinned_at_capture_time_outlives_the_process() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("z.sh"), "echo z\n").unwrap();
        let enricher = enricher();
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let mut ev = event_for(
            child.id(),
            Script::File {
                path: RawString::from(dir.path().join("z.sh").to_str().unwrap()),
            },
            "/bin/bash",
        );
        let proc_ns = resolve::mnt_ns_of_pid(Path::new("/proc"), child.id()).unwrap();
        ev.mnt_ns = proc_ns;
        enricher.pin_root(&ev);
        child.kill().unwrap();
        child.wait().unwrap();
        let (e, stats) = enricher.enrich(&ev, None);
        assert!(stats.used_cached_root);
        assert_eq!(e.script.unwrap().contents.as_deref(), Some("echo z\n"));
    }

    #[test]
    fn a_chrooted_process_never_gets_its_namespaces_kept_root() {
        // A fake procfs: this process as itself, and pid 42 in this mount
        // namespace but with a root of its own (as after chroot).
        let me = std::process::id();
        let proc = tempfile::tempdir().unwrap();
        let jail = tempfile::tempdir().unwrap();
        std::fs::write(jail.path().join("x.sh"), "echo jailed\n").unwrap();
        std::os::unix::fs::symlink(format!("/proc/{me}"), proc.path().join(me.to_string()))
            .unwrap();
        std::fs::create_dir(proc.path().join("42")).unwrap();
        std::os::unix::fs::symlink(jail.path(), proc.path().join("42/root")).unwrap();
        std::os::unix::fs::symlink("/proc/self/ns", proc.path().join("42/ns")).unwrap();
        let enricher = Enricher::new(EnrichConfig {
            proc: proc.path().into(),
            hostname: Some("test-host".into()),
            ..Default::default()
        });
        let my_ns = resolve::mnt_ns_of_pid(Path::new("/proc"), me).unwrap();
        let mut jailed = event_for(
            42,
            Script::File {
                path: "/x.sh".into(),
            },
            "/bin/bash",
        );
        jailed.mnt_ns = my_ns;
        let (e, _) = enricher.enrich_pinned(&jailed, None, enricher.pin_root(&jailed));
        assert_eq!(e.script.unwrap().contents.as_deref(), Some("echo jailed\n"));
        // The host process of the same namespace gets the host's root back.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("h.sh"), "echo host\n").unwrap();
        let mut host = event_for(
            me,
            Script::File {
                path: RawString::from(dir.path().join("h.sh").to_str().unwrap()),
            },
            "/bin/bash",
        );
        host.mnt_ns = my_ns;
        let (e, _) = enricher.enrich_pinned(&host, None, enricher.pin_root(&host));
        assert_eq!(e.script.unwrap().contents.as_deref(), Some("echo host\n"));
        let (e, _) = enricher.enrich_pinned(&jailed, None, enricher.pin_root(&jailed));
        assert_eq!(e.script.unwrap().contents.as_deref(), Some("echo jailed\n"));
    }

    #[test]
    fn kernel_captured_text_wins() {
        let ev = event_for(
            std::process::id(),
            Script::Stdin {
                stdin: StdinInfo {
                    kind: StdinKind::Pipe,
                    path: None,
                    inode: None,
                },
            },
            "/bin/bash",
        );
        let (e, _) = enricher().enrich(&ev, Some(b"echo piped"));
        assert_eq!(e.content_origin, ContentOrigin::KernelCapture);
        assert_eq!(e.script.unwrap().contents.as_deref(), Some("echo piped"));
    }

    #[test]
    fn sh_reading_a_file_on_stdin() {
        // Make fd 0 of a child a regular file and enrich as if it were the interpreter.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.sh");
        std::fs::write(&p, "echo stdin file\n").unwrap();
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .stdin(std::fs::File::open(&p).unwrap())
            .spawn()
            .unwrap();
        let ev = event_for(
            child.id(),
            Script::Stdin {
                stdin: StdinInfo {
                    kind: StdinKind::File,
                    path: Some(RawString::from(p.to_str().unwrap())),
                    inode: None,
                },
            },
            "/bin/sleep",
        );
        let (e, _) = enricher().enrich(&ev, None);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            e.content_origin,
            ContentOrigin::FileRead,
            "{:?}",
            e.missing_reason
        );
        assert_eq!(
            e.script.unwrap().contents.as_deref(),
            Some("echo stdin file\n")
        );
        let binary = e.binary.unwrap();
        assert_eq!(binary.path.unwrap().as_bytes(), b"/bin/sleep");
        assert_eq!(binary.hashed_size, binary.size);
        assert!(binary.contents.is_none());
    }
}
