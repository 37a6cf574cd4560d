//! Finding categories: the model's verdict ("Malicious Script Executed",
//! "Execution: Malicious Python executed") and the sibling detections SCC
//! raises from the same evidence. Each rule looks at one exec and says
//! whether its category applies and why; every hit becomes its own finding.
//!
//! | category | fires when | severity |
//! |---|---|---|
//! | `Malicious Script Executed` / `Execution: Malicious Python executed` | model score >= threshold (shell / Python) | CRITICAL; below the threshold (only if asked for): HIGH >= 0.75 t, MEDIUM >= 0.5 t, else LOW |
//! | `Reverse Shell` | stdin is a socket, or inline code wires the shell's streams to `/dev/tcp` or a Python socket | CRITICAL |
//! | `Defense Evasion: Base64 Encoded Shell Script Executed` / `... Python Script Executed` | the arguments hold a base64 blob (>= 40 chars, decodes to text) and a decoder (`base64 -d`, `b64decode`, `openssl base64 -d`) | HIGH |
//! | `Command and Control: Piped Encoded Download` | `curl`/`wget` piped into a base64 decoder, in the arguments or the script | HIGH |
//! | `Piped Encoded Code Execution Detected` | a base64 decoder piped into a shell or Python, or a base64 decoder feeding the interpreter's stdin | HIGH |
//! | `Execution: Fileless Execution in /memfd:` | the interpreter or its script is a memfd | HIGH |
//! | `Privilege Escalation: Fileless Execution in /dev/shm` | the interpreter or its script lives in /dev/shm | HIGH |
//! | `Malicious URL Observed` | a URL, domain or IP in the script or arguments matches `finding.url_blocklist` | HIGH |
//! | `Unexpected Child Shell` | a shell whose parent (comm) is in `finding.unexpected_shell_parents` | MEDIUM |

use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;

use super::scc::{Indicator, MitreAttack, Severity, Tactic, Technique};
use super::Facts;
use crate::config::Config;
use crate::event::{Script, StdinKind};
use crate::pipeline::Language;

pub const MALICIOUS_SCRIPT: &str = "Malicious Script Executed";
pub const MALICIOUS_PYTHON: &str = "Execution: Malicious Python executed";
pub const REVERSE_SHELL: &str = "Reverse Shell";
pub const BASE64_SHELL: &str = "Defense Evasion: Base64 Encoded Shell Script Executed";
pub const BASE64_PYTHON: &str = "Defense Evasion: Base64 Encoded Python Script Executed";
pub const PIPED_ENCODED_DOWNLOAD: &str = "Command and Control: Piped Encoded Download";
pub const PIPED_ENCODED_EXECUTION: &str = "Piped Encoded Code Execution Detected";
pub const FILELESS_MEMFD: &str = "Execution: Fileless Execution in /memfd:";
pub const FILELESS_DEV_SHM: &str = "Privilege Escalation: Fileless Execution in /dev/shm";
pub const MALICIOUS_URL: &str = "Malicious URL Observed";
pub const UNEXPECTED_CHILD_SHELL: &str = "Unexpected Child Shell";

/// Every category this sensor can emit.
pub const ALL_CATEGORIES: &[&str] = &[
    MALICIOUS_SCRIPT,
    MALICIOUS_PYTHON,
    REVERSE_SHELL,
    BASE64_SHELL,
    BASE64_PYTHON,
    PIPED_ENCODED_DOWNLOAD,
    PIPED_ENCODED_EXECUTION,
    FILELESS_MEMFD,
    FILELESS_DEV_SHM,
    MALICIOUS_URL,
    UNEXPECTED_CHILD_SHELL,
];

/// One category that applies to an exec.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub category: &'static str,
    pub severity: Severity,
    /// Without `version` (the builder adds the configured one).
    pub mitre: MitreAttack,
    /// Why, in a few words an analyst can check ("stdin is a socket").
    pub reason: String,
}

