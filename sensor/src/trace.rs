//! Exec traces: versioned JSONL, one header line then one record per event.
//! An `exec` record carries the event, its enrichment (everything that needed
//! the host: script contents, hashes, container, ancestry), and what the live
//! sensor decided (verdict, createTime, detection latency), so that replay
//! reproduces the live findings exactly with no host lookups.
//! The format is documented in docs/trace-format.md (schema: docs/trace.schema.json).

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::detection::{Detection, Enrichment, Verdict};
use crate::event::ExecEvent;

/// The `format` value of every header.
pub const FORMAT: &str = "sensor-exec-trace";
/// Major version: readers refuse other majors (the layout changed).
pub const VERSION: u32 = 1;

/// First line of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// RFC 3339 time the recording started.
    pub created: String,
    /// Host the trace was recorded on.
    pub hostname: String,
    /// `sensor` version that wrote it.
    pub sensor_version: String,
    /// Read limits in force (contents in records are cut at these).
    pub hash_limit: u64,
    pub contents_limit: u64,
    /// Model that produced the recorded verdicts, when scoring ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
}

impl Header {
    pub fn new(hostname: String, hash_limit: u64, contents_limit: u64) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            created: crate::pipeline::now_rfc3339(),
            hostname,
            sensor_version: env!("CARGO_PKG_VERSION").into(),
            hash_limit,
            contents_limit,
            model_version: None,
        }
    }
}

/// One exec as the live sensor saw and judged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecRecord {
    pub event: ExecEvent,
    pub enrichment: Enrichment,
    /// Absent in hand-written traces: replay then scores and uses the event time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_latency_us: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
}

impl From<&Detection> for ExecRecord {
    fn from(d: &Detection) -> Self {
        Self {
            event: d.event.clone(),
            enrichment: d.enrichment.clone(),
            verdict: Some(d.verdict.clone()),
            detection_latency_us: Some(d.detection_latency_us),
            create_time: Some(d.create_time.clone()),
        }
    }
}

/// A record line. Unknown `type`s are skipped by readers (forward compatible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Exec(Box<ExecRecord>),
    /// Events the live sensor lost before they could be recorded.
    Lost {
        queue: String,
        count: u64,
    },
}

/// Writes a trace. Buffered; `flush` at the end (a killed recorder leaves a
/// valid prefix, at worst with a cut last line that readers skip).
pub struct TraceWriter<W: Write> {
    out: io::BufWriter<W>,
    pub records: u64,
}

impl<W: Write> TraceWriter<W> {
    pub fn new(out: W, header: &Header) -> io::Result<Self> {
        let mut w = Self {
            out: io::BufWriter::new(out),
            records: 0,
        };
        w.line(header)?;
        Ok(w)
    }

    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        self.records += 1;
        self.line(record)
    }

    fn line<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The pipeline's recorder: writes every scored exec to a trace file.
pub struct FileRecorder {
    writer: TraceWriter<std::fs::File>,
    path: std::path::PathBuf,
}

impl FileRecorder {
    pub fn create(path: &std::path::Path, header: &Header) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create trace file {}", path.display()))?;
        Ok(Self {
            writer: TraceWriter::new(file, header)
                .with_context(|| format!("cannot write trace file {}", path.display()))?,
            path: path.to_owned(),
        })
    }
}

impl crate::pipeline::RecordSink for FileRecorder {
    fn write(&mut self, record: &Record) -> anyhow::Result<()> {
        use anyhow::Context as _;
        self.writer
            .write(record)
            .with_context(|| format!("writing trace {}", self.path.display()))
    }

    fn close(&mut self) -> anyhow::Result<()> {
        use anyhow::Context as _;
        self.writer
            .flush()
            .with_context(|| format!("flushing trace {}", self.path.display()))
    }
}

/// A line that could not be used, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trace line {line}: {message}")]
pub struct BadLine {
    pub line: u64,
    pub message: String,
}

/// Reads a trace: the header first, then records; bad lines are returned as
/// `Err(BadLine)` and reading goes on.
pub struct TraceReader<R: BufRead> {
    input: R,
    line_no: u64,
    pub header: Header,
    buf: String,
}

