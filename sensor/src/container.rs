//! Which container a process runs in: the id and runtime from its cgroup path
//! (`/proc/PID/cgroup`), then name, image and labels from the runtime's own
//! state files on disk (never by running `podman inspect`: that takes
//! hundreds of milliseconds), cached per container id.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use serde::Deserialize;

use crate::detection::ContainerInfo;
use crate::event::boot_time_ns;

/// What the cgroup path alone says about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupContainer {
    pub id: String,
    /// podman, docker, containerd, cri-o; `kubernetes` when only the kubelet's
    /// cgroupfs layout names it (the runtime is then learned from metadata).
    pub runtime: String,
    /// Pod UID from a `kubepods` path, with dashes.
    pub pod_uid: Option<String>,
}

fn is_container_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Parse the text of `/proc/PID/cgroup` (v1, v2 or hybrid: any line may
/// name the container; the first that does wins).
pub fn parse_proc_cgroup(text: &str) -> Option<CgroupContainer> {
    text.lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .find_map(parse_cgroup_path)
}

/// Parse one cgroup path, e.g. `/libpod_parent/libpod-<id>`,
/// `/system.slice/docker-<id>.scope`, `/kubepods/burstable/pod<uid>/<id>`,
/// `/kubepods.slice/.../cri-containerd-<id>.scope`, `/.../crio-<id>.scope`.
pub fn parse_cgroup_path(path: &str) -> Option<CgroupContainer> {
    let mut pod_uid = None;
    let mut found: Option<(String, &'static str)> = None;
    let mut parent: &str = "";
    for component in path.split('/').filter(|c| !c.is_empty()) {
        if let Some(uid) = pod_uid_of(component) {
            pod_uid = Some(uid);
        }
        // containerd with systemd cgroups nested in a service: `...slice:cri-containerd:<id>`.
        let mut fields = component.rsplitn(3, ':');
        let last = fields.next().unwrap_or_default();
        if let (Some(kind), Some(_)) = (fields.next(), fields.next()) {
            if is_container_id(last) {
                if let Some(runtime) = runtime_of_prefix(kind) {
                    found = Some((last.to_string(), runtime));
                    parent = component;
                    continue;
                }
            }
        }
        let name = component.strip_suffix(".scope").unwrap_or(component);
        if let Some((prefix, id)) = name.rsplit_once('-') {
            if is_container_id(id) {
                // conmon and other helpers sit in sibling cgroups: not the container.
                if prefix.ends_with("-conmon") || prefix == "conmon" {
                    return None;
                }
                if let Some(runtime) = runtime_of_prefix(prefix) {
                    found = Some((id.to_string(), runtime));
                    parent = component;
                    continue;
                }
            }
        }
        if is_container_id(name) && found.is_none() {
            let runtime = match parent {
                "docker" => "docker",
                p if p.starts_with("pod") || p.starts_with("kubepods") => "kubernetes",
                _ => "containerd",
            };
            found = Some((name.to_string(), runtime));
        }
        parent = component;
    }
    let (id, runtime) = found?;
    Some(CgroupContainer {
        id,
        runtime: runtime.to_string(),
        pod_uid,
    })
}

fn runtime_of_prefix(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "libpod" => "podman",
        "docker" => "docker",
        "cri-containerd" | "containerd" | "nerdctl" => "containerd",
        "crio" => "cri-o",
        _ => return None,
    })
}

