//! Findings on stdout, one JSON object per line, flushed per finding
//! (findings are rare and someone may be tailing them).

use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;

use super::Command;

pub(super) async fn run(mut rx: mpsc::Receiver<Command>) -> anyhow::Result<()> {
    let mut out = tokio::io::stdout();
    let mut broken = false;
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Write(line) => {
                if broken {
                    continue;
                }
                let mut buf = Vec::with_capacity(line.json.len() + 1);
                buf.extend_from_slice(line.json.as_bytes());
                buf.push(b'\n');
                if let Err(err) = async {
                    out.write_all(&buf).await?;
                    out.flush().await
                }
                .await
                {
                    // A closed stdout (`sensor run | head`) must not stop the other sinks.
                    tracing::error!("stdout sink: {err}; findings are no longer printed");
                    broken = true;
                }
            }
            Command::Flush(ack) => {
                let _ = out.flush().await;
                let _ = ack.send(());
            }
        }
    }
    let _ = out.flush().await;
    Ok(())
}
