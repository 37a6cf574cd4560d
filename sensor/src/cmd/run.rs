//! `sensor run`: the live sensor. Capture -> enrich -> score -> finding ->
//! sinks, until `--duration` elapses or Ctrl-C; then every queue drains,
//! every sink is flushed, and a summary goes to stderr.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sensor::capture::{Capture, CaptureConfig, CaptureEvent, Stats};
use sensor::config::Config;
use sensor::content::ReadLimits;
use sensor::detection::Verdict;
use sensor::enrich::{EnrichConfig, Enricher};
use sensor::event::ExecEvent;
use sensor::finding::SccFindings;
use sensor::kernel_content::{ContentStore, StdinPeek};
use sensor::metrics::Metrics;
use sensor::pipeline::{
    CapturedExec, EventInput, FindingSink, Language, Outputs, Pipeline, PipelineOptions,
    RecordSink, ScoreStage, Scorer,
};
use sensor::score::ModelScorer;
use sensor::sink::{BlockingSinks, Sinks};
use sensor::stdin_peek::KernelReads;
use sensor::trace::{FileRecorder, Header};

/// `sensor run`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// TOML configuration (organization, source, project, sinks, limits).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Stop after this many seconds, flushing every sink (default: until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Write findings (JSONL) to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also record every exec seen (with its contents and verdict) to TRACE.
    #[arg(long, value_name = "TRACE")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Options shared by `run` and `record`.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// Read exec events (JSON lines, as `sensor watch` prints them) from FILE
    /// (`-` for stdin) instead of capturing them in the kernel (no root or
    /// eBPF needed). The events' processes are still looked up on this host.
    #[arg(long, value_name = "FILE")]
    pub from_events: Option<PathBuf>,
    /// Hash at most this many bytes of a script (beyond: partiallyHashed).
    /// Default: `limits.hash_bytes` of the configuration (16 MiB).
    #[arg(long, value_name = "BYTES")]
    pub hash_limit: Option<u64>,
    /// Keep at most this many bytes of a script as its contents (and score
    /// them). Default: `limits.contents_bytes` of the configuration (64 KiB).
    #[arg(long, value_name = "BYTES")]
    pub contents_limit: Option<usize>,
    /// Concurrent enrichment workers.
    #[arg(long, value_name = "N", default_value_t = PipelineOptions::default().workers)]
    pub workers: usize,
    /// Capture -> enrich queue length; events beyond it are dropped and counted.
    #[arg(long, value_name = "N", default_value_t = PipelineOptions::default().event_queue)]
    pub event_queue: usize,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// How long a script that could not be read from user space (piped,
    /// deleted, memfd) waits for the kernel's copy before it is scored with
    /// what arrived; the interpreter exiting ends the wait sooner. When not
    /// a byte has arrived by then (an interpreter still starting on a loaded
    /// machine), it waits up to 10 times as long.
    #[arg(long, value_name = "MS", default_value_t = sensor::kernel_content::DEFAULT_WAIT.as_millis() as u64)]
    pub content_wait_ms: u64,
    /// Script bytes the kernel copies per interpreter as it reads its script
    /// or stdin (piped and deleted scripts are only seen this way); 0: off.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub kernel_content_bytes: u32,
    /// Peek at a script piped to an interpreter's stdin right after its exec
    /// (tee(2), nothing taken from the pipe), so it is judged before the
    /// interpreter reads it; the kernel's copy is the fallback.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub stdin_peek: bool,
    /// Kernel ring buffer size (a power of two, 64 KiB to 1 GiB). Default:
    /// `limits.ring_buffer_bytes` of the configuration (4 MiB).
    #[arg(long, value_name = "BYTES", value_parser = parse_ring_bytes)]
    pub ring_buffer_bytes: Option<u32>,
    /// SCHED_FIFO priority (1-99) of the sensor's threads, so verdicts do not
    /// queue behind busy workloads; 0: normal scheduling. Default:
    /// `scheduling.realtime_priority` of the configuration (1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=99))]
    pub realtime_priority: Option<u8>,
}

/// `--ring-buffer-bytes`: the kernel takes powers of two only.
fn parse_ring_bytes(text: &str) -> Result<u32, String> {
    let bytes: u32 = text.parse().map_err(|err| format!("{err}"))?;
    sensor::capture::check_ring_buffer_bytes(bytes)
}

