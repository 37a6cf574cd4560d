//! One module per subcommand: its clap `Args` and its `run`.
pub mod record;
pub mod replay;
pub mod run;
pub mod score;
pub mod watch;
