//! Content capture: the bytes a tracked interpreter reads from its script.
//!
//! At exec the interpreter's pid goes into `TRACKED` with what its script
//! stream is: the `#!` file (`bprm->executable`'s inode), the file named by
//! the script argument (matched by name at the first read, then by inode),
//! the file behind `/dev/fd/N` (its inode), or fd 0 for stdin (not a tty).
//! `read()` calls of tracked pids on that stream are copied (bounded by
//! `max_content_bytes` per process) into content records; offsets come from
//! `f_pos` for files (a re-read is recognised) and a running count for pipes.
//! `sched_process_exit` drops the pid and sends an exit record, so user space
//! knows the content is complete even when the process lived a millisecond,
//! the file was deleted at once, or the script never touched the disk.

use aya_ebpf::{
    helpers::{
        bpf_get_current_pid_tgid, bpf_ktime_get_boot_ns, bpf_probe_read_kernel,
        generated::{bpf_get_current_task, bpf_probe_read_user, bpf_probe_read_user_str},
    },
    macros::{map, tracepoint},
    maps::{Array, LruHashMap, PerCpuArray},
    programs::TracePointContext,
};
use core::ffi::c_void;
use sensor_common::*;

use crate::kernel::{off, read_ptr, read_u16, read_u32};
use crate::scan::Scan;
use crate::{
    at, bump, insert_counted, maybe_in, remove_counted, scratch, wake_reader, Scratch, CONFIG_PTR,
    EVENTS, SLOTS,
};

/// Interpreter processes (tgid) whose script reads are captured.
#[map]
static TRACKED: LruHashMap<u32, Tracked> = LruHashMap::with_max_entries(16384, 0);

/// Tracked processes per pid slot (see `maybe_in`): a read by a process
/// whose slot is zero is no script read, found with one array load instead
/// of a hash lookup, even while long-running scripts elsewhere are tracked.
#[map]
static TRACKED_SLOTS: Array<u64> = Array::with_max_entries(SLOTS, 0);

/// Reads in `READS`, per tid slot.
#[map]
static READ_SLOTS: Array<u64> = Array::with_max_entries(SLOTS, 0);

#[inline(always)]
fn maybe_tracked(pid: u32) -> bool {
    maybe_in(&TRACKED_SLOTS, pid)
}

/// read() calls on a script stream, from sys_enter to sys_exit (key: tid).
#[map]
static READS: LruHashMap<u32, PendingRead> = LruHashMap::with_max_entries(8192, 0);

#[repr(C)]
#[derive(Clone, Copy)]
struct PendingRead {
    buf: u64,
    offset: u64,
    ino: u64,
    fd: u32,
    stream: u32,
}

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;
const CONTENT_HEADER: usize = core::mem::size_of::<ContentHeader>();

#[inline(always)]
fn max_bytes() -> u32 {
    unsafe { core::ptr::read_volatile(&(*CONFIG_PTR).max_content_bytes) }
}

#[inline(always)]
pub fn enabled() -> bool {
    max_bytes() > 0
}

#[inline(always)]
fn tgid() -> u32 {
    (bpf_get_current_pid_tgid() >> 32) as u32
}

#[inline(always)]
fn file_of_fd(task: u64, fd: u32) -> u64 {
    let files = read_ptr(task + off!(task_files) as u64);
    let fdt = read_ptr(files + off!(files_fdt) as u64);
    if fd >= read_u32(fdt + off!(fdtable_max_fds) as u64) {
        return 0;
    }
    let fds = read_ptr(fdt + off!(fdtable_fd) as u64);
    read_ptr(fds + fd as u64 * 8)
}

#[inline(always)]
fn inode_of(file: u64) -> u64 {
    read_ptr(file + off!(file_f_inode) as u64)
}

#[inline(always)]
fn ino_of(file: u64) -> u64 {
    let inode = inode_of(file);
    read_ptr(inode + off!(inode_i_ino) as u64)
}

/// This CPU's decision slot, reset: the decision is built in place (a
/// `Tracked` is too big for the exec path's share of the 512-byte stack).
#[inline(always)]
fn decision() -> Option<&'static mut Tracked> {
    let d = unsafe { &mut *DECIDED.get_ptr_mut(0)? };
    d.valid = 0;
    let t = &mut d.t;
    t.mode = TRACK_NONE;
    t.name_len = 0;
    t.ino = 0;
    t.captured = 0;
    t.stream = 0;
    t.stage_len = 0;
    Some(t)
}

