//! HTTP webhook: each finding is POSTed as one JSON document.
//!
//! Delivery is store-and-forward so nothing is lost and nothing is sent
//! twice by the sensor:
//! 1. intake writes the finding to `spool_dir/{seq:020}-{id}.json`
//!    atomically (temporary file, fsync, rename, directory fsync);
//! 2. one delivery task POSTs the spool in order; after a 2xx the file is
//!    deleted and the next one goes. Connection errors, timeouts, 408, 429
//!    and 5xx are retried with exponential backoff (`retry_initial_ms`
//!    doubling up to `retry_max_ms`), blocking the queue so order is kept;
//!    other answers (4xx, 3xx) are permanent: the file moves to
//!    `spool_dir/rejected/` for an operator and delivery goes on.
//! 3. at shutdown delivery goes on until the spool is empty or
//!    `drain_timeout_secs` has passed; what is left is delivered by the next
//!    start, before anything new.
//!
//! Every request carries `Idempotency-Key: <finding id>`: an endpoint that
//! crashes after storing a finding but before answering will see it again,
//! and can drop the repeat by that key. A lock file keeps two sensors off
//! one spool.

use std::collections::VecDeque;
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Command, Line};
use crate::config::WebhookConfig;

/// Delivery counters (for tests, metrics and the exit summary).
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Findings written to the spool.
    pub spooled: AtomicU64,
    /// Findings acknowledged with a 2xx.
    pub delivered: AtomicU64,
    /// Failed attempts that will be retried.
    pub retries: AtomicU64,
    /// Findings refused by the endpoint, kept in `rejected/`.
    pub rejected: AtomicU64,
    /// Findings in the spool, not yet acknowledged.
    pub pending: AtomicU64,
}

pub(super) struct Webhook {
    cfg: WebhookConfig,
    spool: Spool,
    client: reqwest::Client,
    headers: reqwest::header::HeaderMap,
    stats: Arc<WebhookStats>,
}

impl Webhook {
    pub(super) fn open(cfg: &WebhookConfig) -> anyhow::Result<(Self, Arc<WebhookStats>)> {
        let spool = Spool::open(&cfg.spool_dir)?;
        let stats = Arc::new(WebhookStats::default());
        stats
            .pending
            .store(spool.backlog.len() as u64, Ordering::Relaxed);
        if !spool.backlog.is_empty() {
            tracing::info!(
                "webhook: {} findings spooled by an earlier run will be delivered first",
                spool.backlog.len()
            );
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(cfg.timeout_secs))
            .connect_timeout(Duration::from_secs_f64(cfg.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("runtime-script-sensor/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the webhook HTTP client")?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &cfg.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .with_context(|| format!("webhook header name {name:?}"))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .with_context(|| format!("webhook header {name} has an invalid value"))?;
            headers.insert(name, value);
        }
        Ok((
            Self {
                cfg: cfg.clone(),
                spool,
                client,
                headers,
                stats: stats.clone(),
            },
            stats,
        ))
    }

    /// Intake: spool every finding, hand it to delivery, answer flushes.
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Command>) -> anyhow::Result<()> {
        let (deliver_tx, deliver_rx) = mpsc::unbounded_channel();
        let backlog = std::mem::take(&mut self.spool.backlog);
        let delivery = Delivery {
            url: self.cfg.url.clone(),
            client: self.client.clone(),
            headers: self.headers.clone(),
            rejected_dir: self.spool.dir.join("rejected"),
            initial: Duration::from_millis(self.cfg.retry_initial_ms),
            max: Duration::from_millis(self.cfg.retry_max_ms),
            drain: Duration::from_secs_f64(self.cfg.drain_timeout_secs),
            stats: self.stats.clone(),
        };
        let deliver = tokio::spawn(delivery.run(backlog, deliver_rx));
        let mut first_err = None;
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Command::Write(line) => match self.spool.write(&line).await {
                    Ok(path) => {
                        self.stats.spooled.fetch_add(1, Ordering::Relaxed);
                        self.stats.pending.fetch_add(1, Ordering::Relaxed);
                        let _ = deliver_tx.send(path);
                    }
                    Err(err) => {
                        tracing::error!("webhook: finding {} lost: {err:#}", line.id);
                        first_err.get_or_insert(err);
                    }
                },
                Command::Flush(ack) => {
                    let _ = ack.send(());
                }
            }
        }
        drop(deliver_tx);
        deliver.await.context("the webhook delivery task failed")?;
        drop(self.spool);
        first_err.map_or(Ok(()), Err)
    }
}

