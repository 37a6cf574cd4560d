//! Detection -> SCC finding: one `NotificationMessage` (see
//! `shared/docs/scc-finding.md`) per category that applies to an exec.
//!
//! API for the pipeline:
//! - [`build`]: the model's finding for a detection ("Malicious Script
//!   Executed" / "Execution: Malicious Python executed"); call it for
//!   detections whose verdict is malicious.
//! - [`build_all`]: call it for *every* scored exec; it returns the model's
//!   finding when the verdict is malicious plus every sibling category whose
//!   evidence is present (reverse shell, base64, fileless, ...; see
//!   [`rules`]), each with its own id. Empty for a benign exec.
//! - [`SccFindings`]: the same, as the pipeline's `FindingBuilder`.
//!
//! Everything in a finding comes from the `Detection` and the `Config`, so
//! replaying a trace reproduces the live findings byte for byte. Ids are the
//! first 128 bits of a sha256 over host, boot-time exec timestamp, pid, mount
//! namespace, cgroup and category.

pub mod indicator;
pub mod rules;
pub mod scc;

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use regex::Regex;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::detection::{ContentOrigin, Detection, FileInfo, ProcessInfo};
use crate::event::{RawString, Script};
use crate::pipeline::{scored_text, Language};
use crate::sink::Line;
pub use rules::Hit;
pub use scc::NotificationMessage;
use scc::{
    Container, File, Finding, FindingClass, Indicator, Kubernetes, Label, Node, Pod, Process,
    Resource, State,
};

/// What the rules and the builder derive once from a detection. The costly
/// parts (the indicator scan, the downloader search) are derived on first
/// use: most execs meet no rule, and the rules stop at cheaper facts.
pub struct Facts<'a> {
    pub detection: &'a Detection,
    pub language: Language,
    /// The text that was scored (script contents or `-c` literal).
    pub text: &'a str,
    /// argv, invalid UTF-8 escaped.
    args: Vec<String>,
    /// argv joined with spaces (invalid UTF-8 escaped).
    pub args_text: String,
    indicator: OnceCell<Indicator>,
    downloads: OnceCell<bool>,
    /// Interpreter, exec'd file and script paths, absolute where known.
    pub paths: Vec<String>,
}

static DOWNLOADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:curl|wget|fetch|aria2c|tftp|ftpget|lwp-download|urlopen|urlretrieve|urllib\.request|requests\.(?:get|post)|httpx\.(?:get|stream)|http\.client|invoke-webrequest)\b|/dev/tcp/",
    )
    .expect("downloader regex")
});

impl<'a> Facts<'a> {
    pub fn new(detection: &'a Detection) -> Self {
        let event = &detection.event;
        let enrichment = &detection.enrichment;
        let args: Vec<String> = event.argv.iter().map(|a| escape(a.as_bytes())).collect();
        let args_text = args.join(" ");
        let mut paths = vec![
            escape(event.binary.as_bytes()),
            escape(event.filename.as_bytes()),
        ];
        if let Some(path) = enrichment.binary.as_ref().and_then(|b| b.path.as_ref()) {
            paths.push(escape(path.as_bytes()));
        }
        if let Some(path) = script_path(detection) {
            paths.push(path);
        }
        paths.retain(|p| !p.is_empty());
        paths.dedup();
        Self {
            detection,
            language: Language::of(event),
            text: scored_text(enrichment),
            args,
            args_text,
            indicator: OnceCell::new(),
            downloads: OnceCell::new(),
            paths,
        }
    }

    /// URLs, domains, IPs, ... named by the text, the arguments and the
    /// stdin feeder's arguments.
    pub fn indicator(&self) -> &Indicator {
        self.indicator.get_or_init(|| {
            let mut x = indicator::Extractor::new();
            x.scan(self.text);
            // A `-c` literal is the text as well: scanning it again finds nothing new.
            for arg in self.args.iter().filter(|arg| *arg != self.text) {
                x.scan(arg);
            }
            if let Some(feeder) = &self.detection.enrichment.stdin_feeder {
                for arg in &feeder.args {
                    x.scan(&escape(arg.as_bytes()));
                }
            }
            x.finish()
        })
    }

