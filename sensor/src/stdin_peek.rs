//! Peek at a script piped into an interpreter (`curl ... | bash`,
//! `... | python3 -`) right after its exec, before the interpreter reads it,
//! without taking a byte from it.
//!
//! The interpreter's stdin is opened a second time through
//! `/proc/PID/fd/0` (a new open file on the same pipe, non-blocking) and
//! `tee(2)` duplicates what the pipe holds into a private pipe: tee never
//! consumes its input, so the interpreter still reads every byte.
//!
//! What the pipe holds is the whole script only when
//! - no more can come: no writer is left (`poll(2)` reports `POLLHUP` on a
//!   read end once the last writer closed), checked before the tee; or the
//!   pipe already holds at least the content limit (the kernel capture
//!   would stop there too);
//! - nothing was taken before: the kernel's content-capture state says the
//!   interpreter has read nothing from its stdin stream and no read of it is
//!   in flight (the read hook records a read at syscall entry, before the
//!   pipe gives up any data), checked after the tee ([`ReaderState`]);
//! - and nothing was taken meanwhile: the pipe still holds exactly as many
//!   bytes as before the tee (`FIONREAD`).
//!
//! When no writer is left and the interpreter has already read `k` bytes
//! (a shell reads a piped script as it runs it), the script is the kernel's
//! copy of those `k` bytes followed by what the pipe still holds: the same
//! checks (the kernel says `k` bytes were read and sent, none in flight;
//! `FIONREAD` unchanged) prove the copy starts right where the reads
//! stopped ([`Peek::Joined`]).
//!
//! Otherwise the caller falls back to the bytes the kernel captures as the
//! interpreter reads them. The only `unsafe` of the module is the syscalls.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// What [`peek`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peek {
    /// The whole script (or its first `limit` bytes): nothing more can come
    /// and nothing was read before the copy.
    Complete(Vec<u8>),
    /// A writer is still open and the pipe holds less than the limit: more
    /// may come. Try again when the pipe reports a change.
    WriterOpen,
    /// No writer is left and the interpreter read `from_kernel +
    /// staged.len()` bytes, none in flight: the script is the kernel's copy
    /// of its first `from_kernel` bytes, then `staged` (read, not sent to
    /// user space yet), then `rest` (what the pipe holds, at most `limit`).
    Joined {
        from_kernel: usize,
        staged: Vec<u8>,
        rest: Vec<u8>,
    },
    /// A read is in flight or the pipe changed during the copy: try again soon.
    Busy,
    /// The kernel cannot vouch for what the interpreter read (the limit,
    /// a read it did not copy): the copy cannot be placed.
    Consumed,
    /// The kernel stopped tracking the interpreter (end of file, exit): its
    /// own copy is complete.
    Ended,
}

/// How much an interpreter has taken from its stdin stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadState {
    /// It read exactly `stream` bytes, no read of it is in flight, and
    /// every byte read went to user space except the last `staged.len()`,
    /// which are `staged` (gathered one-byte reads).
    Settled { stream: u64, staged: Vec<u8> },
    /// A read is in flight (or finished during the check).
    Reading,
    /// The kernel stopped tracking it: its stream ended (end of file) or
    /// it exited; its capture completes by itself.
    Ended,
    /// Bytes read that the kernel did not copy, or its state is unreadable.
    Unknown,
}

/// Whether an interpreter has taken anything from its stdin stream yet.
pub trait ReaderState: Send + Sync {
    /// What `pid` has read of its stdin stream.
    fn reads(&self, pid: u32) -> ReadState;

    /// True only when `pid` is known to have read nothing from its stdin
    /// stream and to have no read of it in flight. Unknown means false.
    fn read_nothing(&self, pid: u32) -> bool {
        matches!(self.reads(pid), ReadState::Settled { stream: 0, .. })
    }
}

/// An open file of our own on an interpreter's stdin pipe (read side,
/// non-blocking). Holding it never blocks a writer (a reader end takes
/// nothing), but drop it promptly: while it is open a writer whose
/// interpreter died would not get `EPIPE`.
#[derive(Debug)]
pub struct StdinPipe {
    fd: OwnedFd,
}

impl StdinPipe {
    /// Open `pid`'s fd 0 when it is a pipe (a FIFO), and when `inode` is
    /// given, the pipe the exec saw.
    /// `proc`: procfs of the host's pid namespace (`host.proc`).
    pub fn open(proc: &std::path::Path, pid: u32, inode: Option<u64>) -> io::Result<Self> {
        let path = proc.join(pid.to_string()).join("fd/0");
        let path = path.to_str().ok_or(io::ErrorKind::InvalidInput)?;
        Self::open_path(path, inode)
    }

