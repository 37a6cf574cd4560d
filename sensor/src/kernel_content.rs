//! Script bytes the kernel copied as an interpreter read them (capture's
//! phase 2), put back together per process.
//!
//! Capture calls `exec`, `content` and `exit` from its reader as records
//! arrive (cheap, never blocking); the pipeline keeps the `Arc<Capture>` of
//! each exec and, when the script could not be read from user space (a pipe,
//! a deleted file, a memfd), waits a bounded time for the bytes: until the
//! process exits, the per-process limit is reached, or the deadline passes.
//!
//! A script piped to an interpreter's stdin is also peeked at right after
//! the exec ([`StdinPeek`], `crate::stdin_peek`): when the pipe provably
//! holds the whole script and the interpreter has read none of it, the
//! waiter gets those bytes at once instead of when the interpreter has read
//! them (Python reads stdin after its ~17 ms start-up, a shell reads a piped
//! script as it runs it). When the interpreter has already read part of it
//! and no writer is left, the peek joins the kernel's copy of what was read
//! with what the pipe still holds. The kernel capture goes on as before.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;
use prometheus_client::metrics::{counter::Counter, family::Family};
use tokio::sync::Notify;

use crate::capture::{ContentDemand, ContentWanted};
use crate::detection::ContentOrigin;
use crate::event::{ExecEvent, Script, StdinKind};
use crate::metrics::ReasonLabel;
use crate::stdin_peek::{peek, Peek, ReaderState, StdinPipe};

/// What one interpreter process read from its script or stdin.
#[derive(Debug, Default)]
pub struct Capture {
    state: Mutex<CaptureState>,
    changed: Notify,
    /// Told while someone waits here (capture's reader then drains
    /// content chunks often).
    demand: Option<Arc<ContentDemand>>,
}

#[derive(Debug, Default)]
struct CaptureState {
    bytes: Vec<u8>,
    /// Bytes lost between chunks (a chunk dropped in the ring buffer).
    gaps: u64,
    /// Where the first lost bytes start.
    first_gap: Option<usize>,
    /// Wake waiters once `bytes` reaches this length (a joined peek waits
    /// for the kernel's copy of what the interpreter read).
    wake_at: Option<usize>,
    done: bool,
    /// The whole script, copied from the stdin pipe before the interpreter read it.
    peeked: Option<Vec<u8>>,
}

impl Capture {
    fn lock(&self) -> std::sync::MutexGuard<'_, CaptureState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps capture's reader draining content chunks often while a wait lasts.
    fn wanting(&self) -> Option<ContentWanted> {
        self.demand.as_ref().map(|d| d.want())
    }

    fn finish(&self) {
        self.lock().done = true;
        self.changed.notify_waiters();
    }

    /// The whole script, peeked at before the interpreter read it: a
    /// waiter need not wait for the kernel's copy.
    fn peeked(&self, bytes: Vec<u8>) {
        {
            let mut state = self.lock();
            if state.done {
                return;
            }
            state.peeked = Some(bytes);
        }
        self.changed.notify_waiters();
    }

