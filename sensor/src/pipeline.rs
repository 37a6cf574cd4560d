//! The live pipeline: capture -> resolve/read/hash (enrich) -> score ->
//! finding -> sinks, joined by bounded queues.
//!
//! Capture only ever *offers* an event (`EventInput::offer`): when the first
//! queue is full the event is dropped and counted, so nothing downstream can
//! stall the kernel ring buffer. A `-c` text already judged that warrants no
//! finding is taken in before that (`EventInput::take_judged`) and goes no
//! further. Enrichment and scoring run on a pool of blocking workers (it
//! races the process's exit, so it starts at once). Released as judged (live
//! capture, no trace recorded), a worker builds its exec's findings and
//! writes them itself when the sink takes them without waiting (stdout, file);
//! otherwise each result goes to one output thread (in capture order for
//! event files, else as judged), which builds and writes the findings.
//! Later queues apply backpressure to the workers, never to capture. Traces
//! are tapped after scoring, so a record holds exactly what the finding was
//! made from.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

use crate::detection::{ContentOrigin, Detection, Enrichment, Verdict};
use crate::enrich::{missing_label, Enricher};
use crate::event::{boot_time_ns, ExecEvent};
use crate::metrics::Metrics;
pub use crate::sink::Line;
use crate::trace::{ExecRecord, Record};

/// The language a script is scored as; decides the finding category too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Shell,
    Python,
}

impl Language {
    /// From the interpreter binary's name (`python3.11`, `pypy3` -> Python).
    pub fn of(event: &ExecEvent) -> Self {
        let binary = event.binary.as_bytes();
        let base = binary.rsplit(|b| *b == b'/').next().unwrap_or(binary);
        let name = if base.is_empty() {
            event.comm.as_bytes()
        } else {
            base
        };
        if name.starts_with(b"python") || name.starts_with(b"pypy") {
            Self::Python
        } else {
            Self::Shell
        }
    }
}

/// Scores one script. The classifier (score.rs) implements this.
pub trait Scorer: Send + Sync + 'static {
    fn score(&self, language: Language, text: &str) -> Verdict;
    fn model_version(&self) -> String;
}

/// Turns a malicious detection into its output lines (SCC
/// NotificationMessages); the finding module implements this.
pub trait FindingBuilder: Send + Sync + 'static {
    /// The finding for this detection, serialised.
    fn build(&self, detection: &Detection) -> anyhow::Result<Line>;

    /// Every message for this detection; the pipeline calls this for every
    /// scored exec. By default the one finding when the verdict is malicious
    /// and none otherwise; builders with sibling categories (a reverse shell
    /// on a socket, a blocklisted URL) may return those for any detection.
    fn build_all(&self, detection: &Detection) -> anyhow::Result<Vec<Line>> {
        if detection.verdict.malicious {
            Ok(vec![self.build(detection)?])
        } else {
            Ok(Vec::new())
        }
    }

    /// Whether `build_all` could return anything for `detection`, of which
    /// only the event, the scored text, the verdict and the direct parent's
    /// pid, ppid and comm are filled in (no container, no older ancestors,
    /// no exe or cmdline). False lets the pipeline skip enriching the exec:
    /// answer true when unsure. By default: when the verdict is malicious.
    fn finds_anything(&self, detection: &Detection) -> bool {
        detection.verdict.malicious
    }
}

/// Where findings go. `send` runs on the output thread: it may block
/// (files, HTTP).
pub trait FindingSink: Send + 'static {
    fn send(&mut self, finding: Line) -> anyhow::Result<()>;
    /// Deliver now if that cannot wait on anything slow (a full queue, the
    /// network), from a worker thread; else give the finding back for the
    /// output thread's `send`. By default always given back.
    fn try_send(&mut self, finding: Line) -> Result<anyhow::Result<()>, Line> {
        Err(finding)
    }
    /// Deliver everything still buffered; called once at shutdown.
    fn close(&mut self) -> anyhow::Result<()>;
}

/// Receives every scored exec (malicious or not): the trace recorder.
pub trait RecordSink: Send + 'static {
    fn write(&mut self, record: &Record) -> anyhow::Result<()>;
    fn close(&mut self) -> anyhow::Result<()>;
}

/// The text that is scored for an enrichment.
pub fn scored_text(enrichment: &Enrichment) -> &str {
    enrichment
        .script_text
        .as_deref()
        .or_else(|| enrichment.script.as_ref()?.contents.as_deref())
        .unwrap_or("")
}

/// Scoring with a cache keyed by language and the text's sha256: a script
/// run a thousand times is scored once.
pub struct ScoreStage {
    scorer: Arc<dyn Scorer>,
    cache: Mutex<LruCache<(Language, [u8; 32]), Verdict>>,
    metrics: Metrics,
}

impl ScoreStage {
    pub fn new(scorer: Arc<dyn Scorer>, metrics: Metrics) -> Self {
        Self {
            scorer,
            cache: Mutex::new(LruCache::new(NonZeroUsize::new(8192).expect("non-zero"))),
            metrics,
        }
    }

    pub fn model_version(&self) -> String {
        self.scorer.model_version()
    }

    fn key(language: Language, text: &str) -> (Language, [u8; 32]) {
        use sha2::{Digest, Sha256};
        (language, Sha256::digest(text.as_bytes()).into())
    }

    /// The verdict already given to this text, if any; counts nothing.
    pub fn cached(&self, event: &ExecEvent, enrichment: &Enrichment) -> Option<Verdict> {
        let key = Self::key(Language::of(event), scored_text(enrichment));
        self.lock().get(&key).cloned()
    }