#[inline(always)]
fn save(t: &Tracked) {
    let pid = tgid();
    if t.mode == TRACK_NONE {
        // A previous program in this pid may have been tracked.
        untrack(pid);
    } else {
        insert_counted(&TRACKED, &TRACKED_SLOTS, pid, t);
    }
}

/// The tracking decision of the exec being recorded on this CPU.
#[repr(C)]
pub struct Decided {
    valid: u32,
    _pad: u32,
    t: Tracked,
}

#[map]
static DECIDED: PerCpuArray<Decided> = PerCpuArray::with_max_entries(1, 0);

/// The decision in this CPU's slot is complete; `commit` saves it once
/// the exec record is out. The map updates stay out of the exec path, where
/// the verifier meets many states (one per path through the record's
/// sections) and would verify each of their branches once per state.
#[inline(always)]
fn decided() {
    if let Some(d) = DECIDED.get_ptr_mut(0) {
        unsafe { (*d).valid = 1 };
    }
}

/// Save this CPU's pending decision (end of the exec programs).
#[inline(never)]
pub fn commit() {
    let Some(d) = DECIDED.get_ptr_mut(0) else {
        return;
    };
    let d = unsafe { &mut *d };
    if d.valid == 0 {
        return;
    }
    d.valid = 0;
    save(&d.t);
}

/// Forget `pid`; true when it was tracked.
#[inline(always)]
fn untrack(pid: u32) -> bool {
    // Cheap checks first: a lookup takes no lock, a delete does.
    if !maybe_tracked(pid) || unsafe { TRACKED.get(pid) }.is_none() {
        return false;
    }
    remove_counted(&TRACKED, &TRACKED_SLOTS, pid)
}

/// Decide what the new program's script stream is, from the argv scan.
#[inline(never)]
pub fn track_exec(s: &mut Scratch, pos: u32, bprm: u64, st: &Scan, family: u8) {
    if !enabled() {
        return;
    }
    // At sched_process_exec the task is current.
    let task = unsafe { bpf_get_current_task() };
    let Some(t) = decision() else {
        return;
    };
    let exe_off = off!(bprm_executable) as u64;
    let exe = if exe_off == 0 {
        0
    } else {
        read_ptr(bprm + exe_off)
    };
    let file = read_ptr(bprm + off!(bprm_file) as u64);
    let flags = st.flags;
    let python = family == FAMILY_PYTHON;
    if exe != 0 && exe != file {
        // `#!` script: the kernel already opened it.
        t.mode = TRACK_INODE;
        t.ino = ino_of(exe);
    } else if flags & (FLAG_SEEN_C | FLAG_SEEN_M) != 0 && (python || st.found != 0) {
        // -c code is in argv; -m modules are read from their own files.
    } else if flags & FLAG_ARG_IS_DASH != 0
        || (!python && flags & FLAG_SEEN_S != 0)
        || (st.found == 0 && !st.exhausted())
    {
        // Script on stdin, unless stdin is a terminal (interactive typing).
        if s.header.stdin_mode & S_IFMT != S_IFCHR && s.header.stdin_mode != 0 {
            t.mode = TRACK_STDIN;
            t.ino = s.header.stdin_ino;
        }
    } else if st.found != 0 {
        let n = unsafe {
            bpf_probe_read_user_str(at(s, pos) as *mut c_void, 256, st.found as *const c_void)
        };
        if n > 1 {
            track_path(s, pos, (n - 1) as u32, task, t);
        }
    }
    decided();
}

/// ENOEXEC: the shell reads the file it tried to exec (`data[off..off+len]`).
#[inline(never)]
pub fn track_name(s: &mut Scratch, _pos: u32, off: u32, len: u32) {
    if !enabled() {
        return;
    }
    let Some(t) = decision() else {
        return;
    };
    name_of(s, off, len, t);
    decided();
}

/// A script path at `data[pos..pos+len]`: an fd path names an inode, any
/// other path a file name.
#[inline(always)]
fn track_path(s: &mut Scratch, pos: u32, len: u32, task: u64, t: &mut Tracked) {
    let p = at(s, pos);
    let byte = |i: u32| unsafe { *p.add((i & 255) as usize) };
    let fd_digits_at = if starts_with(p, b"/dev/fd/") {
        8
    } else if starts_with(p, b"/proc/self/fd/") {
        14
    } else if starts_with(p, b"/dev/stdin\0") {
        // digits start at the NUL: fd 0
        10
    } else {
        0
    };
    if fd_digits_at > 0 {
        let mut fd = 0u32;
        let mut i = 0u32;
        while i < 6 {
            let c = byte(fd_digits_at + i);
            if !c.is_ascii_digit() {
                break;
            }
            fd = fd * 10 + (c - b'0') as u32;
            i += 1;
        }
        let file = file_of_fd(task, fd);
        if file != 0 {
            t.mode = TRACK_INODE;
            t.ino = ino_of(file);
        }
        return;
    }
    name_of(s, pos, len, t);
}

