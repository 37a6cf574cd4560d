//! `sensor replay`: turn a recorded trace back into findings, with no root,
//! no eBPF and no host lookups: everything comes from the trace.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use sensor::detection::Detection;
use sensor::metrics::Metrics;
use sensor::pipeline::{pacing_delay, Outputs, Pipeline, PipelineOptions, ScoreStage};
use sensor::trace::{ExecRecord, Record, TraceReader};

use sensor::finding::SccFindings;

use super::run::{block_on, finding_sinks, load_config, print_summary, ModelArgs};

/// `sensor replay`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace to replay (written by `sensor record` or `sensor run --record`).
    pub trace: PathBuf,
    /// Keep the recorded pacing between events instead of going flat out.
    #[arg(long)]
    pub realtime: bool,
    /// With --realtime: play this many times faster.
    #[arg(
        long,
        value_name = "FACTOR",
        default_value_t = 1.0,
        requires = "realtime"
    )]
    pub speed: f64,
    /// Score every script again with this sensor's classifier (or --model)
    /// instead of using the verdicts recorded in the trace, to try a model
    /// on old traces. Records without a verdict are always scored.
    #[arg(long)]
    pub rescore: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    /// TOML configuration, as for `sensor run`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write findings (JSONL) to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut config = load_config(args.config.as_deref())?;
    if let Some(path) = &args.output {
        config.redirect_output(path);
    }
    let config = Arc::new(config);
    block_on(async {
        let findings = Arc::new(SccFindings::new(config.clone()));
        let sink = finding_sinks(&config)?;
        replay(args, findings, sink).await
    })?
}

async fn replay(
    args: Args,
    findings: Arc<dyn sensor::pipeline::FindingBuilder>,
    sink: Box<dyn sensor::pipeline::FindingSink>,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.trace)
        .with_context(|| format!("cannot open trace {}", args.trace.display()))?;
    let mut reader = TraceReader::new(std::io::BufReader::new(file))
        .with_context(|| format!("cannot replay {}", args.trace.display()))?;
    let metrics = Metrics::new();
    let score = ScoreStage::new(args.model.lazy(), metrics.clone());
    if args.rescore {
        if let Some(recorded) = &reader.header.model_version {
            let current = score.model_version();
            if *recorded != current {
                tracing::info!(
                    "trace was scored by model {recorded}, rescoring with {current}: \
                     findings may differ from the recorded run"
                );
            }
        }
    }
    let (pipeline, input) = Pipeline::start_replay(
        Outputs {
            findings,
            sink,
            recorder: None,
        },
        metrics.clone(),
        &PipelineOptions::default(),
    );
    let started = Instant::now();
    let mut first_ktime = None;
    let mut events: u64 = 0;
    let mut lost_live: u64 = 0;
    while let Some(next) = reader.next_record() {
        let record = match next {
            Ok(Record::Exec(record)) => record,
            Ok(Record::Lost { count, .. }) => {
                lost_live += count;
                continue;
            }
            Err(bad) => {
                metrics.bad_trace_lines.inc();
                let _ = writeln!(
                    std::io::stderr(),
                    "{}: {bad}; skipped",
                    args.trace.display()
                );
                continue;
            }
        };
        if args.realtime {
            let first = *first_ktime.get_or_insert(record.event.ktime_ns);
            let due = pacing_delay(first, record.event.ktime_ns, args.speed);
            tokio::time::sleep_until(tokio::time::Instant::from_std(started + due)).await;
        }
        events += 1;
        metrics.events.inc();
        input
            .send(detection_of(*record, &score, args.rescore))
            .await;
    }
    drop(input);
    pipeline.finish().await?;
    let elapsed = started.elapsed();
    let rate = events as f64 / elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        std::io::stderr(),
        "replayed {events} events from {} in {:.3} s ({rate:.0} events/s); {} bad lines skipped{}",
        args.trace.display(),
        elapsed.as_secs_f64(),
        metrics.bad_trace_lines.get(),
        if lost_live > 0 {
            format!("; the recording lost {lost_live} events")
        } else {
            String::new()
        }
    );
    print_summary(&metrics, elapsed);
    Ok(())
}

/// The detection the live sensor made, rebuilt from its record: recorded
/// createTime and latency (so finding ids and timestamps match), verdict
/// recorded or rescored.
fn detection_of(record: ExecRecord, score: &ScoreStage, rescore: bool) -> Detection {
    let verdict = match record.verdict {
        Some(v) if !rescore => v,
        _ => score.judge(&record.event, &record.enrichment),
    };
    Detection {
        create_time: record
            .create_time
            .unwrap_or_else(|| record.event.time.clone()),
        detection_latency_us: record.detection_latency_us.unwrap_or(0),
        verdict,
        event: record.event,
        enrichment: record.enrichment,
    }
}
