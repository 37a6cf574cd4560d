//! Where findings go: stdout (default), an append-only JSONL file with
//! size-based rotation, and an HTTP webhook with an on-disk spool. The
//! webhook is a tokio task behind a bounded queue, so when it is down it
//! never holds up the others; stdout and the file are written by the
//! caller at once (a task and a blocking-pool hop per line were most of
//! the cost of printing a finding).
//!
//! API (inside a tokio runtime):
//! ```no_run
//! # async fn demo(msg: sensor::finding::NotificationMessage) -> anyhow::Result<()> {
//! let config = sensor::config::Config::load("sensor.toml")?;
//! let sinks = sensor::sink::Sinks::from_config(&config.sinks)?;
//! sinks.send(&msg).await?;      // queued for every sink
//! sinks.flush().await?;         // written / spooled durably
//! sinks.shutdown().await?;      // drain everything, then stop
//! # Ok(()) }
//! ```
//! From a plain thread (the pipeline's output thread), wrap it in
//! [`BlockingSinks`], the pipeline's `FindingSink`.

mod file;
mod stdout;
pub mod webhook;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::SinksConfig;
use crate::finding::NotificationMessage;

pub use webhook::WebhookStats;

/// One finding, serialized once for every sink.
#[derive(Debug)]
pub struct Line {
    /// The finding id (last segment of `finding.name`), or "" if none.
    pub id: String,
    /// The JSON document, without a trailing newline.
    pub json: String,
}

impl Line {
    /// A finding serialised straight from its structs (no intermediate
    /// `serde_json::Value`; the same bytes, see `finding::scc`).
    pub fn of(msg: &NotificationMessage) -> anyhow::Result<Self> {
        let id = msg
            .finding
            .name
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        Ok(Self {
            id,
            json: serde_json::to_string(msg).context("cannot serialize a finding")?,
        })
    }

    /// Any JSON document as a finding line.
    pub fn new(value: &serde_json::Value) -> anyhow::Result<Self> {
        let id = value
            .pointer("/finding/name")
            .and_then(|n| n.as_str())
            .and_then(|n| n.rsplit('/').next())
            .unwrap_or("")
            .to_string();
        Ok(Self {
            id,
            json: serde_json::to_string(value).context("cannot serialize a finding")?,
        })
    }
}

enum Command {
    Write(Arc<Line>),
    /// Answered once everything sent before it is written (or spooled).
    Flush(oneshot::Sender<()>),
}

/// Each sink task's queue; beyond it `send` waits (backpressure to the
/// finding stage, never to capture, which has its own drop-counting queue).
const QUEUE: usize = 1024;

struct Output {
    name: &'static str,
    tx: mpsc::Sender<Command>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Every configured sink.
pub struct Sinks {
    stdout: Option<std::sync::Mutex<stdout::Direct>>,
    file: Option<std::sync::Mutex<file::FileSink>>,
    /// The queued sinks (the webhook).
    outputs: Vec<Output>,
    webhook: Option<Arc<WebhookStats>>,
}

impl Sinks {
    /// Open every sink in `config` (spawns their tasks: call it inside a
    /// tokio runtime). Fails on a file that cannot be opened or a spool
    /// directory that cannot be used, naming it.
    pub fn from_config(config: &SinksConfig) -> anyhow::Result<Self> {
        let mut outputs = Vec::new();
        let mut webhook_stats = None;
        let stdout = config
            .stdout
            .then(|| std::sync::Mutex::new(stdout::Direct::new()));
        let file = match &config.file {
            Some(cfg) => Some(std::sync::Mutex::new(file::FileSink::open(cfg)?)),
            None => None,
        };
        if let Some(cfg) = &config.webhook {
            let (sink, stats) = webhook::Webhook::open(cfg)?;
            let (tx, rx) = mpsc::channel(QUEUE);
            webhook_stats = Some(stats);
            outputs.push(Output {
                name: "webhook",
                tx,
                task: tokio::spawn(sink.run(rx)),
            });
        }
        Ok(Self {
            stdout,
            file,
            outputs,
            webhook: webhook_stats,
        })
    }

    /// Queue one finding for every sink.
    pub async fn send(&self, msg: &NotificationMessage) -> anyhow::Result<()> {
        self.send_line(Line::of(msg)?).await
    }

    /// Queue one already-built JSON finding for every sink (stdout and
    /// file: write it now, from this thread).
    pub async fn send_json(&self, value: &serde_json::Value) -> anyhow::Result<()> {
        self.send_line(Line::new(value)?).await
    }

