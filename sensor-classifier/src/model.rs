//! The trained model: one onnxruntime session, loaded once and shared.
//!
//! The model (models/script-classifier.onnx) and its sidecar
//! (models/script-classifier.json: thresholds, feature schema, weights) are
//! compiled into the binary, so a deployed sensor needs only the onnxruntime
//! library; `Classifier::load_files` scores with another model instead.
//! Scores come from the ONNX graph; evidence comes from the sidecar's weights
//! (the model is linear, so weight x value is each feature's exact share of the logit).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use serde::Deserialize;

use crate::features::{self, describe_all, featurize};
use crate::runtime::{locate_onnxruntime, OrtNotFound};
use crate::Lang;

/// The model shipped in this build.
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../../models/script-classifier.onnx");
pub const EMBEDDED_META: &str = include_str!("../../models/script-classifier.json");

/// At most this many reasons per score.
pub const MAX_EVIDENCE: usize = 5;
/// Contributions to the logit below this are not worth an analyst's attention.
const MIN_CONTRIBUTION: f32 = 0.15;

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Thresholds {
    pub bash: f32,
    pub python: f32,
}

/// The sidecar written by models/train.py next to the ONNX file.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelMeta {
    pub model_version: String,
    pub feature_schema: String,
    pub dim: usize,
    pub input: String,
    pub output: String,
    pub thresholds: Thresholds,
    pub target_fpr: f64,
    pub intercept: f32,
    pub weights: Vec<f32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    RuntimeMissing(#[from] OrtNotFound),
    #[error("loading onnxruntime from {path}: {message} (expected onnxruntime {ver}; run `cargo xtask setup`)", ver = crate::runtime::ORT_VERSION)]
    RuntimeLoad { path: PathBuf, message: String },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model metadata is not valid: {0}")]
    Meta(String),
    #[error("the model was trained on feature schema {model} but this build computes {build}: rebuild the model with `cargo xtask train`")]
    Schema { model: String, build: String },
    #[error("onnx model: {0}")]
    Onnx(String),
}

/// One script's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Probability-like score in [0, 1].
    pub score: f32,
    /// The language's alert threshold: `malicious == (score >= threshold)`.
    pub threshold: f32,
    pub malicious: bool,
    /// Analyst-readable reasons, strongest first.
    pub evidence: Vec<String>,
}

/// The classifier. `Send + Sync`: share one behind an `Arc` across tasks.
pub struct Classifier {
    session: Mutex<Session>,
    meta: ModelMeta,
}

/// onnxruntime allows one environment per process; it lives as long as the process.
fn environment() -> Result<&'static Environment, ModelError> {
    static ENV: OnceLock<Result<Environment, (PathBuf, String)>> = OnceLock::new();
    let path = locate_onnxruntime()?;
    ENV.get_or_init(|| {
        let builder = ort::init_from(&path).map_err(|e| (path.clone(), e.to_string()))?;
        builder
            .with_name("sensor")
            .with_telemetry(false)
            .build()
            .map_err(|e| (path.clone(), e.to_string()))
    })
    .as_ref()
    .map_err(|(path, message)| ModelError::RuntimeLoad {
        path: path.clone(),
        message: message.clone(),
    })
}

impl Classifier {
    /// The model compiled into this build.
    pub fn load_embedded() -> Result<Self, ModelError> {
        Self::from_bytes(EMBEDDED_MODEL, EMBEDDED_META)
    }