/// The spool directory, locked for this process.
struct Spool {
    dir: PathBuf,
    next_seq: u64,
    /// Files left by an earlier run, oldest first.
    backlog: VecDeque<PathBuf>,
    _lock: std::fs::File,
}

impl Spool {
    fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create webhook spool directory {}", dir.display()))?;
        let lock_path = dir.join(".lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            anyhow::bail!(
                "webhook spool directory {} is in use by another sensor; give each sensor its own spool_dir",
                dir.display()
            );
        }
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)
            .with_context(|| format!("cannot read webhook spool directory {}", dir.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                // A write that never completed: never acknowledged to anyone.
                let _ = std::fs::remove_file(entry.path());
            } else if let Some(seq) = spool_seq(&name) {
                names.push((seq, entry.path()));
            }
        }
        names.sort();
        let next_seq = names.last().map_or(0, |(seq, _)| seq + 1);
        Ok(Self {
            dir: dir.to_owned(),
            next_seq,
            backlog: names.into_iter().map(|(_, p)| p).collect(),
            _lock: lock,
        })
    }

    /// Durably store one finding; returns its spool path.
    async fn write(&mut self, line: &Line) -> anyhow::Result<PathBuf> {
        let id: String = line
            .id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(64)
            .collect();
        let name = format!(
            "{:020}-{}.json",
            self.next_seq,
            if id.is_empty() { "x" } else { &id }
        );
        self.next_seq += 1;
        let dir = self.dir.clone();
        let body = line.json.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<PathBuf> {
            use std::io::Write as _;
            let tmp = dir.join(format!(".{name}.tmp"));
            let path = dir.join(&name);
            let mut f = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            f.write_all(body.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("cannot rename {} into place", tmp.display()))?;
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(path)
        })
        .await
        .context("spool writer panicked")?
    }
}

/// `{seq:020}-{id}.json` -> seq.
fn spool_seq(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".json")?;
    let (seq, _) = stem.split_once('-')?;
    if seq.len() != 20 {
        return None;
    }
    seq.parse().ok()
}

struct Delivery {
    url: String,
    client: reqwest::Client,
    headers: reqwest::header::HeaderMap,
    rejected_dir: PathBuf,
    initial: Duration,
    max: Duration,
    drain: Duration,
    stats: Arc<WebhookStats>,
}

enum Outcome {
    Delivered,
    Retry(String),
    Rejected(String),
}