    /// Queue one serialised finding for every sink (stdout and file: write
    /// it now, from this thread).
    pub async fn send_line(&self, line: Line) -> anyhow::Result<()> {
        self.write_direct(&line);
        if self.outputs.is_empty() {
            return Ok(());
        }
        self.queue(Arc::new(line)).await
    }

    /// Stdout and the file, from the caller's thread.
    fn write_direct(&self, line: &Line) {
        if let Some(stdout) = &self.stdout {
            stdout.lock().unwrap_or_else(|p| p.into_inner()).write(line);
        }
        if let Some(file) = &self.file {
            file.lock().unwrap_or_else(|p| p.into_inner()).write(line);
        }
    }

    async fn queue(&self, line: Arc<Line>) -> anyhow::Result<()> {
        for out in &self.outputs {
            out.tx
                .send(Command::Write(line.clone()))
                .await
                .map_err(|_| anyhow::anyhow!("the {} sink has stopped", out.name))?;
        }
        Ok(())
    }

    /// Wait until every sink has written (stdout, file) or durably spooled
    /// (webhook) every finding sent so far. Delivery to the webhook
    /// continues in the background.
    pub async fn flush(&self) -> anyhow::Result<()> {
        if let Some(stdout) = &self.stdout {
            stdout.lock().unwrap_or_else(|p| p.into_inner()).flush();
        }
        for out in &self.outputs {
            let (ack, done) = oneshot::channel();
            out.tx
                .send(Command::Flush(ack))
                .await
                .map_err(|_| anyhow::anyhow!("the {} sink has stopped", out.name))?;
            done.await
                .map_err(|_| anyhow::anyhow!("the {} sink has stopped", out.name))?;
        }
        Ok(())
    }

    /// Drain and stop: every queued finding is written, files are synced,
    /// and the webhook keeps delivering its spool until it is empty or
    /// `drain_timeout_secs` has passed (what is left stays spooled for the
    /// next start). Returns the first sink error.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        if let Some(stdout) = &self.stdout {
            stdout.lock().unwrap_or_else(|p| p.into_inner()).flush();
        }
        let mut first_err = None;
        if let Some(file) = &self.file {
            if let Err(err) = file.lock().unwrap_or_else(|p| p.into_inner()).close() {
                tracing::error!("file sink: {err:#}");
                first_err = Some(err);
            }
        }
        let mut tasks = Vec::new();
        for out in self.outputs {
            drop(out.tx);
            tasks.push((out.name, out.task));
        }
        for (name, task) in tasks {
            let result = match task.await {
                Ok(r) => r,
                Err(e) => Err(anyhow::anyhow!("the {name} sink task failed: {e}")),
            };
            if let Err(err) = result {
                tracing::error!("{name} sink: {err:#}");
                first_err.get_or_insert(err);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// The webhook's delivery counters, when one is configured.
    pub fn webhook_stats(&self) -> Option<Arc<WebhookStats>> {
        self.webhook.clone()
    }
}

/// [`Sinks`] for a plain (non-async) thread, as the pipeline's `FindingSink`.
pub struct BlockingSinks {
    sinks: Option<Sinks>,
    runtime: tokio::runtime::Handle,
}

impl BlockingSinks {
    /// `runtime` runs the sink tasks; `send` and `close` must not be called
    /// from one of its worker threads.
    pub fn new(sinks: Sinks, runtime: tokio::runtime::Handle) -> Self {
        Self {
            sinks: Some(sinks),
            runtime,
        }
    }
}

impl crate::pipeline::FindingSink for BlockingSinks {
    fn send(&mut self, finding: Line) -> anyhow::Result<()> {
        let sinks = self
            .sinks
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("sinks already closed"))?;
        // Stdout and the file need no trip through the runtime.
        sinks.write_direct(&finding);
        if sinks.outputs.is_empty() {
            return Ok(());
        }
        self.runtime.block_on(sinks.queue(Arc::new(finding)))
    }

    /// Stdout and the file are written from the worker: the webhook goes
    /// through its queue, which may be full, so its findings are given back.
    fn try_send(&mut self, finding: Line) -> Result<anyhow::Result<()>, Line> {
        match &self.sinks {
            Some(sinks) if sinks.outputs.is_empty() => {
                sinks.write_direct(&finding);
                Ok(Ok(()))
            }
            _ => Err(finding),
        }
    }

    fn close(&mut self) -> anyhow::Result<()> {
        match self.sinks.take() {
            Some(sinks) => self.runtime.block_on(sinks.shutdown()),
            None => Ok(()),
        }
    }
}