/// Why a trace cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the trace is empty (expected a header line)")]
    Empty,
    #[error("line 1 is not a trace header: {0}")]
    BadHeader(String),
    #[error("not a sensor trace: format is {0:?}, expected {FORMAT:?}")]
    WrongFormat(String),
    #[error("trace version {0} is not supported (this sensor reads version {VERSION})")]
    WrongVersion(u32),
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl<R: BufRead> TraceReader<R> {
    pub fn new(mut input: R) -> Result<Self, OpenError> {
        let mut buf = String::new();
        if input.read_line(&mut buf)? == 0 {
            return Err(OpenError::Empty);
        }
        let header: Header = serde_json::from_str(buf.trim_end())
            .map_err(|e| OpenError::BadHeader(e.to_string()))?;
        if header.format != FORMAT {
            return Err(OpenError::WrongFormat(header.format));
        }
        if header.version != VERSION {
            return Err(OpenError::WrongVersion(header.version));
        }
        Ok(Self {
            input,
            line_no: 1,
            header,
            buf,
        })
    }

    /// The next record; `Some(Err)` for a line that is not one (skip it).
    pub fn next_record(&mut self) -> Option<Result<Record, BadLine>> {
        loop {
            self.buf.clear();
            match self.input.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.line_no += 1;
                    return Some(Err(BadLine {
                        line: self.line_no,
                        message: e.to_string(),
                    }));
                }
            }
            self.line_no += 1;
            let text = self.buf.trim();
            if text.is_empty() {
                continue;
            }
            let value: serde_json::Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    return Some(Err(BadLine {
                        line: self.line_no,
                        message: format!("not JSON: {e}"),
                    }))
                }
            };
            let kind = value
                .get("type")
                .and_then(|t| t.as_str())
                .map(str::to_owned);
            match kind.as_deref() {
                Some("exec") | Some("lost") => {}
                Some(other) => {
                    tracing::debug!(
                        "trace line {}: skipping record type {other:?}",
                        self.line_no
                    );
                    continue;
                }
                None => {
                    return Some(Err(BadLine {
                        line: self.line_no,
                        message: "record has no \"type\"".into(),
                    }))
                }
            }
            return Some(serde_json::from_value(value).map_err(|e| BadLine {
                line: self.line_no,
                message: e.to_string(),
            }));
        }
    }

    /// Line number of the last line read.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::ContentOrigin;
    use crate::event::Script;

    fn record(pid: u32) -> Record {
        Record::Exec(Box::new(ExecRecord {
            event: ExecEvent {
                ktime_ns: 5,
                comm: "bash".into(),
                cgroup_id: 9,
                mnt_ns: 1,
                pid_ns: 2,
                argv: vec!["bash".into(), vec![0xffu8, b'x'].into()],
                ..ExecEvent::for_test(
                    pid,
                    "/bin/bash",
                    &[],
                    Script::Inline {
                        inline: "echo hi".into(),
                    },
                )
            },
            enrichment: Enrichment {
                script: None,
                script_text: None,
                content_origin: ContentOrigin::Inline,
                missing_reason: None,
                binary: None,
                container: None,
                ancestors: vec![],
                stdin_feeder: None,
                hostname: "h".into(),
            },
            verdict: None,
            detection_latency_us: Some(12),
            create_time: Some("2024-01-01T00:00:00.000012Z".into()),
        }))
    }

    #[test]
    fn round_trip_with_a_bad_line_in_the_middle() {
        let mut out = Vec::new();
        let mut w = TraceWriter::new(&mut out, &Header::new("h".into(), 1, 2)).unwrap();
        w.write(&record(1)).unwrap();
        w.flush().unwrap();
        drop(w);
        out.extend_from_slice(b"{not json\n\n{\"type\":\"future_thing\"}\n{\"no\":\"type\"}\n");
        let mut w2 = Vec::new();
        serde_json::to_writer(&mut w2, &record(2)).unwrap();
        out.extend_from_slice(&w2);
        out.extend_from_slice(b"\n{\"type\":\"exec\",\"event\":{}}\n");

        let mut r = TraceReader::new(io::Cursor::new(out)).unwrap();
        assert_eq!(r.header.version, VERSION);
        assert_eq!(r.next_record(), Some(Ok(record(1))));
        assert_eq!(r.next_record().unwrap().unwrap_err().line, 3);
        assert_eq!(r.next_record().unwrap().unwrap_err().line, 6);
        assert_eq!(r.next_record(), Some(Ok(record(2))));
        assert_eq!(r.next_record().unwrap().unwrap_err().line, 8);
        assert_eq!(r.next_record(), None);
    }

    #[test]
    fn header_errors_are_clear() {
        assert!(matches!(
            TraceReader::new(io::Cursor::new(b"".to_vec())),
            Err(OpenError::Empty)
        ));
        assert!(matches!(
            TraceReader::new(io::Cursor::new(b"hello\n".to_vec())),
            Err(OpenError::BadHeader(_))
        ));
        let mut h = Header::new("h".into(), 1, 2);
        h.version = 99;
        let line = serde_json::to_string(&h).unwrap();
        let err = TraceReader::new(io::Cursor::new(line.into_bytes()))
            .err()
            .unwrap();
        assert!(err.to_string().contains("version 99"), "{err}");
    }
}