impl LiveArgs {
    fn limits(&self, config: &Config) -> ReadLimits {
        ReadLimits {
            hash_limit: self.hash_limit.unwrap_or(config.limits.hash_bytes),
            contents_limit: self.contents_limit.unwrap_or(config.limits.contents_bytes),
        }
    }

    fn capture_config(&self, config: &Config) -> CaptureConfig {
        CaptureConfig {
            max_content_bytes: self.kernel_content_bytes,
            max_args: config.limits.argv_max_args,
            max_argv_bytes: u32::try_from(config.limits.argv_max_bytes).unwrap_or(u32::MAX),
            ring_buffer_bytes: self
                .ring_buffer_bytes
                .unwrap_or(config.limits.ring_buffer_bytes),
            ..CaptureConfig::default()
        }
    }

    /// Schedule the calling thread, and so every thread started after it,
    /// as configured. Call before the runtime starts. Without the privilege
    /// the sensor still runs, normally scheduled, and says so.
    pub(crate) fn apply_scheduling(&self, config: &Config) {
        let priority = self
            .realtime_priority
            .unwrap_or(config.scheduling.realtime_priority);
        if priority == 0 {
            return;
        }
        match sensor::priority::run_realtime(priority) {
            Ok(()) => tracing::debug!("sensor threads run at SCHED_FIFO priority {priority}"),
            Err(err) => tracing::warn!(
                "cannot run at real-time priority {priority} ({err}); running normally \
                 scheduled, so verdicts may wait for a core on a busy machine \
                 (needs CAP_SYS_NICE; `--realtime-priority 0` or \
                 `scheduling.realtime_priority = 0` turns this off)"
            ),
        }
    }

    fn pipeline_options(&self) -> PipelineOptions {
        PipelineOptions {
            event_queue: self.event_queue,
            workers: self.workers.max(1),
            content_wait: Duration::from_millis(self.content_wait_ms),
            // Kernel events: each result as soon as it is judged. Event
            // files: in file order, for output that does not vary by run.
            ordered: self.from_events.is_some(),
            ..Default::default()
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut config = load_config(args.config.as_deref())?;
    if let Some(path) = &args.output {
        config.redirect_output(path);
    }
    let config = Arc::new(config);
    args.live.apply_scheduling(&config);
    block_on(async {
        let outputs = Outputs {
            findings: Arc::new(SccFindings::new(config.clone())),
            sink: finding_sinks(&config)?,
            recorder: None,
        };
        live(
            &args.live,
            &config,
            outputs,
            args.record.as_deref(),
            args.duration,
        )
        .await
    })?
}

/// The configuration file, or the defaults without one.
pub(crate) fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(path) => Ok(Config::load(path)?),
        None => Ok(Config::default()),
    }
}

/// The configured sinks (stdout, file, webhook) as the pipeline's sink.
/// Call inside the runtime: the sinks are tokio tasks.
pub(crate) fn finding_sinks(config: &Config) -> anyhow::Result<Box<dyn FindingSink>> {
    let sinks = Sinks::from_config(&config.sinks)?;
    Ok(Box::new(BlockingSinks::new(
        sinks,
        tokio::runtime::Handle::current(),
    )))
}

/// Run a command's future on a multi-threaded runtime; once it is done,
/// do not wait for readers still blocked on input nobody needs any more.
pub(crate) fn block_on<F: std::future::Future>(fut: F) -> anyhow::Result<F::Output> {
    // One async worker: the async stages only hand events between queues
    // (enrichment and scoring run on blocking threads), and with one worker
    // those hand-offs stay on one thread instead of waking another.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_secs(60))
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let out = rt.block_on(fut);
    rt.shutdown_background();
    Ok(out)
}

/// Which classifier scores scripts.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// Score with this model instead of the built-in one (needs --model-meta).
    #[arg(long, requires = "model_meta", value_name = "FILE.onnx")]
    pub model: Option<PathBuf>,
    /// The model's sidecar JSON (thresholds, feature schema), written by `cargo xtask train`.
    #[arg(long, requires = "model", value_name = "FILE.json")]
    pub model_meta: Option<PathBuf>,
}

impl ModelArgs {
    /// Load the classifier now (errors name what is missing).
    pub(crate) fn load(&self) -> anyhow::Result<ModelScorer> {
        match (&self.model, &self.model_meta) {
            (Some(model), Some(meta)) => ModelScorer::load_files(model, meta),
            _ => ModelScorer::load(),
        }
    }

