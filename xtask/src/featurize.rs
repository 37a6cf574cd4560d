//! `cargo xtask featurize`: the training matrix, computed by the same Rust
//! feature code the sensor scores with (sensor-classifier), so training and
//! serving cannot drift. Writes one sparse JSON row per sample plus a meta file
//! naming every feature; `models/train.py` reads both.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sensor_classifier::{features, indicators::INDICATORS, Lang};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of the shared corpus (`*.jsonl`). Default: $SENSOR_DATA_DIR, else ../shared/data/train.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Extra corpus files in the same format (default: models/synthetic/*.jsonl).
    #[arg(long)]
    pub extra: Vec<PathBuf>,
    /// Where to write the rows (meta goes next to it as features-meta.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is one level down")
        .to_path_buf()
}

pub fn default_data_dir() -> PathBuf {
    std::env::var_os("SENSOR_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data/train"))
}

pub fn default_out() -> PathBuf {
    root().join("models/.cache/features.jsonl")
}

fn jsonl_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "reading corpus folder {} (set --data or SENSOR_DATA_DIR)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    Ok(files)
}

#[derive(Serialize)]
struct Row {
    id: String,
    lang: &'static str,
    kind: String,
    label: String,
    collection: String,
    source: String,
    weak_signal: bool,
    len: usize,
    /// Indices and values of the non-zero features.
    i: Vec<u32>,
    v: Vec<f32>,
}

#[derive(Serialize)]
struct Meta {
    feature_schema: String,
    dim: usize,
    hash_offset: usize,
    names: Vec<String>,
    /// Analyst words for the named (non-hashed) features, in vector order.
    descriptions: Vec<String>,
    inputs: Vec<String>,
}

pub fn run(args: Args) -> Result<PathBuf> {
    let data = args.data.unwrap_or_else(default_data_dir);
    let mut files = jsonl_files(&data)?;
    if files.is_empty() {
        bail!("no *.jsonl corpus files in {}", data.display());
    }
    let extra = if args.extra.is_empty() {
        let dir = root().join("models/synthetic");
        if dir.is_dir() {
            jsonl_files(&dir)?
        } else {
            Vec::new()
        }
    } else {
        args.extra
    };
    files.extend(extra);
    let out = args.out.unwrap_or_else(default_out);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut writer =
        BufWriter::new(File::create(&out).with_context(|| format!("creating {}", out.display()))?);
    let (mut rows, mut bad) = (0usize, 0usize);
    for file in &files {
        let reader = BufReader::new(
            File::open(file).with_context(|| format!("opening {}", file.display()))?,
        );
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("reading {}", file.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            match featurize_line(&line) {
                Ok(row) => {
                    serde_json::to_writer(&mut writer, &row)?;
                    writer.write_all(b"\n")?;
                    rows += 1;
                }
                Err(err) => {
                    eprintln!("{}:{}: skipped: {err:#}", file.display(), n + 1);
                    bad += 1;
                }
            }
        }
    }
    writer.flush()?;
    let mut descriptions: Vec<String> = INDICATORS.iter().map(|d| d.evidence.to_owned()).collect();
    descriptions.extend(features::NUMERIC.iter().map(|(_, d)| (*d).to_owned()));
    let meta = Meta {
        feature_schema: features::schema_fingerprint(),
        dim: features::dim(),
        hash_offset: features::hash_offset(),
        names: features::feature_names(),
        descriptions,
        inputs: files.iter().map(|f| f.display().to_string()).collect(),
    };
    let meta_path = out.with_file_name("features-meta.json");
    std::fs::write(&meta_path, serde_json::to_vec(&meta)?)
        .with_context(|| format!("writing {}", meta_path.display()))?;
    eprintln!(
        "featurize: {rows} samples ({bad} skipped) from {} files -> {} ({} features, schema {})",
        files.len(),
        out.display(),
        meta.dim,
        meta.feature_schema
    );
    Ok(out)
}

fn featurize_line(line: &str) -> Result<Row> {
    let value: Value = serde_json::from_str(line).context("not a JSON object")?;
    let field = |name: &str| -> Result<String> {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("missing string field {name:?}"))
    };
    let content = field("content")?;
    let lang: Lang = field("lang")?.parse()?;
    let label = field("label")?;
    if label != "malicious" && label != "benign" {
        bail!("label {label:?} is neither malicious nor benign");
    }
    let vector = features::featurize(&content, lang);
    let (i, v) = vector
        .iter()
        .enumerate()
        .filter(|(_, x)| **x != 0.0)
        .map(|(i, x)| (i as u32, *x))
        .unzip();
    Ok(Row {
        id: field("id")?,
        lang: lang.as_str(),
        kind: field("kind").unwrap_or_else(|_| "file".into()),
        label,
        collection: field("collection")?,
        source: field("source").unwrap_or_default(),
        weak_signal: value
            .get("weak_signal")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        len: content.len(),
        i,
        v,
    })
}
