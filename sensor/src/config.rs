//! The sensor's configuration: `sensor run --config FILE`, TOML.
//!
//! Every key has a default, so no file (or an empty one) is a valid
//! configuration: findings then go to stdout with placeholder organization,
//! source and project names. Unknown keys are errors (a typo must not silently
//! fall back to a default), reported with the file, line and key.
//! `docs/sensor.example.toml` lists every key with its default.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::container::MetadataRoots;

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where findings are filed: organization, source, notification config.
    pub scc: SccConfig,
    /// The project the findings belong to.
    pub project: ProjectConfig,
    /// The workload the findings are about (`finding.resourceName`, `resource`).
    pub resource: ResourceConfig,
    /// Capture, hashing and argv limits.
    pub limits: Limits,
    /// Finding contents: ATT&CK version, extra detections.
    pub finding: FindingConfig,
    /// Where findings go.
    pub sinks: SinksConfig,
    /// The host's name and filesystems, as the sensor sees them (they move
    /// when it runs in a container, e.g. as a Kubernetes DaemonSet).
    pub host: HostConfig,
    /// How the live sensor's threads are scheduled.
    pub scheduling: SchedulingConfig,
}

/// How the live sensor's threads are scheduled (`sensor run`, `sensor record`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulingConfig {
    /// SCHED_FIFO priority (1-99) of every sensor thread, so that a verdict
    /// does not queue behind the workloads' runnable processes; 0: the
    /// normal scheduler. Needs CAP_SYS_NICE; without it the sensor warns
    /// and runs normally.
    pub realtime_priority: u8,
}