    /// The classifier, loaded on first use: a replay whose records all carry
    /// verdicts needs no model (and no onnxruntime).
    pub(crate) fn lazy(&self) -> Arc<dyn Scorer> {
        Arc::new(LazyModel {
            args: self.clone(),
            model: std::sync::OnceLock::new(),
        })
    }
}

struct LazyModel {
    args: ModelArgs,
    model: std::sync::OnceLock<Result<ModelScorer, String>>,
}

impl LazyModel {
    fn get(&self) -> &Result<ModelScorer, String> {
        self.model.get_or_init(|| {
            self.args.load().map_err(|err| {
                tracing::error!("{err:#}");
                format!("{err:#}")
            })
        })
    }
}

impl Scorer for LazyModel {
    fn score(&self, language: Language, text: &str) -> Verdict {
        match self.get() {
            Ok(model) => model.score(language, text),
            Err(err) => Verdict {
                score: 0.0,
                threshold: 1.0,
                model_version: "unavailable".into(),
                malicious: false,
                evidence: vec![format!("not scored: {err}")],
            },
        }
    }

    fn model_version(&self) -> String {
        match self.get() {
            Ok(model) => model.model_version(),
            Err(_) => "unavailable".into(),
        }
    }
}

/// glibc gives every thread that allocates its own arena (up to 8 per
/// core), and the enrichment threads each leave theirs fragmented: two
/// arenas hold the sensor's resident memory down at no measurable cost.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; called before the
    // pipeline's threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// How often capture's kernel counters are copied into the metrics.
const CAPTURE_STATS_EVERY: Duration = Duration::from_secs(1);

/// Run the live pipeline into `outputs` (plus a trace recorder when
/// `record` is set) and print the exit summary.
pub(crate) async fn live(
    args: &LiveArgs,
    config: &Config,
    mut outputs: Outputs,
    record: Option<&Path>,
    duration: Option<f64>,
) -> anyhow::Result<()> {
    limit_malloc_arenas();
    let metrics = Metrics::new();
    if let Some(addr) = &args.metrics_addr {
        let bound = sensor::metrics::serve(addr, metrics.clone())?;
        tracing::info!("metrics at http://{bound}/metrics");
    }
    let limits = args.limits(config);
    let enricher = Enricher::new(EnrichConfig {
        limits,
        proc: config.host.proc.clone(),
        metadata_roots: config.host.metadata_roots(),
        hostname: config.host.resolved_name().map_err(anyhow::Error::msg)?,
        ..Default::default()
    });
    let scorer: Arc<dyn Scorer> = Arc::new(args.model.load()?);
    let score = Arc::new(ScoreStage::new(scorer, metrics.clone()));
    if let Some(path) = record {
        let mut header = Header::new(
            enricher.hostname().to_string(),
            limits.hash_limit,
            limits.contents_limit as u64,
        );
        header.model_version = Some(score.model_version());
        outputs.recorder =
            Some(Box::new(FileRecorder::create(path, &header)?) as Box<dyn RecordSink>);
    }
    let pinner = enricher.clone();
    let (pipeline, input) = Pipeline::start_live(
        enricher,
        score,
        outputs,
        metrics.clone(),
        &args.pipeline_options(),
    );
    let started = Instant::now();
    let stop = super::stop_signal(duration);
    let mut capture_stats = None;
    match &args.from_events {
        Some(path) => {
            let path = path.clone();
            let metrics = metrics.clone();
            // A plain thread, not spawn_blocking: a read from a stdin that
            // never ends must not keep the runtime from shutting down.
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                let _ = done_tx.send(events_from_file(&path, input, &metrics));
            });
            tokio::select! {
                result = done_rx => result.unwrap_or_else(|_| {
                    Err(anyhow::anyhow!("the event reader thread panicked"))
                })?,
                // The reader notices the closed pipeline on its next event; do not wait for it.
                _ = stop => tracing::info!("stopping: draining the pipeline"),
            }
        }
        None => {
            // A `-c` text judged before that warrants no finding stops in
            // capture's reader: no task is woken for it.
            let judged = input.clone();
            let (capture, events) = Capture::start_judged(
                args.capture_config(config),
                Some(Box::new(move |event| judged.take_judged(event))),
            )?;
            tracing::info!("capturing interpreter execs");
            let mut store = ContentStore::new(args.kernel_content_bytes as usize)
                .with_demand(capture.content_demand());
            if args.stdin_peek && args.kernel_content_bytes > 0 {
                store = with_stdin_peek(
                    store,
                    &capture,
                    &metrics,
                    args.kernel_content_bytes,
                    &config.host.proc,
                );
            }
            let consumer = tokio::spawn(feed_pipeline(events, input, store, pinner));
            // The kernel's counters reach the metrics endpoint while running.
            let mut tick = tokio::time::interval(CAPTURE_STATS_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tick.tick() => metrics.record_capture(&capture.stats()),
                }
            }
            tracing::info!("stopping: detaching, then draining the pipeline");
            // Delivers what is still in the ring buffer, then closes the channel.
            let stats = capture.stop().await;
            metrics.record_capture(&stats);
            capture_stats = Some(stats);
            consumer.await?;
        }
    }
    pipeline.finish().await?;
    print_summary_with(&metrics, started.elapsed(), capture_stats);
    Ok(())
}