/// `pod<uid>` (cgroupfs) or `kubepods-<qos>-pod<uid_with_underscores>.slice`.
fn pod_uid_of(component: &str) -> Option<String> {
    let component = component.split(':').next().unwrap_or(component);
    let name = component.strip_suffix(".slice").unwrap_or(component);
    let idx = name.rfind("pod")?;
    if idx > 0 && !name[..idx].ends_with('-') {
        return None;
    }
    let uid = name[idx + 3..].replace('_', "-");
    (uid.len() == 36 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')).then_some(uid)
}

/// Where each runtime keeps its state; overridable for tests.
#[derive(Debug, Clone)]
pub struct MetadataRoots {
    /// containers/storage (podman, CRI-O): `/var/lib/containers/storage`.
    pub containers_storage: PathBuf,
    /// `/var/lib/docker`.
    pub docker: PathBuf,
    /// containerd's v2 task dirs: `/run/containerd/io.containerd.runtime.v2.task`.
    pub containerd_tasks: PathBuf,
    /// Where the cgroup2 hierarchy is mounted (cgroup ids are its inodes).
    pub cgroup2: PathBuf,
    /// podman keeps labels only in its database: when set, this `podman` is
    /// asked for them once per container (about 40 ms, then cached).
    pub podman: Option<PathBuf>,
}

impl Default for MetadataRoots {
    fn default() -> Self {
        Self {
            containers_storage: "/var/lib/containers/storage".into(),
            docker: "/var/lib/docker".into(),
            containerd_tasks: "/run/containerd/io.containerd.runtime.v2.task".into(),
            cgroup2: cgroup2_mount(),
            podman: ["/usr/bin/podman", "/usr/local/bin/podman"]
                .into_iter()
                .map(PathBuf::from)
                .find(|p| p.exists()),
        }
    }
}

/// Container metadata lookups, cached per container id.
#[derive(Debug, Clone)]
pub struct ContainerResolver {
    roots: MetadataRoots,
    cgroups: CgroupIndex,
    cache: Arc<Mutex<LruCache<String, Arc<ContainerInfo>>>>,
    /// What `/proc/PID/cgroup` said for a process in this cgroup (by its
    /// cgroup2 id): a cgroup id names one cgroup for the life of the host
    /// (kernfs ids are not reused), so its container never changes and
    /// later execs in it read no `/proc` file.
    by_cgroup: Arc<Mutex<LruCache<u64, Option<CgroupContainer>>>>,
}

impl ContainerResolver {
    pub fn new(roots: MetadataRoots) -> Self {
        Self {
            cgroups: CgroupIndex::new(roots.cgroup2.clone()),
            roots,
            cache: Arc::new(Mutex::new(LruCache::new(
                NonZeroUsize::new(4096).expect("non-zero"),
            ))),
            by_cgroup: Arc::new(Mutex::new(LruCache::new(
                NonZeroUsize::new(4096).expect("non-zero"),
            ))),
        }
    }

    /// Container of process `pid` (None on the host). When the process is
    /// already gone, its cgroup is found from the event's cgroup id instead;
    /// `exec_boot_ns` (the exec's `CLOCK_BOOTTIME`) tells whether the cgroup
    /// index could predate that cgroup.
    pub fn for_pid(
        &self,
        proc: &Path,
        pid: u32,
        cgroup_id: u64,
        exec_boot_ns: u64,
    ) -> Option<Arc<ContainerInfo>> {
        // Id 0: not known (an event file without it); nothing to key on.
        let cached = (cgroup_id != 0)
            .then(|| self.lock_by_cgroup().get(&cgroup_id).cloned())
            .flatten();
        let found = match cached {
            Some(found) => found?,
            None => self.find(proc, pid, cgroup_id, exec_boot_ns)?,
        };
        Some(self.describe(&found))
    }

    /// The container from `/proc/PID/cgroup` (remembered for the cgroup
    /// id), else from the cgroup id's path when the process is gone.
    fn find(
        &self,
        proc: &Path,
        pid: u32,
        cgroup_id: u64,
        exec_boot_ns: u64,
    ) -> Option<CgroupContainer> {
        let text = crate::process::read_proc_file(&proc.join(pid.to_string()).join("cgroup"))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        match text {
            Ok(text) => {
                let found = parse_proc_cgroup(&text);
                // Remembered only when the process is still in the exec's
                // cgroup (it may have been moved since).
                if cgroup_id != 0 && self.cgroups.id_of_proc_cgroup(&text) == Some(cgroup_id) {
                    self.lock_by_cgroup().put(cgroup_id, found.clone());
                }
                found
            }
            Err(_) => parse_cgroup_path(&self.cgroups.path_of(cgroup_id, exec_boot_ns)?),
        }
    }

    fn lock_by_cgroup(&self) -> std::sync::MutexGuard<'_, LruCache<u64, Option<CgroupContainer>>> {
        self.by_cgroup.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Full description of a container found in a cgroup path.
    pub fn describe(&self, found: &CgroupContainer) -> Arc<ContainerInfo> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = cache.get(&found.id) {
            return hit.clone();
        }
        drop(cache);
        let mut info = ContainerInfo {
            id: found.id.clone(),
            runtime: found.runtime.clone(),
            pod_uid: found.pod_uid.clone(),
            ..Default::default()
        };
        let complete = self.fill_metadata(&mut info);
        let info = Arc::new(info);
        // A container seen before its state files are written is looked up again next time.
        if complete {
            self.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .put(found.id.clone(), info.clone());
        }
        info
    }

    fn fill_metadata(&self, info: &mut ContainerInfo) -> bool {
        let mut complete = false;
        if matches!(info.runtime.as_str(), "podman" | "cri-o" | "kubernetes") {
            complete |= fill_from_containers_storage(&self.roots.containers_storage, info);
            if info.runtime == "podman" && info.labels.is_empty() {
                if let Some(podman) = &self.roots.podman {
                    info.labels = podman_labels(podman, &info.id);
                }
            }
        }
        if matches!(info.runtime.as_str(), "docker" | "kubernetes") {
            complete |= fill_from_docker(&self.roots.docker, info);
        }
        if matches!(info.runtime.as_str(), "containerd" | "kubernetes") {
            complete |= fill_from_containerd(&self.roots.containerd_tasks, info);
        }
        complete
    }
}

