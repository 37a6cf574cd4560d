//! Capture: every exec of a script interpreter, from the kernel, as
//! [`ExecEvent`]s.
//!
//! # Design
//! `sensor-ebpf` hooks `tp_btf/sched_process_exec` (after a successful exec:
//! the new mm holds argv after any `#!` rewrite, `linux_binprm::interp` names
//! the interpreter really executed) and `syscalls:sys_exit_execve(at)` (a
//! shell whose execve fails with ENOEXEC interprets the `#!`-less file
//! itself). The exit hooks read the return value first (nearly every exit
//! stops there), then check that the caller is a shell, and only then take
//! the call's filename and argv from the user registers saved at syscall
//! entry (`bpf_task_pt_regs`; `pt_regs` offsets from BTF): no hook runs on
//! every execve's entry to remember them. The basename of the executed binary (or of the file it resolves
//! to) is looked up in the `INTERPRETERS` map, so only interpreter execs reach
//! the ring buffer; `python3.X` matches any `python3.<digits>`.
//!
//! aya-ebpf 0.2 has no CO-RE, so [`offsets`] resolves every kernel struct
//! member the programs read (task_struct, mm_struct, linux_binprm, dentry,
//! mount, fs_struct, nsproxy, pid, files_struct, inode...) from
//! `/sys/kernel/btf/vmlinux` at load time, walking anonymous struct/union
//! members, and passes them in the read-only `CONFIG` global: one binary for
//! every kernel with BTF, no build-time kernel headers.
//!
//! Per exec the kernel copies: ids, comm, the direct parent's comm and ppid
//! (as `/proc/<ppid>/stat` shows them: user space reads no /proc file for
//! the parent, see `Enricher::add_parent`), cgroup id, mnt/pid namespace inodes,
//! `bprm->filename`, `bprm->interp`, cwd (a bounded dentry walk up to the
//! process root, crossing mounts), what fd 0 is (mode, inode, rdev, and its
//! path for files and ttys, walked only when the argv scan says the script
//! is not `-c` code or a `-m` module: only a stdin script reports it), and
//! argv from `mm->arg_start..arg_end` up to
//! `max_argv_bytes`. When argv is longer, a `bpf_loop` scan walks the rest of
//! argv with the interpreter's option grammar and copies the argument that
//! holds the script (file, `-c` literal, `-m` module) up to
//! `max_script_arg_bytes`: padding argv cannot hide the script. Drops (ring
//! buffer full) are counted per CPU in the kernel and reported in [`Stats`].
//!
//! User space ([`decode`]) turns records into [`ExecEvent`]s: wall time from
//! the boot-time clock, cwd joined from its components, stdin typed, argv
//! split and cut to `max_args`, and the script classified by
//! [`crate::script::classify`].
//!
//! # Content capture
//! With `max_content_bytes > 0` (default 64 KiB; `sensor watch` turns it
//! off) the kernel also copies what each interpreter reads from its script,
//! so contents are known when the process exits within a millisecond, the
//! file is deleted right after launch, or the script never touches the disk
//! (`curl | bash`, `bash <(curl ...)`, memfd). At exec the pid goes into a
//! `TRACKED` map with its script stream, decided from the same argv scan:
//! the `#!` file (`bprm->executable`'s inode), the file named by the script
//! argument (matched by name at the first `read`, then by inode, so the
//! `.pyc`/`.pth`/locale files Python reads first are skipped), the file
//! behind `/dev/fd/N` or `/proc/self/fd/N` (its inode), or fd 0 when the
//! script comes from stdin (never a tty). `-c` and `-m` are not tracked (the
//! code is in argv / in a module file). `syscalls:sys_{enter,exit}_read` copy
//! those reads, up to 32 KiB per read and `max_content_bytes` per process,
//! into [`CaptureEvent::Content`] with the byte offset in the stream: `f_pos`
//! for files (Python reads its script twice; the same offset comes twice),
//! a running count for pipes. One-byte reads (a shell reading a piped script
//! never reads past the command it runs) are gathered in the kernel per line
//! (up to `STAGE_CAP` bytes) into one record: a shell runs nothing of a line
//! before its newline, so nothing it ran is missing. The read hooks cost an
//! untracked process one array load (tracked pids are counted per pid slot).
//! `sched:sched_process_exit`, or an exec of a
//! non-interpreter in the same pid (`exec cat` in a piped script), ends the
//! stream with [`CaptureEvent::Exit`].
//!
//! Ordering contract (one ring buffer, so records arrive in kernel order):
//! a pid's `Exec` comes before its `Content`, and `Exit` after its last
//! `Content`. A new `Exec` of the same pid starts a new stream. Feed them to
//! `crate::kernel_content::ContentStore` (`exec`, `content`, `exit`) to get
//! the bytes per exec, as `sensor run` does. Content of untracked pids never
//! comes, and untracked pids get no `Exit`.
//!
//! # API
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use sensor::capture::{Capture, CaptureConfig, CaptureEvent};
//! let (capture, mut events) = Capture::start(CaptureConfig::default())?;
//! while let Some(event) = events.recv().await {
//!     if let CaptureEvent::Exec(exec) = event {
//!         println!("{}", serde_json::to_string(&exec)?);
//!     }
//! }
//! let stats = capture.stop().await;
//! eprintln!("{} events, {} dropped", stats.events, stats.dropped());
//! # Ok(()) }
//! ```
//! [`Capture::start`] must run inside a tokio runtime; events come through a
//! bounded channel (`channel_capacity`). The reader never waits for the
//! consumer: when the channel is full the record is dropped and counted
//! (`exec_drops` / `content_drops`, like a full ring buffer), so a stalled
//! consumer never backs up the kernel ring buffer (which every CPU shares).
//!
//! # Wakeups
//! The kernel sends every record without waking the reader: on a VM a
//! ring-buffer wakeup is a self-IPI (a VM exit) that cost each interpreter
//! exec ~20 µs of its own time. While records keep coming the reader polls
//! the ring every [`POLL`]; once it has been idle for [`LINGER`] it asks the
//! kernel for a wakeup (`GATE[GATE_WAKE]`) and sleeps: the next exec, exit
//! or end-of-stream record is followed by a wakeup record. An exec record
//! also wakes a polling reader, unless the kernel sent a wakeup, or the
//! previous exec record came, less than [`CaptureConfig::exec_wake_gap`]
//! (default 2 ms) ago: an exec that comes alone is read at once instead of
//! at the next poll (detection latency), while a dense stream of execs
//! (hundreds a second) is taken by the polls and pays for no wakeup. That
//! wakeup was most of the exec hook's cost (kernel.bpf_stats on a `bash -c
//! true` closed loop: sched_process_exec ~20 us per exec when every exec
//! 2 ms after the last wakeup forced one, ~8 us now).
//!
//! [`Capture::start_judged`] runs a [`Judge`] on each exec in the reader
//! itself: `sensor run` gives it the judged-text shortcut
//! (`EventInput::take_judged`), so a `bash -c true` run a thousand times a
//! second wakes no consumer task at all. A taken exec of a pid the
//! consumer knows (it got its exec and no exit since) becomes an
//! [`CaptureEvent::Exit`]: the new program ends the old one's stream.

