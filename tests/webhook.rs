//! The webhook sink against a real HTTP server on 127.0.0.1: the server
//! goes away mid-run and comes back on the same port, the sensor restarts
//! with findings still spooled; every finding must arrive exactly once.
//! No timing assertions: waits poll with generous deadlines.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use sensor::config::{SinksConfig, WebhookConfig};
use sensor::finding::scc::{Finding, NotificationMessage};
use sensor::sink::Sinks;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Finding name -> how many times it arrived; plus idempotency keys seen.
#[derive(Default)]
struct Received {
    count: BTreeMap<String, usize>,
    keys_match: bool,
    requests: usize,
}

type Shared = Arc<Mutex<Received>>;

async fn hook(State(rx): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Ok(msg) = serde_json::from_slice::<NotificationMessage>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut r = rx.lock().unwrap();
    r.requests += 1;
    if r.requests == 1 {
        r.keys_match = true;
    }
    r.keys_match &= msg.finding.name.ends_with(key) && !key.is_empty();
    *r.count.entry(msg.finding.name).or_default() += 1;
    StatusCode::OK
}

struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Serve on `addr` (port 0: any); retries the bind while the old socket lingers.
async fn start(addr: SocketAddr, received: Shared) -> Server {
    let listener = wait_for("the port to be free again", || {
        let std = std::net::TcpListener::bind(addr).ok()?;
        std.set_nonblocking(true).ok()?;
        Some(std)
    })
    .await;
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(received);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Server { addr, stop, task }
}

impl Server {
    /// Stop accepting, finish requests in flight, close the socket.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

/// Poll `check` until it gives a value; panics after a generous deadline.
async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn finding(n: usize) -> NotificationMessage {
    NotificationMessage {
        notification_config_name: "organizations/1/notificationConfigs/test".into(),
        finding: Finding {
            name: format!("organizations/1/sources/2/findings/{n:032x}"),
            category: "Malicious Script Executed".into(),
            ..Default::default()
        },
        resource: Default::default(),
    }
}

fn config(addr: SocketAddr, spool: &Path, drain_secs: f64) -> SinksConfig {
    let mut hook = WebhookConfig::new(format!("http://{addr}/hook"), spool);
    hook.retry_initial_ms = 20;
    hook.retry_max_ms = 200;
    hook.timeout_secs = 10.0;
    hook.drain_timeout_secs = drain_secs;
    SinksConfig {
        stdout: false,
        file: None,
        webhook: Some(hook),
    }
}

fn spooled(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .count()
}

fn assert_exactly_once(received: &Shared, sent: usize) {
    let r = received.lock().unwrap();
    let expected: Vec<String> = (0..sent).map(|n| finding(n).finding.name).collect();
    let got: Vec<String> = r.count.keys().cloned().collect();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(got, expected_sorted, "every finding must arrive");
    let dupes: Vec<_> = r.count.iter().filter(|(_, c)| **c != 1).collect();
    assert!(
        dupes.is_empty(),
        "findings delivered more than once: {dupes:?}"
    );
    assert!(r.keys_match, "Idempotency-Key must be the finding id");
}

fn delivered(received: &Shared) -> usize {
    received.lock().unwrap().count.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_down_mid_run_loses_nothing_and_duplicates_nothing() {
    let spool = tempfile::tempdir().unwrap();
    let received = Shared::default();
    let server = start("127.0.0.1:0".parse().unwrap(), received.clone()).await;
    let addr = server.addr;
    let sinks = Sinks::from_config(&config(addr, spool.path(), 120.0)).unwrap();
    let stats = sinks.webhook_stats().unwrap();

    // 1. Endpoint up.
    for n in 0..20 {
        sinks.send(&finding(n)).await.unwrap();
    }
    wait_for("the first 20 findings", || {
        (delivered(&received) == 20).then_some(())
    })
    .await;

    // 2. Endpoint down: findings are spooled, nothing is dropped.
    server.stop().await;
    for n in 20..40 {
        sinks.send(&finding(n)).await.unwrap();
    }
    sinks.flush().await.unwrap();
    assert_eq!(
        spooled(spool.path()),
        20,
        "findings made while down are on disk"
    );
    wait_for("a failed delivery attempt", || {
        (stats.retries.load(std::sync::atomic::Ordering::Relaxed) > 0).then_some(())
    })
    .await;
    assert_eq!(delivered(&received), 20);

    // 3. Endpoint back on the same port; more findings keep coming.
    let server = start(addr, received.clone()).await;
    for n in 40..50 {
        sinks.send(&finding(n)).await.unwrap();
    }
    sinks.shutdown().await.unwrap();
    assert_exactly_once(&received, 50);
    assert_eq!(
        spooled(spool.path()),
        0,
        "the spool is empty once delivered"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_spooled_at_shutdown_are_delivered_by_the_next_start() {
    let spool = tempfile::tempdir().unwrap();
    let received = Shared::default();
    // Reserve a port, then free it: nothing listens there for now.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };

    // A sensor run while the endpoint is down: shutdown gives up draining.
    let sinks = Sinks::from_config(&config(addr, spool.path(), 0.0)).unwrap();
    for n in 0..5 {
        sinks.send(&finding(n)).await.unwrap();
    }
    sinks.shutdown().await.unwrap();
    assert_eq!(spooled(spool.path()), 5);

    // The endpoint comes back; the next sensor run delivers the backlog first.
    let server = start(addr, received.clone()).await;
    let sinks = Sinks::from_config(&config(addr, spool.path(), 120.0)).unwrap();
    for n in 5..8 {
        sinks.send(&finding(n)).await.unwrap();
    }
    sinks.shutdown().await.unwrap();
    assert_exactly_once(&received, 8);
    assert_eq!(spooled(spool.path()), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_findings_are_kept_aside_and_do_not_block_the_rest() {
    let spool = tempfile::tempdir().unwrap();
    let received = Shared::default();
    let server = start("127.0.0.1:0".parse().unwrap(), received.clone()).await;
    let mut cfg = config(server.addr, spool.path(), 120.0);
    cfg.webhook.as_mut().unwrap().url = format!("http://{}/hook", server.addr);
    let sinks = Sinks::from_config(&cfg).unwrap();
    let stats = sinks.webhook_stats().unwrap();
    // Not a NotificationMessage: the test server answers 400.
    sinks
        .send_json(&serde_json::json!({"finding": {"name": "x/findings/bad"}, "resource": 3}))
        .await
        .unwrap();
    for n in 0..3 {
        sinks.send(&finding(n)).await.unwrap();
    }
    sinks.shutdown().await.unwrap();
    assert_exactly_once(&received, 3);
    assert_eq!(stats.rejected.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(spooled(&spool.path().join("rejected")), 1);
    server.stop().await;
}
