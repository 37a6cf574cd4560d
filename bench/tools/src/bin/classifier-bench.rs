//! The classifier alone (features + ONNX inference, one thread): latency per
//! script and scripts/s by script size, and a check that it flags the bench
//! workload's malicious-looking scripts and passes its benign ones.
//! Prints one JSON document on stdout.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bench_tools::percentile;
use bench_tools::workload::{self, Lang, Workload};
use clap::Parser;
use sensor_classifier::{Classifier, Lang as ModelLang};

#[derive(Debug, Parser)]
#[command(name = "classifier-bench")]
struct Args {
    /// Script sizes in bytes.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1024,4096,16384,65536,262144,1048576"
    )]
    sizes: Vec<usize>,
    /// Time spent scoring each size and language (after warm-up).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// At most this many scorings per size and language.
    #[arg(long, default_value_t = 20_000)]
    max_iters: usize,
    /// Unmeasured scorings before each size.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
}

#[derive(serde::Serialize)]
struct SizeResult {
    size_bytes: usize,
    lang: &'static str,
    iterations: usize,
    median_us: f64,
    p99_us: f64,
    max_us: f64,
    scripts_per_s: f64,
    mib_per_s: f64,
    malicious: bool,
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("classifier-bench: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let load_started = Instant::now();
    let classifier = Classifier::load_embedded().context("cannot load the classifier")?;
    let load_ms = load_started.elapsed().as_secs_f64() * 1000.0;
    let mut sizes = Vec::new();
    for &size in &args.sizes {
        for lang in [ModelLang::Bash, ModelLang::Python] {
            sizes.push(time_size(&classifier, lang, size, &args)?);
        }
    }
    let check = check_workload(&classifier)?;
    let doc = serde_json::json!({
        "model_version": classifier.model_version(),
        "load_ms": load_ms,
        "max_scored_bytes": sensor_classifier::features::MAX_BYTES,
        "sizes": sizes,
        "workload_check": check,
    });
    println!("{doc}");
    Ok(())
}

fn time_size(
    classifier: &Classifier,
    lang: ModelLang,
    size: usize,
    args: &Args,
) -> anyhow::Result<SizeResult> {
    let text = script_of_size(lang, size);
    // Warm-up: first runs allocate.
    for _ in 0..args.warmup {
        black_box(classifier.score(&text, lang)?);
    }
    let budget = Duration::from_secs_f64(args.seconds);
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut malicious = false;
    while samples.len() < args.max_iters.max(10)
        && (samples.len() < 10 || started.elapsed() < budget)
    {
        let t = Instant::now();
        let score = black_box(classifier.score(black_box(&text), lang)?);
        samples.push(t.elapsed().as_nanos() as u64);
        malicious = score.malicious;
    }
    let total_ns: u64 = samples.iter().sum();
    samples.sort_unstable();
    let mean_s = total_ns as f64 / 1e9 / samples.len() as f64;
    Ok(SizeResult {
        size_bytes: size,
        lang: lang.as_str(),
        iterations: samples.len(),
        median_us: percentile(&samples, 50.0) as f64 / 1000.0,
        p99_us: percentile(&samples, 99.0) as f64 / 1000.0,
        max_us: *samples.last().unwrap_or(&0) as f64 / 1000.0,
        scripts_per_s: 1.0 / mean_s,
        mib_per_s: size as f64 / mean_s / (1024.0 * 1024.0),
        malicious,
    })
}

/// A realistic script of `size` bytes: mostly ordinary code, with a few
/// indicator lines (the classifier's work grows with both).
fn script_of_size(lang: ModelLang, size: usize) -> String {
    let mut out = String::with_capacity(size + 256);
    let mut i: u64 = 0;
    while out.len() < size {
        let block = match lang {
            ModelLang::Bash => workload::shell_script(i, i % 8 == 7),
            ModelLang::Python => workload::python_script(i, i % 8 == 7),
        };
        out.push_str(&block);
        i += 1;
    }
    let mut end = size.min(out.len());
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// Scores 16 execs of every mix slot as the bench runs them.
fn check_workload(classifier: &Classifier) -> anyhow::Result<serde_json::Value> {
    let mut flagged_malicious = 0;
    let mut malicious = 0;
    let mut flagged_benign = 0;
    let mut benign = 0;
    let mut misses = Vec::new();
    for id in 0..64 {
        let kind = Workload::Mix.kind(id);
        let text = Workload::Mix.text(id);
        let lang = match kind.lang {
            Lang::Shell => ModelLang::Bash,
            Lang::Python => ModelLang::Python,
        };
        let score = classifier.score(&text, lang)?;
        if kind.malicious {
            malicious += 1;
            if score.malicious {
                flagged_malicious += 1;
            } else {
                misses.push(serde_json::json!({"id": id, "kind": kind, "score": score.score}));
            }
        } else {
            benign += 1;
            if score.malicious {
                flagged_benign += 1;
                misses.push(serde_json::json!({"id": id, "kind": kind, "score": score.score}));
            }
        }
    }
    let same = classifier.score(&Workload::SameFile.text(0), ModelLang::Bash)?;
    Ok(serde_json::json!({
        "malicious": malicious,
        "malicious_flagged": flagged_malicious,
        "benign": benign,
        "benign_flagged": flagged_benign,
        "same_file_flagged": same.malicious,
        "wrong": misses,
    }))
}