    fn open_path(path: &str, inode: Option<u64>) -> io::Result<Self> {
        let path = CString::new(path).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: a NUL-terminated path; the returned fd is owned below.
        let fd = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let meta = std::fs::File::from(fd.try_clone()?).metadata()?;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        if !meta.file_type().is_fifo() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a pipe"));
        }
        if inode.is_some_and(|ino| ino != meta.ino()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "stdin is not the pipe the exec saw",
            ));
        }
        Ok(Self { fd })
    }

    /// Registered with tokio, to await the pipe's changes (a write, the
    /// last writer closing).
    pub fn into_async(self) -> io::Result<tokio::io::unix::AsyncFd<Self>> {
        // SAFETY: `self` owns its fd and never closes or replaces it while
        // the AsyncFd owns `self`.
        unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(self, tokio::io::Interest::READABLE)
        }
        .map_err(|err| err.into_parts().1)
    }

    /// Wrap a read end we already hold (tests).
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self { fd }
    }

    /// No writer is left: nothing more can ever be written (an anonymous
    /// pipe gets no new writer once the last one closed).
    pub fn writers_gone(&self) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout (never blocks).
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(pfd.revents & libc::POLLHUP != 0)
    }

    /// Bytes the pipe holds now.
    pub fn buffered(&self) -> io::Result<usize> {
        buffered(self.fd.as_fd())
    }

    /// A copy of the first `len` bytes the pipe holds, taking none of them;
    /// fewer when the pipe holds fewer.
    pub fn copy(&self, len: usize) -> io::Result<Vec<u8>> {
        let (out_read, out_write) = private_pipe()?;
        // Room for every buffer of the input pipe: tee copies buffers, so
        // the copy needs as many slots as the input holds.
        let want_size = pipe_size(self.fd.as_fd())?.max(len);
        set_pipe_size(out_write.as_fd(), want_size)?;
        let mut copied = 0usize;
        if len > 0 {
            // SAFETY: two valid pipe fds; SPLICE_F_NONBLOCK never blocks.
            let n = unsafe {
                libc::tee(
                    self.fd.as_raw_fd(),
                    out_write.as_raw_fd(),
                    len,
                    libc::SPLICE_F_NONBLOCK,
                )
            };
            if n < 0 {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::WouldBlock {
                    return Err(err);
                }
            } else {
                copied = n as usize;
            }
        }
        drop(out_write);
        let mut bytes = Vec::with_capacity(copied);
        let mut file = std::fs::File::from(out_read);
        io::Read::read_to_end(&mut file, &mut bytes)?;
        Ok(bytes)
    }
}

impl AsFd for StdinPipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for StdinPipe {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

fn buffered(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n.max(0) as usize)
}

