//! Pipeline metrics (prometheus-client): events in, findings out, drops per
//! queue, contents that could not be had (by reason), cache hits, latency.
//! Served in the Prometheus text format (`sensor run --metrics-addr`) and
//! summarised on stderr at exit.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    pub queue: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabel {
    pub cache: String,
}

/// Queues that may drop, in summary order.
pub const QUEUES: &[&str] = &["events", "trace"];

/// Every `missing_reason` label enrich can produce, for the summary.
pub const MISSING_REASONS: &[&str] = &[
    "process_gone",
    "namespace_changed",
    "not_found",
    "permission_denied",
    "not_regular_file",
    "symlink_refused",
    "bad_path",
    "io_error",
    "read_error",
    "stdin_pipe",
    "stdin_socket",
    "stdin_tty",
    "stdin_other",
    "fd_pipe",
    "python_module",
];

/// All counters; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub events: Counter,
    pub scored: Counter,
    pub malicious: Counter,
    pub findings: Counter,
    pub finding_errors: Counter,
    pub bad_trace_lines: Counter,
    pub dropped: Family<QueueLabel, Counter>,
    pub contents_missing: Family<ReasonLabel, Counter>,
    pub cache_hits: Family<CacheLabel, Counter>,
    /// Peeks at a piped stdin script by outcome (`reason` label:
    /// complete, consumed, writer_open, ...; see `crate::kernel_content`).
    pub stdin_peeks: Family<ReasonLabel, Counter>,
    pub detection_latency_us: Histogram,
    /// The kernel side of capture (`crate::capture::Stats`), brought up to
    /// date by [`Metrics::record_capture`] while the sensor runs.
    pub capture: CaptureCounters,
}