    /// The script or its arguments fetch something (curl, wget, urllib, ...).
    pub fn downloads(&self) -> bool {
        *self.downloads.get_or_init(|| {
            DOWNLOADER.is_match(self.text)
                || DOWNLOADER.is_match(&self.args_text)
                || self
                    .detection
                    .enrichment
                    .stdin_feeder
                    .as_ref()
                    .is_some_and(|f| {
                        matches!(
                            f.comm.as_str(),
                            "curl" | "wget" | "fetch" | "aria2c" | "tftp"
                        )
                    })
        })
    }
}

/// The model's finding for `detection` (CRITICAL when the verdict is malicious).
pub fn build(detection: &Detection, config: &Config) -> NotificationMessage {
    let facts = Facts::new(detection);
    message(&facts, &rules::verdict_hit(&facts), config)
}

/// Every finding `detection` warrants: the model's when malicious, then each
/// sibling category whose evidence is present, minus `disabled_categories`.
pub fn build_all(detection: &Detection, config: &Config) -> Vec<NotificationMessage> {
    let facts = Facts::new(detection);
    hits(&facts, config)
        .iter()
        .map(|hit| message(&facts, hit, config))
        .collect()
}

/// The categories that apply: the model's when malicious, then siblings,
/// minus `disabled_categories`.
fn hits(facts: &Facts, config: &Config) -> Vec<Hit> {
    let mut hits = Vec::new();
    if facts.detection.verdict.malicious {
        hits.push(rules::verdict_hit(facts));
    }
    hits.extend(rules::sibling_hits(facts, config));
    hits.retain(|h| {
        !config
            .finding
            .disabled_categories
            .iter()
            .any(|c| c == h.category)
    });
    hits
}

/// Whether [`build_all`] would return anything for `detection`, without
/// building a message. The rules read the event, the scored text, the stdin
/// feeder and the direct parent's comm, never the container or the rest of
/// the ancestry: the pipeline asks this before enriching an exec whose text
/// is already judged (see `pipeline::EventInput`).
pub fn finds_anything(detection: &Detection, config: &Config) -> bool {
    !hits(&Facts::new(detection), config).is_empty()
}

/// The pipeline's `FindingBuilder`: `build` is [`build`], `build_all` is
/// [`build_all`] (call it for every scored exec, not only malicious ones:
/// a reverse shell may score low).
#[derive(Clone)]
pub struct SccFindings {
    config: Arc<Config>,
}

impl SccFindings {
    pub fn new(config: Arc<Config>) -> Self {
        Self { config }
    }
}

impl crate::pipeline::FindingBuilder for SccFindings {
    fn build(&self, detection: &Detection) -> anyhow::Result<Line> {
        Line::of(&build(detection, &self.config))
    }

    fn build_all(&self, detection: &Detection) -> anyhow::Result<Vec<Line>> {
        build_all(detection, &self.config)
            .iter()
            .map(Line::of)
            .collect()
    }

    fn finds_anything(&self, detection: &Detection) -> bool {
        finds_anything(detection, &self.config)
    }
}

/// 32 lowercase hex chars, the same for the same exec and category on every
/// replay.
pub fn finding_id(detection: &Detection, category: &str) -> String {
    let e = &detection.event;
    let mut h = Sha256::new();
    h.update(b"runtime-script-sensor/finding/v1\0");
    h.update(detection.enrichment.hostname.as_bytes());
    h.update(b"\0");
    h.update(e.ktime_ns.to_le_bytes());
    h.update(e.pid.to_le_bytes());
    h.update(e.mnt_ns.to_le_bytes());
    h.update(e.cgroup_id.to_le_bytes());
    h.update(category.as_bytes());
    hex::encode(&h.finalize()[..16])
}

fn message(facts: &Facts, hit: &Hit, config: &Config) -> NotificationMessage {
    let d = facts.detection;
    let host = d.enrichment.hostname.as_str();
    let id = finding_id(d, hit.category);
    let parent = config.source_name();
    let resource = resource(config, host);
    let script_sha = d
        .enrichment
        .script
        .as_ref()
        .map(|s| s.sha256.as_str())
        .filter(|s| !s.is_empty());
    let mut mitre = hit.mitre.clone();
    mitre.version = config.finding.mitre_version.clone();
    let containers: Vec<Container> = d.enrichment.container.iter().map(container).collect();
    let finding = Finding {
        name: format!("{parent}/findings/{id}"),
        canonical_name: format!(
            "projects/{}/sources/{}/findings/{id}",
            config.project.number, config.scc.source
        ),
        parent,
        resource_name: resource.name.clone(),
        state: Some(State::Active),
        category: hit.category.to_string(),
        external_uri: script_sha
            .map(|sha| format!("https://www.virustotal.com/gui/file/{sha}"))
            .unwrap_or_default(),
        source_properties: source_properties(facts, hit),
        event_time: rfc3339_utc(&d.event.time),
        create_time: rfc3339_utc(&d.create_time),
        severity: Some(hit.severity),
        finding_class: Some(FindingClass::Threat),
        indicator: (!facts.indicator().is_empty()).then(|| facts.indicator().clone()),
        mitre_attack: Some(mitre),
        processes: processes(facts, config),
        description: describe(facts, hit),
        next_steps: NEXT_STEPS.to_string(),
        kubernetes: kubernetes(d, &containers),
        containers,
    };
    NotificationMessage {
        notification_config_name: config.notification_config_name(),
        finding,
        resource,
    }
}