/// The model's category for this language.
pub fn verdict_hit(facts: &Facts) -> Hit {
    let v = &facts.detection.verdict;
    let severity = if v.malicious || v.score >= v.threshold {
        Severity::Critical
    } else if v.score >= 0.75 * v.threshold {
        Severity::High
    } else if v.score >= 0.5 * v.threshold {
        Severity::Medium
    } else {
        Severity::Low
    };
    let mut mitre = execution(facts.language);
    if facts.downloads() {
        mitre.additional_tactics.push(Tactic::CommandAndControl);
        mitre
            .additional_techniques
            .push(Technique::IngressToolTransfer);
    }
    let reason = if v.evidence.is_empty() {
        format!("classifier score {:.2}", v.score)
    } else {
        v.evidence
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    };
    Hit {
        category: match facts.language {
            Language::Shell => MALICIOUS_SCRIPT,
            Language::Python => MALICIOUS_PYTHON,
        },
        severity,
        mitre,
        reason,
    }
}

/// The sibling categories that apply, in `ALL_CATEGORIES` order.
pub fn sibling_hits(facts: &Facts, config: &Config) -> Vec<Hit> {
    let rules: [fn(&Facts, &Config) -> Option<Hit>; 8] = [
        reverse_shell,
        base64_encoded,
        piped_encoded_download,
        piped_encoded_execution,
        fileless_memfd,
        fileless_dev_shm,
        malicious_url,
        unexpected_child_shell,
    ];
    rules
        .iter()
        .filter_map(|rule| rule(facts, config))
        .collect()
}

/// EXECUTION with the interpreter's techniques.
fn execution(language: Language) -> MitreAttack {
    MitreAttack {
        primary_tactic: Some(Tactic::Execution),
        primary_techniques: interpreter_techniques(language),
        ..Default::default()
    }
}

fn interpreter_techniques(language: Language) -> Vec<Technique> {
    let sub = match language {
        Language::Shell => Technique::UnixShell,
        Language::Python => Technique::Python,
    };
    vec![sub, Technique::CommandAndScriptingInterpreter]
}

static DEV_TCP_REDIRECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[<>]&?|&>)\s*/dev/(?:tcp|udp)/[^/\s]+/\d+|/dev/(?:tcp|udp)/[^/\s]+/\d+\s*(?:0?<&1|0?>&1|<&|>&)")
        .expect("dev tcp regex")
});

static PY_SOCKET_DUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"socket\b[\s\S]*\.connect\s*\([\s\S]*dup2\s*\(")
        .expect("python reverse shell regex")
});

fn reverse_shell(facts: &Facts, _config: &Config) -> Option<Hit> {
    let reason = match &facts.detection.event.script {
        Script::Stdin { stdin } if stdin.kind == StdinKind::Socket => {
            "the interpreter's stdin is a network socket".to_string()
        }
        // Each pattern's literal first: most inline code has none, and a
        // substring search costs a fraction of a regex call.
        Script::Inline { .. }
            if facts.args_text.contains("/dev/") && DEV_TCP_REDIRECT.is_match(&facts.args_text) =>
        {
            "inline code redirects the shell's streams to a /dev/tcp socket".to_string()
        }
        Script::Inline { .. }
            if facts.language == Language::Python
                && facts.args_text.contains("dup2")
                && PY_SOCKET_DUP.is_match(&facts.args_text) =>
        {
            "inline Python connects a socket and dup2()s it over the standard streams".to_string()
        }
        _ => return None,
    };
    let mut mitre = execution(facts.language);
    mitre.additional_tactics.push(Tactic::CommandAndControl);
    mitre
        .additional_techniques
        .push(Technique::ApplicationLayerProtocol);
    Some(Hit {
        category: REVERSE_SHELL,
        severity: Severity::Critical,
        mitre,
        reason,
    })
}

static BASE64_BLOB: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/]{40,}={0,2}").expect("base64 regex"));

static BASE64_DECODER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bbase64\s+(?:-\w+\s+)*(?:-d|--decode|-D)\b|b64decode|\bopenssl\s+(?:enc\s+)?-?base64\b[^|;\n]*-d\b|\bbase64\.b64decode|frombase64string|decodebytes")
        .expect("decoder regex")
});

