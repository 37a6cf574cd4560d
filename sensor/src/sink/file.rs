//! Append-only JSONL file, rotated by size: before a line would take the
//! file past `max_bytes`, `PATH.{n-1}` becomes `PATH.{n}` (down to `PATH.1`),
//! `PATH` becomes `PATH.1`, and a new `PATH` is started. Lines are never
//! split across files. A write error is logged and the file reopened for
//! the next finding: one bad write does not stop the sensor.
//!
//! Written from the caller's thread, like stdout: appending a line to a
//! local file is one `write(2)` into the page cache, cheaper than the
//! blocking-pool hop (two thread wakeups) an async file costs per finding.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::config::FileSinkConfig;

pub(super) struct FileSink {
    path: PathBuf,
    max_bytes: u64,
    max_files: usize,
    file: Option<std::fs::File>,
    size: u64,
}

impl FileSink {
    pub(super) fn open(cfg: &FileSinkConfig) -> anyhow::Result<Self> {
        if let Some(dir) = cfg.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!(
                    "cannot create the directory of findings file {}",
                    cfg.path.display()
                )
            })?;
        }
        let file = open_append(&cfg.path)
            .with_context(|| format!("cannot open findings file {}", cfg.path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Self {
            path: cfg.path.clone(),
            max_bytes: cfg.max_bytes,
            max_files: cfg.max_files,
            file: Some(file),
            size,
        })
    }

    /// Append one finding; an error is logged (naming the finding) and the
    /// file is reopened for the next one.
    pub(super) fn write(&mut self, line: &super::Line) {
        if let Err(err) = self.append(line.json.as_bytes()) {
            tracing::error!(
                "findings file {}: {err:#}; finding {} not written",
                self.path.display(),
                line.id
            );
            self.file = None;
        }
    }

    /// Sync to disk (at shutdown).
    pub(super) fn close(&mut self) -> anyhow::Result<()> {
        if let Some(f) = self.file.take() {
            f.sync_all()
                .with_context(|| format!("cannot sync findings file {}", self.path.display()))?;
        }
        Ok(())
    }

    fn append(&mut self, json: &[u8]) -> anyhow::Result<()> {
        let len = json.len() as u64 + 1;
        if self.max_bytes > 0 && self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        if self.file.is_none() {
            let file = open_append(&self.path).context("cannot reopen")?;
            self.size = file.metadata().map(|m| m.len()).unwrap_or(0);
            self.file = Some(file);
        }
        let file = self.file.as_mut().expect("opened above");
        // The line and its newline in one write: an O_APPEND write lands
        // whole, so a reader never sees half a finding.
        let mut buf = Vec::with_capacity(json.len() + 1);
        buf.extend_from_slice(json);
        buf.push(b'\n');
        file.write_all(&buf)?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> anyhow::Result<()> {
        if let Some(f) = self.file.take() {
            f.sync_all()?;
        }
        for n in (1..self.max_files).rev() {
            let from = numbered(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, numbered(&self.path, n + 1))
                    .with_context(|| format!("cannot rotate {}", from.display()))?;
            }
        }
        std::fs::rename(&self.path, numbered(&self.path, 1))
            .with_context(|| format!("cannot rotate {}", self.path.display()))?;
        self.file = Some(open_append(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// `PATH.n`
fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::super::{Line, Sinks};
    use crate::config::{FileSinkConfig, SinksConfig};

    fn finding(n: usize) -> serde_json::Value {
        serde_json::json!({"finding": {"name": format!("organizations/1/sources/2/findings/{n:032x}")}})
    }

    fn lines(path: &std::path::Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    #[tokio::test]
    async fn rotates_by_size_and_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/findings.jsonl");
        let one = Line::new(&finding(0)).unwrap().json.len() as u64 + 1;
        let cfg = SinksConfig {
            stdout: false,
            file: Some(FileSinkConfig {
                path: path.clone(),
                max_bytes: one * 3,
                max_files: 2,
            }),
            webhook: None,
        };
        let sinks = Sinks::from_config(&cfg).unwrap();
        for n in 0..10 {
            sinks.send_json(&finding(n)).await.unwrap();
        }
        sinks.shutdown().await.unwrap();
        // 10 lines, 3 per file: PATH.2 = 3..6, PATH.1 = 6..9, PATH = 9; 0..3 rotated away.
        let ids = |p: &std::path::Path| -> Vec<u64> {
            lines(p)
                .iter()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let name = v["finding"]["name"].as_str().unwrap();
                    u64::from_str_radix(name.rsplit('/').next().unwrap(), 16).unwrap()
                })
                .collect()
        };
        assert_eq!(ids(&path), [9]);
        assert_eq!(ids(&super::numbered(&path, 1)), [6, 7, 8]);
        assert_eq!(ids(&super::numbered(&path, 2)), [3, 4, 5]);
        assert!(!super::numbered(&path, 3).exists());
    }

    #[tokio::test]
    async fn appends_to_an_existing_file_without_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jsonl");
        std::fs::write(&path, "{\"old\":1}\n").unwrap();
        let mut cfg = crate::config::Config::default();
        cfg.redirect_output(&path);
        let sinks = Sinks::from_config(&cfg.sinks).unwrap();
        for n in 0..50 {
            sinks.send_json(&finding(n)).await.unwrap();
        }
        sinks.flush().await.unwrap();
        assert_eq!(lines(&path).len(), 51);
        sinks.shutdown().await.unwrap();
        assert_eq!(lines(&path)[0], "{\"old\":1}");
    }

    #[test]
    fn a_worker_writes_the_file_itself_at_once() {
        use crate::pipeline::FindingSink as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jsonl");
        let mut cfg = crate::config::Config::default();
        cfg.redirect_output(&path);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sinks = rt
            .block_on(async { Sinks::from_config(&cfg.sinks) })
            .unwrap();
        let mut sink = super::super::BlockingSinks::new(sinks, rt.handle().clone());
        for n in 0..3 {
            let line = Line::new(&finding(n)).unwrap();
            assert!(matches!(sink.try_send(line), Ok(Ok(()))), "not given back");
            assert_eq!(lines(&path).len(), n + 1, "on disk before try_send returns");
        }
        sink.close().unwrap();
    }

    #[test]
    fn unopenable_file_is_named() {
        let cfg = SinksConfig {
            stdout: false,
            file: Some(FileSinkConfig::new("/proc/no/such/findings.jsonl")),
            webhook: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(async { Sinks::from_config(&cfg).map(|_| ()) })
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("/proc/no/such/findings.jsonl"),
            "{err:#}"
        );
    }
}