/// Peeks at piped stdin scripts, judged by the kernel's read state.
fn with_stdin_peek(
    store: ContentStore,
    capture: &Capture,
    metrics: &Metrics,
    limit: u32,
    proc: &Path,
) -> ContentStore {
    let maps = capture.lru_map("TRACKED").zip(capture.lru_map("READS"));
    let reads = maps.ok_or_else(|| std::io::Error::other("no TRACKED/READS maps"));
    match reads.and_then(|(tracked, reads)| KernelReads::new(tracked, reads)) {
        Ok(reads) => store.with_stdin_peek(
            StdinPeek::new(Arc::new(reads.with_proc(proc)), limit as usize)
                .with_proc(proc)
                .with_metrics(metrics.stdin_peeks.clone()),
        ),
        Err(err) => {
            tracing::warn!("stdin scripts are judged from the kernel's copy only (no peek): {err}");
            store
        }
    }
}

/// Capture -> pipeline. Execs are offered (dropped and counted if the
/// pipeline is full, so this loop never stalls the ring buffer); content and
/// exit records go to the content store, where the pipeline picks them up.
async fn feed_pipeline(
    mut events: tokio::sync::mpsc::Receiver<CaptureEvent>,
    input: EventInput,
    store: ContentStore,
    pinner: Enricher,
) {
    while let Some(event) = events.recv().await {
        match event {
            CaptureEvent::Exec(event) => {
                // Judged execs were taken by capture's reader (which sends
                // an Exit for the pid when it ran something before).
                let root = pinner.pin_root(&event);
                let capture = store.exec_event(&event);
                let exec = CapturedExec {
                    event,
                    kernel_content: Some(capture),
                    root,
                };
                // This task was woken for this exec alone: do its work
                // here rather than wake a blocking thread for it.
                if events.is_empty() {
                    input.offer_here(exec);
                } else {
                    input.offer(exec);
                }
            }
            CaptureEvent::Content {
                pid,
                offset,
                bytes,
                last,
                ..
            } => store.content(pid, offset, &bytes, last),
            CaptureEvent::Exit { pid } => store.exit(pid),
        }
    }
    // The channel closes after capture's last record: nothing more will come.
    store.finish_all();
}

/// Feed JSONL events to the pipeline, waiting for room (a file is not a
/// kernel ring buffer: nothing needs dropping). Bad lines are reported.
fn events_from_file(path: &Path, input: EventInput, metrics: &Metrics) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path)
                .with_context(|| format!("cannot open events file {}", path.display()))?,
        ))
    };
    for (idx, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<ExecEvent>(&line) {
            Ok(event) => {
                let exec = CapturedExec {
                    event,
                    kernel_content: None,
                    root: None,
                };
                if !input.send_blocking(exec) {
                    break;
                }
            }
            Err(err) => {
                metrics.bad_trace_lines.inc();
                eprintln!(
                    "{}:{}: not an exec event, skipped: {err}",
                    path.display(),
                    idx + 1
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn print_summary(metrics: &Metrics, elapsed: Duration) {
    print_summary_with(metrics, elapsed, None)
}

/// One JSON line on stderr: pipeline counters, and the kernel's when live.
fn print_summary_with(metrics: &Metrics, elapsed: Duration, capture: Option<Stats>) {
    let mut line = serde_json::json!({
        "summary": metrics.summary(),
        "elapsed_s": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
    });
    if let Some(stats) = capture {
        line["capture"] = serde_json::json!({
            "events": stats.events,
            "kernel_execs": stats.kernel_execs,
            "exec_drops": stats.exec_drops,
            "content_drops": stats.content_drops,
            "decode_errors": stats.decode_errors,
        });
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}