fn base64_encoded(facts: &Facts, _config: &Config) -> Option<Hit> {
    if !BASE64_DECODER.is_match(&facts.args_text) {
        return None;
    }
    let decoded = BASE64_BLOB
        .find_iter(&facts.args_text)
        .find_map(|m| decode_text(m.as_str()))?;
    let preview: String = decoded.chars().take(80).collect();
    let mut mitre = MitreAttack {
        primary_tactic: Some(Tactic::DefenseEvasion),
        ..Default::default()
    };
    mitre.additional_tactics.push(Tactic::Execution);
    mitre.additional_techniques = interpreter_techniques(facts.language);
    Some(Hit {
        category: match facts.language {
            Language::Shell => BASE64_SHELL,
            Language::Python => BASE64_PYTHON,
        },
        severity: Severity::High,
        mitre,
        reason: format!("the arguments decode base64-encoded code ({preview:?})"),
    })
}

/// A base64 blob that decodes to mostly printable text (code, not a key or an image).
fn decode_text(blob: &str) -> Option<String> {
    let engine = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let bytes = engine.decode(blob).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (printable * 10 >= text.chars().count() * 9).then(|| text.to_string())
}

/// Both alternatives name `base64` (the rule searches for it first).
static DOWNLOAD_TO_DECODER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:curl|wget)\b[^|\n]*\|\s*(?:base64\s+(?:-\w+\s+)*(?:-d|--decode|-D)\b|openssl\s+(?:enc\s+)?-?base64\b)")
        .expect("piped download regex")
});

/// Both alternatives name `base64` (the rule searches for it first).
static DECODER_TO_INTERPRETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\bbase64\s+(?:-\w+\s+)*(?:-d|--decode|-D)\b|\bopenssl\s+(?:enc\s+)?-?base64\b[^|\n]*-d\b)[^|\n]*\|\s*(?:sudo\s+)?(?:\S*/)?(?:bash|sh|dash|zsh|ksh|ash|busybox\s+sh|python[0-9.]*)\b")
        .expect("piped execution regex")
});

fn encoded_mitre(facts: &Facts) -> MitreAttack {
    let mut mitre = execution(facts.language);
    mitre.additional_tactics = vec![Tactic::DefenseEvasion, Tactic::CommandAndControl];
    mitre.additional_techniques = vec![Technique::IngressToolTransfer];
    mitre
}

fn piped_encoded_download(facts: &Facts, _config: &Config) -> Option<Hit> {
    let text = [facts.args_text.as_str(), facts.text]
        .into_iter()
        .find(|t| t.contains("base64") && DOWNLOAD_TO_DECODER.is_match(t))?;
    let m = DOWNLOAD_TO_DECODER.find(text)?;
    let mut mitre = MitreAttack {
        primary_tactic: Some(Tactic::CommandAndControl),
        primary_techniques: vec![Technique::IngressToolTransfer],
        ..Default::default()
    };
    mitre.additional_tactics.push(Tactic::DefenseEvasion);
    Some(Hit {
        category: PIPED_ENCODED_DOWNLOAD,
        severity: Severity::High,
        mitre,
        reason: format!(
            "a download is piped into a base64 decoder ({:?})",
            clip(m.as_str())
        ),
    })
}