pub mod decode;
pub mod loader;
pub mod offsets;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use aya::maps::{Array, MapData, PerCpuArray, RingBuf};
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, oneshot};

use crate::event::ExecEvent;
use decode::{Clock, DecodeLimits, Record};

/// Interpreters captured by default (`python3.X`: any `python3.<digits>`).
pub const DEFAULT_INTERPRETERS: &[&str] = &[
    "bash",
    "sh",
    "dash",
    "zsh",
    "ksh",
    "mksh",
    "ash",
    "busybox",
    "python",
    "python2",
    "python3",
    "python3.X",
    "pypy3",
];

/// Default ring buffer size. User space maps it twice (resident twice
/// once it has wrapped), so it is most of the sensor's memory it can
/// choose. Measured with the reader stopped (SIGSTOP) under the bench's
/// script mix: ~780 bytes per exec with its contents (a 256 KiB ring held
/// 338 execs), so 4 MiB holds ~5,000 execs: ~5 s of a stalled reader at
/// this 2-core machine's full rate (~1,000 execs/s).
pub const DEFAULT_RING_BUFFER_BYTES: u32 = 4 * 1024 * 1024;

/// A ring buffer size the kernel takes: a power of two, 64 KiB to 1 GiB.
/// The error says what is allowed.
pub fn check_ring_buffer_bytes(bytes: u32) -> Result<u32, String> {
    if bytes.is_power_of_two() && (64 << 10..=1 << 30).contains(&bytes) {
        Ok(bytes)
    } else {
        Err(format!(
            "{bytes} is not a power of two from 65536 (64 KiB) to 1073741824 (1 GiB)"
        ))
    }
}