    /// The kernel's copy of the first `len` bytes, once it holds them with
    /// no gap: `None` when a gap is in them, the copy completed first (its
    /// waiter takes it) or `deadline` passed.
    async fn prefix(&self, len: usize, deadline: tokio::time::Instant) -> Option<Vec<u8>> {
        let _wanted = self.wanting();
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if state.done || state.first_gap.is_some_and(|at| at < len) {
                    return None;
                }
                if state.bytes.len() >= len {
                    return Some(state.bytes[..len].to_vec());
                }
                state.wake_at = Some(len);
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => return None,
            }
        }
    }

    /// Until the kernel's copy is complete (the process exited, read to
    /// end of file or hit the limit).
    async fn finished(&self) {
        let _wanted = self.wanting();
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().done {
                return;
            }
            notified.await;
        }
    }

    /// The bytes so far, once complete or at `deadline` (whichever first):
    /// the kernel's copy, or a complete peek at the stdin pipe if that came first.
    pub async fn wait(&self, deadline: tokio::time::Instant) -> CapturedBytes {
        let _wanted = self.wanting();
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.lock();
                if state.done {
                    return CapturedBytes::from(&state, true);
                }
                if let Some(peeked) = &state.peeked {
                    return CapturedBytes {
                        bytes: peeked.clone(),
                        gaps: 0,
                        complete: true,
                        origin: ContentOrigin::StdinPeek,
                    };
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
    /// [`ContentOrigin::KernelCapture`] or [`ContentOrigin::StdinPeek`].
    pub origin: ContentOrigin,
}

impl CapturedBytes {
    fn from(state: &CaptureState, complete: bool) -> Self {
        Self {
            bytes: state.bytes.clone(),
            gaps: state.gaps,
            complete,
            origin: ContentOrigin::KernelCapture,
        }
    }
}

/// All interpreter processes whose reads are being captured, by pid.
#[derive(Debug, Clone)]
pub struct ContentStore {
    by_pid: Arc<Mutex<LruCache<u32, Arc<Capture>>>>,
    limit: usize,
    peek: Option<Arc<StdinPeek>>,
    demand: Option<Arc<ContentDemand>>,
}

impl ContentStore {
    /// `limit`: bytes kept per process (match the kernel's `max_content_bytes`).
    pub fn new(limit: usize) -> Self {
        Self {
            by_pid: Arc::new(Mutex::new(LruCache::new(
                NonZeroUsize::new(16384).expect("non-zero"),
            ))),
            limit,
            peek: None,
            demand: None,
        }
    }

    /// Report waits to capture's reader (see [`ContentDemand`]), which
    /// drains content chunks often only while someone waits for them.
    pub fn with_demand(mut self, demand: Arc<ContentDemand>) -> Self {
        demand.track();
        self.demand = Some(demand);
        self
    }

    /// Also peek at scripts piped to stdin (see [`StdinPeek`]); `exec_event`
    /// starts the peeks.
    pub fn with_stdin_peek(mut self, peek: StdinPeek) -> Self {
        self.peek = Some(Arc::new(peek));
        self
    }

    /// [`exec`](Self::exec) for `event`, peeking at its script when it is
    /// piped to stdin. Call it from within a tokio runtime (a pipe whose
    /// writer is still open is watched by a task).
    pub fn exec_event(&self, event: &ExecEvent) -> Arc<Capture> {
        let capture = self.exec(event.pid);
        if let (Some(peek), Script::Stdin { stdin }) = (&self.peek, &event.script) {
            if stdin.kind == StdinKind::Pipe {
                peek.start(event.pid, stdin.inode, &capture);
            }
        }
        capture
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<u32, Arc<Capture>>> {
        self.by_pid.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An interpreter exec'd as `pid`: what it reads from now on is its
    /// script. A previous program in the same pid is finished (exec replaced it).
    pub fn exec(&self, pid: u32) -> Arc<Capture> {
        let fresh = Arc::new(Capture {
            demand: self.demand.clone(),
            ..Capture::default()
        });
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
            state.first_gap.get_or_insert(have as usize);
            state.bytes.resize(offset as usize, 0);
        }
        let start = (state.bytes.len() as u64).saturating_sub(offset) as usize;
        if start < bytes.len() {
            let room = self.limit.saturating_sub(state.bytes.len());
            let take = (bytes.len() - start).min(room);
            state.bytes.extend_from_slice(&bytes[start..start + take]);
        }
        let full = state.bytes.len() >= self.limit;
        let reached = state.wake_at.is_some_and(|at| state.bytes.len() >= at);
        if reached {
            state.wake_at = None;
        }
        drop(state);
        // Waiters only want complete streams: waking them for every chunk
        // (a shell reads a piped script one byte at a time) is wasted work.
        if last || full {
            capture.finish();
        } else if reached {
            capture.changed.notify_waiters();
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

/// Peeks at scripts piped to an interpreter's stdin, right after the exec.
///
/// The first try runs at once (a few syscalls, never blocking). While a
/// writer is still open (`curl ... | bash` downloading) a task watches the
/// pipe (woken by the kernel on each write and when the last writer closes)
/// and tries again, until the peek succeeds, the interpreter has read from
/// the pipe, the interpreter's capture completes, or `max_wait` passes; then
/// it closes its file on the pipe. Any failure leaves the kernel's copy to
/// the waiter, as without a peek.
///
/// A shell that started reading before its writer closed has its read bytes
/// joined with what the pipe holds once the writer is gone ([`Peek::Joined`]):
/// the peek closes its file on the pipe, then waits (bounded, `JOIN_WAIT`)
/// for the kernel's copy of those bytes to arrive through the ring buffer.
/// A read in flight (a shell reading its next line) is retried within a
/// millisecond or so, backing off to `RETRY_MAX`.
///
/// Outcomes (`sensor_stdin_peeks{reason}`): `complete` (the waiter got the
/// script, nothing read before), `joined` (the waiter got the kernel's copy
/// of what was read joined with the pipe's copy of the rest), `consumed` (the
/// kernel cannot vouch for what was read: the limit, an uncopied read),
/// `gap` (the kernel's copy of the read bytes lost a chunk or did not
/// arrive within `JOIN_WAIT`), `reading` (still reading at `max_wait`),
/// `ended` (its capture completed first, or the kernel saw its end of file
/// or exit), `writer_open` (still open after
/// `max_wait`), `unavailable` (the process or its pipe was gone), `error`.
pub struct StdinPeek {
    state: Arc<dyn ReaderState>,
    proc: std::path::PathBuf,
    limit: usize,
    max_wait: Duration,
    outcomes: Option<Family<ReasonLabel, Counter>>,
}

impl std::fmt::Debug for StdinPeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdinPeek")
            .field("limit", &self.limit)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

/// How long a peek watches a pipe whose writer is still open.
pub const PEEK_MAX_WAIT: Duration = Duration::from_secs(3);
/// First wait before peeking again at a pipe being read (a shell reads a
/// line a byte per read(2), then runs it); doubled up to `RETRY_MAX`.
const RETRY_MIN: Duration = Duration::from_micros(500);
const RETRY_MAX: Duration = Duration::from_millis(8);
/// How long a joined peek waits for the kernel's copy of the read bytes
/// (chunks reach user space on the reader's next poll, every few ms).
const JOIN_WAIT: Duration = Duration::from_millis(100);

impl StdinPeek {
    /// `limit`: bytes kept per script (match the kernel's `max_content_bytes`);
    /// `state`: whether an interpreter read anything yet (the kernel's view,
    /// `crate::stdin_peek::KernelReads`).
    pub fn new(state: Arc<dyn ReaderState>, limit: usize) -> Self {
        Self {
            state,
            proc: "/proc".into(),
            limit,
            max_wait: PEEK_MAX_WAIT,
            outcomes: None,
        }
    }

    /// Open interpreters' stdin under this procfs (`host.proc`; default
    /// `/proc`), the host's pid namespace the kernel's pids belong to.
    pub fn with_proc(mut self, proc: impl Into<std::path::PathBuf>) -> Self {
        self.proc = proc.into();
        self
    }

    /// Count outcomes (`sensor_stdin_peeks{reason=...}`).
    pub fn with_metrics(mut self, outcomes: Family<ReasonLabel, Counter>) -> Self {
        self.outcomes = Some(outcomes);
        self
    }

    fn count(&self, outcome: &str) {
        if let Some(outcomes) = &self.outcomes {
            outcomes
                .get_or_create(&ReasonLabel {
                    reason: outcome.into(),
                })
                .inc();
        }
    }

    fn start(self: &Arc<Self>, pid: u32, inode: Option<u64>, capture: &Arc<Capture>) {
        let pipe = match StdinPipe::open(&self.proc, pid, inode) {
            Ok(pipe) => pipe,
            Err(err) => {
                tracing::debug!(pid, "stdin peek: cannot open the pipe: {err}");
                return self.count("unavailable");
            }
        };
        let first = peek(&pipe, pid, self.limit, &*self.state);
        if let Ok(Peek::Complete(_) | Peek::Consumed | Peek::Ended) | Err(_) = first {
            return self.settle(first, pid, capture);
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.count(match first {
                Ok(Peek::Busy) => "reading",
                Ok(Peek::Joined { .. }) => "gap",
                _ => "writer_open",
            });
        };
        if let Ok(Peek::Joined {
            from_kernel,
            staged,
            rest,
        }) = first
        {
            drop(pipe);
            let (peek, capture) = (self.clone(), capture.clone());
            runtime.spawn(async move { peek.join(&capture, from_kernel, staged, rest).await });
            return;
        }
        runtime.spawn(self.clone().watch(pipe, pid, capture.clone(), first));
    }

    fn settle(&self, outcome: std::io::Result<Peek>, pid: u32, capture: &Capture) {
        match outcome {
            Ok(Peek::Complete(bytes)) => {
                capture.peeked(bytes);
                self.count("complete");
            }
            Ok(Peek::Consumed) => self.count("consumed"),
            Ok(Peek::Ended) => self.count("ended"),
            Ok(Peek::WriterOpen) => self.count("writer_open"),
            Ok(Peek::Busy) => self.count("reading"),
            Ok(Peek::Joined { .. }) => self.count("error"),
            Err(err) => {
                tracing::debug!(pid, "stdin peek failed: {err}");
                self.count("error");
            }
        }
    }

    /// Peek again as the pipe changes (a write, the last writer closing) or
    /// soon when a read was in flight, until an outcome settles it.
    async fn watch(
        self: Arc<Self>,
        pipe: StdinPipe,
        pid: u32,
        capture: Arc<Capture>,
        first: std::io::Result<Peek>,
    ) {
        let deadline = tokio::time::Instant::now() + self.max_wait;
        let pipe = match pipe.into_async() {
            Ok(pipe) => pipe,
            Err(err) => return self.settle(Err(err), pid, &capture),
        };
        let mut outcome = first;
        let mut retry = RETRY_MIN;
        loop {
            match outcome {
                Ok(Peek::WriterOpen) => {
                    tokio::select! {
                        ready = pipe.readable() => {
                            let mut guard = match ready {
                                Ok(guard) => guard,
                                Err(err) => return self.settle(Err(err), pid, &capture),
                            };
                            outcome = peek(guard.get_inner(), pid, self.limit, &*self.state);
                            if let Ok(Peek::WriterOpen) = outcome {
                                guard.clear_ready();
                            }
                        }
                        _ = capture.finished() => return self.count("ended"),
                        _ = tokio::time::sleep_until(deadline) => return self.count("writer_open"),
                    }
                }
                Ok(Peek::Busy) => {
                    tokio::select! {
                        _ = tokio::time::sleep(retry) => {
                            retry = (retry * 2).min(RETRY_MAX);
                            outcome = peek(pipe.get_ref(), pid, self.limit, &*self.state);
                        }
                        _ = capture.finished() => return self.count("ended"),
                        _ = tokio::time::sleep_until(deadline) => return self.count("reading"),
                    }
                }
                Ok(Peek::Joined {
                    from_kernel,
                    staged,
                    rest,
                }) => {
                    // The pipe is not needed any more: let it go before waiting.
                    drop(pipe);
                    return self.join(&capture, from_kernel, staged, rest).await;
                }
                done => return self.settle(done, pid, &capture),
            }
        }
    }

    /// The kernel's copy of the first `from_kernel` bytes, then `staged`
    /// and `rest`: the whole script (or its first `limit` bytes).
    async fn join(&self, capture: &Capture, from_kernel: usize, staged: Vec<u8>, rest: Vec<u8>) {
        let wait = tokio::time::Instant::now() + JOIN_WAIT;
        let Some(mut bytes) = capture.prefix(from_kernel, wait).await else {
            return self.count(if capture.lock().done { "ended" } else { "gap" });
        };
        bytes.extend_from_slice(&staged);
        bytes.extend_from_slice(&rest);
        bytes.truncate(self.limit);
        capture.peeked(bytes);
        self.count("joined");
    }
}

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
    async fn a_complete_peek_ends_the_wait_and_the_kernel_copy_goes_on() {
        let store = ContentStore::new(1024);
        let capture = store.exec(5);
        capture.peeked(b"curl -s http://127.0.0.1/x | sh\n".to_vec());
        let got = capture
            .wait(tokio::time::Instant::now() + Duration::from_secs(3600))
            .await;
        assert!(got.complete);
        assert_eq!(got.origin, ContentOrigin::StdinPeek);
        assert_eq!(got.bytes, b"curl -s http://127.0.0.1/x | sh\n");
        // The kernel's copy is still gathered (traces, later waiters once done).
        store.content(5, 0, b"curl -s http://127.0.0.1/x | sh\n", true);
        let kernel = capture.snapshot();
        assert_eq!(kernel.origin, ContentOrigin::KernelCapture);
        assert!(kernel.complete);
        assert_eq!(kernel.bytes, got.bytes);
    }

    /// The interpreter read `n` bytes, the last `staged` of them not sent yet.
    struct HasRead(u64, Vec<u8>);
    impl ReaderState for HasRead {
        fn reads(&self, _pid: u32) -> crate::stdin_peek::ReadState {
            crate::stdin_peek::ReadState::Settled {
                stream: self.0,
                staged: self.1.clone(),
            }
        }
    }

    const SCRIPT: &[u8] = b"read -r _ </tmp/fifo\necho 'ran'\nexit 0\n";

    /// A pipe holding `SCRIPT` with no writer left, of which a reader took
    /// the first `k` bytes; and a procfs-like dir where `<pid>/fd/0` is it.
    fn read_pipe(k: usize) -> (std::fs::File, tempfile::TempDir) {
        use std::io::{Read, Write};
        use std::os::fd::{AsRawFd, FromRawFd};
        let mut fds = [0 as libc::c_int; 2];
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let mut reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
        let mut writer = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        writer.write_all(SCRIPT).unwrap();
        drop(writer);
        let mut taken = vec![0u8; k];
        reader.read_exact(&mut taken).unwrap();
        let proc = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(proc.path().join("4242/fd")).unwrap();
        std::os::unix::fs::symlink(
            format!("/proc/self/fd/{}", reader.as_raw_fd()),
            proc.path().join("4242/fd/0"),
        )
        .unwrap();
        (reader, proc)
    }

    fn peeker(
        state: HasRead,
        proc: &std::path::Path,
    ) -> (Arc<StdinPeek>, Family<ReasonLabel, Counter>) {
        let outcomes = Family::<ReasonLabel, Counter>::default();
        let peek = StdinPeek::new(Arc::new(state), 1024)
            .with_proc(proc)
            .with_metrics(outcomes.clone());
        (Arc::new(peek), outcomes)
    }

    fn outcome(outcomes: &Family<ReasonLabel, Counter>, reason: &str) -> u64 {
        outcomes
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .get()
    }

    #[tokio::test]
    async fn read_bytes_are_joined_with_the_rest_of_the_pipe() {
        use std::io::Read;
        // The shell read its first line (21 bytes), then parked.
        let (mut reader, proc) = read_pipe(21);
        let store = ContentStore::new(1024);
        let capture = store.exec(4242);
        let (peek, outcomes) = peeker(HasRead(21, Vec::new()), proc.path());
        peek.start(4242, None, &capture);
        // The kernel's copy of the line arrives later, in two chunks.
        tokio::task::yield_now().await;
        store.content(4242, 0, &SCRIPT[..9], false);
        store.content(4242, 9, &SCRIPT[9..21], false);
        let got = capture
            .wait(tokio::time::Instant::now() + Duration::from_secs(3600))
            .await;
        assert_eq!(got.origin, ContentOrigin::StdinPeek);
        assert_eq!(got.bytes, SCRIPT);
        assert_eq!(outcome(&outcomes, "joined"), 1);
        // Nothing was taken from the pipe.
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &SCRIPT[21..]);
    }

    #[tokio::test]
    async fn staged_bytes_come_from_the_kernel_state() {
        // 21 bytes read; the last 4 still gathered in the kernel.
        let (_reader, proc) = read_pipe(21);
        let store = ContentStore::new(1024);
        let capture = store.exec(4242);
        let (peek, _) = peeker(HasRead(21, SCRIPT[17..21].to_vec()), proc.path());
        store.content(4242, 0, &SCRIPT[..17], false);
        peek.start(4242, None, &capture);
        let got = capture
            .wait(tokio::time::Instant::now() + Duration::from_secs(3600))
            .await;
        assert_eq!(got.origin, ContentOrigin::StdinPeek);
        assert_eq!(got.bytes, SCRIPT);
    }

    #[tokio::test]
    async fn a_gap_in_the_read_bytes_is_never_joined() {
        let (_reader, proc) = read_pipe(21);
        let store = ContentStore::new(1024);
        let capture = store.exec(4242);
        let (peek, outcomes) = peeker(HasRead(21, Vec::new()), proc.path());
        // A chunk of the first line was lost in the ring buffer.
        store.content(4242, 9, &SCRIPT[9..21], false);
        peek.start(4242, None, &capture);
        while outcome(&outcomes, "gap") == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(outcome(&outcomes, "joined"), 0);
        // The waiter gets the kernel's copy (gap and all) once it completes.
        store.exit(4242);
        let got = capture
            .wait(tokio::time::Instant::now() + Duration::from_secs(3600))
            .await;
        assert_eq!(got.origin, ContentOrigin::KernelCapture);
        assert_eq!(got.gaps, 9);
    }

    #[tokio::test]
    async fn the_prefix_waits_for_its_bytes() {
        let store = ContentStore::new(1024);
        let capture = store.exec(8);
        let later = tokio::time::Instant::now() + Duration::from_secs(3600);
        let waiter = {
            let capture = capture.clone();
            tokio::spawn(async move { capture.prefix(6, later).await })
        };
        tokio::task::yield_now().await;
        store.content(8, 0, b"ech", false);
        store.content(8, 3, b"o hi\n", false);
        assert_eq!(waiter.await.unwrap(), Some(b"echo h".to_vec()));
        // Once the copy is complete, its waiter takes it instead.
        store.exit(8);
        assert_eq!(capture.prefix(6, later).await, None);
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