/// Capture's own counters, mirrored from the eBPF maps and the ring-buffer
/// reader (the same numbers as the exit summary's `capture` object).
#[derive(Debug, Clone, Default)]
pub struct CaptureCounters {
    pub events: Counter,
    pub kernel_execs: Counter,
    pub exec_drops: Counter,
    pub content_drops: Counter,
    pub decode_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sensor");
        let events = Counter::default();
        let scored = Counter::default();
        let malicious = Counter::default();
        let findings = Counter::default();
        let finding_errors = Counter::default();
        let bad_trace_lines = Counter::default();
        let dropped = Family::<QueueLabel, Counter>::default();
        let contents_missing = Family::<ReasonLabel, Counter>::default();
        let cache_hits = Family::<CacheLabel, Counter>::default();
        let stdin_peeks = Family::<ReasonLabel, Counter>::default();
        let capture = CaptureCounters::default();
        let detection_latency_us = Histogram::new([
            100.0, 250.0, 500.0, 1e3, 2.5e3, 5e3, 1e4, 2.5e4, 5e4, 1e5, 2.5e5, 5e5, 1e6,
        ]);
        registry.register(
            "events",
            "Interpreter execs that entered the pipeline",
            events.clone(),
        );
        registry.register(
            "scored",
            "Scripts scored (cache hits included)",
            scored.clone(),
        );
        registry.register("malicious", "Execs judged malicious", malicious.clone());
        registry.register("findings", "Findings handed to the sinks", findings.clone());
        registry.register(
            "finding_errors",
            "Detections the finding builder or a sink rejected",
            finding_errors.clone(),
        );
        registry.register(
            "bad_trace_lines",
            "Trace lines skipped because they were malformed",
            bad_trace_lines.clone(),
        );
        registry.register(
            "dropped",
            "Events dropped because a queue was full",
            dropped.clone(),
        );
        registry.register(
            "contents_missing",
            "Execs whose script contents could not be had, by reason",
            contents_missing.clone(),
        );
        registry.register("cache_hits", "Cache hits by cache", cache_hits.clone());
        registry.register(
            "stdin_peeks",
            "Peeks at a script piped to an interpreter's stdin, by outcome",
            stdin_peeks.clone(),
        );
        registry.register(
            "detection_latency_us",
            "Microseconds from exec (kernel time) to verdict",
            detection_latency_us.clone(),
        );
        registry.register(
            "capture_events",
            "Exec events capture read from the kernel ring buffer and delivered",
            capture.events.clone(),
        );
        registry.register(
            "kernel_execs",
            "Interpreter execs the eBPF programs saw (delivered or not)",
            capture.kernel_execs.clone(),
        );
        registry.register(
            "kernel_exec_drops",
            "Exec records lost in the kernel because the ring buffer was full",
            capture.exec_drops.clone(),
        );
        registry.register(
            "kernel_content_drops",
            "Script content records lost in the kernel because the ring buffer was full",
            capture.content_drops.clone(),
        );
        registry.register(
            "decode_errors",
            "Ring buffer records user space could not decode",
            capture.decode_errors.clone(),
        );
        Self {
            registry: Arc::new(registry),
            events,
            scored,
            malicious,
            findings,
            finding_errors,
            bad_trace_lines,
            dropped,
            contents_missing,
            cache_hits,
            stdin_peeks,
            detection_latency_us,
            capture,
        }
    }

    /// Bring the capture counters up to `stats` (cumulative totals, as
    /// `Capture::stats` returns them). Counters only ever rise: a total
    /// below what was already recorded is ignored.
    pub fn record_capture(&self, stats: &crate::capture::Stats) {
        let c = &self.capture;
        for (counter, total) in [
            (&c.events, stats.events),
            (&c.kernel_execs, stats.kernel_execs),
            (&c.exec_drops, stats.exec_drops),
            (&c.content_drops, stats.content_drops),
            (&c.decode_errors, stats.decode_errors),
        ] {
            let have = counter.get();
            if total > have {
                counter.inc_by(total - have);
            }
        }
    }

    pub fn drop_in(&self, queue: &str) {
        self.dropped
            .get_or_create(&QueueLabel {
                queue: queue.into(),
            })
            .inc();
    }

    pub fn missing(&self, reason: &str) {
        self.contents_missing
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    pub fn cache_hit(&self, cache: &str) {
        self.cache_hits
            .get_or_create(&CacheLabel {
                cache: cache.into(),
            })
            .inc();
    }

    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    pub fn summary(&self) -> Summary {
        let count = |fam: &Family<QueueLabel, Counter>, q: &str| {
            fam.get_or_create(&QueueLabel { queue: q.into() }).get()
        };
        Summary {
            events: self.events.get(),
            scored: self.scored.get(),
            malicious: self.malicious.get(),
            findings: self.findings.get(),
            finding_errors: self.finding_errors.get(),
            bad_trace_lines: self.bad_trace_lines.get(),
            dropped: QUEUES
                .iter()
                .map(|q| (q.to_string(), count(&self.dropped, q)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            contents_missing: MISSING_REASONS
                .iter()
                .map(|r| {
                    let n = self
                        .contents_missing
                        .get_or_create(&ReasonLabel {
                            reason: r.to_string(),
                        })
                        .get();
                    (r.to_string(), n)
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
            cache_hits: ["content", "score"]
                .iter()
                .map(|c| {
                    let n = self
                        .cache_hits
                        .get_or_create(&CacheLabel {
                            cache: c.to_string(),
                        })
                        .get();
                    (c.to_string(), n)
                })
                .collect(),
        }
    }
}

/// Serve `GET /metrics` (Prometheus text format) on `addr` from a background
/// thread for the life of the process. Returns the bound address.
pub fn serve(addr: &str, metrics: Metrics) -> anyhow::Result<std::net::SocketAddr> {
    let server = tiny_http::Server::http(addr)
        .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| anyhow::anyhow!("metrics address {addr} is not an IP address"))?;
    std::thread::Builder::new()
        .name("metrics-http".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let response = if request.url() == "/metrics" {
                    let header = tiny_http::Header::from_bytes(
                        &b"Content-Type"[..],
                        &b"application/openmetrics-text; version=1.0.0; charset=utf-8"[..],
                    )
                    .expect("static header is valid");
                    tiny_http::Response::from_string(metrics.encode()).with_header(header)
                } else {
                    tiny_http::Response::from_string("see /metrics\n").with_status_code(404)
                };
                let _ = request.respond(response);
            }
        })?;
    Ok(bound)
}

/// The exit summary (one JSON line on stderr).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub events: u64,
    pub scored: u64,
    pub malicious: u64,
    pub findings: u64,
    pub finding_errors: u64,
    pub bad_trace_lines: u64,
    pub dropped: std::collections::BTreeMap<String, u64>,
    pub contents_missing: std::collections::BTreeMap<String, u64>,
    pub cache_hits: std::collections::BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_in_text_and_summary() {
        let m = Metrics::new();
        m.events.inc();
        m.drop_in("events");
        m.missing("stdin_pipe");
        m.missing("stdin_pipe");
        let text = m.encode();
        assert!(text.contains("sensor_events_total 1"), "{text}");
        assert!(
            text.contains("sensor_dropped_total{queue=\"events\"} 1"),
            "{text}"
        );
        let s = m.summary();
        assert_eq!(s.contents_missing.get("stdin_pipe"), Some(&2));
        assert_eq!(s.dropped.get("events"), Some(&1));
        assert!(!s.dropped.contains_key("trace"));
    }

    #[test]
    fn capture_counters_show_in_text() {
        let m = Metrics::new();
        let mut stats = crate::capture::Stats {
            events: 10,
            kernel_execs: 12,
            exec_drops: 2,
            content_drops: 3,
            decode_errors: 1,
        };
        m.record_capture(&stats);
        // Totals: a second update adds only what is new.
        stats.kernel_execs = 15;
        m.record_capture(&stats);
        let text = m.encode();
        for line in [
            "sensor_capture_events_total 10",
            "sensor_kernel_execs_total 15",
            "sensor_kernel_exec_drops_total 2",
            "sensor_kernel_content_drops_total 3",
            "sensor_decode_errors_total 1",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }

    #[test]
    fn served_over_http_on_loopback() {
        use std::io::{Read, Write};
        let m = Metrics::new();
        m.findings.inc();
        let addr = serve("127.0.0.1:0", m).unwrap();
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut body = String::new();
        conn.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1.0 200"), "{body}");
        assert!(body.contains("sensor_findings_total 1"), "{body}");
    }
}