/// Load-time settings of the capture.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    /// Interpreter basenames (see [`DEFAULT_INTERPRETERS`]).
    pub interpreters: Vec<String>,
    /// argv elements kept per event (more sets `argv_truncated`).
    pub max_args: usize,
    /// argv bytes copied per event (at most 32 KiB).
    pub max_argv_bytes: u32,
    /// Bytes copied of the script argument located past the argv window
    /// (at most 16 KiB).
    pub max_script_arg_bytes: u32,
    /// Iterations (arguments, or 127-byte pieces of long ones) the kernel may
    /// spend scanning argv past the window for the script argument.
    pub scan_budget: u32,
    /// Ring buffer size in bytes (rounded up to a power of two, at least
    /// 64 KiB). See [`DEFAULT_RING_BUFFER_BYTES`].
    pub ring_buffer_bytes: u32,
    /// Script bytes copied per interpreter process from its reads (0: off;
    /// see "Content capture" above).
    pub max_content_bytes: u32,
    /// Capacity of the channel to the consumer.
    pub channel_capacity: usize,
    /// An exec record wakes the reader while it polls, unless the kernel
    /// woke it, or the previous exec record came, less than this long ago:
    /// shorter, an exec is read sooner; longer, fewer execs pay for a
    /// wakeup (a self-IPI and a VM exit on the exec'ing CPU). Zero wakes
    /// the reader for every exec.
    pub exec_wake_gap: std::time::Duration,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            interpreters: DEFAULT_INTERPRETERS.iter().map(|s| s.to_string()).collect(),
            max_args: 64,
            max_argv_bytes: 4096,
            max_script_arg_bytes: 8192,
            scan_budget: 65_536,
            ring_buffer_bytes: DEFAULT_RING_BUFFER_BYTES,
            max_content_bytes: 64 * 1024,
            channel_capacity: 16_384,
            exec_wake_gap: std::time::Duration::from_nanos(sensor_common::EXEC_WAKE_GAP_NS),
        }
    }
}

/// Why capture could not start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("capturing execs needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN): run the sensor as root, e.g. with sudo")]
    NotRoot,
    #[error("this kernel has no BTF ({}): capture needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)", offsets::VMLINUX_BTF)]
    NoBtf,
    #[error("this sensor binary was built without its eBPF programs (AYA_BUILD_SKIP was set): rebuild it after `cargo xtask setup`")]
    NoObject,
    #[error("cannot mount tracefs on /sys/kernel/tracing (needed for syscall tracepoints): {0}")]
    Tracefs(#[source] std::io::Error),
    #[error("resolving kernel struct offsets: {0}")]
    Offsets(#[from] offsets::OffsetError),
    #[error(
        "loading the eBPF object failed (is BPF enabled in this kernel, and are we root?): {0}"
    )]
    Load(String),
    #[error("eBPF program {program} could not be loaded or attached: {detail}")]
    Program { program: String, detail: String },
    #[error("interpreter name {0:?} is not a basename of 1 to 31 bytes")]
    BadInterpreter(String),
    #[error("eBPF setup: {0}")]
    Kernel(String),
}

impl CaptureError {
    fn program(program: &str, err: aya::programs::ProgramError) -> Self {
        let detail = match &err {
            aya::programs::ProgramError::LoadError {
                io_error,
                verifier_log,
            } => {
                // The end of the verifier log says why; the rest is noise here.
                let log = verifier_log.to_string();
                // Full log on request, for developers of the eBPF programs.
                if let Some(path) = std::env::var_os("SENSOR_VERIFIER_LOG") {
                    let _ = std::fs::write(path, &log);
                }
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(12)..].join("\n");
                format!("the kernel refused it ({io_error}); verifier log (end):\n{tail}")
            }
            other => other.to_string(),
        };
        Self::Program {
            program: program.to_string(),
            detail,
        }
    }
}

/// What capture delivers, in ring-buffer order.
// Exec is the variant that comes most (one per exec): boxing it would
// cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureEvent {
    /// A successful interpreter exec, or a shell interpreting a `#!`-less file.
    Exec(ExecEvent),
    /// Bytes a tracked interpreter read from a file descriptor (content capture).
    Content {
        pid: u32,
        fd: u32,
        ino: u64,
        offset: u64,
        bytes: Vec<u8>,
        /// Nothing more will come: the kernel's limit or end of file.
        last: bool,
    },
    /// A tracked interpreter process exited: its content is complete.
    Exit { pid: u32 },
}

