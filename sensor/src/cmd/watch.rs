use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use sensor::capture::{Capture, CaptureConfig, CaptureEvent};

/// `sensor watch`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stop after this many seconds (default: until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Write events to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Interpreter basenames to capture, comma-separated (`python3.X` matches
    /// any python3.<digits>).
    #[arg(long, value_name = "NAMES", value_delimiter = ',', default_value = DEFAULT_INTERPRETERS_ARG)]
    pub interpreters: Vec<String>,
    /// argv elements kept per event; more sets argv_truncated.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_args: u16,
    /// argv bytes copied per event (64..=32768); more sets argv_truncated
    /// and the script argument is still found and copied.
    #[arg(long, value_name = "BYTES", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(64..=32768))]
    pub max_argv_bytes: u32,
    /// Bytes copied of a script argument found past the argv window (64..=16384).
    #[arg(long, value_name = "BYTES", default_value_t = 8192, value_parser = clap::value_parser!(u32).range(64..=16384))]
    pub max_script_arg_bytes: u32,
    /// Kernel ring buffer size in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub ring_buffer_bytes: u32,
}

/// `DEFAULT_INTERPRETERS` as the flag's default (checked by a test below).
const DEFAULT_INTERPRETERS_ARG: &str =
    "bash,sh,dash,zsh,ksh,mksh,ash,busybox,python,python2,python3,python3.X,pypy3";

impl Args {
    fn capture_config(&self) -> CaptureConfig {
        CaptureConfig {
            interpreters: self.interpreters.clone(),
            max_args: self.max_args.into(),
            max_argv_bytes: self.max_argv_bytes,
            max_script_arg_bytes: self.max_script_arg_bytes,
            ring_buffer_bytes: self.ring_buffer_bytes,
            // watch prints execs only: no script contents.
            max_content_bytes: 0,
            ..CaptureConfig::default()
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(watch(args))
}

async fn watch(args: Args) -> anyhow::Result<()> {
    let mut out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let (capture, mut events) = Capture::start(args.capture_config())?;
    tracing::info!("capturing interpreter execs");
    let stop = super::stop_signal(args.duration);
    tokio::pin!(stop);
    let mut stopped = false;
    let mut capture = Some(capture);
    let mut stats = None;
    // Drops are reported as they happen, not only in the final summary.
    let mut check = tokio::time::interval(Duration::from_secs(5));
    let mut dropped = 0;
    loop {
        tokio::select! {
            _ = check.tick(), if !stopped => {
                if let Some(now) = capture.as_ref().map(|c| c.stats().dropped()) {
                    if now > dropped {
                        tracing::warn!("{} exec events dropped so far (ring buffer full: raise --ring-buffer-bytes)", now);
                        dropped = now;
                    }
                }
            }
            event = events.recv() => {
                let Some(event) = event else { break };
                if let CaptureEvent::Exec(exec) = event {
                    serde_json::to_writer(&mut out, &exec)?;
                    out.write_all(b"\n")?;
                    // Line-at-a-time when nothing else is queued, for tail -f.
                    if events.is_empty() {
                        out.flush()?;
                    }
                }
            }
            _ = &mut stop, if !stopped => {
                stopped = true;
                // Detach, drain the ring buffer; the channel closes after.
                if let Some(capture) = capture.take() {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    tokio::spawn(async move { let _ = tx.send(capture.stop().await); });
                    stats = Some(rx);
                }
            }
        }
    }
    out.flush()?;
    let stats = match stats {
        Some(rx) => rx.await.unwrap_or_default(),
        None => match capture.take() {
            Some(capture) => capture.stop().await,
            None => Default::default(),
        },
    };
    eprintln!(
        "sensor watch: {} events seen, {} dropped (ring buffer full: {}, undecodable: {})",
        stats.events,
        stats.dropped(),
        stats.exec_drops,
        stats.decode_errors
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sensor::capture::DEFAULT_INTERPRETERS;

    #[test]
    fn the_interpreters_flag_defaults_to_the_capture_defaults() {
        assert_eq!(DEFAULT_INTERPRETERS_ARG, DEFAULT_INTERPRETERS.join(","));
    }
}
