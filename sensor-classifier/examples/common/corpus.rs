//! Scripts of a labelled corpus directory (JSONL files in the shared
//! format), for the benches and the developer examples.

use std::path::{Path, PathBuf};

use sensor_classifier::Lang;

/// `$SENSOR_DATA_DIR`, else the shared corpus beside the repository.
pub fn data_dir() -> PathBuf {
    std::env::var_os("SENSOR_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/train")
        })
}

/// (language, content) of every sample in every `*.jsonl` file of `dir`,
/// files in name order; a missing directory is empty and lines that are not
/// samples are skipped.
pub fn jsonl_in(dir: &Path) -> Vec<(Lang, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "jsonl"));
    files.sort();
    files
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| {
                    Some((
                        v["lang"].as_str()?.parse().ok()?,
                        v["content"].as_str()?.to_owned(),
                    ))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}