    /// A model and its sidecar JSON from disk.
    pub fn load_files(model: &Path, meta: &Path) -> Result<Self, ModelError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| ModelError::Read {
                path: p.to_owned(),
                source,
            })
        };
        let model_bytes = read(model)?;
        let meta_bytes = read(meta)?;
        let meta_text =
            String::from_utf8(meta_bytes).map_err(|e| ModelError::Meta(e.to_string()))?;
        Self::from_bytes(&model_bytes, &meta_text)
    }

    pub fn from_bytes(model: &[u8], meta_json: &str) -> Result<Self, ModelError> {
        let meta: ModelMeta =
            serde_json::from_str(meta_json).map_err(|e| ModelError::Meta(e.to_string()))?;
        let build = features::schema_fingerprint();
        if meta.feature_schema != build || meta.dim != features::dim() {
            return Err(ModelError::Schema {
                model: meta.feature_schema,
                build,
            });
        }
        if meta.weights.len() != meta.dim {
            return Err(ModelError::Meta(format!(
                "{} weights for {} features",
                meta.weights.len(),
                meta.dim
            )));
        }
        let env = environment()?;
        let onnx = |e: ort::Error| ModelError::Onnx(e.to_string());
        let session = Session::builder(env)
            .map_err(onnx)?
            // Scoring is one small matrix-vector product: threads would only add overhead.
            .with_intra_threads(1)
            .map_err(|e| onnx(e.into()))?
            .with_inter_threads(1)
            .map_err(|e| onnx(e.into()))?
            .commit_from_memory(model)
            .map_err(onnx)?;
        if !session.inputs().iter().any(|i| i.name() == meta.input) {
            return Err(ModelError::Onnx(format!(
                "the model has no input named {:?}",
                meta.input
            )));
        }
        Ok(Classifier {
            session: Mutex::new(session),
            meta,
        })
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    pub fn model_version(&self) -> &str {
        &self.meta.model_version
    }

    pub fn threshold(&self, lang: Lang) -> f32 {
        match lang {
            Lang::Bash => self.meta.thresholds.bash,
            Lang::Python => self.meta.thresholds.python,
        }
    }

    /// Scores a feature vector (as computed by `features::featurize`).
    pub fn score_vector(&self, vector: &[f32]) -> Result<f32, ModelError> {
        let onnx = |e: ort::Error| ModelError::Onnx(e.to_string());
        let input = TensorRef::from_array_view(([1usize, vector.len()], vector)).map_err(onnx)?;
        // A poisoned lock only means another thread panicked mid-run; the session itself is fine.
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs![self.meta.input.as_str() => input])
            .map_err(onnx)?;
        let output = outputs
            .get(&self.meta.output)
            .ok_or_else(|| ModelError::Onnx(format!("no output named {:?}", self.meta.output)))?;
        let (_, probabilities) = output.try_extract_tensor::<f32>().map_err(onnx)?;
        // [P(benign), P(malicious)] for the one row.
        probabilities.get(1).copied().ok_or_else(|| {
            ModelError::Onnx(format!(
                "output has {} values, expected 2",
                probabilities.len()
            ))
        })
    }

    /// Scores a script (only its first `features::MAX_BYTES` are read) and explains the score.
    pub fn score(&self, text: &str, lang: Lang) -> Result<Score, ModelError> {
        let vector = featurize(text, lang);
        let score = self.score_vector(&vector)?;
        let threshold = self.threshold(lang);
        Ok(Score {
            score,
            threshold,
            malicious: score >= threshold,
            evidence: self.evidence(text, lang, &vector),
        })
    }

    /// The features that pushed the score up most, in analyst words.
    pub fn evidence(&self, text: &str, lang: Lang, vector: &[f32]) -> Vec<String> {
        let mut contributions: Vec<(usize, f32)> = vector
            .iter()
            .zip(&self.meta.weights)
            .enumerate()
            .filter(|(_, (x, _))| **x != 0.0)
            .map(|(i, (x, w))| (i, x * w))
            .filter(|(_, c)| *c >= MIN_CONTRIBUTION)
            .collect();
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // Describe more than needed: some buckets read the same or say nothing.
        let top: Vec<usize> = contributions
            .iter()
            .take(MAX_EVIDENCE * 3)
            .map(|(i, _)| *i)
            .collect();
        let mut out: Vec<String> = Vec::new();
        for reason in describe_all(&top, text, lang).into_iter().flatten() {
            if !out.contains(&reason) {
                out.push(reason);
            }
            if out.len() == MAX_EVIDENCE {
                break;
            }
        }
        out
    }
}