#[inline(always)]
fn starts_with<const N: usize>(p: *const u8, lit: &[u8; N]) -> bool {
    let mut i = 0;
    while i < N {
        if unsafe { *p.add(i) } != lit[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The basename of `data[off..off+len]` as a name to match.
#[inline(always)]
fn name_of(s: &mut Scratch, off: u32, len: u32, t: &mut Tracked) {
    let p = at(s, off);
    let mut base = 0u32;
    let mut k = 0u32;
    while k < PATH_CAP as u32 {
        if k >= len {
            break;
        }
        let i = (len - 1 - k) & (PATH_CAP as u32 - 1);
        if unsafe { *p.add(i as usize) } == b'/' {
            base = i + 1;
            break;
        }
        k += 1;
    }
    if base >= len {
        return;
    }
    let name_len = len - base;
    let src = unsafe { p.add((base & (PATH_CAP as u32 - 1)) as usize) };
    if unsafe {
        aya_ebpf::helpers::generated::bpf_probe_read_kernel(
            t.name.as_mut_ptr() as *mut c_void,
            TRACK_NAME_LEN as u32,
            src as *const c_void,
        )
    } != 0
    {
        return;
    }
    t.name_len = name_len;
    t.mode = TRACK_NAME;
}

/// Does the dentry's name equal the tracked name?
#[inline(always)]
fn name_matches(dentry: u64, t: &Tracked) -> bool {
    let len = read_u32(dentry + off!(dentry_d_name_len) as u64);
    if len != t.name_len || len == 0 {
        return false;
    }
    let name = read_ptr(dentry + off!(dentry_d_name_name) as u64);
    let Ok(bytes) = (unsafe { bpf_probe_read_kernel(name as *const [u8; TRACK_NAME_LEN]) }) else {
        return false;
    };
    let mut i = 0usize;
    while i < TRACK_NAME_LEN {
        if i as u32 >= len {
            break;
        }
        if bytes[i] != t.name[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[tracepoint(category = "syscalls", name = "sys_enter_read")]
pub fn sys_enter_read(ctx: TracePointContext) -> u32 {
    // { common 8; int nr; pad; fd @16; char *buf @24; size_t count @32 }
    // Every read(2) on the host comes here: for a process that is not
    // tracked, one array load is all it costs.
    let pid = tgid();
    if !maybe_tracked(pid) {
        return 0;
    }
    let Some(t) = TRACKED.get_ptr_mut(pid) else {
        return 0;
    };
    let t = unsafe { &mut *t };
    if t.mode == TRACK_NONE || t.captured >= max_bytes() as u64 {
        return 0;
    }
    let fd: u64 = unsafe { ctx.read_at(16) }.unwrap_or(u64::MAX);
    let buf: u64 = unsafe { ctx.read_at(24) }.unwrap_or(0);
    if fd > u32::MAX as u64 || buf == 0 {
        return 0;
    }
    let fd = fd as u32;
    let task = unsafe { bpf_get_current_task() };
    let file = file_of_fd(task, fd);
    if file == 0 {
        return 0;
    }
    let inode = inode_of(file);
    let ino = read_ptr(inode + off!(inode_i_ino) as u64);
    let matched = match t.mode {
        TRACK_STDIN if t.ino != 0 => ino == t.ino,
        TRACK_STDIN => fd == 0,
        TRACK_INODE => ino == t.ino,
        TRACK_NAME => {
            let dentry = read_ptr(file + (off!(file_f_path) + off!(path_dentry)) as u64);
            if name_matches(dentry, t) {
                // From now on, this very file (even if renamed or deleted).
                t.mode = TRACK_INODE;
                t.ino = ino;
                true
            } else {
                false
            }
        }
        _ => false,
    };
    if !matched {
        return 0;
    }
    let mode = read_u16(inode + off!(inode_i_mode) as u64) as u32;
    let stream = mode & S_IFMT != S_IFREG;
    let offset = if stream {
        t.stream
    } else {
        let at_pos = file + off!(file_f_pos) as u64;
        unsafe { bpf_probe_read_kernel(at_pos as *const u64) }.unwrap_or(0)
    };
    let pending = PendingRead {
        buf,
        offset,
        ino,
        fd,
        stream: stream as u32,
    };
    let tid = bpf_get_current_pid_tgid() as u32;
    insert_counted(&READS, &READ_SLOTS, tid, &pending);
    0
}

#[tracepoint(category = "syscalls", name = "sys_exit_read")]
pub fn sys_exit_read(ctx: TracePointContext) -> u32 {
    let tid = bpf_get_current_pid_tgid() as u32;
    if !maybe_in(&READ_SLOTS, tid) {
        return 0;
    }
    let Some(pending) = (unsafe { READS.get(tid) }).copied() else {
        return 0;
    };
    // { common 8; int nr; pad; long ret @16 }
    let ret: i64 = unsafe { ctx.read_at(16) }.unwrap_or(0);
    if ret == 0 && pending.stream != 0 {
        // End of file on a pipe, socket or tty; a regular file's reader may seek back.
        let _ = send_end(&pending);
    } else if ret > 0 {
        let _ = send_chunk(&pending, ret as u64);
    }
    // Dropped only once `stream` counts the bytes: user space (the stdin
    // peek) takes "no read in READS" plus `stream` as what was read, and
    // must never see a finished read in neither.
    remove_counted(&READS, &READ_SLOTS, tid);
    0
}

/// The script stream (a pipe, socket or tty) hit end of file: nothing more
/// will come, so user space may score it now. Python reads a piped script to
/// the end before running any of it, so its stdin scripts are judged before
/// they run instead of after the interpreter exits.
fn send_end(pending: &PendingRead) -> Option<()> {
    let pid = tgid();
    let t = unsafe { &mut *TRACKED.get_ptr_mut(pid)? };
    if t.mode == TRACK_NONE {
        return None;
    }
    // Later reads of that stream are not the script.
    t.mode = TRACK_NONE;
    flush_stage(t, pid);
    let header = content_header(ReadAt::of(pending), pid, 0, true);
    output_content(
        &header as *const ContentHeader as *const u8,
        CONTENT_HEADER as u64,
    );
    wake_reader();
    Some(())
}

/// Where a content record's bytes were read: the descriptor, the offset
/// of its first byte in the stream, and the file's inode.
#[derive(Clone, Copy)]
struct ReadAt {
    fd: u32,
    offset: u64,
    ino: u64,
}

impl ReadAt {
    #[inline(always)]
    fn of(pending: &PendingRead) -> Self {
        Self {
            fd: pending.fd,
            offset: pending.offset,
            ino: pending.ino,
        }
    }
}

/// The header of a content record of `len` bytes read at `at`.
#[inline(always)]
fn content_header(at: ReadAt, pid: u32, len: u32, last: bool) -> ContentHeader {
    ContentHeader {
        kind: KIND_CONTENT,
        fd: at.fd,
        ktime_ns: unsafe { bpf_ktime_get_boot_ns() },
        pid,
        tid: bpf_get_current_pid_tgid() as u32,
        offset: at.offset,
        ino: at.ino,
        len,
        last: last as u32,
    }
}

/// One content record of `size` bytes at `record` into the ring buffer
/// (without a wakeup: see `wake_reader`); a full ring is counted as a
/// content drop.
#[inline(always)]
fn output_content(record: *const u8, size: u64) {
    let ret = unsafe {
        aya_ebpf::helpers::generated::bpf_ringbuf_output(
            &EVENTS as *const _ as *mut c_void,
            record as *mut c_void,
            size,
            aya_ebpf::bindings::BPF_RB_NO_WAKEUP as u64,
        )
    };
    if ret != 0 {
        bump(COUNTER_CONTENT_DROPS, 1);
    }
}

fn send_chunk(pending: &PendingRead, read: u64) -> Option<()> {
    let pid = tgid();
    let t = unsafe { &mut *TRACKED.get_ptr_mut(pid)? };
    if pending.stream != 0 {
        t.stream += read;
    }
    let max = max_bytes() as u64;
    let left = max.saturating_sub(t.captured);
    if left == 0 {
        return None;
    }
    if read == 1 {
        return stage_byte(t, pending, pid, max);
    }
    // Bytes gathered before go first: records of a pid stay in order.
    flush_stage(t, pid);
    let n = read.min(left).min(READ_CHUNK_CAP as u64) as u32;
    let n = core::hint::black_box(n) & (2 * READ_CHUNK_CAP as u32 - 1);
    let s = scratch()?;
    let base = s as *mut Scratch as *mut u8;
    if unsafe {
        bpf_probe_read_user(
            base.add(CONTENT_HEADER) as *mut c_void,
            n,
            pending.buf as *const c_void,
        )
    } != 0
    {
        return None;
    }
    t.captured += n as u64;
    let header = content_header(ReadAt::of(pending), pid, n, t.captured >= max);
    unsafe { core::ptr::write_unaligned(base as *mut ContentHeader, header) };
    bump(COUNTER_CONTENT_BYTES, n as u64);
    let size =
        CONTENT_HEADER as u64 + (core::hint::black_box(n) & (2 * READ_CHUNK_CAP as u32 - 1)) as u64;
    // A shell reads a piped script one byte per read(2): waking user space
    // for every chunk would cost a context switch per byte. Chunks wait for
    // the next exec or exit record (which wake it) or its periodic drain;
    // the last chunk (limit reached) completes the stream, so it wakes.
    output_content(base, size);
    if t.captured >= max {
        wake_reader();
    }
    Some(())
}

/// Gather a one-byte read; send the gathered bytes at the end of a line,
/// when the stage is full, or when the limit is reached.
#[inline(always)]
fn stage_byte(t: &mut Tracked, pending: &PendingRead, pid: u32, max: u64) -> Option<()> {
    if t.stage_len > 0
        && (t.stage_fd != pending.fd
            || t.stage_ino != pending.ino
            || t.stage_offset + t.stage_len as u64 != pending.offset)
    {
        flush_stage(t, pid);
    }
    if t.stage_len == 0 {
        t.stage_fd = pending.fd;
        t.stage_ino = pending.ino;
        t.stage_offset = pending.offset;
    }
    let at = (t.stage_len as usize) & (STAGE_CAP - 1);
    let byte: u8 =
        unsafe { aya_ebpf::helpers::bpf_probe_read_user(pending.buf as *const u8) }.ok()?;
    t.stage[at] = byte;
    t.stage_len += 1;
    t.captured += 1;
    bump(COUNTER_CONTENT_BYTES, 1);
    let last = t.captured >= max;
    if byte == b'\n' || t.stage_len as usize >= STAGE_CAP || last {
        send_stage(t, pid, last);
        if last {
            wake_reader();
        }
    }
    Some(())
}

/// Send what is gathered, if anything (before any other record of `pid`).
#[inline(always)]
fn flush_stage(t: &mut Tracked, pid: u32) {
    if t.stage_len > 0 {
        send_stage(t, pid, false);
    }
}

#[inline(never)]
fn send_stage(t: &mut Tracked, pid: u32, last: bool) {
    let len = t.stage_len.min(STAGE_CAP as u32);
    t.stage_len = 0;
    let Some(s) = scratch() else {
        return;
    };
    let base = s as *mut Scratch as *mut u8;
    let at = ReadAt {
        fd: t.stage_fd,
        offset: t.stage_offset,
        ino: t.stage_ino,
    };
    let header = content_header(at, pid, len, last);
    unsafe {
        core::ptr::write_unaligned(base as *mut ContentHeader, header);
        core::ptr::copy_nonoverlapping(t.stage.as_ptr(), base.add(CONTENT_HEADER), STAGE_CAP);
    }
    let size =
        CONTENT_HEADER as u64 + (core::hint::black_box(len) & (2 * STAGE_CAP as u32 - 1)) as u64;
    output_content(base, size);
}

/// A tracked process exec'd a program that is not an interpreter: its
/// script stream ends here, as if it had exited.
#[inline(always)]
pub fn exec_replaced() {
    if enabled() {
        finish(tgid());
    }
}

#[tracepoint(category = "sched", name = "sched_process_exit")]
pub fn sched_process_exit(_ctx: TracePointContext) -> u32 {
    let pid_tgid = bpf_get_current_pid_tgid();
    let pid = (pid_tgid >> 32) as u32;
    // The whole process, not one of its threads.
    if pid_tgid as u32 != pid {
        return 0;
    }
    finish(pid);
    0
}

/// Stop tracking `pid` and tell user space its content is complete.
#[inline(always)]
fn finish(pid: u32) {
    if !maybe_tracked(pid) {
        return;
    }
    // Bytes still gathered go before the exit record.
    if let Some(t) = TRACKED.get_ptr_mut(pid) {
        flush_stage(unsafe { &mut *t }, pid);
    }
    if !untrack(pid) {
        return;
    }
    let record = ExitRecord {
        kind: KIND_EXIT,
        pid,
        ktime_ns: unsafe { bpf_ktime_get_boot_ns() },
    };
    let quiet = aya_ebpf::bindings::BPF_RB_NO_WAKEUP as u64;
    if EVENTS.output::<ExitRecord>(&record, quiet).is_err() {
        bump(COUNTER_CONTENT_DROPS, 1);
    }
    wake_reader();
}