fn piped_encoded_execution(facts: &Facts, _config: &Config) -> Option<Hit> {
    let reason = if let Some(m) = [facts.args_text.as_str(), facts.text]
        .into_iter()
        .filter(|t| t.contains("base64"))
        .find_map(|t| DECODER_TO_INTERPRETER.find(t))
    {
        format!(
            "decoded base64 is piped into an interpreter ({:?})",
            clip(m.as_str())
        )
    } else {
        let feeder = facts.detection.enrichment.stdin_feeder.as_ref()?;
        let args = feeder
            .args
            .iter()
            .map(|a| a.to_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let decodes = feeder.comm == "base64" && BASE64_DECODER.is_match(&args)
            || feeder.comm == "openssl" && args.contains("base64");
        if !decodes {
            return None;
        }
        format!("the interpreter reads its code from a base64 decoder ({args:?})")
    };
    Some(Hit {
        category: PIPED_ENCODED_EXECUTION,
        severity: Severity::High,
        mitre: encoded_mitre(facts),
        reason,
    })
}

fn fileless_memfd(facts: &Facts, _config: &Config) -> Option<Hit> {
    let path = facts
        .paths
        .iter()
        .find(|p| p.starts_with("/memfd:") || p.contains("/memfd:"))?;
    let mut mitre = execution(facts.language);
    mitre.additional_tactics.push(Tactic::DefenseEvasion);
    Some(Hit {
        category: FILELESS_MEMFD,
        severity: Severity::High,
        mitre,
        reason: format!("code runs from an anonymous memory file ({path})"),
    })
}

fn fileless_dev_shm(facts: &Facts, _config: &Config) -> Option<Hit> {
    let path = facts.paths.iter().find(|p| p.starts_with("/dev/shm/"))?;
    let mut mitre = execution(facts.language);
    mitre.primary_tactic = Some(Tactic::PrivilegeEscalation);
    mitre.additional_tactics.push(Tactic::Execution);
    mitre.additional_tactics.push(Tactic::DefenseEvasion);
    Some(Hit {
        category: FILELESS_DEV_SHM,
        severity: Severity::High,
        mitre,
        reason: format!("code runs from shared memory ({path})"),
    })
}

fn malicious_url(facts: &Facts, config: &Config) -> Option<Hit> {
    if config.finding.url_blocklist.is_empty() {
        return None;
    }
    let matched = blocklisted(facts.indicator(), &config.finding.url_blocklist)?;
    let mut mitre = execution(facts.language);
    mitre.additional_tactics.push(Tactic::CommandAndControl);
    mitre
        .additional_techniques
        .push(Technique::IngressToolTransfer);
    Some(Hit {
        category: MALICIOUS_URL,
        severity: Severity::High,
        mitre,
        reason: format!("names {matched}, which is on the configured block list"),
    })
}

/// The first indicator that an entry of `blocklist` matches: URL prefixes
/// (entries with `://`), IP addresses, or domains and their subdomains.
pub fn blocklisted(indicator: &Indicator, blocklist: &[String]) -> Option<String> {
    for entry in blocklist {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let lower = entry.to_ascii_lowercase();
        if lower.contains("://") {
            if let Some(u) = indicator
                .uris
                .iter()
                .find(|u| u.to_ascii_lowercase().starts_with(&lower))
            {
                return Some(u.clone());
            }
        } else if let Ok(ip) = entry.parse::<std::net::IpAddr>() {
            let ip = ip.to_string();
            if indicator.ip_addresses.contains(&ip) {
                return Some(ip);
            }
        } else {
            let domain = lower.trim_start_matches("*.").trim_end_matches('.');
            let suffix = format!(".{domain}");
            if let Some(d) = indicator
                .domains
                .iter()
                .find(|d| *d == domain || d.ends_with(&suffix))
            {
                return Some(d.clone());
            }
        }
    }
    None
}

fn unexpected_child_shell(facts: &Facts, config: &Config) -> Option<Hit> {
    if facts.language != Language::Shell {
        return None;
    }
    let parent = facts.detection.enrichment.ancestors.first()?;
    // comm is cut at 15 bytes: a configured longer name matches its prefix.
    let is_listed = config.finding.unexpected_shell_parents.iter().any(|name| {
        name == &parent.comm || (parent.comm.len() == 15 && name.starts_with(&parent.comm))
    });
    if !is_listed {
        return None;
    }
    let mut mitre = execution(facts.language);
    mitre.additional_tactics.push(Tactic::InitialAccess);
    mitre
        .additional_techniques
        .push(Technique::ExploitPublicFacingApplication);
    Some(Hit {
        category: UNEXPECTED_CHILD_SHELL,
        severity: Severity::Medium,
        mitre,
        reason: format!(
            "{} (pid {}) normally never starts a shell",
            parent.comm, parent.pid
        ),
    })
}

fn clip(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        s.chars().take(MAX).collect::<String>() + "…"
    }
}
