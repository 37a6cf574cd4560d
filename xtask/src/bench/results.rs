//! `bench/results.json`: every figure, with `null` and a reason in
//! `not_measured` for what could not be measured.

use std::collections::BTreeMap;

use serde::Serialize;

use super::machine::Machine;
use super::stats::Dist;

#[derive(Debug, Default, Serialize)]
pub struct Results {
    pub schema: &'static str,
    pub mode: &'static str,
    pub build: &'static str,
    pub machine: Machine,
    /// Whole command, build included.
    pub duration_s: f64,
    /// Building the sensor and the bench tools.
    pub build_s: f64,

    // The keys issue 5 asks for.
    pub detect_latency_us: Option<LatencyFigure>,
    pub machine_max_exec_per_s: Option<f64>,
    pub max_exec_per_s_no_drops: Option<f64>,
    pub exec_throughput_ratio: Option<f64>,
    pub sensor_cpu_pct_at_100_per_s: Option<f64>,
    pub sensor_rss_mb: Option<f64>,
    pub classifier_us: Option<ClassifierFigure>,
    pub replay_events_per_s: Option<f64>,
    pub dropped_events: Option<u64>,
    pub missing_contents: Option<u64>,

    // Details behind them.
    pub detect_latency_burst_us: Option<LatencyFigure>,
    /// exec -> verdict (the sensor's own `detection_latency_us`), steady run.
    pub verdict_latency_us: Option<Dist>,
    /// Per exec: finding written minus verdict (finding building, the
    /// in-order release of results, the sink), steady run.
    pub verdict_to_sink_us: Option<Dist>,
    /// Steady-rate latency by script form and language.
    pub latency_by_kind: Vec<KindLatency>,
    pub latency_runs: Vec<LiveRun>,
    pub machine_max: Vec<ClosedLoopPoint>,
    pub machine_max_shell_mix_exec_per_s: Option<f64>,
    pub throughput_steps: Vec<ThroughputStep>,
    pub overhead: Option<Overhead>,
    pub sensor_cpu_s_per_1000_execs: Option<f64>,
    pub classifier: Option<serde_json::Value>,
    pub replay: Option<Replay>,
    pub cache_effect: Vec<CacheRun>,
    /// Bench execs whose contents the sensor recorded as missing (from the
    /// throughput phase's trace; exact, unlike the sensor-wide counter).
    pub missing_contents_bench_execs: Option<u64>,

    /// Per-exec latencies (µs) behind the CDF plot.
    #[serde(skip)]
    pub latency_samples_steady: Vec<f64>,
    #[serde(skip)]
    pub latency_samples_burst: Vec<f64>,

    /// The exit summary each live sensor printed, by phase.
    pub sensor_exit_summaries: BTreeMap<String, serde_json::Value>,