    pub fn judge(&self, event: &ExecEvent, enrichment: &Enrichment) -> Verdict {
        let language = Language::of(event);
        let text = scored_text(enrichment);
        let key = Self::key(language, text);
        self.metrics.scored.inc();
        if let Some(hit) = self.lock().get(&key).cloned() {
            self.metrics.cache_hit("score");
            return hit;
        }
        let verdict = self.scorer.score(language, text);
        self.lock().put(key, verdict.clone());
        verdict
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<(Language, [u8; 32]), Verdict>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Queue sizes and worker count.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Capture -> enrich. Full means drop (counted as `events`).
    pub event_queue: usize,
    /// Concurrent enrich+score workers.
    pub workers: usize,
    /// Scored -> finding sink.
    pub finding_queue: usize,
    /// Scored -> trace recorder. Full means drop (counted as `trace`).
    pub trace_queue: usize,
    /// How long to wait for kernel-captured script bytes when the script
    /// could not be read from user space (piped, deleted, memfd).
    pub content_wait: Duration,
    /// Release results in the order events arrived (deterministic output
    /// for event files); otherwise each as soon as it is judged, so a slow
    /// exec (a piped script still being read) never holds back the others.
    pub ordered: bool,
    /// Execs being enriched, scored or waiting for content at once when
    /// results are released as they come (more wait in the event queue).
    pub in_flight: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            event_queue: 8192,
            workers: 8,
            finding_queue: 1024,
            trace_queue: 8192,
            content_wait: crate::kernel_content::DEFAULT_WAIT,
            ordered: true,
            in_flight: 512,
        }
    }
}

/// One captured exec, with the script bytes the kernel copied if any.
#[derive(Debug, Clone)]
pub struct CapturedExec {
    pub event: ExecEvent,
    /// What the kernel copies of this process's script reads, as it arrives
    /// (`ContentStore::exec`); None when content capture is off.
    pub kernel_content: Option<Arc<crate::kernel_content::Capture>>,
    /// The process's root, opened and checked at capture time
    /// (`Enricher::pin_root`); enrichment opens it itself when None.
    pub root: Option<Arc<crate::resolve::Root>>,
}

/// Capture's handle on the pipeline. Dropping every clone ends the run.
#[derive(Clone)]
pub struct EventInput {
    tx: mpsc::Sender<CapturedExec>,
    metrics: Metrics,
    /// None when every exec must be fully enriched (a trace is recorded).
    judged: Option<Arc<JudgedTexts>>,
    /// Released as judged: an exec offered while the queue is empty and a
    /// worker is free starts on a blocking thread at once, with no hop
    /// through the dispatcher task.
    direct: Option<Arc<DirectStart>>,
}

/// What `EventInput::offer` needs to start an exec's work itself.
struct DirectStart {
    stage: Stage,
    in_flight: Arc<Semaphore>,
    /// Weak: a held input must not keep the output thread from ending.
    out: mpsc::WeakSender<Judged>,
    output: Option<Arc<OutputStage>>,
}

/// What decides that an exec needs no enrichment: its `-c` text already
/// has a verdict, and with that verdict no finding rule fires.
struct JudgedTexts {
    enricher: Enricher,
    score: Arc<ScoreStage>,
    findings: Arc<dyn FindingBuilder>,
}

impl EventInput {
    /// Take in an exec whose `-c` text was judged before and which warrants
    /// no finding (a shell loop's `bash -c true` run a thousand times): it
    /// is counted as an event scored from the cache and goes no further,
    /// none of the container, ancestry or binary lookups that would only
    /// fill in a finding. Otherwise the event is given back, for `offer`.
    /// Cheap: a hash of the literal, a cache lookup, the parent's stat.
    pub fn take_judged(&self, event: ExecEvent) -> Option<ExecEvent> {
        let Some(judged) = &self.judged else {
            return Some(event);
        };
        let Some(mut enrichment) = judged.enricher.inline_facts(&event) else {
            return Some(event);
        };
        let Some(verdict) = judged.score.cached(&event, &enrichment) else {
            return Some(event);
        };
        judged.enricher.add_parent(&event, &mut enrichment);
        let detection = Detection {
            event,
            enrichment,
            verdict,
            detection_latency_us: 0,
            create_time: String::new(),
        };
        if judged.findings.finds_anything(&detection) {
            return Some(detection.event);
        }
        let m = &self.metrics;
        m.events.inc();
        m.scored.inc();
        m.cache_hit("score");
        if detection.verdict.malicious {
            m.malicious.inc();
        }
        m.detection_latency_us
            .observe(latency_us(&detection.event) as f64);
        None
    }
}

impl EventInput {
    /// Hand over an event without ever waiting; false when it was dropped.
    pub fn offer(&self, exec: CapturedExec) -> bool {
        let Some(exec) = self.start_direct(exec, process_detached) else {
            return true;
        };
        self.queue(exec)
    }

    /// Queue for the dispatcher, or drop (counted) when the queue is full.
    fn queue(&self, exec: CapturedExec) -> bool {
        match self.tx.try_send(exec) {
            Ok(()) => true,
            Err(_) => {
                self.metrics.drop_in("events");
                false
            }
        }
    }
}

impl EventInput {
    /// [`offer`](Self::offer), for a caller on a runtime thread that just
    /// woke for this exec and has nothing else to do: when nothing is
    /// queued before it and a worker is free, its work (enrich, score,
    /// findings) is done here and now, with no blocking thread woken for
    /// it (a hand-off is two context switches, which this VM makes dear).
    /// A content wait or a full output queue still goes to a task.
    pub fn offer_here(&self, exec: CapturedExec) -> bool {
        let Some(exec) = self.start_direct(exec, process_here) else {
            return true;
        };
        self.queue(exec)
    }
}

impl EventInput {
    /// Start the exec's work with `start` (on a blocking thread, or here)
    /// if nothing is queued before it and a worker and an in-flight slot
    /// are free (inside the runtime); else give it back (Some) for the
    /// queue.
    fn start_direct(&self, exec: CapturedExec, start: StartFn) -> Option<CapturedExec> {
        let Some(direct) = &self.direct else {
            return Some(exec);
        };
        if self.tx.is_closed()
            || self.tx.capacity() != self.tx.max_capacity()
            || tokio::runtime::Handle::try_current().is_err()
        {
            return Some(exec);
        }
        let Ok(slot) = direct.in_flight.clone().try_acquire_owned() else {
            return Some(exec);
        };
        let Ok(permit) = direct.stage.workers.clone().try_acquire_owned() else {
            return Some(exec);
        };
        let Some(out) = direct.out.upgrade() else {
            return Some(exec);
        };
        self.metrics.events.inc();
        start(
            direct.stage.clone(),
            exec,
            permit,
            Release {
                out,
                direct: direct.output.clone(),
                _slot: slot,
            },
        );
        None
    }
}