fn pipe_size(fd: BorrowedFd<'_>) -> io::Result<usize> {
    // SAFETY: F_GETPIPE_SZ takes no argument.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

fn set_pipe_size(fd: BorrowedFd<'_>, size: usize) -> io::Result<()> {
    let size = libc::c_int::try_from(size).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: F_SETPIPE_SZ takes an int.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, size) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A pipe of our own: (read end, write end), both non-blocking.
fn private_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds, owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Try once to copy the whole script `pid` has on `pipe` (at most `limit`
/// bytes). Never blocks, never takes a byte from the pipe.
pub fn peek(pipe: &StdinPipe, pid: u32, limit: usize, state: &dyn ReaderState) -> io::Result<Peek> {
    // Before the copy: once no writer is left, what the pipe holds can only shrink.
    let hung_up = pipe.writers_gone()?;
    let before = pipe.buffered()?;
    if !hung_up && before < limit {
        return Ok(Peek::WriterOpen);
    }
    let want = before.min(limit);
    let bytes = pipe.copy(want)?;
    if bytes.len() != want {
        return Ok(Peek::Busy);
    }
    // After the copy: what the interpreter read before it (a read in
    // flight could take bytes the copy holds).
    let reads = state.reads(pid);
    // Anyone (a sibling sharing the pipe) reading while we copied.
    if pipe.buffered()? != before {
        return Ok(Peek::Busy);
    }
    let (stream, staged) = match reads {
        ReadState::Settled { stream, staged } => (stream, staged),
        ReadState::Reading => return Ok(Peek::Busy),
        ReadState::Ended => return Ok(Peek::Ended),
        ReadState::Unknown => return Ok(Peek::Consumed),
    };
    if stream == 0 {
        return Ok(Peek::Complete(bytes));
    }
    // Read bytes are only placed once nothing more can come (a write and a
    // read balancing out would leave FIONREAD unchanged).
    if !hung_up {
        return Ok(Peek::WriterOpen);
    }
    let Ok(stream) = usize::try_from(stream) else {
        return Ok(Peek::Consumed);
    };
    if stream >= limit || staged.len() > stream {
        // The kernel's copy is complete at the limit.
        return Ok(Peek::Consumed);
    }
    let mut rest = bytes;
    rest.truncate(limit - stream);
    Ok(Peek::Joined {
        from_kernel: stream - staged.len(),
        staged,
        rest,
    })
}

/// The kernel's content-capture state: `TRACKED` (per tgid: what the
/// interpreter read so far) and `READS` (reads in flight, per tid), from
/// sensor-ebpf's content hooks.
pub struct KernelReads {
    tracked: aya::maps::HashMap<aya::maps::MapData, u32, [u8; TRACKED_SIZE]>,
    reads: aya::maps::HashMap<aya::maps::MapData, u32, [u8; PENDING_READ_SIZE]>,
    /// procfs of the host's pid namespace, where an interpreter's threads are listed.
    proc: std::path::PathBuf,
}

const TRACKED_SIZE: usize = std::mem::size_of::<sensor_common::Tracked>();
/// sensor-ebpf's `PendingRead` (buf, offset, ino: u64; fd, stream: u32).
/// Only the presence of a key matters; a size mismatch is refused at load.
const PENDING_READ_SIZE: usize = 32;

impl KernelReads {
    /// From handles on the loaded `TRACKED` and `READS` maps
    /// (`crate::capture::Capture::lru_map`).
    pub fn new(tracked: aya::maps::MapData, reads: aya::maps::MapData) -> io::Result<Self> {
        let map = |data, name: &str| {
            aya::maps::Map::from_map_data(data)
                .map_err(|err| io::Error::other(format!("map {name}: {err}")))
        };
        let tracked = aya::maps::HashMap::try_from(map(tracked, "TRACKED")?)
            .map_err(|err| io::Error::other(format!("map TRACKED: {err}")))?;
        let reads = aya::maps::HashMap::try_from(map(reads, "READS")?)
            .map_err(|err| io::Error::other(format!("map READS: {err}")))?;
        Ok(Self {
            tracked,
            reads,
            proc: "/proc".into(),
        })
    }

    /// List interpreters' threads under this procfs (`host.proc`; default `/proc`).
    pub fn with_proc(mut self, proc: impl Into<std::path::PathBuf>) -> Self {
        self.proc = proc.into();
        self
    }
}

fn field_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn field_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// One `TRACKED` entry, as far as the peek cares.
#[derive(PartialEq, Eq)]
struct TrackedReads {
    stream: u64,
    captured: u64,
    staged: Vec<u8>,
}

/// A `TRACKED` entry that is not a stdin stream being read.
enum NotReading {
    /// No entry, or no longer reading stdin (end of file).
    Ended,
    Unknown,
}

impl KernelReads {
    fn tracked(&self, pid: u32) -> Result<TrackedReads, NotReading> {
        use sensor_common::{Tracked, STAGE_CAP};
        use std::mem::offset_of;
        let t = match self.tracked.get(&pid, 0) {
            Ok(t) => t,
            Err(aya::maps::MapError::KeyNotFound) => return Err(NotReading::Ended),
            Err(_) => return Err(NotReading::Unknown),
        };
        if field_u32(&t, offset_of!(Tracked, mode)) != sensor_common::TRACK_STDIN {
            return Err(NotReading::Ended);
        }
        let stream = field_u64(&t, offset_of!(Tracked, stream));
        let stage_len = field_u32(&t, offset_of!(Tracked, stage_len)) as usize;
        if stage_len > STAGE_CAP {
            return Err(NotReading::Unknown);
        }
        let staged = if stage_len == 0 {
            Vec::new()
        } else {
            // Gathered bytes are the last ones read.
            let at = field_u64(&t, offset_of!(Tracked, stage_offset));
            if at + stage_len as u64 != stream {
                return Err(NotReading::Unknown);
            }
            let stage = offset_of!(Tracked, stage);
            t[stage..stage + stage_len].to_vec()
        };
        Ok(TrackedReads {
            stream,
            captured: field_u64(&t, offset_of!(Tracked, captured)),
            staged,
        })
    }
}

impl ReaderState for KernelReads {
    fn reads(&self, pid: u32) -> ReadState {
        let first = match self.tracked(pid) {
            Ok(first) => first,
            Err(NotReading::Ended) => return ReadState::Ended,
            Err(NotReading::Unknown) => return ReadState::Unknown,
        };
        // A read started (any thread) is recorded at syscall entry, before
        // the pipe gives it anything.
        let Ok(tasks) = std::fs::read_dir(self.proc.join(pid.to_string()).join("task")) else {
            return ReadState::Unknown;
        };
        for task in tasks {
            let Some(tid) = task
                .ok()
                .and_then(|t| t.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
            else {
                return ReadState::Unknown;
            };
            match self.reads.get(&tid, 0) {
                Err(aya::maps::MapError::KeyNotFound) => {}
                Ok(_) => return ReadState::Reading,
                Err(_) => return ReadState::Unknown,
            }
        }
        // A read that started after the first look and finished before the
        // READS scan reached its thread is in neither: its bytes show here
        // (the read hook counts them in `stream` before it leaves READS).
        match self.tracked(pid) {
            Ok(second) if second == first => {}
            Ok(_) => return ReadState::Reading,
            Err(NotReading::Ended) => return ReadState::Ended,
            Err(NotReading::Unknown) => return ReadState::Unknown,
        }
        // Every byte read was sent or staged (a long read copies only its
        // first chunk; the limit stops the copy).
        if first.captured != first.stream {
            return ReadState::Unknown;
        }
        ReadState::Settled {
            stream: first.stream,
            staged: first.staged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    struct Untouched(bool);
    impl ReaderState for Untouched {
        fn reads(&self, _pid: u32) -> ReadState {
            if self.0 {
                ReadState::Settled {
                    stream: 0,
                    staged: Vec::new(),
                }
            } else {
                ReadState::Unknown
            }
        }
    }

    /// The interpreter read `n` bytes, the last `staged` of them not sent yet.
    struct HasRead(u64, Vec<u8>);
    impl ReaderState for HasRead {
        fn reads(&self, _pid: u32) -> ReadState {
            ReadState::Settled {
                stream: self.0,
                staged: self.1.clone(),
            }
        }
    }

    /// A pipe with `data` written into it: (our peek handle, the
    /// interpreter's read end, the write end).
    fn pipe_with(data: &[u8]) -> (StdinPipe, std::fs::File, std::fs::File) {
        let mut fds = [0 as libc::c_int; 2];
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
        let mut writer = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        writer.write_all(data).unwrap();
        // Open the read end again as the sensor does (a new open file).
        let path = format!("/proc/self/fd/{}", reader.as_raw_fd());
        let peek = StdinPipe::open_path(&path, None).unwrap();
        (peek, reader, writer)
    }

    const SCRIPT: &[u8] = b"import os\nprint('hello')\n";

    #[test]
    fn writer_closed_gives_the_whole_script_and_takes_nothing() {
        let (peek_end, mut reader, writer) = pipe_with(SCRIPT);
        drop(writer);
        let got = peek(&peek_end, 1, 65536, &Untouched(true)).unwrap();
        assert_eq!(got, Peek::Complete(SCRIPT.to_vec()));
        // Peeking again sees the same (nothing was taken).
        let again = peek(&peek_end, 1, 65536, &Untouched(true)).unwrap();
        assert_eq!(again, Peek::Complete(SCRIPT.to_vec()));
        drop(peek_end);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, SCRIPT);
    }

    #[test]
    fn writer_open_is_incomplete_until_it_closes() {
        let (peek_end, mut reader, mut writer) = pipe_with(SCRIPT);
        assert_eq!(
            peek(&peek_end, 1, 65536, &Untouched(true)).unwrap(),
            Peek::WriterOpen
        );
        writer.write_all(b"print(2)\n").unwrap();
        drop(writer);
        let whole = [SCRIPT, b"print(2)\n"].concat();
        assert_eq!(
            peek(&peek_end, 1, 65536, &Untouched(true)).unwrap(),
            Peek::Complete(whole.clone())
        );
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, whole);
    }

    #[test]
    fn a_full_limit_is_complete_even_with_a_writer() {
        let (peek_end, _reader, _writer) = pipe_with(SCRIPT);
        assert_eq!(
            peek(&peek_end, 1, 6, &Untouched(true)).unwrap(),
            Peek::Complete(SCRIPT[..6].to_vec())
        );
    }

    #[test]
    fn consumed_data_is_never_complete() {
        // The interpreter has read (the kernel says so).
        let (peek_end, _reader, writer) = pipe_with(SCRIPT);
        drop(writer);
        assert_eq!(
            peek(&peek_end, 1, 65536, &Untouched(false)).unwrap(),
            Peek::Consumed
        );
    }

    #[test]
    fn a_large_script_in_many_writes_is_copied_whole() {
        // Many small writes, close to the pipe's default 64 KiB.
        let mut fds = [0 as libc::c_int; 2];
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let mut reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
        let mut writer = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        let mut whole = Vec::new();
        for i in 0..2000 {
            let line = format!("echo line {i:05} padding padding\n");
            writer.write_all(line.as_bytes()).unwrap();
            whole.extend_from_slice(line.as_bytes());
        }
        drop(writer);
        let peek_end =
            StdinPipe::open_path(&format!("/proc/self/fd/{}", reader.as_raw_fd()), None).unwrap();
        assert_eq!(
            peek(&peek_end, 1, 1 << 20, &Untouched(true)).unwrap(),
            Peek::Complete(whole.clone())
        );
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, whole);
    }

    #[test]
    fn bytes_already_read_are_joined_with_what_the_pipe_holds() {
        let (peek_end, mut reader, writer) = pipe_with(SCRIPT);
        // The interpreter took the first line.
        let mut line = vec![0u8; 10];
        reader.read_exact(&mut line).unwrap();
        drop(writer);
        let got = peek(&peek_end, 1, 65536, &HasRead(10, Vec::new())).unwrap();
        assert_eq!(
            got,
            Peek::Joined {
                from_kernel: 10,
                staged: Vec::new(),
                rest: SCRIPT[10..].to_vec(),
            }
        );
        // Bytes the kernel gathered but did not send yet come from its state.
        let got = peek(&peek_end, 1, 65536, &HasRead(10, b"os\n".to_vec())).unwrap();
        assert_eq!(
            got,
            Peek::Joined {
                from_kernel: 7,
                staged: b"os\n".to_vec(),
                rest: SCRIPT[10..].to_vec(),
            }
        );
        // The joined copy respects the limit.
        let got = peek(&peek_end, 1, 12, &HasRead(10, Vec::new())).unwrap();
        assert_eq!(
            got,
            Peek::Joined {
                from_kernel: 10,
                staged: Vec::new(),
                rest: SCRIPT[10..12].to_vec(),
            }
        );
        // Nothing taken: the interpreter still reads the rest.
        drop(peek_end);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &SCRIPT[10..]);
    }

    #[test]
    fn read_bytes_are_not_joined_while_a_writer_is_open() {
        let (peek_end, mut reader, _writer) = pipe_with(SCRIPT);
        let mut line = vec![0u8; 10];
        reader.read_exact(&mut line).unwrap();
        // More may still come (and a write could balance a read).
        let got = peek(&peek_end, 1, 8, &HasRead(10, Vec::new())).unwrap();
        assert_eq!(got, Peek::WriterOpen);
        // At or past the limit, the kernel's copy is complete by itself.
        drop(_writer);
        let got = peek(&peek_end, 1, 10, &HasRead(10, Vec::new())).unwrap();
        assert_eq!(got, Peek::Consumed);
    }

    /// A reader that takes `n` bytes from the pipe while the peek checks
    /// the kernel's state (after the copy), then reports what it read before.
    struct ReadsDuring {
        reader: std::sync::Mutex<std::fs::File>,
        n: usize,
    }
    impl ReaderState for ReadsDuring {
        fn reads(&self, _pid: u32) -> ReadState {
            let mut taken = vec![0u8; self.n];
            self.reader.lock().unwrap().read_exact(&mut taken).unwrap();
            ReadState::Settled {
                stream: 0,
                staged: Vec::new(),
            }
        }
    }

    #[test]
    fn a_pipe_changing_during_the_copy_is_never_complete() {
        let (peek_end, reader, writer) = pipe_with(SCRIPT);
        drop(writer);
        let state = ReadsDuring {
            reader: std::sync::Mutex::new(reader),
            n: 3,
        };
        assert_eq!(peek(&peek_end, 1, 65536, &state).unwrap(), Peek::Busy);
        // A read in flight: try again.
        struct InFlight;
        impl ReaderState for InFlight {
            fn reads(&self, _pid: u32) -> ReadState {
                ReadState::Reading
            }
        }
        assert_eq!(peek(&peek_end, 1, 65536, &InFlight).unwrap(), Peek::Busy);
        // The kernel saw the end of the stream: its own copy is complete.
        struct Done;
        impl ReaderState for Done {
            fn reads(&self, _pid: u32) -> ReadState {
                ReadState::Ended
            }
        }
        assert_eq!(peek(&peek_end, 1, 65536, &Done).unwrap(), Peek::Ended);
    }

    #[test]
    fn a_file_is_not_a_pipe() {
        let err = StdinPipe::open_path("/proc/self/exe", None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