impl Default for SchedulingConfig {
    fn default() -> Self {
        Self {
            realtime_priority: crate::priority::DEFAULT_REALTIME_PRIORITY,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SccConfig {
    /// Numeric organization id: `parent` is `organizations/{organization}/sources/{source}`.
    pub organization: String,
    /// Numeric SCC source id of this sensor.
    pub source: String,
    /// `notificationConfigName` of every message; default
    /// `organizations/{organization}/notificationConfigs/runtime-script-sensor`.
    pub notification_config_name: Option<String>,
}

impl Default for SccConfig {
    fn default() -> Self {
        Self {
            organization: "0".into(),
            source: "0".into(),
            notification_config_name: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectConfig {
    pub id: String,
    /// Numeric project number: `canonicalName` is `projects/{number}/sources/{source}/findings/{id}`.
    pub number: String,
    pub display_name: String,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        Self {
            id: "local".into(),
            number: "0".into(),
            display_name: "local".into(),
        }
    }
}

/// Where the sensor runs. String values may use `{hostname}` (the host the
/// exec was seen on, from the event's enrichment), `{project_id}` and
/// `{project_number}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceConfig {
    /// Full resource name of the workload, e.g.
    /// `//container.googleapis.com/projects/P/locations/L/clusters/C`.
    pub name: String,
    pub display_name: String,
    /// Resource type, e.g. `google.container.Cluster`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Parent resource; default `//cloudresourcemanager.googleapis.com/projects/{project_number}`.
    pub parent: Option<String>,
    /// Default: the project's display name.
    pub parent_display_name: Option<String>,
    /// `GOOGLE_CLOUD_PLATFORM`, `AMAZON_WEB_SERVICES`, `MICROSOFT_AZURE`;
    /// unset for clusters and hosts outside a cloud.
    pub cloud_provider: Option<CloudProviderName>,
    /// Region or zone, e.g. `europe-west1`.
    pub location: Option<String>,
}

impl Default for ResourceConfig {
    fn default() -> Self {
        Self {
            name: "//runtime-script-sensor/hosts/{hostname}".into(),
            display_name: "{hostname}".into(),
            kind: "Host".into(),
            parent: None,
            parent_display_name: None,
            cloud_provider: None,
            location: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CloudProviderName {
    GoogleCloudPlatform,
    AmazonWebServices,
    MicrosoftAzure,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Bytes of a script kept as its `contents` (and scored).
    pub contents_bytes: usize,
    /// Bytes of a script hashed; beyond it the file is `partiallyHashed`.
    pub hash_bytes: u64,
    /// argv elements kept per process; beyond it `argumentsTruncated`.
    pub argv_max_args: usize,
    /// Total argv bytes kept per process; beyond it `argumentsTruncated`.
    pub argv_max_bytes: usize,
    /// Kernel ring buffer between the eBPF programs and the sensor, in
    /// bytes (a power of two, 64 KiB to 1 GiB). It absorbs bursts while the
    /// sensor is busy; it is resident twice once it has wrapped.
    pub ring_buffer_bytes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            contents_bytes: 64 * 1024,
            hash_bytes: 16 * 1024 * 1024,
            argv_max_args: 256,
            argv_max_bytes: 32 * 1024,
            ring_buffer_bytes: crate::capture::DEFAULT_RING_BUFFER_BYTES,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingConfig {
    /// ATT&CK release the `mitreAttack` fields refer to.
    pub mitre_version: String,
    /// Domains (matching the domain or any subdomain), IP addresses and URL
    /// prefixes whose appearance in a script or its arguments raises a
    /// `Malicious URL Observed` finding.
    pub url_blocklist: Vec<String>,
    /// Parent process names (comm) that never start a shell in normal
    /// operation; a shell started by one raises `Unexpected Child Shell`.
    pub unexpected_shell_parents: Vec<String>,
    /// Categories not to emit (exact category strings).
    pub disabled_categories: Vec<String>,
}

impl Default for FindingConfig {
    fn default() -> Self {
        Self {
            mitre_version: "18".into(),
            url_blocklist: Vec::new(),
            unexpected_shell_parents: [
                "nginx",
                "httpd",
                "apache2",
                "lighttpd",
                "caddy",
                "envoy",
                "haproxy",
                "mysqld",
                "mariadbd",
                "postgres",
                "redis-server",
                "mongod",
                "memcached",
                "php-fpm",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            disabled_categories: Vec::new(),
        }
    }
}

/// The host as seen from where the sensor runs. On the host itself the
/// defaults are right; in a container, mount the host's directories somewhere
/// and point these keys at them (`deploy/` shows a DaemonSet doing so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// The node's name in findings and `{hostname}`; default: the kernel's
    /// hostname. `${VAR}` is replaced by that environment variable, e.g.
    /// `"${NODE_NAME}"` filled by the Kubernetes downward API.
    pub name: Option<String>,
    /// procfs of the host's pid namespace (the sensor needs host pids).
    pub proc: PathBuf,
    /// The cgroup hierarchy: a cgroup2 mount, or a hybrid `/sys/fs/cgroup`
    /// whose `unified` directory is the cgroup2 mount. default: found.
    pub cgroup: Option<PathBuf>,
    /// containers/storage of podman and CRI-O.
    pub containers_storage: PathBuf,
    /// Docker's data root.
    pub docker: PathBuf,
    /// containerd's v2 task directories.
    pub containerd_tasks: PathBuf,
}

impl Default for HostConfig {
    fn default() -> Self {
        let roots = MetadataRoots::default();
        Self {
            name: None,
            proc: "/proc".into(),
            cgroup: None,
            containers_storage: roots.containers_storage,
            docker: roots.docker,
            containerd_tasks: roots.containerd_tasks,
        }
    }
}

impl HostConfig {
    /// `name` with `${VAR}` expanded; None when unset. Errors name the variable.
    pub fn resolved_name(&self) -> Result<Option<String>, String> {
        let Some(template) = &self.name else {
            return Ok(None);
        };
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in {template:?}"))?;
            let var = &after[..end];
            match std::env::var(var) {
                Ok(value) if !value.is_empty() => out.push_str(&value),
                _ => {
                    return Err(format!(
                        "environment variable {var} is not set (from {template:?})"
                    ))
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        if out.trim().is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Some(out))
    }

    /// Where container metadata and cgroups are read.
    pub fn metadata_roots(&self) -> MetadataRoots {
        let defaults = MetadataRoots::default();
        MetadataRoots {
            containers_storage: self.containers_storage.clone(),
            docker: self.docker.clone(),
            containerd_tasks: self.containerd_tasks.clone(),
            cgroup2: self
                .cgroup
                .as_deref()
                .map(crate::container::cgroup2_mount_under)
                .unwrap_or(defaults.cgroup2),
            podman: defaults.podman,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinksConfig {
    /// One JSON object per line on stdout.
    pub stdout: bool,
    pub file: Option<FileSinkConfig>,
    pub webhook: Option<WebhookConfig>,
}

impl Default for SinksConfig {
    fn default() -> Self {
        Self {
            stdout: true,
            file: None,
            webhook: None,
        }
    }
}

/// Append-only JSONL file; when it would grow past `max_bytes` it is renamed
/// to `PATH.1` (older ones shift to `PATH.2` ...) and a new file is started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    pub path: PathBuf,
    /// Rotate before the file would exceed this size; 0 never rotates.
    #[serde(default = "default_file_max_bytes")]
    pub max_bytes: u64,
    /// Rotated files kept (`PATH.1` .. `PATH.N`); older ones are deleted.
    #[serde(default = "default_file_max_files")]
    pub max_files: usize,
}

impl FileSinkConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_bytes: default_file_max_bytes(),
            max_files: default_file_max_files(),
        }
    }
}

fn default_file_max_bytes() -> u64 {
    100 * 1024 * 1024
}

fn default_file_max_files() -> usize {
    5
}

/// HTTP(S) POST of each finding as one JSON document. Findings are first
/// written to `spool_dir` and deleted only after a 2xx answer, so findings
/// made while the endpoint is down (or before a restart of the sensor) are
/// delivered when it comes back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Per-request timeout.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: f64,
    /// First retry delay; doubles on every failure up to `retry_max_ms`.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Findings not yet acknowledged by the endpoint.
    #[serde(default = "default_spool_dir")]
    pub spool_dir: PathBuf,
    /// At shutdown, keep trying to deliver the spool for this long; what is
    /// left stays spooled for the next start.
    #[serde(default = "default_drain_timeout_secs")]
    pub drain_timeout_secs: f64,
    /// Extra request headers (e.g. `Authorization`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl WebhookConfig {
    pub fn new(url: impl Into<String>, spool_dir: impl Into<PathBuf>) -> Self {
        Self {
            url: url.into(),
            timeout_secs: default_timeout_secs(),
            retry_initial_ms: default_retry_initial_ms(),
            retry_max_ms: default_retry_max_ms(),
            spool_dir: spool_dir.into(),
            drain_timeout_secs: default_drain_timeout_secs(),
            headers: BTreeMap::new(),
        }
    }
}

fn default_timeout_secs() -> f64 {
    10.0
}

fn default_retry_initial_ms() -> u64 {
    500
}

fn default_retry_max_ms() -> u64 {
    60_000
}

fn default_spool_dir() -> PathBuf {
    PathBuf::from("/var/lib/runtime-script-sensor/spool")
}

fn default_drain_timeout_secs() -> f64 {
    30.0
}

/// A configuration that could not be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", Located(self))]
    Invalid {
        path: PathBuf,
        /// 1-based, when known.
        line: Option<usize>,
        column: Option<usize>,
        /// Dotted key path (`sinks.webhook.url`), when known.
        key: Option<String>,
        message: String,
    },
}

struct Located<'a>(&'a ConfigError);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConfigError::Invalid {
            path,
            line,
            column,
            key,
            message,
        } = self.0
        else {
            return Ok(());
        };
        write!(f, "config file {}", path.display())?;
        if let Some(line) = line {
            write!(f, ", line {line}")?;
            if let Some(column) = column {
                write!(f, ", column {column}")?;
            }
        }
        if let Some(key) = key {
            write!(f, ", key `{key}`")?;
        }
        write!(f, ": {message}")
    }
}

impl Config {
    /// Read and check a configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// `load` for text already read; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let de = toml::Deserializer::new(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|err| {
            let key = err.path().to_string();
            let inner = err.into_inner();
            let (line, column) = match inner.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                column,
                key: (!key.is_empty() && key != ".").then_some(key),
                message: inner.message().trim().to_string(),
            }
        })?;
        config
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid {
                path: path.to_owned(),
                line: find_key_line(text, &key),
                column: None,
                key: Some(key),
                message,
            })?;
        Ok(config)
    }

    /// Checks serde cannot express; returns (dotted key, message).
    fn validate(&self) -> Result<(), (String, String)> {
        fn numeric(key: &str, value: &str) -> Result<(), (String, String)> {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err((
                    key.into(),
                    format!("must be a number written as a string (e.g. \"123\"), not {value:?}"),
                ));
            }
            Ok(())
        }
        numeric("scc.organization", &self.scc.organization)?;
        numeric("scc.source", &self.scc.source)?;
        numeric("project.number", &self.project.number)?;
        if self.resource.name.trim().is_empty() {
            return Err(("resource.name".into(), "must not be empty".into()));
        }
        if let Err(message) = self.host.resolved_name() {
            return Err(("host.name".into(), message));
        }
        if self.host.proc.as_os_str().is_empty() {
            return Err(("host.proc".into(), "must not be empty".into()));
        }
        if self.limits.contents_bytes == 0 {
            return Err(("limits.contents_bytes".into(), "must be at least 1".into()));
        }
        if let Err(why) = crate::capture::check_ring_buffer_bytes(self.limits.ring_buffer_bytes) {
            return Err(("limits.ring_buffer_bytes".into(), why));
        }
        if self.scheduling.realtime_priority > crate::priority::MAX_REALTIME_PRIORITY {
            return Err((
                "scheduling.realtime_priority".into(),
                format!(
                    "must be 0 (normal scheduling) to {} (SCHED_FIFO priority)",
                    crate::priority::MAX_REALTIME_PRIORITY
                ),
            ));
        }
        if let Some(file) = &self.sinks.file {
            if file.path.as_os_str().is_empty() {
                return Err(("sinks.file.path".into(), "must not be empty".into()));
            }
            if file.max_bytes > 0 && file.max_files == 0 {
                return Err((
                    "sinks.file.max_files".into(),
                    "must be at least 1 when max_bytes rotates the file".into(),
                ));
            }
        }
        if let Some(hook) = &self.sinks.webhook {
            match reqwest::Url::parse(&hook.url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => {}
                Ok(url) => {
                    return Err((
                        "sinks.webhook.url".into(),
                        format!(
                            "must be an http:// or https:// URL, not {}://",
                            url.scheme()
                        ),
                    ))
                }
                Err(err) => {
                    return Err((
                        "sinks.webhook.url".into(),
                        format!("not a URL ({err}): {:?}", hook.url),
                    ))
                }
            }
            if !(hook.timeout_secs.is_finite() && hook.timeout_secs > 0.0) {
                return Err((
                    "sinks.webhook.timeout_secs".into(),
                    "must be a positive number of seconds".into(),
                ));
            }
            if !(hook.drain_timeout_secs.is_finite() && hook.drain_timeout_secs >= 0.0) {
                return Err((
                    "sinks.webhook.drain_timeout_secs".into(),
                    "must be zero or a positive number of seconds".into(),
                ));
            }
            if hook.retry_initial_ms == 0 || hook.retry_max_ms < hook.retry_initial_ms {
                return Err((
                    "sinks.webhook.retry_max_ms".into(),
                    "retry_initial_ms must be at least 1 and retry_max_ms at least retry_initial_ms"
                        .into(),
                ));
            }
            if hook.spool_dir.as_os_str().is_empty() {
                return Err(("sinks.webhook.spool_dir".into(), "must not be empty".into()));
            }
            for name in hook.headers.keys() {
                if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err((
                        format!("sinks.webhook.headers.{name}"),
                        "not a valid HTTP header name".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `--output FILE`: findings go to FILE (appended, never rotated) instead
    /// of stdout; a configured webhook still gets them.
    pub fn redirect_output(&mut self, path: impl Into<PathBuf>) {
        self.sinks.stdout = false;
        self.sinks.file = Some(FileSinkConfig {
            path: path.into(),
            max_bytes: 0,
            max_files: 0,
        });
    }

    /// `scc.notification_config_name` or its default.
    pub fn notification_config_name(&self) -> String {
        self.scc
            .notification_config_name
            .clone()
            .unwrap_or_else(|| {
                format!(
                    "organizations/{}/notificationConfigs/runtime-script-sensor",
                    self.scc.organization
                )
            })
    }

    /// `organizations/{org}/sources/{source}`: the findings' `parent`.
    pub fn source_name(&self) -> String {
        format!(
            "organizations/{}/sources/{}",
            self.scc.organization, self.scc.source
        )
    }

    /// Fill `{hostname}`, `{project_id}` and `{project_number}` in a configured value.
    pub fn expand(&self, template: &str, hostname: &str) -> String {
        template
            .replace("{hostname}", hostname)
            .replace("{project_id}", &self.project.id)
            .replace("{project_number}", &self.project.number)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Best effort: the line of `a.b.c` (a `c = ...` line under `[a.b]`).
fn find_key_line(text: &str, dotted: &str) -> Option<usize> {
    let (table, key) = dotted.rsplit_once('.').unwrap_or(("", dotted));
    let mut current = String::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string();
            continue;
        }
        if let Some((k, _)) = line.split_once('=') {
            let k = k.trim().trim_matches('"');
            let full = if current.is_empty() {
                k.to_string()
            } else {
                format!("{current}.{k}")
            };
            if full == dotted || (current == table && k == key) {
                return Some(idx + 1);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("sensor.toml"))
    }

    #[test]
    fn empty_file_is_all_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        assert!(config.sinks.stdout);
        assert_eq!(config.limits.contents_bytes, 65536);
        assert_eq!(config.limits.hash_bytes, 16 << 20);
        assert_eq!(config.source_name(), "organizations/0/sources/0");
    }

    #[test]
    fn example_config_parses_and_sets_every_section() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/sensor.example.toml");
        let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.scc.organization, "123456789012");
        assert_eq!(
            config.resource.cloud_provider,
            Some(CloudProviderName::GoogleCloudPlatform)
        );
        let file = config.sinks.file.as_ref().expect("file sink");
        assert_eq!(file.max_files, 5);
        let hook = config.sinks.webhook.as_ref().expect("webhook sink");
        assert_eq!(hook.retry_initial_ms, 500);
        assert!(hook.headers.contains_key("Authorization"));
        assert_eq!(config.host.proc, Path::new("/proc"));
    }

    #[test]
    fn host_section_moves_the_host_paths_and_name() {
        // SAFETY (set_var): this is the only test reading this variable.
        unsafe { std::env::set_var("SENSOR_TEST_NODE_NAME", "node-7") };
        let config = parse(
            "[host]\nname = \"k8s-${SENSOR_TEST_NODE_NAME}\"\nproc = \"/host/proc\"\n\
             containers_storage = \"/host/var/lib/containers/storage\"\n",
        )
        .unwrap();
        assert_eq!(
            config.host.resolved_name().unwrap().as_deref(),
            Some("k8s-node-7")
        );
        let roots = config.host.metadata_roots();
        assert_eq!(
            roots.containers_storage,
            Path::new("/host/var/lib/containers/storage")
        );
        assert_eq!(roots.docker, Path::new("/var/lib/docker"));
        assert_eq!(Config::default().host.resolved_name().unwrap(), None);
    }

    #[test]
    fn unset_host_name_variable_is_named() {
        let err = parse("[host]\nname = \"${SENSOR_TEST_SURELY_UNSET}\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("host.name"), "{err}");
        assert!(err.contains("SENSOR_TEST_SURELY_UNSET"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("[sinks]\nstdout = true\n\n[sinks.webhook]\nurl = \"http://127.0.0.1:1/\"\nretries = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sensor.toml"), "{err}");
        assert!(err.contains("line 6"), "{err}");
        assert!(err.contains("retries"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = parse("[limits]\ncontents_bytes = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("limits.contents_bytes"), "{err}");
    }

    #[test]
    fn ring_buffer_size_must_be_a_power_of_two_in_range() {
        for bad in ["100000", "32768", "0"] {
            let err = parse(&format!("[limits]\nring_buffer_bytes = {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("limits.ring_buffer_bytes"), "{err}");
            assert!(err.contains("power of two"), "{err}");
        }
        let ok = parse("[limits]\nring_buffer_bytes = 65536\n").unwrap();
        assert_eq!(ok.limits.ring_buffer_bytes, 65536);
    }

    #[test]
    fn realtime_priority_is_0_to_99() {
        assert_eq!(parse("").unwrap().scheduling.realtime_priority, 1);
        let off = parse("[scheduling]\nrealtime_priority = 0\n").unwrap();
        assert_eq!(off.scheduling.realtime_priority, 0);
        let err = parse("[scheduling]\nrealtime_priority = 100\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("scheduling.realtime_priority"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("0 (normal scheduling) to 99"), "{err}");
    }

    #[test]
    fn syntax_error_names_the_line() {
        let err = parse("[scc]\norganization = \n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn semantic_errors_name_key_and_line() {
        let err = parse("[sinks.webhook]\nspool_dir = \"/tmp/x\"\nurl = \"ftp://example.com/\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sinks.webhook.url"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        let err = parse("[scc]\norganization = \"acme\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("scc.organization") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn missing_required_key_is_named() {
        let err = parse("[sinks.file]\nmax_files = 2\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("path"), "{err}");
    }

    #[test]
    fn missing_file_is_named() {
        let err = Config::load("/nonexistent/sensor.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/sensor.toml"), "{err}");
    }

    #[test]
    fn templates_expand() {
        let config = parse("[project]\nid = \"p1\"\nnumber = \"42\"\n").unwrap();
        assert_eq!(
            config.expand(&config.resource.name, "node-1"),
            "//runtime-script-sensor/hosts/node-1"
        );
        assert_eq!(config.expand("{project_id}/{project_number}", "h"), "p1/42");
    }

    #[test]
    fn redirect_output_replaces_stdout() {
        let mut config = Config::default();
        config.redirect_output("/tmp/f.jsonl");
        assert!(!config.sinks.stdout);
        assert_eq!(config.sinks.file.unwrap().max_bytes, 0);
    }
}
