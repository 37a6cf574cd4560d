//! The malicious-script classifier: features, the ONNX model, and the runtime it needs.
//!
//! `features` is the single feature implementation, shared by training
//! (`cargo xtask featurize`) and serving. With the `onnx` feature (default),
//! `model::Classifier` loads the trained model once and scores scripts with
//! evidence; `runtime` finds the onnxruntime shared library.

pub mod features;
pub mod indicators;
pub mod lang;
#[cfg(feature = "onnx")]
pub mod model;
pub mod runtime;
pub mod tokens;

pub use lang::Lang;
#[cfg(feature = "onnx")]
pub use model::{Classifier, ModelError, ModelMeta, Score};
