//! `sensor record`: the live pipeline writing a trace instead of findings.

use std::path::PathBuf;
use std::sync::Arc;

use sensor::config::Config;
use sensor::detection::Detection;
use sensor::pipeline::{FindingBuilder, FindingSink, Outputs};

use super::run::{block_on, live, LiveArgs};

/// `sensor record`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace file to write (JSONL, see docs/trace-format.md).
    #[arg(long, value_name = "TRACE")]
    pub out: PathBuf,
    /// Stop after this many seconds, flushing every sink (default: until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = Config::default();
    args.live.apply_scheduling(&config);
    block_on(live(
        &args.live,
        &config,
        Outputs {
            findings: Arc::new(NoFindings),
            sink: Box::new(NoFindings),
            recorder: None,
        },
        Some(&args.out),
        args.duration,
    ))?
}

/// Recording still scores (the verdict is part of the record) but emits nothing.
struct NoFindings;

impl FindingBuilder for NoFindings {
    fn build(&self, _: &Detection) -> anyhow::Result<sensor::pipeline::Line> {
        sensor::pipeline::Line::new(&serde_json::Value::Null)
    }

    fn build_all(&self, _: &Detection) -> anyhow::Result<Vec<sensor::pipeline::Line>> {
        Ok(Vec::new())
    }
}

impl FindingSink for NoFindings {
    fn send(&mut self, _: sensor::pipeline::Line) -> anyhow::Result<()> {
        Ok(())
    }

    fn close(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}