/// Counters of a capture run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Exec events delivered to the consumer.
    pub events: u64,
    /// Interpreter execs the kernel saw (delivered or not).
    pub kernel_execs: u64,
    /// Exec records lost because the ring buffer was full, or the channel
    /// to the consumer was (the reader drops rather than waits).
    pub exec_drops: u64,
    /// Content and exit records lost the same ways.
    pub content_drops: u64,
    /// Records user space could not decode.
    pub decode_errors: u64,
}

impl Stats {
    /// Exec events lost, in the kernel or in decoding.
    pub fn dropped(&self) -> u64 {
        self.exec_drops + self.decode_errors
    }
}

#[derive(Default)]
struct UserCounters {
    events: AtomicU64,
    decode_errors: AtomicU64,
    /// Dropped because the consumer's channel was full.
    exec_drops: AtomicU64,
    content_drops: AtomicU64,
}

/// Whether anyone waits for a script's content (a
/// [`crate::kernel_content::ContentStore`] given this reports its waiters):
/// content chunks never wake the reader, so while someone waits it drains
/// them every `CONTENT_DRAIN`; with nobody waiting, only every
/// `IDLE_DRAIN`, and an idle sensor is not woken 50 times a second.
#[derive(Debug, Default)]
pub struct ContentDemand {
    /// Set once a store reports its waiters here; until then the reader
    /// drains every `CONTENT_DRAIN`, as if someone always waited.
    tracked: AtomicBool,
    waiting: AtomicUsize,
    /// A waiter came: the reader looks once more and drains at the
    /// waiting pace.
    arrived: tokio::sync::Notify,
}

impl ContentDemand {
    /// From now on, waiters are reported with [`want`](Self::want).
    pub fn track(&self) {
        self.tracked.store(true, Ordering::SeqCst);
    }

    /// Someone waits for content until the guard is dropped.
    pub fn want(self: &Arc<Self>) -> ContentWanted {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.arrived.notify_one();
        ContentWanted(self.clone())
    }

    /// How long the idle reader may leave content chunks in the ring.
    fn drain_every(&self) -> std::time::Duration {
        if !self.tracked.load(Ordering::SeqCst) || self.waiting.load(Ordering::SeqCst) > 0 {
            CONTENT_DRAIN
        } else {
            IDLE_DRAIN
        }
    }
}

/// A waiter for content (see [`ContentDemand::want`]).
#[derive(Debug)]
pub struct ContentWanted(Arc<ContentDemand>);