const NEXT_STEPS: &str = "Review the script contents in processes[0].script and its VirusTotal \
report (externalUri); check the process ancestry in processes and what fed the interpreter \
(sourceProperties.script_source); look for other findings from the same container \
(sourceProperties.container_id) or process lineage (sourceProperties.process_lineage) around \
eventTime; if the script is not expected, isolate the workload and rotate credentials it could reach.";

fn resource(config: &Config, host: &str) -> Resource {
    let r = &config.resource;
    let project = format!(
        "//cloudresourcemanager.googleapis.com/projects/{}",
        config.project.number
    );
    Resource {
        name: config.expand(&r.name, host),
        display_name: config.expand(&r.display_name, host),
        kind: r.kind.clone(),
        parent: r
            .parent
            .as_deref()
            .map(|p| config.expand(p, host))
            .unwrap_or_else(|| project.clone()),
        parent_display_name: r
            .parent_display_name
            .as_deref()
            .map(|p| config.expand(p, host))
            .unwrap_or_else(|| config.project.display_name.clone()),
        project,
        project_display_name: config.project.display_name.clone(),
        cloud_provider: r.cloud_provider,
        location: r
            .location
            .as_deref()
            .map(|l| config.expand(l, host))
            .unwrap_or_default(),
    }
}

fn processes(facts: &Facts, config: &Config) -> Vec<Process> {
    let d = facts.detection;
    let e = &d.event;
    let limits = &config.limits;
    let (args, cut) = limited_args(&e.argv, config);
    let binary = match &d.enrichment.binary {
        Some(info) => file(info, None),
        None => File {
            path: escape(e.binary.as_bytes()),
            ..Default::default()
        },
    };
    let mut script = match &d.enrichment.script {
        Some(info) => file(info, Some(limits.contents_bytes)),
        None => File::default(),
    };
    if script.path.is_empty() && !matches!(e.script, Script::Inline { .. }) {
        script.path = script_path(d).unwrap_or_default();
    }
    if script.contents.is_empty() {
        if let Some(text) = d.enrichment.script_text.as_deref() {
            script.contents = truncate(text, limits.contents_bytes).to_string();
        }
    }
    let mut list = vec![Process {
        name: e.comm.clone(),
        binary: Some(binary),
        script: (script != File::default()).then_some(script),
        args,
        arguments_truncated: e.argv_truncated || cut,
        pid: Some(e.pid.into()),
        parent_pid: Some(e.ppid.into()),
    }];
    for p in &d.enrichment.ancestors {
        list.push(related_process(p, config));
    }
    if let Some(feeder) = &d.enrichment.stdin_feeder {
        list.push(related_process(feeder, config));
    }
    list
}

fn related_process(p: &ProcessInfo, config: &Config) -> Process {
    let (args, cut) = limited_args(&p.args, config);
    Process {
        name: p.comm.clone(),
        binary: p.binary.as_ref().map(|b| File {
            path: escape(b.as_bytes()),
            ..Default::default()
        }),
        script: None,
        args,
        arguments_truncated: cut,
        pid: Some(p.pid.into()),
        parent_pid: Some(p.ppid.into()),
    }
}

/// argv within the configured limits; true when something was cut.
fn limited_args(argv: &[RawString], config: &Config) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for arg in argv {
        if out.len() == config.limits.argv_max_args {
            return (out, true);
        }
        let text = escape(arg.as_bytes());
        if bytes + text.len() > config.limits.argv_max_bytes {
            let room = config.limits.argv_max_bytes.saturating_sub(bytes);
            if room > 0 {
                out.push(truncate(&text, room).to_string());
            }
            return (out, true);
        }
        bytes += text.len();
        out.push(text);
    }
    (out, false)
}

