//! The finding builder over the recorded traces in tests/traces/: every
//! finding follows the SCC contract (shared/docs/scc-finding.md), benign
//! execs give none, and building twice gives the same bytes (replay
//! reproduces live findings).

use std::collections::BTreeSet;
use std::path::Path;

use sensor::config::Config;
use sensor::detection::Detection;
use sensor::finding::{self, rules};
use sensor::trace::{Record, TraceReader};
use serde_json::Value;

fn detections(name: &str) -> Vec<Detection> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/traces")
        .join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = TraceReader::new(std::io::BufReader::new(file)).unwrap();
    let mut out = Vec::new();
    while let Some(record) = reader.next_record() {
        if let Ok(Record::Exec(rec)) = record {
            let Some(verdict) = rec.verdict else { continue };
            out.push(Detection {
                event: rec.event,
                enrichment: rec.enrichment,
                verdict,
                detection_latency_us: rec.detection_latency_us.unwrap_or(0),
                create_time: rec.create_time.unwrap_or_default(),
            });
        }
    }
    assert!(!out.is_empty(), "{name} has no scored execs");
    out
}

fn example_config() -> Config {
    Config::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/sensor.example.toml")).unwrap()
}

/// The contract's mapping rules, checked on the JSON itself.
fn check_contract(v: &Value, path: &str) {
    match v {
        Value::Null => panic!("null at {path}"),
        // argv may hold "" and list elements are kept as they are.
        Value::String(s) => assert!(
            !s.is_empty() || path.contains(".args["),
            "empty string at {path}"
        ),
        Value::Array(a) => {
            assert!(!a.is_empty(), "empty list at {path}");
            for (i, x) in a.iter().enumerate() {
                check_contract(x, &format!("{path}[{i}]"));
            }
        }
        Value::Object(o) => {
            assert!(!o.is_empty(), "empty object at {path}");
            for (k, x) in o {
                let child = format!("{path}.{k}");
                if !path.ends_with("sourceProperties") {
                    assert!(
                        k.chars().next().unwrap().is_ascii_lowercase()
                            && k.chars().all(|c| c.is_ascii_alphanumeric()),
                        "not lowerCamelCase: {child}"
                    );
                }
                if matches!(k.as_str(), "size" | "hashedSize" | "pid" | "parentPid") {
                    let s = x
                        .as_str()
                        .unwrap_or_else(|| panic!("int64 not a string: {child}"));
                    assert!(s.parse::<i64>().is_ok(), "{child} = {s:?}");
                }
                if k.ends_with("Time") {
                    let s = x.as_str().unwrap();
                    assert!(s.ends_with('Z') && s.contains('T'), "{child} = {s}");
                }
                check_contract(x, &child);
            }
        }
        Value::Bool(b) => assert!(*b, "false is a default and must be left out: {path}"),
        Value::Number(_) => {}
    }
}

fn check_trace(name: &str, config: &Config) -> Vec<Value> {
    let mut ids = BTreeSet::new();
    let mut all = Vec::new();
    for d in detections(name) {
        let built = finding::build_all(&d, config);
        assert_eq!(built, finding::build_all(&d, config), "deterministic");
        let categories: Vec<&str> = built.iter().map(|m| m.finding.category.as_str()).collect();
        if d.verdict.malicious {
            assert!(
                categories.contains(&rules::MALICIOUS_SCRIPT)
                    || categories.contains(&rules::MALICIOUS_PYTHON),
                "pid {}: {categories:?}",
                d.event.pid
            );
        } else {
            assert!(
                categories.is_empty(),
                "benign pid {} gave {categories:?}",
                d.event.pid
            );
        }
        for msg in built {
            let v = serde_json::to_value(&msg).unwrap();
            check_contract(&v, "$");
            let f = &v["finding"];
            let name = f["name"].as_str().unwrap();
            let id = name.rsplit('/').next().unwrap();
            assert_eq!(id.len(), 32);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert!(ids.insert(id.to_string()), "duplicate id {id}");
            assert_eq!(f["findingClass"], "THREAT");
            assert_eq!(f["state"], "ACTIVE");
            assert_eq!(f["processes"][0]["pid"], d.event.pid.to_string());
            assert_eq!(
                f["mitreAttack"]["version"],
                config.finding.mitre_version.as_str()
            );
            for key in f["sourceProperties"].as_object().unwrap().keys() {
                assert!(
                    finding::valid_property_key(key),
                    "sourceProperties key {key}"
                );
            }
            if let Some(sha) = d.enrichment.script.as_ref().map(|s| &s.sha256) {
                assert_eq!(
                    f["externalUri"],
                    format!("https://www.virustotal.com/gui/file/{sha}")
                );
            }
            all.push(v);
        }
    }
    all
}

#[test]
fn host_trace_findings_follow_the_contract() {
    for config in [Config::default(), example_config()] {
        let findings = check_trace("host.trace.jsonl", &config);
        let categories: BTreeSet<&str> = findings
            .iter()
            .map(|v| v["finding"]["category"].as_str().unwrap())
            .collect();
        assert!(
            categories.contains(rules::MALICIOUS_SCRIPT),
            "{categories:?}"
        );
        assert!(
            categories.contains(rules::MALICIOUS_PYTHON),
            "{categories:?}"
        );
        // The inline `wget` dropper names its URL and downloads.
        let wget = findings
            .iter()
            .find(|v| {
                v["finding"]["processes"][0]["args"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str().unwrap().contains("wget")))
            })
            .expect("the inline wget finding");
        assert_eq!(
            wget["finding"]["indicator"]["uris"][0],
            "http://127.0.0.1:9/xmrig"
        );
        assert_eq!(
            wget["finding"]["mitreAttack"]["additionalTechniques"][0],
            "INGRESS_TOOL_TRANSFER"
        );
    }
}

#[test]
fn podman_trace_findings_name_the_container() {
    let findings = check_trace("podman.trace.jsonl", &example_config());
    assert!(!findings.is_empty());
    for v in &findings {
        let c = &v["finding"]["containers"][0];
        assert_eq!(c["name"], "sensor-golden-probe");
        assert!(c["uri"].is_string(), "{c}");
        assert_eq!(v["finding"]["sourceProperties"]["runtime"], "podman");
        assert_eq!(v["resource"]["cloudProvider"], "GOOGLE_CLOUD_PLATFORM");
        assert_eq!(v["resource"]["projectDisplayName"], "prod-cluster-project");
    }
}