/// The cgroup2 mount: `/sys/fs/cgroup/unified` on hybrid hosts, else `/sys/fs/cgroup`.
fn cgroup2_mount() -> PathBuf {
    cgroup2_mount_under(Path::new("/sys/fs/cgroup"))
}

/// The cgroup2 mount at or under `base`: `base/unified` when `base` is a
/// hybrid hierarchy, else `base` itself.
pub fn cgroup2_mount_under(base: &Path) -> PathBuf {
    const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
    for candidate in [base.join("unified"), base.to_owned()] {
        let Ok(c) = std::ffi::CString::new(candidate.as_os_str().as_encoded_bytes()) else {
            continue;
        };
        let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: statfs fills the struct on success; it is read only then.
        if unsafe { libc::statfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
            continue;
        }
        // SAFETY: initialised by the successful statfs above.
        let f_type = unsafe { st.assume_init() }.f_type;
        #[allow(clippy::unnecessary_cast)] // f_type is not i64 on every target
        if f_type as i64 == CGROUP2_SUPER_MAGIC {
            return candidate;
        }
    }
    base.to_owned()
}

/// cgroup id (the cgroup2 directory's inode) -> cgroup path, for processes
/// that exited before `/proc/PID/cgroup` could be read. On a miss the
/// hierarchy is walked again only if the last walk happened before the exec:
/// a cgroup that existed at the exec and is absent from a later walk is gone
/// for good, and is remembered as such so a burst of events from a deleted
/// container costs one walk, not one per event.
#[derive(Debug, Clone)]
struct CgroupIndex {
    mount: PathBuf,
    state: Arc<Mutex<IndexState>>,
}

#[derive(Debug)]
struct IndexState {
    paths: std::collections::HashMap<u64, String>,
    /// Ids missing from a walk made after their exec; bounded.
    gone: LruCache<u64, ()>,
    /// `CLOCK_BOOTTIME` of the start of the last walk.
    walked_at_ns: Option<u64>,
}

impl CgroupIndex {
    fn new(mount: PathBuf) -> Self {
        Self {
            mount,
            state: Arc::new(Mutex::new(IndexState {
                paths: Default::default(),
                gone: LruCache::new(NonZeroUsize::new(4096).expect("non-zero")),
                walked_at_ns: None,
            })),
        }
    }

