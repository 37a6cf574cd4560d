//! Scraping the sensor's Prometheus endpoint (`sensor run --metrics-addr`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// One scrape: series (`name{labels}`) -> value.
#[derive(Debug, Clone, Default)]
pub struct Scrape(pub BTreeMap<String, f64>);

pub fn scrape(addr: SocketAddr) -> Result<Scrape> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .with_context(|| format!("cannot reach the sensor's metrics at {addr}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n")?;
    let mut body = String::new();
    conn.read_to_string(&mut body)?;
    let Some((head, text)) = body.split_once("\r\n\r\n") else {
        bail!("no HTTP response from {addr}");
    };
    if !head.contains(" 200") {
        bail!("metrics at {addr}: {}", head.lines().next().unwrap_or(""));
    }
    Ok(parse(text))
}

pub fn parse(text: &str) -> Scrape {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        // `name{labels} value [timestamp]`; label values may hold spaces.
        let split = match line.rfind('}') {
            Some(close) => close + 1,
            None => line.find(' ').unwrap_or(line.len()),
        };
        let (series, rest) = line.split_at(split);
        if let Some(value) = rest.split_whitespace().next().and_then(|v| v.parse().ok()) {
            out.insert(series.to_string(), value);
        }
    }
    Scrape(out)
}

impl Scrape {
    fn name_of(series: &str) -> &str {
        series.split('{').next().unwrap_or(series)
    }

    /// Sum of every series of metric `name`.
    pub fn sum(&self, name: &str) -> f64 {
        self.0
            .iter()
            .filter(|(s, _)| Self::name_of(s) == name)
            .map(|(_, v)| v)
            .sum()
    }

    /// Every drop/loss counter (kernel ring buffer and queues), by series.
    pub fn drops(&self) -> BTreeMap<String, f64> {
        self.0
            .iter()
            .filter(|(s, _)| {
                let name = Self::name_of(s);
                (name.contains("drop") || name.contains("lost")) && !name.ends_with("_created")
            })
            .map(|(s, v)| (s.clone(), *v))
            .collect()
    }

    /// Missing contents by reason.
    pub fn missing(&self) -> BTreeMap<String, f64> {
        self.0
            .iter()
            .filter(|(s, _)| Self::name_of(s).contains("contents_missing"))
            .map(|(s, v)| (s.clone(), *v))
            .collect()
    }

    /// Cache hits by cache.
    pub fn cache_hits(&self) -> BTreeMap<String, f64> {
        self.0
            .iter()
            .filter(|(s, _)| Self::name_of(s).contains("cache_hits"))
            .map(|(s, v)| (s.clone(), *v))
            .collect()
    }
}

/// `after - before` per series, leaving out zeros.
pub fn delta(
    after: &BTreeMap<String, f64>,
    before: &BTreeMap<String, f64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                (v - before.get(k).copied().unwrap_or(0.0)).max(0.0) as u64,
            )
        })
        .filter(|(_, v)| *v > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openmetrics_text() {
        let s = parse(
            "# HELP sensor_events Interpreter execs\n# TYPE sensor_events counter\n\
             sensor_events_total 12\n\
             sensor_dropped_total{queue=\"events\"} 3\n\
             sensor_kernel_lost_total 2\n\
             sensor_contents_missing_total{reason=\"stdin pipe\"} 1\n\
             sensor_cache_hits_total{cache=\"score\"} 9\n# EOF\n",
        );
        assert_eq!(s.sum("sensor_events_total"), 12.0);
        assert_eq!(s.drops().values().sum::<f64>(), 5.0);
        assert_eq!(s.missing().values().sum::<f64>(), 1.0);
        assert_eq!(s.cache_hits().len(), 1);
        let before = parse("sensor_dropped_total{queue=\"events\"} 1\n").drops();
        assert_eq!(
            delta(&s.drops(), &before).get("sensor_dropped_total{queue=\"events\"}"),
            Some(&2)
        );
    }
}