fn file(info: &FileInfo, contents_limit: Option<usize>) -> File {
    File {
        path: info
            .path
            .as_ref()
            .map(|p| escape(p.as_bytes()))
            .unwrap_or_default(),
        size: Some(info.size.into()),
        sha256: info.sha256.clone(),
        hashed_size: Some(info.hashed_size.into()),
        partially_hashed: info.partially_hashed(),
        contents: match (contents_limit, &info.contents) {
            (Some(limit), Some(text)) => truncate(text, limit).to_string(),
            _ => String::new(),
        },
    }
}

fn container(c: &crate::detection::ContainerInfo) -> Container {
    Container {
        name: c
            .name
            .clone()
            .unwrap_or_else(|| c.id.chars().take(12).collect()),
        uri: c.image.clone().unwrap_or_default(),
        image_id: c.image_id.clone().unwrap_or_default(),
        labels: c
            .labels
            .iter()
            .map(|(name, value)| Label {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        create_time: c.created.as_deref().map(rfc3339_utc).unwrap_or_default(),
    }
}

fn kubernetes(d: &Detection, containers: &[Container]) -> Option<Kubernetes> {
    let c = d.enrichment.container.as_ref()?;
    let name = c.pod_name.clone()?;
    Some(Kubernetes {
        pods: vec![Pod {
            ns: c.pod_namespace.clone().unwrap_or_default(),
            name,
            labels: Vec::new(),
            containers: containers.to_vec(),
        }],
        nodes: vec![Node {
            name: d.enrichment.hostname.clone(),
        }],
    })
}

/// The script's absolute path as the process saw it, when it has one.
fn script_path(d: &Detection) -> Option<String> {
    if let Some(path) = d.enrichment.script.as_ref().and_then(|s| s.path.as_ref()) {
        return Some(escape(path.as_bytes()));
    }
    let raw = match &d.event.script {
        Script::File { path } | Script::Fd { path } => path,
        _ => return None,
    };
    let mut bytes = Vec::new();
    if !raw.as_bytes().starts_with(b"/") && !d.event.cwd.is_empty() {
        bytes.extend_from_slice(d.event.cwd.as_bytes());
        if !bytes.ends_with(b"/") {
            bytes.push(b'/');
        }
    }
    bytes.extend_from_slice(raw.as_bytes());
    Some(escape(&bytes))
}

/// How the script reached the interpreter, for humans.
fn script_source(d: &Detection) -> (&'static str, String) {
    match &d.event.script {
        Script::File { .. } => (
            "file",
            format!("script {}", script_path(d).unwrap_or_default()),
        ),
        Script::Inline { .. } => ("inline", "inline code (-c)".into()),
        Script::Module { module } => ("module", format!("module {module}")),
        Script::Fd { path } => (
            "fd",
            format!("code from file descriptor {}", escape(path.as_bytes())),
        ),
        Script::Stdin { stdin } => {
            let kind = serde_json::to_value(stdin.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let mut text = format!("code read from stdin ({kind})");
            if let Some(f) = &d.enrichment.stdin_feeder {
                let args = f
                    .args
                    .iter()
                    .map(|a| escape(a.as_bytes()))
                    .collect::<Vec<_>>();
                let shown = if args.is_empty() {
                    f.comm.clone()
                } else {
                    args.join(" ")
                };
                let _ = write!(text, " fed by `{}` (pid {})", clip(&shown, 160), f.pid);
            }
            ("stdin", text)
        }
    }
}

fn describe(facts: &Facts, hit: &Hit) -> String {
    let d = facts.detection;
    let binary = escape(d.event.binary.as_bytes());
    let interp = binary.rsplit('/').next().unwrap_or(&binary).to_string();
    let (_, source) = script_source(d);
    let place = match &d.enrichment.container {
        Some(c) => {
            let name = c
                .name
                .clone()
                .unwrap_or_else(|| c.id.chars().take(12).collect());
            match &c.image {
                Some(image) => format!(
                    "container {name} (image {image}) on host {}",
                    d.enrichment.hostname
                ),
                None => format!("container {name} on host {}", d.enrichment.hostname),
            }
        }
        None => format!("host {}", d.enrichment.hostname),
    };
    let v = &d.verdict;
    let why = if hit.category == rules::MALICIOUS_SCRIPT || hit.category == rules::MALICIOUS_PYTHON
    {
        format!(
            "scored {:.2} by model {} (threshold {:.2}): {}",
            v.score, v.model_version, v.threshold, hit.reason
        )
    } else {
        format!("flagged because {}", hit.reason)
    };
    format!(
        "{interp} ran {source} as pid {} in {place} and was {why}.",
        d.event.pid
    )
}

fn source_properties(facts: &Facts, hit: &Hit) -> BTreeMap<String, Value> {
    let d = facts.detection;
    let e = &d.event;
    let v = &d.verdict;
    let mut p = Props::default();
    p.set("model_score", json!(round6(v.score)));
    p.set("model_threshold", json!(round6(v.threshold)));
    p.set("model_version", json!(v.model_version));
    if !v.evidence.is_empty() {
        p.set("model_evidence", json!(v.evidence));
    }
    p.set("detection_reason", json!(hit.reason));
    p.set("detection_latency_us", json!(d.detection_latency_us));
    p.set("cgroup_id", json!(e.cgroup_id.to_string()));
    p.set("VM_Instance_Name", json!(d.enrichment.hostname));
    let (kind, how) = script_source(d);
    p.set("script_source", json!(kind));
    p.set("script_delivery", json!(how));
    p.set(
        "content_origin",
        json!(match d.enrichment.content_origin {
            ContentOrigin::KernelCapture => "kernel_capture",
            ContentOrigin::StdinPeek => "stdin_peek",
            ContentOrigin::FileRead => "file_read",
            ContentOrigin::Inline => "inline",
            ContentOrigin::Missing => "missing",
        }),
    );
    if let Some(reason) = &d.enrichment.missing_reason {
        p.set("content_missing_reason", json!(reason));
    }
    if let Script::Stdin { stdin } = &e.script {
        if let Some(path) = &stdin.path {
            p.set("stdin_path", json!(escape(path.as_bytes())));
        }
        if let Some(inode) = stdin.inode {
            p.set("stdin_inode", json!(inode.to_string()));
        }
    }
    if let Some(f) = &d.enrichment.stdin_feeder {
        p.set("stdin_feeder_pid", json!(f.pid.to_string()));
        p.set("stdin_feeder_name", json!(f.comm));
        if let Some(b) = &f.binary {
            p.set("stdin_feeder_binary", json!(escape(b.as_bytes())));
        }
    }
    if let Script::Module { module } = &e.script {
        p.set("python_module", json!(module));
    }
    match &d.enrichment.container {
        Some(c) => {
            p.set("runtime", json!(c.runtime));
            p.set("container_id", json!(c.id));
        }
        None => p.set("runtime", json!("host")),
    }
    let mut lineage = vec![e.pid.to_string()];
    lineage.extend(d.enrichment.ancestors.iter().map(|a| a.pid.to_string()));
    p.set("process_lineage", json!(lineage.join(",")));
    p.set("uid", json!(e.uid));
    p.set("gid", json!(e.gid));
    p.set("mnt_ns", json!(e.mnt_ns.to_string()));
    p.set("pid_ns", json!(e.pid_ns.to_string()));
    p.set("cwd", json!(escape(e.cwd.as_bytes())));
    p.set("sensor_version", json!(env!("CARGO_PKG_VERSION")));
    p.0
}

/// sourceProperties, refusing keys SCC would reject and empty strings.
#[derive(Default)]
struct Props(BTreeMap<String, Value>);

impl Props {
    fn set(&mut self, key: &str, value: Value) {
        debug_assert!(valid_property_key(key), "bad sourceProperties key {key}");
        if value.is_null() || value.as_str() == Some("") {
            return;
        }
        self.0.insert(key.to_string(), value);
    }
}

/// Letters, digits and `_`, starting with a letter.
pub fn valid_property_key(key: &str) -> bool {
    key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// f32 scores as short decimals (0.9, not 0.9000000357627869).
fn round6(x: f32) -> f64 {
    format!("{x:.6}").parse::<f64>().unwrap_or(0.0)
}

/// Bytes as text: valid UTF-8 unchanged, each invalid byte as `\xNN`
/// (never dropped, never merged into one U+FFFD).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// At most `limit` bytes, cut on a char boundary.
fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}

/// RFC 3339 in UTC with a `Z`; an unparsable input is passed through.
pub fn rfc3339_utc(text: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(text, &Rfc3339) {
        Ok(t) => t
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