    /// The id (inode) of the cgroup2 directory a `/proc/PID/cgroup` text
    /// names in its `0::` line.
    fn id_of_proc_cgroup(&self, text: &str) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
        let dir = self.mount.join(path.trim_start_matches('/'));
        std::fs::metadata(dir).ok().map(|m| m.ino())
    }

    fn path_of(&self, cgroup_id: u64, exec_boot_ns: u64) -> Option<String> {
        if cgroup_id == 0 {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(path) = state.paths.get(&cgroup_id) {
            return Some(path.clone());
        }
        if state.gone.get(&cgroup_id).is_some() {
            return None;
        }
        if state.walked_at_ns.is_some_and(|at| at > exec_boot_ns) {
            // Walked after the exec and not found: deleted already.
            state.gone.put(cgroup_id, ());
            return None;
        }
        let walked_at_ns = boot_time_ns();
        let mut paths = std::collections::HashMap::new();
        walk_cgroups(&self.mount, "", 0, &mut paths);
        state.paths = paths;
        state.walked_at_ns = Some(walked_at_ns);
        let found = state.paths.get(&cgroup_id).cloned();
        if found.is_none() {
            state.gone.put(cgroup_id, ());
        }
        found
    }
}

fn walk_cgroups(
    dir: &Path,
    rel: &str,
    depth: usize,
    out: &mut std::collections::HashMap<u64, String>,
) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(meta) = std::fs::metadata(dir) {
        out.insert(
            meta.ino(),
            if rel.is_empty() {
                "/".into()
            } else {
                rel.into()
            },
        );
    }
    if depth >= 10 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let name = entry.file_name();
            let child = format!("{rel}/{}", name.to_string_lossy());
            walk_cgroups(&entry.path(), &child, depth + 1, out);
        }
    }
}

