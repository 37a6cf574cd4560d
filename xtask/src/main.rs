//! Project tasks: `cargo xtask <task>`. See README.md.
use clap::{Parser, Subcommand};

mod bench;
mod featurize;
mod image;
mod run;
mod setup;
mod test;
mod train;
mod util;

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "Setup, build, run and test the sensor")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Install what building, running and testing need (idempotent; needs root).
    Setup(setup::Args),
    /// Setup, build the sensor and run it: `cargo xtask run [-- SENSOR_ARGS]` (default `run`).
    Run(run::Args),
    /// Setup, then cargo fmt --check, clippy -D warnings and the whole test suite.
    Test(test::Args),
    /// Print the environment the xtask gives the sensor, as shell `export` lines.
    Env,
    /// Write the classifier's training matrix (Rust features) to models/.cache/.
    Featurize(featurize::Args),
    /// Rebuild models/script-classifier.onnx, its MODEL_CARD.md and parity fixture from the corpus.
    Train(train::Args),
    /// Build the sensor's container image (deploy/Containerfile) from the release build.
    Image(image::Args),
    /// Measure detection latency, throughput, overhead, classifier and replay: bench/REPORT.md.
    Bench(bench::Args),
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // The whole cause chain, no backtrace: these errors say what to do.
            eprintln!("xtask: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.task {
        Task::Setup(args) => setup::main(args),
        Task::Run(args) => run::main(args),
        Task::Test(args) => test::main(args),
        Task::Featurize(args) => featurize::run(args).map(drop),
        Task::Train(args) => train::run(args),
        Task::Bench(args) => bench::main(args),
        Task::Image(args) => image::main(args),
        Task::Env => {
            for (key, value) in setup::sensor_env() {
                println!("export {key}={}", util::shell_word(&value));
            }
            Ok(())
        }
    }
}