impl EventInput {
    /// Hand over an event, waiting for room: for sources that are not the
    /// kernel (event files). Call from a blocking thread. False once the
    /// pipeline has shut down.
    pub fn send_blocking(&self, exec: CapturedExec) -> bool {
        let CapturedExec {
            event,
            kernel_content,
            root,
        } = exec;
        match self.take_judged(event) {
            Some(event) => self
                .tx
                .blocking_send(CapturedExec {
                    event,
                    kernel_content,
                    root,
                })
                .is_ok(),
            None => !self.tx.is_closed(),
        }
    }
}

/// Feeds already-judged detections (replay) into the finding stage.
#[derive(Clone)]
pub struct DetectionInput {
    tx: mpsc::Sender<Judged>,
    /// Set when workers may write their findings themselves (no recorder).
    direct: Option<Arc<OutputStage>>,
}

impl DetectionInput {
    /// Replay waits for room instead of dropping: nothing is lost.
    pub async fn send(&self, detection: Detection) {
        let _ = self.tx.send(Judged::Detection(Box::new(detection))).await;
    }
}

/// What goes to the output thread: a judged exec to account for, record
/// and build findings from, or findings a worker built but could not write.
enum Judged {
    Detection(Box<Detection>),
    Built(Vec<Line>),
}

/// The stages after scoring: counting, finding building and the sink.
/// Shared by the output thread and (without a recorder) the workers.
struct OutputStage {
    findings: Arc<dyn FindingBuilder>,
    sink: Mutex<Box<dyn FindingSink>>,
    metrics: Metrics,
}

impl OutputStage {
    /// The per-exec counters, once per judged exec.
    fn account(&self, detection: &Detection) {
        let metrics = &self.metrics;
        if let Some(reason) = &detection.enrichment.missing_reason {
            metrics.missing(missing_label(reason));
        }
        metrics
            .detection_latency_us
            .observe(detection.detection_latency_us as f64);
        if detection.verdict.malicious {
            metrics.malicious.inc();
        }
    }

    /// The detection's findings; None (and counted) when building failed.
    fn build(&self, detection: &Detection) -> Option<Vec<Line>> {
        match self.findings.build_all(detection) {
            Ok(built) => Some(built),
            Err(err) => {
                self.metrics.finding_errors.inc();
                tracing::error!(
                    "building the finding for pid {}: {err:#}",
                    detection.event.pid
                );
                None
            }
        }
    }

    /// Write findings, waiting for the sink as long as it takes (the
    /// output thread only).
    fn write(&self, lines: Vec<Line>) {
        let mut sink = self.lock_sink();
        for line in lines {
            let result = sink.send(line);
            self.counted(result);
        }
    }

    fn counted(&self, result: anyhow::Result<()>) {
        match result {
            Ok(()) => {
                self.metrics.findings.inc();
            }
            Err(err) => {
                self.metrics.finding_errors.inc();
                tracing::error!("finding sink: {err:#}");
            }
        }
    }

    /// On a worker: account for the detection, build its findings and hand
    /// them to the sink if it takes them without waiting (nobody else
    /// writing, the sink's `try_send` accepts). What it does not take goes
    /// to the output thread through `out`; given back when `out` is full.
    fn deliver_direct(
        &self,
        detection: Detection,
        out: &mpsc::Sender<Judged>,
    ) -> Result<(), Judged> {
        self.account(&detection);
        let Some(lines) = self.build(&detection) else {
            return Ok(());
        };
        drop(detection);
        let mut rest = Vec::new();
        match self.sink.try_lock() {
            Ok(mut sink) => {
                let mut lines = lines.into_iter();
                for line in lines.by_ref() {
                    match sink.try_send(line) {
                        Ok(result) => self.counted(result),
                        Err(line) => {
                            rest.push(line);
                            break;
                        }
                    }
                }
                rest.extend(lines);
            }
            Err(_) => rest = lines,
        }
        if rest.is_empty() {
            return Ok(());
        }
        match out.try_send(Judged::Built(rest)) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Full(built)) => Err(built),
        }
    }

    fn lock_sink(&self) -> std::sync::MutexGuard<'_, Box<dyn FindingSink>> {
        self.sink.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running stages; `finish` stops intake, drains and flushes.
pub struct Pipeline {
    metrics: Metrics,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
    threads: Vec<std::thread::JoinHandle<anyhow::Result<()>>>,
}

/// What the stages after scoring are made of.
pub struct Outputs {
    pub findings: Arc<dyn FindingBuilder>,
    pub sink: Box<dyn FindingSink>,
    pub recorder: Option<Box<dyn RecordSink>>,
}