/// One entry of containers/storage's `overlay-containers/containers.json`.
#[derive(Debug, Deserialize)]
struct StorageContainer {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    metadata: String,
    #[serde(default)]
    created: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StorageContainerMetadata {
    #[serde(default, rename = "image-name")]
    image_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StorageImage {
    id: String,
    #[serde(default)]
    names: Vec<String>,
}

/// The OCI runtime spec's annotations (the only part read).
#[derive(Debug, Default, Deserialize)]
struct OciSpec {
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        Err(err) => {
            tracing::debug!("unreadable container metadata {}: {err}", path.display());
            None
        }
    }
}

/// podman and CRI-O both keep containers in containers/storage; the OCI
/// config in `userdata/` adds the annotations (CRI-O's Kubernetes names).
fn fill_from_containers_storage(storage: &Path, info: &mut ContainerInfo) -> bool {
    let list: Vec<StorageContainer> =
        match read_json(&storage.join("overlay-containers/containers.json")) {
            Some(list) => list,
            None => return false,
        };
    let Some(entry) = list.into_iter().find(|c| c.id == info.id) else {
        return false;
    };
    let meta: Option<StorageContainerMetadata> = serde_json::from_str(&entry.metadata).ok();
    info.name = meta
        .as_ref()
        .and_then(|m| m.name.clone())
        .or_else(|| entry.names.first().cloned());
    if !entry.image.is_empty() {
        info.image_id = Some(entry.image.clone());
    }
    info.image = meta.and_then(|m| m.image_name).or_else(|| {
        let images: Vec<StorageImage> =
            read_json(&storage.join("overlay-images/images.json")).unwrap_or_default();
        images
            .into_iter()
            .find(|i| i.id == entry.image)
            .and_then(|i| i.names.into_iter().next())
    });
    info.created = entry.created;
    let spec: OciSpec = read_json(
        &storage
            .join("overlay-containers")
            .join(&info.id)
            .join("userdata/config.json"),
    )
    .unwrap_or_default();
    apply_annotations(info, &spec.annotations);
    true
}

/// `podman container inspect` for the labels alone, bounded in time.
fn podman_labels(podman: &Path, id: &str) -> Vec<(String, String)> {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let Ok(mut child) = crate::priority::spawn_normally(&mut Command::new(podman))
        .args([
            "container",
            "inspect",
            "--format",
            "{{json .Config.Labels}}",
            id,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return Vec::new();
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::debug!("podman inspect {id} timed out");
                return Vec::new();
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    }
    serde_json::from_str::<Option<BTreeMap<String, String>>>(out.trim())
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// Docker's `containers/<id>/config.v2.json`.
fn fill_from_docker(docker: &Path, info: &mut ContainerInfo) -> bool {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct DockerConfig {
        #[serde(default)]
        name: String,
        #[serde(default)]
        image: String,
        #[serde(default)]
        created: Option<String>,
        #[serde(default)]
        config: DockerInner,
    }
    #[derive(Default, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct DockerInner {
        #[serde(default)]
        image: Option<String>,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
    }
    let Some(cfg): Option<DockerConfig> = read_json(
        &docker
            .join("containers")
            .join(&info.id)
            .join("config.v2.json"),
    ) else {
        return false;
    };
    info.runtime = "docker".into();
    info.name = Some(cfg.name.trim_start_matches('/').to_string()).filter(|n| !n.is_empty());
    info.image = cfg.config.image;
    info.image_id = Some(cfg.image).filter(|i| !i.is_empty());
    info.created = cfg.created;
    let labels = cfg.config.labels.unwrap_or_default();
    apply_annotations(info, &labels);
    info.labels = labels.into_iter().collect();
    true
}

/// containerd's task bundle: `<tasks>/<namespace>/<id>/config.json`.
fn fill_from_containerd(tasks: &Path, info: &mut ContainerInfo) -> bool {
    let Ok(namespaces) = std::fs::read_dir(tasks) else {
        return false;
    };
    for ns in namespaces.flatten() {
        let bundle = ns.path().join(&info.id).join("config.json");
        if let Some(spec) = read_json::<OciSpec>(&bundle) {
            info.runtime = "containerd".into();
            apply_annotations(info, &spec.annotations);
            return true;
        }
    }
    false
}

/// Kubernetes names and the image from the annotations CRI runtimes write
/// (containerd's `io.kubernetes.cri.*`, CRI-O's `io.kubernetes.*`), plus
/// user labels CRI-O serialises into `io.kubernetes.cri-o.Labels`.
fn apply_annotations(info: &mut ContainerInfo, annotations: &BTreeMap<String, String>) {
    let get = |keys: &[&str]| keys.iter().find_map(|k| annotations.get(*k).cloned());
    if let Some(ns) = get(&[
        "io.kubernetes.pod.namespace",
        "io.kubernetes.cri.sandbox-namespace",
    ]) {
        info.pod_namespace = Some(ns);
    }
    if let Some(pod) = get(&["io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name"]) {
        info.pod_name = Some(pod);
    }
    if info.pod_uid.is_none() {
        info.pod_uid = get(&["io.kubernetes.pod.uid", "io.kubernetes.cri.sandbox-uid"]);
    }
    if info.name.is_none() {
        info.name = get(&[
            "io.kubernetes.container.name",
            "io.kubernetes.cri.container-name",
        ]);
    }
    if info.image.is_none() {
        info.image = get(&[
            "io.kubernetes.cri-o.ImageName",
            "io.kubernetes.cri.image-name",
            "org.opencontainers.image.ref.name",
        ]);
    }
    if info.created.is_none() {
        info.created = get(&[
            "io.kubernetes.cri-o.Created",
            "io.container.manager.created",
        ]);
    }
    if let Some(labels) = annotations.get("io.kubernetes.cri-o.Labels") {
        if let Ok(map) = serde_json::from_str::<BTreeMap<String, String>>(labels) {
            info.labels = map.into_iter().collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f0c8d6a4e1b2c9d7f5a8e3b1c6d9f0a2b4c6e8d0f1a3b5c7d9e0f2a4b6c8d0e";
    const POD: &str = "0f3a6c2e-1b4d-4e8a-9c7f-5d2b8e6a1c3f";

    fn parse(path: &str) -> Option<(String, String, Option<String>)> {
        parse_cgroup_path(path).map(|c| (c.id, c.runtime, c.pod_uid))
    }

    #[test]
    fn podman_cgroupfs_and_systemd() {
        let want = Some((ID.to_string(), "podman".to_string(), None));
        assert_eq!(parse(&format!("/libpod_parent/libpod-{ID}")), want);
        assert_eq!(parse(&format!("/machine.slice/libpod-{ID}.scope")), want);
        assert_eq!(
            parse(&format!("/machine.slice/libpod-{ID}.scope/container")),
            want
        );
        assert_eq!(
            parse(&format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
            )),
            want
        );
        assert_eq!(
            parse(&format!("/machine.slice/libpod-conmon-{ID}.scope")),
            None
        );
        assert_eq!(parse("/libpod_parent/conmon"), None);
    }

    #[test]
    fn docker_formats() {
        let want = Some((ID.to_string(), "docker".to_string(), None));
        assert_eq!(parse(&format!("/docker/{ID}")), want);
        assert_eq!(parse(&format!("/system.slice/docker-{ID}.scope")), want);
    }

    #[test]
    fn kubernetes_formats() {
        let pod_underscored = POD.replace('-', "_");
        assert_eq!(
            parse(&format!("/kubepods/burstable/pod{POD}/{ID}")),
            Some((ID.into(), "kubernetes".into(), Some(POD.into())))
        );
        assert_eq!(
            parse(&format!("/kubepods/pod{POD}/{ID}")),
            Some((ID.into(), "kubernetes".into(), Some(POD.into())))
        );
        assert_eq!(
            parse(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{pod_underscored}.slice/cri-containerd-{ID}.scope"
            )),
            Some((ID.into(), "containerd".into(), Some(POD.into())))
        );
        assert_eq!(
            parse(&format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{pod_underscored}.slice/crio-{ID}.scope"
            )),
            Some((ID.into(), "cri-o".into(), Some(POD.into())))
        );
        assert_eq!(
            parse(&format!(
                "/kubepods.slice/kubepods-pod{pod_underscored}.slice/docker-{ID}.scope"
            )),
            Some((ID.into(), "docker".into(), Some(POD.into())))
        );
        assert_eq!(
            parse(&format!(
                "/system.slice/containerd.service/kubepods-burstable-pod{pod_underscored}.slice:cri-containerd:{ID}"
            )),
            Some((ID.into(), "containerd".into(), Some(POD.into())))
        );
        assert_eq!(
            parse(&format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{pod_underscored}.slice/crio-conmon-{ID}.scope")),
            None
        );
    }

    #[test]
    fn containerd_namespace_layout() {
        assert_eq!(
            parse(&format!("/default/{ID}")),
            Some((ID.into(), "containerd".into(), None))
        );
    }

    #[test]
    fn host_and_foreign_paths_are_not_containers() {
        assert_eq!(parse("/"), None);
        assert_eq!(parse("/user.slice/user-0.slice/session-1.scope"), None);
        assert_eq!(parse("/system.slice/sshd.service"), None);
        // 32-hex ids (sandbox managers) are not container ids.
        assert_eq!(parse("/process_api/b092e838f0a2bf45aabd863c46c70126"), None);
        assert_eq!(parse(&format!("/docker/{}", ID.to_uppercase())), None);
    }

    #[test]
    fn hybrid_proc_cgroup_file() {
        let text = format!(
            "9:name=systemd:/\n4:memory:/process_api/b092e838f0a2bf45aabd863c46c70126\n1:cpu:/libpod_parent/libpod-{ID}\n0::/libpod_parent/libpod-{ID}\n"
        );
        let found = parse_proc_cgroup(&text).unwrap();
        assert_eq!(found.id, ID);
        assert_eq!(found.runtime, "podman");
        assert_eq!(parse_proc_cgroup("0::/\n"), None);
    }

    #[test]
    fn podman_metadata_from_storage_files() {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(storage.join("overlay-containers").join(ID).join("userdata"))
            .unwrap();
        std::fs::create_dir_all(storage.join("overlay-images")).unwrap();
        let meta = serde_json::json!({"image-name": "localhost/probe:latest", "name": "web-1"});
        std::fs::write(
            storage.join("overlay-containers/containers.json"),
            serde_json::json!([{
                "id": ID, "names": ["web-1"], "image": "abc123",
                "metadata": meta.to_string(), "created": "2024-05-01T10:00:00Z"
            }])
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            storage
                .join("overlay-containers")
                .join(ID)
                .join("userdata/config.json"),
            r#"{"annotations":{"io.kubernetes.cri-o.Labels":"{\"app\":\"web\"}"}}"#,
        )
        .unwrap();
        let resolver = ContainerResolver::new(MetadataRoots {
            containers_storage: storage,
            docker: dir.path().join("docker"),
            containerd_tasks: dir.path().join("tasks"),
            podman: None,
            cgroup2: dir.path().join("cgroup"),
        });
        let info =
            resolver.describe(&parse_cgroup_path(&format!("/libpod_parent/libpod-{ID}")).unwrap());
        assert_eq!(info.name.as_deref(), Some("web-1"));
        assert_eq!(info.image.as_deref(), Some("localhost/probe:latest"));
        assert_eq!(info.image_id.as_deref(), Some("abc123"));
        assert_eq!(info.created.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(info.labels, vec![("app".to_string(), "web".to_string())]);
    }

    #[test]
    fn cgroup_id_finds_the_path_of_an_exited_process() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let leaf = dir
            .path()
            .join("libpod_parent")
            .join(format!("libpod-{ID}"));
        std::fs::create_dir_all(&leaf).unwrap();
        let index = CgroupIndex::new(dir.path().to_owned());
        let ino = std::fs::metadata(&leaf).unwrap().ino();
        let path = index.path_of(ino, boot_time_ns()).unwrap();
        assert_eq!(path, format!("/libpod_parent/libpod-{ID}"));
        assert_eq!(parse_cgroup_path(&path).unwrap().runtime, "podman");
        assert_eq!(index.path_of(0, boot_time_ns()), None);
    }

    #[test]
    fn a_cgroup_id_seen_once_needs_no_proc_file_again_unless_the_process_moved() {
        use std::os::unix::fs::MetadataExt;
        let cgroups = tempfile::tempdir().unwrap();
        let leaf = cgroups
            .path()
            .join("libpod_parent")
            .join(format!("libpod-{ID}"));
        std::fs::create_dir_all(&leaf).unwrap();
        let moved = cgroups.path().join("user.slice");
        std::fs::create_dir_all(&moved).unwrap();
        let ino = std::fs::metadata(&leaf).unwrap().ino();
        let proc = tempfile::tempdir().unwrap();
        let write = |pid: u32, text: &str| {
            std::fs::create_dir_all(proc.path().join(pid.to_string())).unwrap();
            std::fs::write(proc.path().join(pid.to_string()).join("cgroup"), text).unwrap();
        };
        let resolver = ContainerResolver::new(MetadataRoots {
            cgroup2: cgroups.path().to_owned(),
            containers_storage: proc.path().join("none"),
            docker: proc.path().join("none"),
            containerd_tasks: proc.path().join("none"),
            podman: None,
        });
        let now = boot_time_ns();
        // Moved out of the exec's cgroup before its file was read: not
        // remembered for that id.
        write(1, "0::/user.slice\n");
        assert!(resolver.for_pid(proc.path(), 1, ino, now).is_none());
        write(2, &format!("0::/libpod_parent/libpod-{ID}\n"));
        assert_eq!(resolver.for_pid(proc.path(), 2, ino, now).unwrap().id, ID);
        // Pid 3 has no /proc file (and the cgroup index would walk): the
        // id's container is known.
        std::fs::remove_dir_all(&leaf).unwrap();
        assert_eq!(resolver.for_pid(proc.path(), 3, ino, now).unwrap().id, ID);
        // A host cgroup is remembered as no container.
        let host = std::fs::metadata(&moved).unwrap().ino();
        write(4, "0::/user.slice\n");
        assert!(resolver.for_pid(proc.path(), 4, host, now).is_none());
        write(5, &format!("0::/libpod_parent/libpod-{ID}\n"));
        assert!(resolver.for_pid(proc.path(), 5, host, now).is_none());
    }

    #[test]
    fn a_cgroup_made_after_the_last_walk_is_found() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let index = CgroupIndex::new(dir.path().to_owned());
        // A first lookup walks the (empty) hierarchy.
        assert_eq!(index.path_of(1, boot_time_ns()), None);
        let leaf = dir
            .path()
            .join("libpod_parent")
            .join(format!("libpod-{ID}"));
        std::fs::create_dir_all(&leaf).unwrap();
        let ino = std::fs::metadata(&leaf).unwrap().ino();
        // An exec in the new cgroup happened after that walk: walk again.
        let path = index.path_of(ino, boot_time_ns()).unwrap();
        assert_eq!(path, format!("/libpod_parent/libpod-{ID}"));
    }

    #[test]
    fn a_cgroup_gone_before_the_walk_is_not_walked_for_again() {
        let dir = tempfile::tempdir().unwrap();
        let index = CgroupIndex::new(dir.path().to_owned());
        let exec = boot_time_ns();
        assert_eq!(index.path_of(42, exec), None);
        let walked = index.state.lock().unwrap().walked_at_ns;
        assert_eq!(index.path_of(42, exec), None);
        assert_eq!(index.state.lock().unwrap().walked_at_ns, walked);
    }

    #[test]
    fn docker_metadata_from_config_v2() {
        let dir = tempfile::tempdir().unwrap();
        let cdir = dir.path().join("docker/containers").join(ID);
        std::fs::create_dir_all(&cdir).unwrap();
        std::fs::write(
            cdir.join("config.v2.json"),
            r#"{"Name":"/redis","Image":"sha256:feed","Created":"2024-01-01T00:00:00Z",
                "Config":{"Image":"redis:7","Labels":{"io.kubernetes.pod.name":"cache-0","tier":"db"}}}"#,
        )
        .unwrap();
        let resolver = ContainerResolver::new(MetadataRoots {
            containers_storage: dir.path().join("none"),
            docker: dir.path().join("docker"),
            containerd_tasks: dir.path().join("tasks"),
            podman: None,
            cgroup2: dir.path().join("cgroup"),
        });
        let info = resolver.describe(&parse_cgroup_path(&format!("/docker/{ID}")).unwrap());
        assert_eq!(info.name.as_deref(), Some("redis"));
        assert_eq!(info.image.as_deref(), Some("redis:7"));
        assert_eq!(info.image_id.as_deref(), Some("sha256:feed"));
        assert_eq!(info.pod_name.as_deref(), Some("cache-0"));
        assert_eq!(info.labels.len(), 2);
    }

