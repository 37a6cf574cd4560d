//! Project tasks: `cargo xtask <task>`.
use clap::{Parser, Subcommand};

mod featurize;
mod train;

#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Write the classifier's training matrix (Rust features) to models/.cache/.
    Featurize(featurize::Args),
    /// Rebuild models/script-classifier.onnx, its MODEL_CARD.md and parity fixture from the corpus.
    Train(train::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.task {
        Task::Featurize(args) => featurize::run(args).map(drop),
        Task::Train(args) => train::run(args),
    }
}
