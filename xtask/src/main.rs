//! Project tasks: `cargo xtask <task>`.
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.task {}
}