    pub targets: Vec<Target>,
    pub not_measured: BTreeMap<String, String>,
    pub errors: Vec<String>,
    /// Extra remarks for the report (e.g. a busy machine).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencyFigure {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub rate_per_s: f64,
    pub samples: usize,
    pub execs: u64,
    /// Malicious-looking execs that produced no finding.
    pub missing_findings: u64,
    /// Benign execs that produced a finding.
    pub unexpected_findings: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindLatency {
    pub kind: String,
    pub samples: usize,
    pub latency_us: Dist,
}

/// One live-sensor load phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveRun {
    pub name: String,
    pub workload: String,
    pub mode: String,
    pub target_rate_per_s: Option<f64>,
    pub achieved_rate_per_s: f64,
    pub execs: u64,
    pub failed_execs: u64,
    pub findings: usize,
    pub dropped: u64,
    pub dropped_by: BTreeMap<String, u64>,
    pub missing_contents: u64,
    pub missing_by: BTreeMap<String, u64>,
    pub sensor_cpu_s: f64,
    pub wall_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClosedLoopPoint {
    pub workload: String,
    pub concurrency: usize,
    pub exec_per_s: f64,
    pub execs: u64,
}

/// The sensor's default `scheduling.realtime_priority`.
pub const DEFAULT_REALTIME_PRIORITY: u32 = 1;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ThroughputStep {
    pub mode: String,
    pub target_rate_per_s: Option<f64>,
    pub achieved_rate_per_s: f64,
    pub execs: u64,
    /// Kernel ring buffer + every queue, from the sensor's counters.
    pub dropped: u64,
    pub dropped_by: BTreeMap<String, u64>,
    /// Sensor-wide missing-contents counter (includes non-bench execs).
    pub missing_contents: u64,
    /// Bench execs absent from the sensor's trace.
    pub unseen_execs: Option<u64>,
    /// Bench execs recorded with missing contents.
    pub missing_contents_bench: Option<u64>,
    pub lossless: bool,
    /// The sensor's SCHED_FIFO priority in this step (0: the normal scheduler).
    pub realtime_priority: u32,
    /// Sensor CPU seconds over the step's window.
    pub sensor_cpu_s: f64,
}

impl ThroughputStep {
    /// Run with the sensor's default configuration: the steps the loss
    /// targets and headline keys are about (the normal-scheduler step is a
    /// comparison of an opt-in setting, reported on its own).
    pub fn default_settings(&self) -> bool {
        self.realtime_priority == DEFAULT_REALTIME_PRIORITY
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Overhead {
    pub workload: String,
    pub concurrency: usize,
    pub rounds: Vec<OverheadRound>,
    pub without_mean_per_s: f64,
    pub with_mean_per_s: f64,
    pub ratio: f64,
    pub sensor_cpu_s_per_1000_execs: f64,
    pub dropped_at_full_rate: u64,
    pub missing_at_full_rate: u64,
    /// CPU of the exec loop itself (loadgen and its execs) per exec, mean
    /// over the rounds, without and with the sensor (µs): much steadier
    /// than the rate on a shared VM.
    pub loop_cpu_us_per_exec_without: f64,
    pub loop_cpu_us_per_exec_with: f64,
    /// Without / (with + sensor CPU per exec): the throughput ratio a
    /// CPU-bound loop would see from these CPU costs alone.
    pub cpu_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverheadRound {
    pub without_per_s: f64,
    pub with_per_s: f64,
    pub with_dropped: u64,
    pub with_sensor_cpu_s: f64,
    pub with_execs: u64,
    pub without_loop_cpu_us_per_exec: f64,
    pub with_loop_cpu_us_per_exec: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassifierFigure {
    pub median: f64,
    pub p99: f64,
    pub size_bytes: usize,
    pub scripts_per_s: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Replay {
    pub events_in_trace: u64,
    pub findings: u64,
    pub record_from_events_per_s: f64,
    pub runs: Vec<ReplayRun>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayRun {
    pub name: String,
    pub cpus: usize,
    pub rescore: bool,
    pub events: u64,
    pub findings: u64,
    pub wall_s: f64,
    pub events_per_s: f64,
    pub findings_per_s: f64,
    /// The rate `sensor replay` prints itself (excludes process start-up).
    pub reported_events_per_s: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheRun {
    pub workload: String,
    pub execs: u64,
    pub rate_per_s: f64,
    pub findings: usize,
    pub latency_us: Option<Dist>,
    pub sensor_cpu_s_per_1000_execs: f64,
    pub cache_hits: BTreeMap<String, u64>,
    pub dropped: u64,
    pub missing: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub target: String,
    pub measured: String,
    /// None: not measured.
    pub met: Option<bool>,
    /// How far off, when missed.
    pub by: String,
    pub why: String,
}

impl Results {
    pub fn new(quick: bool, release: bool) -> Self {
        Self {
            schema: "sensor-bench/1",
            mode: if quick { "quick" } else { "full" },
            build: if release { "release" } else { "debug" },
            ..Default::default()
        }
    }

    pub fn not_measured(&mut self, key: &str, reason: impl Into<String>) {
        self.not_measured
            .entry(key.to_string())
            .or_insert_with(|| reason.into());
    }

    /// Fill `not_measured` for every headline key still empty, and the totals.
    pub fn finish(&mut self) {
        let live_runs: Vec<&LiveRun> = self.latency_runs.iter().collect();
        let any_live = !live_runs.is_empty()
            || !self.throughput_steps.is_empty()
            || self.overhead.is_some()
            || !self.cache_effect.is_empty();
        if self.dropped_events.is_none() && any_live {
            let mut dropped: u64 = live_runs.iter().map(|r| r.dropped).sum();
            let default_steps = || {
                self.throughput_steps
                    .iter()
                    .filter(|s| s.default_settings())
            };
            dropped += default_steps().map(|s| s.dropped).sum::<u64>();
            dropped += self.overhead.as_ref().map_or(0, |o| o.dropped_at_full_rate);
            dropped += self.cache_effect.iter().map(|c| c.dropped).sum::<u64>();
            self.dropped_events = Some(dropped);
            let mut missing: u64 = live_runs.iter().map(|r| r.missing_contents).sum();
            missing += default_steps().map(|s| s.missing_contents).sum::<u64>();
            missing += self.overhead.as_ref().map_or(0, |o| o.missing_at_full_rate);
            missing += self.cache_effect.iter().map(|c| c.missing).sum::<u64>();
            self.missing_contents = Some(missing);
        }
        let reason = self
            .not_measured
            .get("live")
            .cloned()
            .unwrap_or_else(|| "its phase did not run".to_string());
        macro_rules! need {
            ($field:ident, $why:expr) => {
                if self.$field.is_none() {
                    let why = $why;
                    self.not_measured(stringify!($field), why);
                }
            };
        }
        need!(detect_latency_us, reason.clone());
        need!(max_exec_per_s_no_drops, reason.clone());
        need!(exec_throughput_ratio, reason.clone());
        need!(sensor_cpu_pct_at_100_per_s, reason.clone());
        need!(sensor_rss_mb, reason.clone());
        need!(dropped_events, reason.clone());
        need!(missing_contents, reason.clone());
        need!(machine_max_exec_per_s, "the machine phase did not run");
        need!(classifier_us, "the classifier phase did not run");
        need!(replay_events_per_s, "the replay phase did not run");
        self.targets = super::report::targets(self);
    }
}