impl Delivery {
    async fn run(self, mut queue: VecDeque<PathBuf>, mut rx: mpsc::UnboundedReceiver<PathBuf>) {
        let mut backoff = self.initial;
        // Set once intake has closed: from then on, stop at this deadline.
        let mut deadline: Option<Instant> = None;
        let mut failing = false;
        loop {
            // Take in everything spooled meanwhile, without waiting.
            loop {
                match rx.try_recv() {
                    Ok(path) => queue.push_back(path),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        deadline.get_or_insert_with(|| Instant::now() + self.drain);
                        break;
                    }
                }
            }
            let Some(path) = queue.front().cloned() else {
                if deadline.is_some() {
                    return;
                }
                match rx.recv().await {
                    Some(path) => queue.push_back(path),
                    None => return,
                }
                continue;
            };
            if deadline.is_some_and(|d| Instant::now() >= d) {
                tracing::warn!(
                    "webhook: {} findings not delivered before shutdown; they stay in the spool for the next start",
                    queue.len()
                );
                return;
            }
            match self.attempt(&path).await {
                Outcome::Delivered => {
                    if failing {
                        tracing::info!("webhook: endpoint reachable again, delivering the spool");
                        failing = false;
                    }
                    if let Err(err) = std::fs::remove_file(&path) {
                        // Keeping it would resend it: exactly-once matters more than the warning.
                        tracing::error!(
                            "webhook: delivered but cannot remove {}: {err}",
                            path.display()
                        );
                    }
                    self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                    self.stats.pending.fetch_sub(1, Ordering::Relaxed);
                    queue.pop_front();
                    backoff = self.initial;
                }
                Outcome::Rejected(why) => {
                    let kept = self.reject(&path);
                    tracing::error!(
                        "webhook: endpoint refused {}: {why}; kept as {}",
                        path.display(),
                        kept.display()
                    );
                    self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                    self.stats.pending.fetch_sub(1, Ordering::Relaxed);
                    queue.pop_front();
                }
                Outcome::Retry(why) => {
                    if !failing {
                        tracing::warn!(
                            "webhook: {why}; spooling findings and retrying with backoff (up to {:?})",
                            self.max
                        );
                        failing = true;
                    } else {
                        tracing::debug!("webhook: {why}; retrying in {backoff:?}");
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let mut wake = Instant::now() + backoff;
                    if let Some(d) = deadline {
                        wake = wake.min(d);
                    }
                    // Sleep, but keep taking in new findings (and notice shutdown).
                    loop {
                        tokio::select! {
                            _ = tokio::time::sleep_until(wake) => break,
                            next = rx.recv(), if deadline.is_none() => match next {
                                Some(path) => queue.push_back(path),
                                None => {
                                    let d = Instant::now() + self.drain;
                                    deadline = Some(d);
                                    wake = wake.min(d);
                                }
                            },
                        }
                    }
                    backoff = (backoff * 2).min(self.max);
                }
            }
        }
    }

    async fn attempt(&self, path: &Path) -> Outcome {
        let body = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(err) => return Outcome::Rejected(format!("cannot read spooled finding: {err}")),
        };
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.split_once('-'))
            .map(|(_, id)| id.to_string())
            .unwrap_or_default();
        let mut req = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if !id.is_empty() {
            req = req.header("Idempotency-Key", id);
        }
        match req.body(body).send().await {
            Ok(resp) => {
                let status = resp.status();
                // Read the answer so the connection can be reused.
                let _ = resp.bytes().await;
                if status.is_success() {
                    Outcome::Delivered
                } else if status.is_server_error()
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                {
                    Outcome::Retry(format!("{} answered {status}", self.url))
                } else {
                    Outcome::Rejected(format!("{} answered {status}", self.url))
                }
            }
            Err(err) => Outcome::Retry(format!(
                "cannot POST to {}: {}",
                self.url,
                error_chain(&err)
            )),
        }
    }

    fn reject(&self, path: &Path) -> PathBuf {
        let target = self.rejected_dir.join(path.file_name().unwrap_or_default());
        let moved = std::fs::create_dir_all(&self.rejected_dir)
            .and_then(|()| std::fs::rename(path, &target));
        match moved {
            Ok(()) => target,
            Err(err) => {
                tracing::error!(
                    "webhook: cannot move {} aside: {err}; deleting it",
                    path.display()
                );
                let _ = std::fs::remove_file(path);
                path.to_owned()
            }
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_names_sort_and_parse() {
        assert_eq!(spool_seq("00000000000000000042-abc.json"), Some(42));
        assert_eq!(spool_seq(".00000000000000000042-abc.json.tmp"), None);
        assert_eq!(spool_seq("rejected"), None);
        assert_eq!(spool_seq("42-abc.json"), None);
    }

    #[test]
    fn a_second_sensor_cannot_share_the_spool() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Spool::open(dir.path()).unwrap();
        let err = Spool::open(dir.path())
            .err()
            .expect("second open must fail");
        assert!(
            err.to_string().contains("in use by another sensor"),
            "{err}"
        );
    }

    #[test]
    fn leftovers_are_the_backlog_and_numbering_continues() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("00000000000000000007-b.json"), "{}").unwrap();
        std::fs::write(dir.path().join("00000000000000000003-a.json"), "{}").unwrap();
        std::fs::write(dir.path().join(".00000000000000000008-c.json.tmp"), "{").unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(spool.next_seq, 8);
        let names: Vec<_> = spool
            .backlog
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["00000000000000000003-a.json", "00000000000000000007-b.json"]
        );
        assert!(!dir.path().join(".00000000000000000008-c.json.tmp").exists());
    }
}
