//! The Security Command Center v1 messages this sensor emits, in their
//! proto3 JSON form (`google/cloud/securitycenter/v1/*.proto`): lowerCamelCase
//! names, enums as their names, int64 as strings, timestamps as RFC 3339 UTC,
//! and fields at their default value (empty string, empty list, false, unset
//! message) left out. Only the fields this sensor fills are declared.
//!
//! Fields are declared in the byte order of their JSON names, not the
//! proto's order: findings were first written through a `serde_json::Value`,
//! whose objects sort their keys, and serialising these structs directly
//! must write the same bytes (a test checks it).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One output line: `google.cloud.securitycenter.v1.NotificationMessage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationMessage {
    pub finding: Finding,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notification_config_name: String,
    pub resource: Resource,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub canonical_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub create_time: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub event_time: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub external_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_class: Option<FindingClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<Indicator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<Kubernetes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitre_attack: Option<MitreAttack>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_steps: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<Process>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// `map<string, google.protobuf.Value>`; keys are letters, digits and `_`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub source_properties: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingClass {
    Threat,
    Vulnerability,
    Misconfiguration,
    Observation,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Indicator {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<String>,
}

impl Indicator {
    pub fn is_empty(&self) -> bool {
        self.ip_addresses.is_empty() && self.domains.is_empty() && self.uris.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MitreAttack {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_tactics: Vec<Tactic>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_techniques: Vec<Technique>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_tactic: Option<Tactic>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_techniques: Vec<Technique>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// `MitreAttack.Tactic` values this sensor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Tactic {
    Execution,
    CommandAndControl,
    DefenseEvasion,
    PrivilegeEscalation,
    InitialAccess,
    Persistence,
}

/// `MitreAttack.Technique` values this sensor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Technique {
    /// T1059
    CommandAndScriptingInterpreter,
    /// T1059.004
    UnixShell,
    /// T1059.006
    Python,
    /// T1105
    IngressToolTransfer,
    /// T1071
    ApplicationLayerProtocol,
    /// T1190
    ExploitPublicFacingApplication,
    /// T1068
    ExploitationForPrivilegeEscalation,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub arguments_truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<File>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_pid: Option<Int64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Int64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<File>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contents: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashed_size: Option<Int64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub partially_hashed: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Int64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub create_time: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kubernetes {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<Pod>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ns: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// `google.cloud.securitycenter.v1.Resource` as a notification carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<crate::config::CloudProviderName>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent_display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project_display_name: String,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A proto3 `int64`: a JSON string on output; a string or a number on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Int64(pub i64);

impl From<u32> for Int64 {
    fn from(v: u32) -> Self {
        Self(v.into())
    }
}

impl From<u64> for Int64 {
    fn from(v: u64) -> Self {
        Self(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl Serialize for Int64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(i64),
        }
        match Repr::deserialize(d)? {
            Repr::Number(n) => Ok(Self(n)),
            Repr::Text(t) => t
                .parse()
                .map(Self)
                .map_err(|e| serde::de::Error::custom(format!("int64 {t:?}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serialize_to_nothing() {
        let msg = NotificationMessage::default();
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            r#"{"finding":{},"resource":{}}"#
        );
    }

    /// Every field set: the direct serialisation writes what the one
    /// through `serde_json::Value` (sorted keys) wrote.
    #[test]
    fn fields_serialize_in_sorted_key_order() {
        let file = File {
            path: "/p".into(),
            size: Some(1u32.into()),
            sha256: "ab".into(),
            hashed_size: Some(1u32.into()),
            partially_hashed: true,
            contents: "c".into(),
        };
        let label = Label {
            name: "n".into(),
            value: "v".into(),
        };
        let container = Container {
            name: "c".into(),
            uri: "u".into(),
            image_id: "i".into(),
            labels: vec![label.clone()],
            create_time: "t".into(),
        };
        let msg = NotificationMessage {
            notification_config_name: "n".into(),
            finding: Finding {
                name: "a/findings/x".into(),
                parent: "a".into(),
                resource_name: "r".into(),
                state: Some(State::Active),
                category: "c".into(),
                external_uri: "e".into(),
                source_properties: [("k".to_string(), serde_json::json!({"b": 1, "a": [2]}))]
                    .into_iter()
                    .collect(),
                event_time: "t".into(),
                create_time: "t".into(),
                severity: Some(Severity::High),
                canonical_name: "cn".into(),
                finding_class: Some(FindingClass::Threat),
                indicator: Some(Indicator {
                    ip_addresses: vec!["1".into()],
                    domains: vec!["d".into()],
                    uris: vec!["u".into()],
                }),
                mitre_attack: Some(MitreAttack {
                    primary_tactic: Some(Tactic::Execution),
                    primary_techniques: vec![Technique::UnixShell],
                    additional_tactics: vec![Tactic::CommandAndControl],
                    additional_techniques: vec![Technique::Python],
                    version: "18".into(),
                }),
                processes: vec![Process {
                    name: "bash".into(),
                    binary: Some(file.clone()),
                    script: Some(file),
                    args: vec!["a".into()],
                    arguments_truncated: true,
                    pid: Some(2u32.into()),
                    parent_pid: Some(1u32.into()),
                }],
                description: "d".into(),
                next_steps: "n".into(),
                containers: vec![container.clone()],
                kubernetes: Some(Kubernetes {
                    pods: vec![Pod {
                        ns: "ns".into(),
                        name: "p".into(),
                        labels: vec![label],
                        containers: vec![container],
                    }],
                    nodes: vec![Node { name: "n".into() }],
                }),
            },
            resource: Resource {
                name: "n".into(),
                display_name: "d".into(),
                kind: "k".into(),
                project: "p".into(),
                project_display_name: "pd".into(),
                parent: "pa".into(),
                parent_display_name: "pad".into(),
                cloud_provider: None,
                location: "l".into(),
            },
        };
        let through_value = serde_json::to_string(&serde_json::to_value(&msg).unwrap()).unwrap();
        assert_eq!(serde_json::to_string(&msg).unwrap(), through_value);
    }

    #[test]
    fn int64_is_a_string_and_reads_both_forms() {
        let p = Process {
            pid: Some(42u32.into()),
            ..Default::default()
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"pid":"42"}"#);
        let back: Process = serde_json::from_str(r#"{"pid":42,"parentPid":"7"}"#).unwrap();
        assert_eq!(back.pid, Some(Int64(42)));
        assert_eq!(back.parent_pid, Some(Int64(7)));
    }

    #[test]
    fn enums_are_names() {
        assert_eq!(
            serde_json::to_string(&Technique::CommandAndScriptingInterpreter).unwrap(),
            r#""COMMAND_AND_SCRIPTING_INTERPRETER""#
        );
        assert_eq!(
            serde_json::to_string(&Tactic::CommandAndControl).unwrap(),
            r#""COMMAND_AND_CONTROL""#
        );
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            r#""CRITICAL""#
        );
    }
}