impl Drop for ContentWanted {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running capture. Dropping it detaches the programs.
pub struct Capture {
    ebpf: Option<aya::Ebpf>,
    counters: PerCpuArray<MapData, u64>,
    user: Arc<UserCounters>,
    demand: Arc<ContentDemand>,
    stop: Option<oneshot::Sender<()>>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl Capture {
    /// Load and attach the programs and start reading the ring buffer.
    /// Call from within a tokio runtime.
    pub fn start(
        config: CaptureConfig,
    ) -> Result<(Self, mpsc::Receiver<CaptureEvent>), CaptureError> {
        Self::start_judged(config, None)
    }

    /// [`start`](Self::start), with `judge` shown every exec in the ring
    /// reader itself, before the channel: an exec it takes (returns None)
    /// is counted as delivered and goes no further, so no consumer task is
    /// woken for it. When the consumer had heard of that pid before (its
    /// exec or content), a [`CaptureEvent::Exit`] for it is sent instead:
    /// the new program ends the old one's stream. Keep it cheap and
    /// non-blocking: it runs on the reader.
    pub fn start_judged(
        config: CaptureConfig,
        judge: Option<Judge>,
    ) -> Result<(Self, mpsc::Receiver<CaptureEvent>), CaptureError> {
        let loaded = loader::load(&config)?;
        let (tx, rx) = mpsc::channel(config.channel_capacity.max(1));
        let user = Arc::new(UserCounters::default());
        let (stop_tx, stop_rx) = oneshot::channel();
        let limits = DecodeLimits {
            max_args: config.max_args.max(1),
        };
        // SAFETY: the RingBuf owns its map fd for as long as the AsyncFd owns it.
        let events = unsafe { AsyncFd::register(loaded.events) }
            .map_err(|err| CaptureError::Kernel(format!("polling the ring buffer: {err}")))?;
        let out = Output {
            tx,
            user: user.clone(),
            judge,
            known: PidSet::default(),
        };
        let demand = Arc::new(ContentDemand::default());
        let reader = tokio::spawn(read_loop(
            events,
            loaded.gate,
            out,
            limits,
            demand.clone(),
            stop_rx,
        ));
        Ok((
            Self {
                ebpf: Some(loaded.ebpf),
                counters: loaded.counters,
                user,
                demand,
                stop: Some(stop_tx),
                reader: Some(reader),
            },
            rx,
        ))
    }

    /// Where a content store reports its waiters, so that the idle reader
    /// drains content chunks often only while someone waits for them.
    pub fn content_demand(&self) -> Arc<ContentDemand> {
        self.demand.clone()
    }

    /// A handle of its own (a new fd) on the loaded LRU hash map `name`
    /// (`TRACKED`, `READS`), for lookups outside the reader
    /// (`crate::stdin_peek::KernelReads`); None if absent or stopped.
    pub fn lru_map(&self, name: &str) -> Option<aya::maps::MapData> {
        match self.ebpf.as_ref()?.map(name)? {
            aya::maps::Map::LruHashMap(data) => {
                aya::maps::MapData::from_id(data.info().ok()?.id()).ok()
            }
            _ => None,
        }
    }

    /// Counters so far (kernel counters summed over CPUs).
    pub fn stats(&self) -> Stats {
        let kernel = |index: u32| -> u64 {
            self.counters
                .get(&index, 0)
                .map(|values| values.iter().sum())
                .unwrap_or(0)
        };
        Stats {
            events: self.user.events.load(Ordering::Relaxed),
            kernel_execs: kernel(sensor_common::COUNTER_EXECS_SEEN),
            exec_drops: kernel(sensor_common::COUNTER_EXEC_DROPS)
                + self.user.exec_drops.load(Ordering::Relaxed),
            content_drops: kernel(sensor_common::COUNTER_CONTENT_DROPS)
                + self.user.content_drops.load(Ordering::Relaxed),
            decode_errors: self.user.decode_errors.load(Ordering::Relaxed),
        }
    }

    /// Detach the programs, deliver what is still in the ring buffer, and
    /// return the final counters. The event channel closes after the last one.
    pub async fn stop(mut self) -> Stats {
        // No new records once the programs are detached.
        drop(self.ebpf.take());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.await;
        }
        self.stats()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

/// How often the reader drains the ring buffer without being woken, while
/// someone waits for a script's content.
const CONTENT_DRAIN: std::time::Duration = std::time::Duration::from_millis(20);
/// The same with nobody waiting (see [`ContentDemand`]): chunks are bounded
/// per process and an exec or exit record wakes the reader anyway, so they
/// only need draining before the ring buffer could fill.
const IDLE_DRAIN: std::time::Duration = std::time::Duration::from_secs(1);
/// While records keep coming, the reader polls this often instead of
/// having the kernel wake it per record. At the machine's full exec rate
/// (~1 record per ms) a 1 ms poll woke the reader (and a tokio worker) for
/// nearly every record; 2 ms takes ~2 per wakeup.
pub const POLL: std::time::Duration = std::time::Duration::from_millis(2);
/// Idle this long, the reader asks the kernel for a wakeup and sleeps:
/// one empty poll after the last record (at a low rate, an exec that comes
/// later gets a wakeup, so no poll is wasted waiting for it).
pub const LINGER: std::time::Duration = POLL;

/// Sees each exec in the ring reader; None: taken, deliver nothing.
pub type Judge = Box<dyn FnMut(ExecEvent) -> Option<ExecEvent> + Send>;

/// Where decoded records go: the judge, then the consumer's channel.
struct Output {
    tx: mpsc::Sender<CaptureEvent>,
    user: Arc<UserCounters>,
    judge: Option<Judge>,
    /// Pids whose exec reached the consumer and whose stream it has not
    /// seen end: a taken exec of one of them must still end that stream.
    known: PidSet,
}

/// One bit per pid (pids are below 2^22, `PID_MAX_LIMIT`); pages of it
/// are only touched for the pids in use.
#[derive(Default)]
struct PidSet {
    bits: Vec<u64>,
}

impl PidSet {
    const PIDS: usize = 1 << 22;

    fn insert(&mut self, pid: u32) {
        if self.bits.is_empty() {
            self.bits = vec![0; Self::PIDS / 64];
        }
        let pid = pid as usize & (Self::PIDS - 1);
        self.bits[pid / 64] |= 1 << (pid % 64);
    }

    /// Whether `pid` was in the set (it no longer is).
    fn remove(&mut self, pid: u32) -> bool {
        let pid = pid as usize & (Self::PIDS - 1);
        let Some(word) = self.bits.get_mut(pid / 64) else {
            return false;
        };
        let bit = 1 << (pid % 64);
        let was = *word & bit != 0;
        *word &= !bit;
        was
    }
}

async fn read_loop(
    mut ring: AsyncFd<RingBuf<MapData>>,
    mut gate: Array<MapData, u64>,
    mut out: Output,
    limits: DecodeLimits,
    demand: Arc<ContentDemand>,
    mut stop: oneshot::Receiver<()>,
) {
    // Wall time = boot time + offset; re-read the offset now and then so NTP
    // steps and slews show up in event times.
    const CLOCK_RESYNC: std::time::Duration = std::time::Duration::from_secs(10);
    let mut clock = Clock::now();
    let mut synced = std::time::Instant::now();
    let mut last_record = std::time::Instant::now();
    let mut stopping = false;
    loop {
        if synced.elapsed() > CLOCK_RESYNC {
            clock = Clock::now();
            synced = std::time::Instant::now();
        }
        let (read, more) = match drain(ring.get_mut(), &mut out, limits, &clock) {
            Some(drained) => drained,
            None => return,
        };
        if read > 0 {
            last_record = std::time::Instant::now();
        }
        if more {
            // Let the consumer run between batches.
            tokio::task::yield_now().await;
            continue;
        }
        if stopping {
            return;
        }
        let wait = if last_record.elapsed() < LINGER {
            // Polling: an exec record still wakes the reader mid-poll (at
            // most one wakeup per `CaptureConfig::exec_wake_gap`), so it
            // waits for no poll.
            POLL
        } else {
            // Idle: ask for a wakeup, then look once more: a record committed
            // before the request saw no flag, and is in the ring by now.
            if let Err(err) = gate.set(sensor_common::GATE_WAKE, 1, 0) {
                tracing::error!("arming the ring-buffer wakeup failed: {err}");
            }
            std::sync::atomic::fence(Ordering::SeqCst);
            match drain(ring.get_mut(), &mut out, limits, &clock) {
                None => return,
                Some((read, _)) if read > 0 => {
                    last_record = std::time::Instant::now();
                    continue;
                }
                Some(_) => {}
            }
            // Content chunks never wake us: drain them now and then anyway,
            // so a script still being read is seen up to CONTENT_DRAIN ago
            // by whoever waits for it.
            demand.drain_every()
        };
        // Sleep until the next poll or a wakeup; on stop, drain once more
        // (programs are detached).
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            guard = ring.readable_mut() => match guard {
                Ok(mut guard) => guard.clear_ready(),
                Err(err) => {
                    tracing::error!("polling the ring buffer failed: {err}");
                    stopping = true;
                }
            },
            _ = &mut stop => stopping = true,
            // A new content waiter: look again, at the waiting pace.
            _ = demand.arrived.notified() => {}
        }
    }
}

/// Decode and hand over up to one batch of records. Returns how many
/// records were read and whether more may be waiting, or `None` once the
/// consumer is gone. Never waits for the consumer: a record that finds the
/// channel full is dropped and counted.
fn drain(
    rb: &mut RingBuf<MapData>,
    out: &mut Output,
    limits: DecodeLimits,
    clock: &Clock,
) -> Option<(usize, bool)> {
    const BATCH: usize = 1024;
    let mut read = 0;
    while read < BATCH {
        let Some(item) = rb.next() else {
            return Some((read, false));
        };
        read += 1;
        let event = match decode::decode(&item, limits, clock) {
            Ok(record) => to_event(record),
            Err(err) => {
                out.user.decode_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("{err}");
                None
            }
        };
        drop(item);
        let Some(event) = event else { continue };
        if !out.deliver(event) {
            return None;
        }
    }
    Some((read, true))
}

impl Output {
    /// Judge and hand over one event without waiting; false once the
    /// consumer is gone.
    fn deliver(&mut self, event: CaptureEvent) -> bool {
        let event = match event {
            CaptureEvent::Exec(exec) => {
                let pid = exec.pid;
                let exec = match &mut self.judge {
                    Some(judge) => judge(exec),
                    None => Some(exec),
                };
                match exec {
                    Some(exec) => {
                        if self.judge.is_some() {
                            self.known.insert(pid);
                        }
                        CaptureEvent::Exec(exec)
                    }
                    None => {
                        self.user.events.fetch_add(1, Ordering::Relaxed);
                        if !self.known.remove(pid) {
                            return true;
                        }
                        CaptureEvent::Exit { pid }
                    }
                }
            }
            CaptureEvent::Exit { pid } => {
                self.known.remove(pid);
                event
            }
            other => other,
        };
        let exec = matches!(event, CaptureEvent::Exec(_));
        match self.tx.try_send(event) {
            Ok(()) if exec => {
                self.user.events.fetch_add(1, Ordering::Relaxed);
            }
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let counter = if exec {
                    &self.user.exec_drops
                } else {
                    &self.user.content_drops
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return false,
        }
        true
    }
}

fn to_event(record: Record) -> Option<CaptureEvent> {
    Some(match record {
        Record::Exec(exec) => CaptureEvent::Exec(exec),
        Record::Content {
            pid,
            fd,
            ino,
            offset,
            bytes,
            last,
        } => CaptureEvent::Content {
            pid,
            fd,
            ino,
            offset,
            bytes,
            last,
        },
        Record::Exit { pid } => CaptureEvent::Exit { pid },
        Record::Ignored => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Script;

    #[tokio::test]
    async fn content_chunks_are_drained_often_only_while_someone_waits() {
        let demand = Arc::new(ContentDemand::default());
        assert_eq!(
            demand.drain_every(),
            CONTENT_DRAIN,
            "no store reports: as before"
        );
        demand.track();
        assert_eq!(demand.drain_every(), IDLE_DRAIN);
        let first = demand.want();
        let second = demand.want();
        assert_eq!(demand.drain_every(), CONTENT_DRAIN);
        // The reader hears of a new waiter even if it was not listening yet.
        tokio::time::timeout(std::time::Duration::from_secs(5), demand.arrived.notified())
            .await
            .expect("a waiter's arrival is announced");
        drop(first);
        assert_eq!(demand.drain_every(), CONTENT_DRAIN);
        drop(second);
        assert_eq!(demand.drain_every(), IDLE_DRAIN);
    }

    fn exec(pid: u32, code: &str) -> CaptureEvent {
        CaptureEvent::Exec(ExecEvent::for_test(
            pid,
            "/bin/bash",
            &["bash", "-c", code],
            Script::Inline {
                inline: code.into(),
            },
        ))
    }

    #[test]
    fn a_taken_exec_ends_only_a_stream_the_consumer_knows() {
        let (tx, mut rx) = mpsc::channel(16);
        let judge: Judge =
            Box::new(|event: ExecEvent| (event.argv[2].as_bytes() != b"true").then_some(event));
        let mut out = Output {
            tx,
            user: Arc::new(UserCounters::default()),
            judge: Some(judge),
            known: PidSet::default(),
        };
        // Never heard of pid 7: nothing reaches the consumer.
        assert!(out.deliver(exec(7, "true")));
        // pid 8 ran a script the consumer registered, then execs a taken
        // text: its old stream ends.
        assert!(out.deliver(exec(8, "./x.sh")));
        assert!(out.deliver(exec(8, "true")));
        // pid 9's stream ended already: nothing more for it.
        assert!(out.deliver(exec(9, "./y.sh")));
        assert!(out.deliver(CaptureEvent::Exit { pid: 9 }));
        assert!(out.deliver(exec(9, "true")));
        drop(out.judge.take());
        let mut got = Vec::new();
        while let Ok(event) = rx.try_recv() {
            got.push(match event {
                CaptureEvent::Exec(e) => format!("exec {}", e.pid),
                CaptureEvent::Exit { pid } => format!("exit {pid}"),
                CaptureEvent::Content { .. } => "content".into(),
            });
        }
        assert_eq!(got, ["exec 8", "exit 8", "exec 9", "exit 9"]);
        // Taken execs count as delivered events.
        assert_eq!(out.user.events.load(Ordering::Relaxed), 5);
    }
}
