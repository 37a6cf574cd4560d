//! One module per subcommand: its clap `Args` and its `run`.
pub mod record;
pub mod replay;
pub mod run;
pub mod score;
pub mod watch;

use std::time::Duration;

/// Resolves at `--duration`, Ctrl-C or SIGTERM, whichever comes first.
async fn stop_signal(duration: Option<f64>) {
    let timer = async {
        match duration {
            Some(secs) => tokio::time::sleep(Duration::from_secs_f64(secs.max(0.0))).await,
            None => std::future::pending().await,
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = timer => {}
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