    #[test]
    fn containerd_metadata_from_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("tasks/k8s.io").join(ID);
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::write(
            bundle.join("config.json"),
            r#"{"annotations":{"io.kubernetes.cri.container-name":"app","io.kubernetes.cri.sandbox-name":"app-7d9","io.kubernetes.cri.sandbox-namespace":"prod","io.kubernetes.cri.image-name":"ghcr.io/x/app:1"}}"#,
        )
        .unwrap();
        let resolver = ContainerResolver::new(MetadataRoots {
            containers_storage: dir.path().join("none"),
            docker: dir.path().join("none"),
            containerd_tasks: dir.path().join("tasks"),
            podman: None,
            cgroup2: dir.path().join("cgroup"),
        });
        let info = resolver
            .describe(&parse_cgroup_path(&format!("/kubepods/besteffort/pod{POD}/{ID}")).unwrap());
        assert_eq!(info.runtime, "containerd");
        assert_eq!(info.name.as_deref(), Some("app"));
        assert_eq!(info.pod_name.as_deref(), Some("app-7d9"));
        assert_eq!(info.pod_namespace.as_deref(), Some("prod"));
        assert_eq!(info.pod_uid.as_deref(), Some(POD));
        assert_eq!(info.image.as_deref(), Some("ghcr.io/x/app:1"));
    }
}
