//! The score stage: the trained classifier (sensor-classifier, ONNX through
//! ort) behind the pipeline's `Scorer` trait. One model session is loaded once
//! and shared by every worker.

use std::path::Path;

use anyhow::Context;
use sensor_classifier::{Classifier, Lang};

use crate::detection::Verdict;
use crate::pipeline::{Language, Scorer};

pub use sensor_classifier::features::MAX_BYTES as MAX_SCORED_BYTES;

/// The classifier's language for a pipeline language.
pub fn lang_of(language: Language) -> Lang {
    match language {
        Language::Shell => Lang::Bash,
        Language::Python => Lang::Python,
    }
}

/// Scores scripts with the trained model.
pub struct ModelScorer {
    classifier: Classifier,
}

impl ModelScorer {
    /// The model built into this binary (models/script-classifier.onnx at build time).
    pub fn load() -> anyhow::Result<Self> {
        let classifier =
            Classifier::load_embedded().context("cannot load the script classifier")?;
        Ok(Self { classifier })
    }

    /// Another model: its .onnx file and the .json sidecar `cargo xtask train` writes with it.
    pub fn load_files(model: &Path, meta: &Path) -> anyhow::Result<Self> {
        let classifier = Classifier::load_files(model, meta)
            .with_context(|| format!("cannot load the script classifier {}", model.display()))?;
        Ok(Self { classifier })
    }

    /// Scores `text` as `lang`; errors only if onnxruntime fails.
    pub fn verdict(&self, lang: Lang, text: &str) -> anyhow::Result<Verdict> {
        let s = self.classifier.score(text, lang)?;
        Ok(Verdict {
            score: s.score,
            threshold: s.threshold,
            model_version: self.classifier.model_version().to_owned(),
            malicious: s.malicious,
            evidence: s.evidence,
        })
    }
}

impl Scorer for ModelScorer {
    fn score(&self, language: Language, text: &str) -> Verdict {
        let lang = lang_of(language);
        self.verdict(lang, text).unwrap_or_else(|err| {
            // An inference failure must not stop the pipeline; say so in the verdict.
            tracing::error!("scoring failed: {err:#}");
            Verdict {
                score: 0.0,
                threshold: self.classifier.threshold(lang),
                model_version: self.model_version(),
                malicious: false,
                evidence: vec![format!("not scored: {err:#}")],
            }
        })
    }

    fn model_version(&self) -> String {
        self.classifier.model_version().to_owned()
    }
}