impl Pipeline {
    /// Start a live pipeline: capture offers events to the returned input.
    pub fn start_live(
        enricher: Enricher,
        score: Arc<ScoreStage>,
        outputs: Outputs,
        metrics: Metrics,
        opts: &PipelineOptions,
    ) -> (Self, EventInput) {
        let (event_tx, mut event_rx) = mpsc::channel::<CapturedExec>(opts.event_queue.max(1));
        // A recorded trace holds every exec fully enriched: no shortcut then.
        let judged = outputs.recorder.is_none().then(|| {
            Arc::new(JudgedTexts {
                enricher: enricher.clone(),
                score: score.clone(),
                findings: outputs.findings.clone(),
            })
        });
        let (ordered_tx, mut ordered_rx) =
            mpsc::channel::<JoinHandle<Option<Detection>>>(opts.workers.max(1) * 2);
        let (mut pipeline, detections) = Self::start_outputs(outputs, metrics.clone(), opts);
        let workers = Arc::new(Semaphore::new(opts.workers.max(1)));
        let in_flight = Arc::new(Semaphore::new(opts.in_flight.max(opts.workers).max(1)));
        let ordered = opts.ordered;
        let unordered_out = detections.clone();
        let content_wait = opts.content_wait;
        let dispatch_metrics = metrics.clone();
        let direct = (!ordered).then(|| {
            Arc::new(DirectStart {
                stage: Stage {
                    enricher: enricher.clone(),
                    score: score.clone(),
                    metrics: metrics.clone(),
                    workers: workers.clone(),
                    content_wait,
                },
                in_flight: in_flight.clone(),
                out: unordered_out.tx.downgrade(),
                output: unordered_out.direct.clone(),
            })
        });
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        pipeline.stop = Some(stop_tx);
        // Dispatcher: one task per event; ordered, its handle is queued in
        // capture order for the orderer, else its result goes straight out.
        pipeline.tasks.push(tokio::spawn(async move {
            let mut stopping = false;
            loop {
                let next = if stopping {
                    event_rx.recv().await
                } else {
                    tokio::select! {
                        _ = stop_rx.changed() => {
                            // Refuse new events, then drain the ones already accepted.
                            event_rx.close();
                            stopping = true;
                            continue;
                        }
                        next = event_rx.recv() => next,
                    }
                };
                let Some(exec) = next else { break };
                dispatch_metrics.events.inc();
                let slot = if ordered {
                    None
                } else {
                    match in_flight.clone().acquire_owned().await {
                        Ok(slot) => Some(slot),
                        Err(_) => break,
                    }
                };
                let Ok(permit) = workers.clone().acquire_owned().await else {
                    break;
                };
                let stage = Stage {
                    enricher: enricher.clone(),
                    score: score.clone(),
                    metrics: dispatch_metrics.clone(),
                    workers: workers.clone(),
                    content_wait,
                };
                match slot {
                    None => {
                        let handle = tokio::spawn(process_one(stage, exec, permit, None));
                        if ordered_tx.send(handle).await.is_err() {
                            break;
                        }
                    }
                    // Unordered, the worker hands its result to the output
                    // stage itself: no hop back through the async runtime.
                    Some(slot) => process_detached(
                        stage,
                        exec,
                        permit,
                        Release {
                            out: unordered_out.tx.clone(),
                            direct: unordered_out.direct.clone(),
                            _slot: slot,
                        },
                    ),
                }
            }
        }));
        // Orderer: results leave in the order events arrived.
        pipeline.tasks.push(tokio::spawn(async move {
            while let Some(handle) = ordered_rx.recv().await {
                match handle.await {
                    Ok(Some(detection)) => detections.send(detection).await,
                    Ok(None) => {}
                    Err(err) => tracing::error!("an enrichment worker failed: {err}"),
                }
            }
        }));
        let input = EventInput {
            tx: event_tx,
            metrics,
            judged,
            direct,
        };
        (pipeline, input)
    }

    /// Start only the stages after scoring (replay feeds them).
    pub fn start_replay(
        outputs: Outputs,
        metrics: Metrics,
        opts: &PipelineOptions,
    ) -> (Self, DetectionInput) {
        Self::start_outputs(outputs, metrics, opts)
    }

