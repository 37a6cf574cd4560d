use std::path::PathBuf;

/// `sensor watch`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Write events to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`sensor watch` is not built yet")
}
