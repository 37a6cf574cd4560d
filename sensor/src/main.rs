use clap::{Parser, Subcommand};

mod cmd;

/// Catches malicious Bash and Python executed on this host and in its containers.
#[derive(Debug, Parser)]
#[command(name = "sensor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every captured interpreter exec as one JSON object per line.
    Watch(cmd::watch::Args),
    /// Run the sensor: print a finding (SCC JSON, one per line) for every malicious script executed.
    Run(cmd::run::Args),
    /// Record every interpreter exec, with its script contents and verdict, to a trace.
    Record(cmd::record::Args),
    /// Replay a recorded trace into findings, with no root, eBPF or host lookups.
    Replay(cmd::replay::Args),
    /// Score script files, a corpus (JSONL) or a `-c` literal with the classifier; one JSON line each.
    Score(cmd::score::Args),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Watch(args) => cmd::watch::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Record(args) => cmd::record::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Score(args) => cmd::score::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
