//! Where the featurizer's time goes, stage by stage, on the bench's
//! indicator-dense inputs (median thread CPU time of 300 runs each).
//! Run: `cargo run --release -p sensor-classifier --no-default-features --example stage_times`

use std::hint::black_box;
use std::path::PathBuf;

use sensor_classifier::{features, indicators::Indicators, tokens, Lang};

#[path = "common/corpus.rs"]
mod corpus;

fn synthetic(lang: Lang, size: usize) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/synthetic/synthetic.jsonl");
    let parts: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["lang"].as_str() == Some(lang.as_str()))
        .map(|v| v["content"].as_str().unwrap().to_owned())
        .collect();
    let mut out = String::new();
    for p in parts.iter().cycle() {
        if out.len() >= size {
            break;
        }
        out.push_str(p);
        out.push('\n');
    }
    out.truncate(size);
    out
}

/// The thread's CPU time in µs: on a shared machine, leaves out time spent preempted.
fn cpu_us() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3
}

/// Median thread CPU time of `runs` calls.
fn best(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = cpu_us();
            f();
            cpu_us() - t
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// The largest 1% of the shared corpus (what sets its p99), if the corpus is there.
fn corpus_top() -> Vec<(Lang, String)> {
    let mut all = corpus_all();
    all.sort_by_key(|(_, t)| std::cmp::Reverse(t.len()));
    all.truncate(all.len() / 100);
    all
}

/// Every script of the shared corpus.
fn corpus_all() -> Vec<(Lang, String)> {
    corpus::jsonl_in(&corpus::data_dir())
}

fn main() {
    // STAGE_TIMES=slowest: the corpus scripts that set the p99 (featurize, best of 3), with stage times.
    if std::env::var_os("STAGE_TIMES").is_some_and(|v| v == "slowest") {
        let all = corpus_all();
        let ind = Indicators::get();
        let mut timed: Vec<(f64, usize)> = all
            .iter()
            .enumerate()
            .map(|(i, (lang, text))| {
                let t = (0..3)
                    .map(|_| {
                        let c = cpu_us();
                        black_box(features::featurize(black_box(text), *lang));
                        cpu_us() - c
                    })
                    .fold(f64::INFINITY, f64::min);
                (t, i)
            })
            .collect();
        timed.sort_by(|a, b| b.0.total_cmp(&a.0));
        let p99 = timed[timed.len() / 100].0;
        println!(
            "p99 featurize {p99:.1} us; median {:.1} us",
            timed[timed.len() / 2].0
        );
        for &(t, i) in timed.iter().take(timed.len() / 100 + 1).step_by(8) {
            let (lang, text) = &all[i];
            let walk = best(5, || {
                black_box(ind.literal_hits(black_box(text)));
            });
            let t_ind = best(5, || {
                black_box(ind.evaluate(black_box(text)));
            });
            let lines = text.lines().count();
            println!(
                "{t:7.1} us  {} {:6} bytes {lines:5} lines: indicators {t_ind:.1} (walk {walk:.1})",
                lang.as_str(),
                text.len()
            );
        }
        return;
    }
    // STAGE_TIMES=corpus: loop over the corpus's largest 1% (for `perf record`).
    if std::env::var_os("STAGE_TIMES").is_some_and(|v| v == "corpus") {
        let top = corpus_top();
        let sizes: Vec<usize> = top.iter().map(|(_, t)| t.len()).collect();
        eprintln!(
            "{} scripts, {} to {} bytes",
            top.len(),
            sizes.last().unwrap_or(&0),
            sizes.first().unwrap_or(&0)
        );
        let ind = Indicators::get();
        let (mut t_all, mut t_ind, mut t_tok) = (0.0, 0.0, 0.0);
        for (lang, text) in &top {
            t_ind += best(21, || {
                black_box(ind.evaluate(black_box(text)));
            });
            let tok_text = &text[..text.len().min(features::TOKEN_BYTES)];
            t_tok += best(21, || {
                let mut n = 0u64;
                tokens::for_each_token(black_box(tok_text), |t| n ^= t.hash);
                black_box(n);
            });
            t_all += best(21, || {
                black_box(features::featurize(black_box(text), *lang));
            });
        }
        let n = top.len() as f64;
        println!(
            "corpus top 1%: featurize {:.1} us (indicators {:.1}, tokenizer alone {:.1}) per script",
            t_all / n,
            t_ind / n,
            t_tok / n
        );
        return;
    }
    for lang in [Lang::Bash, Lang::Python] {
        for kib in [16usize, 64] {
            let text = synthetic(lang, kib << 10);
            let ind = Indicators::get();
            let t_ind = best(300, || {
                black_box(ind.evaluate(black_box(&text)));
            });
            let t_walk = best(300, || {
                black_box(ind.literal_hits(black_box(&text)));
            });
            let tok_text = &text[..text.len().min(features::TOKEN_BYTES)];
            let t_tok = best(300, || {
                let mut n = 0u64;
                tokens::for_each_token(black_box(tok_text), |t| n ^= t.hash);
                black_box(n);
            });
            let t_all = best(300, || {
                black_box(features::featurize(black_box(&text), lang));
            });
            #[cfg(feature = "onnx")]
            {
                let classifier =
                    sensor_classifier::Classifier::load_embedded().expect("model loads");
                let vector = features::featurize(&text, lang);
                let t_onnx = best(300, || {
                    black_box(classifier.score_vector(black_box(&vector)).unwrap());
                });
                let t_evidence = best(300, || {
                    black_box(classifier.evidence(black_box(&text), lang, &vector));
                });
                println!(
                    "{} {kib:>2} KiB: onnx run {t_onnx:.1} us, evidence {t_evidence:.1} us",
                    lang.as_str()
                );
            }
            println!(
                "{} {kib:>2} KiB: featurize {t_all:.1} us (indicators {t_ind:.1} of which literal walk {t_walk:.1}, tokenizer alone {t_tok:.1}, rest {:.1})",
                lang.as_str(),
                t_all - t_ind - t_tok
            );
        }
    }
}