    fn start_outputs(
        outputs: Outputs,
        metrics: Metrics,
        opts: &PipelineOptions,
    ) -> (Self, DetectionInput) {
        let (det_tx, mut det_rx) = mpsc::channel::<Judged>(opts.finding_queue.max(1));
        let mut threads = Vec::new();

        let trace_tx = outputs.recorder.map(|mut recorder| {
            let (tx, mut rx) = mpsc::channel::<Record>(opts.trace_queue.max(1));
            threads.push(std::thread::spawn(move || {
                while let Some(record) = rx.blocking_recv() {
                    if let Err(err) = recorder.write(&record) {
                        tracing::error!("trace recorder: {err:#}");
                    }
                }
                recorder.close()
            }));
            tx
        });

        // Without a recorder a worker builds and writes its own findings
        // when the sink takes them at once (`OutputStage::deliver_direct`);
        // the output thread does it otherwise: the recorder's records and
        // the findings keep one order then.
        let stage = Arc::new(OutputStage {
            findings: outputs.findings,
            sink: Mutex::new(outputs.sink),
            metrics: metrics.clone(),
        });
        let direct = trace_tx.is_none().then(|| stage.clone());
        threads.push(std::thread::spawn(move || {
            let mut lost_traces: u64 = 0;
            while let Some(judged) = det_rx.blocking_recv() {
                let detection = match judged {
                    Judged::Built(lines) => {
                        stage.write(lines);
                        continue;
                    }
                    Judged::Detection(detection) => detection,
                };
                stage.account(&detection);
                if let Some(tx) = &trace_tx {
                    if lost_traces > 0 {
                        let lost = Record::Lost {
                            queue: "trace".into(),
                            count: lost_traces,
                        };
                        if tx.try_send(lost).is_ok() {
                            lost_traces = 0;
                        }
                    }
                    let record = Record::Exec(Box::new(ExecRecord::from(&*detection)));
                    if tx.try_send(record).is_err() {
                        stage.metrics.drop_in("trace");
                        lost_traces += 1;
                    }
                }
                if let Some(lines) = stage.build(&detection) {
                    stage.write(lines);
                }
            }
            drop(trace_tx);
            stage.lock_sink().close()
        }));
        (
            Self {
                metrics,
                stop: None,
                tasks: Vec::new(),
                threads,
            },
            DetectionInput { tx: det_tx, direct },
        )
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Stop taking events (inputs still held elsewhere now see a closed
    /// pipeline), finish every event already accepted, and flush every sink.
    /// For replay, drop the `DetectionInput` first: it is drained to its end.
    pub async fn finish(self) -> anyhow::Result<()> {
        if let Some(stop) = &self.stop {
            let _ = stop.send(true);
        }
        for task in self.tasks {
            task.await?;
        }
        let mut first_err = None;
        for thread in self.threads {
            let result = tokio::task::spawn_blocking(move || thread.join())
                .await?
                .map_err(|_| anyhow::anyhow!("an output thread panicked"))?;
            if let Err(err) = result {
                first_err.get_or_insert(err);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// A script of which nothing has arrived when the content wait ends gets
/// this many content waits in all before it is scored without contents.
const EMPTY_CONTENT_WAIT_FACTOR: u32 = 10;

/// Where an unordered result goes, and the in-flight slot it frees.
struct Release {
    out: mpsc::Sender<Judged>,
    /// Build and write the findings on the judging thread (no recorder).
    direct: Option<Arc<OutputStage>>,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

/// Microseconds from the exec (its kernel timestamp) to now.
fn latency_us(event: &ExecEvent) -> u64 {
    boot_time_ns().saturating_sub(event.ktime_ns) / 1000
}

/// The detection for a judged exec, its latency measured now.
fn detection(event: ExecEvent, enrichment: Enrichment, verdict: Verdict) -> Detection {
    let detection_latency_us = latency_us(&event);
    Detection {
        event,
        enrichment,
        verdict,
        detection_latency_us,
        create_time: now_rfc3339(),
    }
}

/// What each exec's work needs; cheap to clone.
#[derive(Clone)]
struct Stage {
    enricher: Enricher,
    score: Arc<ScoreStage>,
    metrics: Metrics,
    /// Where a worker permit is taken again after a content wait.
    workers: Arc<Semaphore>,
    content_wait: Duration,
}

/// An exec enriched without its script, waiting for the kernel's copy.
type Waiting = (
    ExecEvent,
    Enrichment,
    Option<Release>,
    tokio::sync::OwnedSemaphorePermit,
);

/// Enrich then score, on blocking threads, holding a worker permit; while
/// waiting for kernel-captured bytes (a script that could not be read) the
/// permit is given back so that waiting never takes a worker. With
/// `release` (unordered) the result goes straight to the output stage and
/// None is returned, else it is returned.
async fn process_one(
    stage: Stage,
    exec: CapturedExec,
    permit: tokio::sync::OwnedSemaphorePermit,
    release: Option<Release>,
) -> Option<Detection> {
    let kernel_content = exec.kernel_content.clone();
    let first = {
        let stage = stage.clone();
        tokio::task::spawn_blocking(move || enrich_and_judge(&stage, exec, release, permit))
    };
    match first.await.expect("enrichment does not panic") {
        Ok(unreleased) => release_rest(unreleased).await,
        Err(waiting) => judge_after_wait(stage, kernel_content, *waiting).await,
    }
}

/// [`process_one`] for an unordered result, started on a blocking thread
/// and not awaited: an exec whose script was read goes from that thread to
/// the output stage with no async task and no wakeup of the runtime; only a
/// content wait or a full output queue goes back to it.
fn process_detached(
    stage: Stage,
    exec: CapturedExec,
    permit: tokio::sync::OwnedSemaphorePermit,
    release: Release,
) {
    tokio::task::spawn_blocking(move || process_here(stage, exec, permit, release));
}

/// How an unordered exec's work is started: [`process_detached`] or
/// [`process_here`].
type StartFn = fn(Stage, CapturedExec, tokio::sync::OwnedSemaphorePermit, Release);

/// Enrich, judge and release an unordered exec on this thread (a runtime
/// thread woken for it, `EventInput::offer_here`, or a blocking one); a
/// content wait or a full output queue goes on as a task.
fn process_here(
    stage: Stage,
    exec: CapturedExec,
    permit: tokio::sync::OwnedSemaphorePermit,
    release: Release,
) {
    let kernel_content = exec.kernel_content.clone();
    match enrich_and_judge(&stage, exec, Some(release), permit) {
        Ok(None) => {}
        Ok(unreleased) => {
            tokio::spawn(release_rest(unreleased));
        }
        Err(waiting) => {
            tokio::spawn(judge_after_wait(stage, kernel_content, *waiting));
        }
    }
}

/// On a blocking thread: enrich, and score at once unless the script is
/// only coming through kernel capture (then Err: wait for it).
fn enrich_and_judge(
    stage: &Stage,
    exec: CapturedExec,
    release: Option<Release>,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<Unreleased, Box<Waiting>> {
    let CapturedExec {
        event,
        kernel_content,
        root,
    } = exec;
    let (enrichment, stats) = stage.enricher.enrich_pinned(&event, None, root);
    if stats.content_cache_hit {
        stage.metrics.cache_hit("content");
    }
    if kernel_content.is_some() && enrichment.content_origin == ContentOrigin::Missing {
        return Err(Box::new((event, enrichment, release, permit)));
    }
    Ok(judge_and_release(
        &stage.score,
        event,
        enrichment,
        release,
        Some(permit),
    ))
}

/// Wait for the kernel's copy of the script (never holding a worker), then
/// score on a blocking thread.
async fn judge_after_wait(
    stage: Stage,
    kernel_content: Option<Arc<crate::kernel_content::Capture>>,
    (event, mut enrichment, release, permit): Waiting,
) -> Option<Detection> {
    drop(permit);
    if let Some(capture) = kernel_content {
        let started = tokio::time::Instant::now();
        let mut got = capture.wait(started + stage.content_wait).await;
        if got.bytes.is_empty() && !got.complete {
            // Not a byte read yet: on a loaded machine (a burst of
            // execs) the interpreter may still be starting. Scoring
            // now would lose the script; wait longer, still bounded.
            got = capture
                .wait(started + stage.content_wait * EMPTY_CONTENT_WAIT_FACTOR)
                .await;
        }
        if !got.bytes.is_empty() {
            stage
                .enricher
                .apply_kernel_content(&event, &mut enrichment, &got.bytes, got.origin);
        }
    }
    // Only closed at shutdown: then score without a permit, losing nothing.
    let permit = stage.workers.clone().acquire_owned().await.ok();
    let score = stage.score;
    let unreleased = tokio::task::spawn_blocking(move || {
        judge_and_release(&score, event, enrichment, release, permit)
    })
    .await
    .expect("scoring does not panic");
    release_rest(unreleased).await
}

/// A judged exec still to be handed on: ordered (no release, returned),
/// or unordered with the output queue full (sent from the async side, so
/// no blocking thread ever waits on the output stage).
type Unreleased = Option<(Judged, Option<Release>)>;

/// On a blocking thread: score, then hand the detection on (unordered):
/// its findings built and written here when the sink takes them at once,
/// else to the output thread when it has room.
fn judge_and_release(
    score: &ScoreStage,
    event: ExecEvent,
    enrichment: Enrichment,
    release: Option<Release>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Unreleased {
    let verdict = score.judge(&event, &enrichment);
    drop(permit);
    let judged = detection(event, enrichment, verdict);
    let Some(release) = release else {
        return Some((Judged::Detection(Box::new(judged)), None));
    };
    let sent = match &release.direct {
        Some(stage) => stage.deliver_direct(judged, &release.out),
        None => match release.out.try_send(Judged::Detection(Box::new(judged))) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Full(judged)) => Err(judged),
        },
    };
    match sent {
        Ok(()) => None,
        Err(judged) => Some((judged, Some(release))),
    }
}

/// The async side of [`judge_and_release`]: wait for room, or return the
/// ordered result.
async fn release_rest(unreleased: Unreleased) -> Option<Detection> {
    match unreleased {
        None => None,
        Some((Judged::Detection(judged), None)) => Some(*judged),
        Some((Judged::Built(_), None)) => None,
        Some((judged, Some(release))) => {
            let _ = release.out.send(judged).await;
            None
        }
    }
}

/// Now, RFC 3339 UTC with nanoseconds.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// A scorer to use until the classifier exists: flags a few unmistakable
/// download-and-execute and reverse-shell idioms. Deterministic.
#[derive(Debug, Default, Clone)]
pub struct PlaceholderScorer;

const PLACEHOLDER_SIGNS: &[(&str, &str)] = &[
    ("| sh", "pipes into a shell"),
    ("| bash", "pipes into a shell"),
    ("|sh", "pipes into a shell"),
    ("|bash", "pipes into a shell"),
    ("/dev/tcp/", "opens a raw TCP connection"),
    ("base64 -d", "decodes base64"),
    ("nc -e", "netcat with -e"),
    ("xmrig", "crypto miner"),
    ("stratum+tcp", "mining pool URL"),
    ("chmod +x /tmp", "makes a file in /tmp executable"),
    ("socket.socket", "opens a socket"),
    ("pty.spawn", "spawns a pty"),
    ("os.dup2", "redirects file descriptors"),
    ("base64.b64decode", "decodes base64"),
    ("urllib.request.urlopen", "downloads"),
    ("exec(", "executes dynamic code"),
    ("curl ", "downloads with curl"),
    ("wget ", "downloads with wget"),
];

impl Scorer for PlaceholderScorer {
    fn score(&self, _language: Language, text: &str) -> Verdict {
        let mut evidence: Vec<String> = Vec::new();
        for (needle, why) in PLACEHOLDER_SIGNS {
            if text.contains(needle) && !evidence.iter().any(|e| e == why) {
                evidence.push((*why).to_string());
            }
        }
        let score = (evidence.len() as f32 * 0.3).min(1.0);
        Verdict {
            score,
            threshold: 0.5,
            model_version: self.model_version(),
            malicious: score >= 0.5,
            evidence,
        }
    }

    fn model_version(&self) -> String {
        "placeholder-heuristic-1".into()
    }
}

/// Replay pacing: how long to wait before an event `ktime_ns` after the first.
pub fn pacing_delay(first_ktime_ns: u64, ktime_ns: u64, speed: f64) -> Duration {
    let ns = ktime_ns.saturating_sub(first_ktime_ns) as f64 / speed.max(1e-6);
    Duration::from_nanos(ns as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::EnrichConfig;
    use crate::event::Script;

    fn event(pid: u32, binary: &str, code: &str) -> ExecEvent {
        ExecEvent {
            ktime_ns: boot_time_ns(),
            comm: "bash".into(),
            ..ExecEvent::for_test(
                pid,
                binary,
                &[binary, "-c", code],
                Script::Inline {
                    inline: code.into(),
                },
            )
        }
    }

    fn parsed(line: &Line) -> serde_json::Value {
        serde_json::from_str(&line.json).unwrap()
    }

    struct CollectSink(Arc<Mutex<Vec<serde_json::Value>>>);
    impl FindingSink for CollectSink {
        fn send(&mut self, finding: Line) -> anyhow::Result<()> {
            self.0.lock().unwrap().push(parsed(&finding));
            Ok(())
        }
        fn close(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    struct CollectRecords(Arc<Mutex<Vec<Record>>>);
    impl RecordSink for CollectRecords {
        fn write(&mut self, record: &Record) -> anyhow::Result<()> {
            self.0.lock().unwrap().push(record.clone());
            Ok(())
        }
        fn close(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    struct PidFinding;
    impl FindingBuilder for PidFinding {
        fn build(&self, d: &Detection) -> anyhow::Result<Line> {
            Line::new(&serde_json::json!({ "pid": d.event.pid }))
        }
    }

    #[test]
    fn language_from_binary() {
        assert_eq!(
            Language::of(&event(1, "/usr/bin/python3.11", "")),
            Language::Python
        );
        assert_eq!(
            Language::of(&event(1, "/usr/bin/pypy3", "")),
            Language::Python
        );
        assert_eq!(Language::of(&event(1, "/bin/dash", "")), Language::Shell);
        assert_eq!(Language::of(&event(1, "/bin/busybox", "")), Language::Shell);
    }

    /// A live pipeline over the placeholder scorer and pid-named findings.
    fn start_test_pipeline(
        metrics: &Metrics,
        sink: Box<dyn FindingSink>,
        recorder: Option<Box<dyn RecordSink>>,
        opts: &PipelineOptions,
    ) -> (Pipeline, EventInput) {
        let enricher = Enricher::new(EnrichConfig {
            hostname: Some("t".into()),
            ..Default::default()
        });
        let score = Arc::new(ScoreStage::new(
            Arc::new(PlaceholderScorer),
            metrics.clone(),
        ));
        let outputs = Outputs {
            findings: Arc::new(PidFinding),
            sink,
            recorder,
        };
        Pipeline::start_live(enricher, score, outputs, metrics.clone(), opts)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_malicious_execs_become_findings_in_order() {
        let metrics = Metrics::new();
        let found = Arc::new(Mutex::new(Vec::new()));
        let records = Arc::new(Mutex::new(Vec::new()));
        let opts = PipelineOptions {
            event_queue: 1000,
            ..Default::default()
        };
        let (pipeline, input) = start_test_pipeline(
            &metrics,
            Box::new(CollectSink(found.clone())),
            Some(Box::new(CollectRecords(records.clone()))),
            &opts,
        );
        let me = std::process::id();
        offer_bash_execs(
            &input,
            me,
            (0..200u32).map(|i| {
                if i % 10 == 0 {
                    "curl -s http://127.0.0.1:9/x | bash".to_string()
                } else {
                    "echo hello".to_string()
                }
            }),
        );
        drop(input);
        pipeline.finish().await.unwrap();
        let found = found.lock().unwrap();
        let pids: Vec<u64> = found.iter().map(|f| f["pid"].as_u64().unwrap()).collect();
        let want: Vec<u64> = (0..200u64)
            .filter(|i| i % 10 == 0)
            .map(|i| me as u64 + i)
            .collect();
        assert_eq!(pids, want);
        assert_eq!(records.lock().unwrap().len(), 200);
        let s = metrics.summary();
        assert_eq!(s.events, 200);
        assert_eq!(s.malicious, 20);
        assert_eq!(s.findings, 20);
        // 2 distinct texts, 200 scorings: all but the first of each come from
        // the cache, but for the few that workers scored at once before any
        // of them stored the verdict.
        let hits = s.cache_hits.get("score").copied().unwrap_or(0);
        let most_misses = 2 * opts.workers as u64;
        assert!(
            (200 - most_misses..=198).contains(&hits),
            "{hits} score cache hits"
        );
    }

    /// `bash` reading its script from a pipe on stdin (nothing to read
    /// from user space: its content comes from the kernel's copy).
    fn piped_bash(pid: u32) -> ExecEvent {
        use crate::event::{StdinInfo, StdinKind};
        let mut ev = event(pid, "/bin/bash", "");
        ev.argv = vec!["bash".into()];
        ev.script = Script::Stdin {
            stdin: StdinInfo {
                kind: StdinKind::Pipe,
                path: None,
                inode: None,
            },
        };
        ev
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn piped_scripts_are_scored_from_kernel_captured_bytes() {
        use crate::kernel_content::ContentStore;
        let metrics = Metrics::new();
        let found = Arc::new(Mutex::new(Vec::new()));
        let records = Arc::new(Mutex::new(Vec::new()));
        let (pipeline, input) = start_test_pipeline(
            &metrics,
            Box::new(CollectSink(found.clone())),
            Some(Box::new(CollectRecords(records.clone()))),
            &PipelineOptions {
                // Long enough never to be what ends the wait here: exit does.
                content_wait: Duration::from_secs(3600),
                ..Default::default()
            },
        );
        let store = ContentStore::new(65536);
        let me = std::process::id();
        let ev = piped_bash(me);
        // As capture would: register the exec, hand it over, then the reads arrive.
        let capture = store.exec(me);
        assert!(input.offer(CapturedExec {
            event: ev,
            kernel_content: Some(capture),
            root: None,
        }));
        store.content(me, 0, b"curl -s http://127.0.0.1:9/p", false);
        store.content(me, 28, b" | sh\n", false);
        store.exit(me);
        drop(input);
        pipeline.finish().await.unwrap();
        assert_eq!(found.lock().unwrap().len(), 1);
        let records = records.lock().unwrap();
        let Record::Exec(rec) = &records[0] else {
            panic!("not an exec record")
        };
        assert_eq!(rec.enrichment.content_origin, ContentOrigin::KernelCapture);
        assert_eq!(rec.enrichment.missing_reason, None);
        assert_eq!(
            rec.enrichment.script.as_ref().unwrap().contents.as_deref(),
            Some("curl -s http://127.0.0.1:9/p | sh\n")
        );
        assert!(metrics.summary().contents_missing.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_event_queue_drops_and_counts_instead_of_blocking() {
        let metrics = Metrics::new();
        let (tx, _rx_kept_unread) = mpsc::channel(2);
        let input = EventInput {
            tx,
            metrics: metrics.clone(),
            judged: None,
            direct: None,
        };
        let mut accepted = 0;
        for i in 0..10 {
            if input.offer(CapturedExec {
                event: event(i, "/bin/sh", "true"),
                kernel_content: None,
                root: None,
            }) {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 2);
        assert_eq!(metrics.summary().dropped.get("events"), Some(&8));
    }

    /// A sink slower than the workers: the output queue is full most of
    /// the time, and nothing is lost.
    /// Offer one `bash -c` exec per text, as pids `first`, `first + 1`, ...
    fn offer_bash_execs(input: &EventInput, first: u32, codes: impl IntoIterator<Item = String>) {
        for (i, code) in (0u32..).zip(codes) {
            assert!(input.offer(CapturedExec {
                event: event(first + i, "/bin/bash", &code),
                kernel_content: None,
                root: None,
            }));
        }
    }

    /// The pids of the collected findings, sorted.
    fn sorted_pids(found: &Mutex<Vec<serde_json::Value>>) -> Vec<u64> {
        let mut pids: Vec<u64> = found
            .lock()
            .unwrap()
            .iter()
            .map(|f| f["pid"].as_u64().unwrap())
            .collect();
        pids.sort_unstable();
        pids
    }

    struct SlowSink(Arc<Mutex<Vec<serde_json::Value>>>);
    impl FindingSink for SlowSink {
        fn send(&mut self, finding: Line) -> anyhow::Result<()> {
            std::thread::sleep(Duration::from_millis(2));
            self.0.lock().unwrap().push(parsed(&finding));
            Ok(())
        }
        fn close(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    /// A sink that takes every other finding from a worker and the rest
    /// on the output thread, and remembers which.
    struct HalfDirectSink {
        found: Arc<Mutex<Vec<serde_json::Value>>>,
        direct: Arc<Mutex<usize>>,
        calls: usize,
    }
    impl FindingSink for HalfDirectSink {
        fn send(&mut self, finding: Line) -> anyhow::Result<()> {
            self.found.lock().unwrap().push(parsed(&finding));
            Ok(())
        }
        fn try_send(&mut self, finding: Line) -> Result<anyhow::Result<()>, Line> {
            self.calls += 1;
            if self.calls.is_multiple_of(2) {
                return Err(finding);
            }
            *self.direct.lock().unwrap() += 1;
            Ok(self.send(finding))
        }
        fn close(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn workers_write_findings_the_sink_takes_at_once_and_none_is_lost() {
        let metrics = Metrics::new();
        let found = Arc::new(Mutex::new(Vec::new()));
        let direct = Arc::new(Mutex::new(0));
        let (pipeline, input) = start_test_pipeline(
            &metrics,
            Box::new(HalfDirectSink {
                found: found.clone(),
                direct: direct.clone(),
                calls: 0,
            }),
            None,
            &PipelineOptions {
                ordered: false,
                finding_queue: 1,
                ..Default::default()
            },
        );
        let me = std::process::id();
        offer_bash_execs(
            &input,
            me,
            (0..100u32).map(|i| {
                if i % 2 == 0 {
                    format!("curl -s http://127.0.0.1:9/{i} | bash")
                } else {
                    format!("echo {i}")
                }
            }),
        );
        drop(input);
        pipeline.finish().await.unwrap();
        let pids = sorted_pids(&found);
        let want: Vec<u64> = (0..100u64).step_by(2).map(|i| me as u64 + i).collect();
        assert_eq!(pids, want);
        assert!(
            *direct.lock().unwrap() > 0,
            "no finding was written by a worker"
        );
        let s = metrics.summary();
        assert_eq!(s.events, 100);
        assert_eq!(s.malicious, 50);
        assert_eq!(s.findings, 50);
    }

    /// An unordered pipeline whose output queue is full at once (one slot,
    /// a slow sink): results then wait for room from a task.
    fn start_slow_unordered_pipeline(
        metrics: &Metrics,
        content_wait: Duration,
    ) -> (Pipeline, EventInput, Arc<Mutex<Vec<serde_json::Value>>>) {
        let found = Arc::new(Mutex::new(Vec::new()));
        let (pipeline, input) = start_test_pipeline(
            metrics,
            Box::new(SlowSink(found.clone())),
            None,
            &PipelineOptions {
                ordered: false,
                finding_queue: 1,
                content_wait,
                ..Default::default()
            },
        );
        (pipeline, input, found)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unordered_results_wait_for_a_full_output_queue_and_none_is_lost() {
        let metrics = Metrics::new();
        let (pipeline, input, found) =
            start_slow_unordered_pipeline(&metrics, PipelineOptions::default().content_wait);
        let me = std::process::id();
        // Distinct texts: none is taken by the judged-text shortcut.
        offer_bash_execs(
            &input,
            me,
            (0..100u32).map(|i| format!("curl -s http://127.0.0.1:9/{i} | bash")),
        );
        drop(input);
        pipeline.finish().await.unwrap();
        let pids = sorted_pids(&found);
        let want: Vec<u64> = (0..100u64).map(|i| me as u64 + i).collect();
        assert_eq!(pids, want);
        assert_eq!(metrics.summary().findings, 100);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn execs_offered_here_all_become_findings_through_a_content_wait_and_a_full_queue() {
        use crate::kernel_content::ContentStore;
        let metrics = Metrics::new();
        let (pipeline, input, found) =
            start_slow_unordered_pipeline(&metrics, Duration::from_secs(3600));
        let me = std::process::id();
        // A piped script: enriched here, then its content wait is a task.
        let store = ContentStore::new(65536);
        assert!(input.offer_here(CapturedExec {
            event: piped_bash(me + 1000),
            kernel_content: Some(store.exec(me + 1000)),
            root: None,
        }));
        for i in 0..50u32 {
            assert!(input.offer_here(CapturedExec {
                event: event(
                    me + i,
                    "/bin/bash",
                    &format!("curl -s http://127.0.0.1:9/{i} | bash")
                ),
                kernel_content: None,
                root: None,
            }));
        }
        store.content(me + 1000, 0, b"curl -s http://127.0.0.1:9/p | sh\n", false);
        store.exit(me + 1000);
        drop(input);
        pipeline.finish().await.unwrap();
        let mut want: Vec<u64> = (0..50u64).map(|i| me as u64 + i).collect();
        want.push(me as u64 + 1000);
        assert_eq!(sorted_pids(&found), want);
        let s = metrics.summary();
        assert_eq!(s.events, 51);
        assert_eq!(s.findings, 51);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_inline_text_judged_benign_skips_enrichment_unless_recording() {
        let metrics = Metrics::new();
        let enricher = Enricher::new(EnrichConfig {
            hostname: Some("t".into()),
            ..Default::default()
        });
        let score = Arc::new(ScoreStage::new(
            Arc::new(PlaceholderScorer),
            metrics.clone(),
        ));
        let start = |recorder: Option<Box<dyn RecordSink>>| {
            Pipeline::start_live(
                enricher.clone(),
                score.clone(),
                Outputs {
                    findings: Arc::new(PidFinding),
                    sink: Box::new(CollectSink(Arc::new(Mutex::new(Vec::new())))),
                    recorder,
                },
                metrics.clone(),
                &PipelineOptions::default(),
            )
        };
        let (pipeline, input) = start(None);
        let me = std::process::id();
        let benign = event(me, "/bin/bash", "true");
        let bad = event(me, "/bin/bash", "curl -s http://127.0.0.1:9/x | bash");
        // Not judged yet: both go the whole way.
        assert!(input.take_judged(benign.clone()).is_some());
        assert!(input.take_judged(bad.clone()).is_some());
        for ev in [&benign, &bad] {
            let (enrichment, _) = enricher.enrich(ev, None);
            score.judge(ev, &enrichment);
        }
        let before = metrics.summary();
        // Judged benign: taken in here, counted as a scored event from the cache.
        assert!(input.take_judged(benign.clone()).is_none());
        // Judged malicious: a finding is due, so it is enriched.
        assert!(input.take_judged(bad.clone()).is_some());
        let after = metrics.summary();
        assert_eq!(after.events, before.events + 1);
        assert_eq!(after.scored, before.scored + 1);
        assert_eq!(
            after.cache_hits.get("score").copied().unwrap_or(0),
            before.cache_hits.get("score").copied().unwrap_or(0) + 1
        );
        drop(input);
        pipeline.finish().await.unwrap();
        // A recorded trace holds every exec: no shortcut.
        let records = Arc::new(Mutex::new(Vec::new()));
        let (pipeline, input) = start(Some(Box::new(CollectRecords(records.clone()))));
        assert!(input.take_judged(benign).is_some());
        drop(input);
        pipeline.finish().await.unwrap();
    }

    #[test]
    fn placeholder_scorer_is_deterministic() {
        let s = PlaceholderScorer;
        let v = s.score(Language::Shell, "curl http://x | sh");
        assert!(v.malicious);
        assert_eq!(v, s.score(Language::Shell, "curl http://x | sh"));
        assert!(!s.score(Language::Shell, "echo hello").malicious);
    }

    #[test]
    fn pacing() {
        assert_eq!(
            pacing_delay(1_000, 2_001_000, 1.0),
            Duration::from_millis(2)
        );
        assert_eq!(
            pacing_delay(1_000, 2_001_000, 2.0),
            Duration::from_millis(1)
        );
        assert_eq!(pacing_delay(5, 1, 1.0), Duration::ZERO);
    }
}
