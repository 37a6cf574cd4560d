//! Kernel side of the sensor: sees every exec of a script interpreter.
//!
//! Programs:
//! - `tp_btf/sched_process_exec`: after a successful exec, with the new mm in
//!   place and `linux_binprm` at hand (`interp` = the `#!` interpreter). If the
//!   binary is in `INTERPRETERS`, one exec record goes to `EVENTS`.
//! - `syscalls:sys_exit_execve(at)`: a shell whose execve fails with ENOEXEC
//!   interprets the file itself; that is reported as an ENOEXEC record (the
//!   call's arguments come from the task's saved user registers).
//! - `syscalls:sys_enter_read`/`sys_exit_read` + `sched:sched_process_exit`:
//!   content capture of what tracked interpreters read (see `content`).
//!
//! aya-ebpf has no CO-RE: every kernel struct member is read at an offset that
//! user space resolved from the running kernel's BTF and passed in `CONFIG`.
#![no_std]
#![no_main]
// atomic_xadd: the bpf target has no compare-and-swap, so core's atomics
// lack fetch_add; the intrinsic lowers to BPF's atomic add.
#![allow(internal_features)]
#![feature(core_intrinsics)]

mod content;
mod kernel;
mod scan;

use aya_ebpf::{
    helpers::{
        bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_pid_tgid,
        bpf_get_current_uid_gid, bpf_ktime_get_boot_ns, bpf_probe_read_kernel_str_bytes,
        bpf_probe_read_user_str_bytes,
        generated::{bpf_get_current_task, bpf_get_smp_processor_id, bpf_ringbuf_output},
    },
    macros::{btf_tracepoint, map, tracepoint},
    maps::{Array, HashMap, LruHashMap, PerCpuArray, RingBuf},
    programs::{BtfTracePointContext, TracePointContext},
    Global,
};
use sensor_common::*;

use kernel::{off, read_ptr, read_u32};

#[no_mangle]
static CONFIG: Global<Config> = Global::new(unsafe { core::mem::zeroed() });

/// Exec, ENOEXEC, content and exit records for user space.
#[map]
static EVENTS: RingBuf = RingBuf::with_byte_size(4 * 1024 * 1024, 0);

/// Interpreter basenames (NUL-padded) -> option grammar. Filled by user space.
#[map]
static INTERPRETERS: HashMap<[u8; NAME_LEN], Interpreter> = HashMap::with_max_entries(1024, 0);

/// Per-CPU counters (drops, sightings); see `COUNTER_*`.
#[map]
static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(COUNTERS_LEN, 0);

/// One record under construction per CPU (index = CPU id). Too big for a
/// per-CPU array (32 KiB value limit), so user space sizes it to the CPU count.
#[map]
static SCRATCH: Array<Scratch> = Array::with_max_entries(1, 0);

/// The reader's wakeup request; see `GATE_WAKE`.
#[map]
static GATE: Array<u64> = Array::with_max_entries(GATE_LEN, 0);

/// Slots of the per-id counts (`*_SLOTS` maps): an id maps to `id & (SLOTS - 1)`.
pub const SLOTS: u32 = 16384;

/// Might `id` have an entry in the map `counts` counts? (false: certainly
/// not). One array load, which the verifier inlines: far cheaper than the
/// hash lookup it saves on hot paths (every read(2), every execve). Counts
/// may stay high after LRU evictions or a thread that never returned (that
/// slot then costs the hash lookup), never low.
#[inline(always)]
pub fn maybe_in(counts: &Array<u64>, id: u32) -> bool {
    match counts.get_ptr(id & (SLOTS - 1)) {
        Some(count) => (unsafe { core::ptr::read_volatile(count) }) != 0,
        None => true,
    }
}

/// An entry for `id` was inserted (`true`) or removed.
#[inline(always)]
fn count_in(counts: &Array<u64>, id: u32, inserted: bool) {
    if let Some(count) = counts.get_ptr_mut(id & (SLOTS - 1)) {
        let by = if inserted { 1u64 } else { u64::MAX };
        // One atomic add (BPF_XADD): entries come and go on every CPU.
        unsafe {
            core::intrinsics::atomic_xadd::<u64, u64, { core::intrinsics::AtomicOrdering::Relaxed }>(
                count, by,
            )
        };
    }
}

/// Insert or update `id` in `map`, counted in `counts` when it is new.
#[inline(always)]
pub fn insert_counted<V>(map: &LruHashMap<u32, V>, counts: &Array<u64>, id: u32, value: &V) {
    if map.insert(id, value, BPF_NOEXIST).is_ok() {
        count_in(counts, id, true);
    } else {
        let _ = map.insert(id, value, 0);
    }
}

/// Remove `id` from `map`; true (and no longer counted) when it was there.
#[inline(always)]
pub fn remove_counted<V>(map: &LruHashMap<u32, V>, counts: &Array<u64>, id: u32) -> bool {
    let removed = map.remove(id).is_ok();
    if removed {
        count_in(counts, id, false);
    }
    removed
}

/// After an urgent record: wake the reader if it asked to be woken.
/// The record is committed before the flag is read (the commit is a full
/// barrier), so a reader that arms the flag and then drains once more
/// either sees that record or gets this wakeup. Called once at the end of
/// a program (not inlined where many verifier states meet).
#[inline(never)]
fn wake_reader() {
    wake(false);
}

/// After an exec record: wake the reader even while it polls, unless a
/// wakeup went out, or the previous exec record came, less than
/// `Config::exec_wake_gap_ns` ago.
#[inline(never)]
fn wake_reader_for_exec() {
    wake(true);
}

#[inline(always)]
fn wake(exec: bool) {
    let Some(armed) = GATE.get_ptr_mut(GATE_WAKE) else {
        return;
    };
    let Some(last) = GATE.get_ptr_mut(GATE_LAST_WAKE) else {
        return;
    };
    let Some(last_exec) = GATE.get_ptr_mut(GATE_LAST_EXEC) else {
        return;
    };
    let now = unsafe { bpf_ktime_get_boot_ns() };
    // The exec before this one: when it came less than the gap ago, execs
    // come in a stream and the polling reader takes them at its next poll
    // (a wakeup is a self-IPI and a VM exit on this CPU, ~12 us).
    let previous_exec = if exec {
        let previous = unsafe { core::ptr::read_volatile(last_exec) };
        unsafe { core::ptr::write_volatile(last_exec, now) };
        previous
    } else {
        0
    };
    if unsafe { core::ptr::read_volatile(armed) } == 0 {
        // Racy across CPUs at worst: two wakeups instead of one.
        let gap = unsafe { core::ptr::read_volatile(&(*CONFIG_PTR).exec_wake_gap_ns) };
        if !exec
            || now.wrapping_sub(unsafe { core::ptr::read_volatile(last) }) < gap
            || now.wrapping_sub(previous_exec) < gap
        {
            return;
        }
    } else {
        unsafe { core::ptr::write_volatile(armed, 0) };
    }
    unsafe { core::ptr::write_volatile(last, now) };
    let record = WakeRecord {
        kind: KIND_WAKE,
        _pad: 0,
    };
    let force = aya_ebpf::bindings::BPF_RB_FORCE_WAKEUP as u64;
    let _ = EVENTS.output::<WakeRecord>(&record, force);
}

#[repr(C)]
pub struct Scratch {
    pub header: ExecHeader,
    /// Sections are written at masked offsets below `DATA_CAP`; the slack
    /// after it lets the verifier accept any section size at any such offset.
    pub data: [u8; DATA_CAP + 2 * ARGV_CAP],
    /// A position passed through memory, so the verifier forgets its
    /// range: the paths before it then meet in one state.
    pub spill: u32,
}

/// A shell's execve that failed with ENOEXEC: its user pointers.
pub struct Pending {
    filename: u64,
    argv: u64,
    family: u32,
}

const MASK: u32 = DATA_CAP as u32 - 1;
/// `bpf_map_update_elem` flag: only insert a new key.
const BPF_NOEXIST: u64 = 1;
const ENOEXEC: i64 = 8;
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

#[inline(always)]
fn bump(counter: u32, by: u64) {
    if let Some(value) = COUNTERS.get_ptr_mut(counter) {
        unsafe { *value += by };
    }
}

#[inline(always)]
fn scratch() -> Option<&'static mut Scratch> {
    let cpu = unsafe { bpf_get_smp_processor_id() };
    SCRATCH.get_ptr_mut(cpu).map(|p| unsafe { &mut *p })
}

/// Writes go to `data[pos & MASK ..]`: always inside the value. The data
/// sections never add up to `DATA_CAP`, so the mask never wraps in practice;
/// `black_box` keeps LLVM from dropping it after an earlier range check (the
/// verifier needs to see it).
#[inline(always)]
fn at(s: &mut Scratch, pos: u32) -> *mut u8 {
    let pos = core::hint::black_box(pos) & MASK;
    unsafe { s.data.as_mut_ptr().add(pos as usize) }
}

#[btf_tracepoint(function = "sched_process_exec")]
pub fn sched_process_exec(ctx: BtfTracePointContext) -> u32 {
    let task: u64 = ctx.arg(0);
    let bprm: u64 = ctx.arg(2);
    if on_exec(task, bprm).is_none() {
        // Not an interpreter (any more): its reads are no script of ours.
        content::exec_replaced();
    } else {
        content::commit();
        wake_reader_for_exec();
    }
    0
}

fn on_exec(task: u64, bprm: u64) -> Option<()> {
    let s = scratch()?;
    // filename, then interp: both needed for the record, interp for the match.
    let filename = read_ptr(bprm + off!(bprm_filename) as u64);
    let filename_len = kstr(s, 0, filename, PATH_CAP);
    let interp = read_ptr(bprm + off!(bprm_interp) as u64);
    let binary_len = kstr(s, filename_len, interp, PATH_CAP);
    let file = read_ptr(bprm + off!(bprm_file) as u64);
    let found = match_basename(at(s, filename_len), binary_len).or_else(|| {
        match_dentry(read_ptr(
            file + (off!(file_f_path) + off!(path_dentry)) as u64,
        ))
    })?;

    bump(COUNTER_EXECS_SEEN, 1);
    let h = &mut s.header;
    h.kind = KIND_EXEC;
    h.flags = 0;
    h.family = found.family as u32;
    h.filename_len = filename_len;
    h.binary_len = binary_len;
    let mut pos = filename_len + binary_len;
    let stdin = fill_task(s, task, pos);
    pos = stdin.pos;

    // argv after the #! rewrite lives in the new mm.
    let mm = read_ptr(task + off!(task_mm) as u64);
    let start = read_ptr(mm + off!(mm_arg_start) as u64);
    let end = read_ptr(mm + off!(mm_arg_end) as u64);
    // The scan finds the script argument past the window, and tells content
    // capture what the script stream is.
    let total = end.saturating_sub(start);
    let truncated = total > argv_want(total) as u64;
    let scan = if truncated || content::enabled() {
        scan::locate(start, end, found.family)
    } else {
        None
    };
    // What stdin's path is matters only for a script that may come from
    // stdin: not for `-c` code or a `-m` module (most execs of a busy host).
    // As content capture decides it.
    let script_in_argv = scan.as_ref().is_some_and(|st| {
        st.flags & (FLAG_SEEN_C | FLAG_SEEN_M) != 0
            && (found.family == FAMILY_PYTHON || st.found != 0)
    });
    if !script_in_argv {
        pos = stdin_path(s, pos, &stdin);
    }
    unsafe { core::ptr::write_volatile(&mut s.spill, pos) };
    pos = unsafe { core::ptr::read_volatile(&s.spill) };
    pos = argv_window(s, pos, bprm, start, end, found.family, scan);

    submit(s, pos, COUNTER_EXEC_DROPS);
    Some(())
}

/// Where `fill_task` left off, and what `stdin_path` may walk.
struct Filled {
    pos: u32,
    /// fd 0's file when it is a regular file or a character device.
    stdin_file: u64,
    root: u64,
}

/// Common part of exec and ENOEXEC records: ids, namespaces, cwd, what
/// stdin is (its path comes later, from `stdin_path`, if needed).
#[inline(always)]
fn fill_task(s: &mut Scratch, task: u64, mut pos: u32) -> Filled {
    let pid_tgid = bpf_get_current_pid_tgid();
    let uid_gid = bpf_get_current_uid_gid();
    let h = &mut s.header;
    h.ktime_ns = unsafe { bpf_ktime_get_boot_ns() };
    h.pid = (pid_tgid >> 32) as u32;
    h.tid = pid_tgid as u32;
    h.uid = uid_gid as u32;
    h.gid = (uid_gid >> 32) as u32;
    h.comm = bpf_get_current_comm().unwrap_or([0; COMM_LEN]);
    h.cgroup_id = unsafe { bpf_get_current_cgroup_id() };
    let parent = read_ptr(task + off!(task_real_parent) as u64);
    h.ppid = read_u32(parent + off!(task_tgid) as u64);
    // The parent as /proc/<ppid>/stat shows it (its leader's comm; threads
    // share real_parent): user space needs no /proc read for it.
    let leader = read_ptr(parent + off!(task_group_leader) as u64);
    let comm = leader + off!(task_comm) as u64;
    h.parent_ppid = 0;
    if leader != 0
        && unsafe {
            aya_ebpf::helpers::generated::bpf_probe_read_kernel(
                h.parent_comm.as_mut_ptr() as *mut _,
                COMM_LEN as u32,
                comm as *const _,
            )
        } == 0
    {
        let grandparent = read_ptr(leader + off!(task_real_parent) as u64);
        h.parent_ppid = read_u32(grandparent + off!(task_tgid) as u64);
        h.flags |= FLAG_PARENT;
    }
    let nsproxy = read_ptr(task + off!(task_nsproxy) as u64);
    let mnt_ns = read_ptr(nsproxy + off!(nsproxy_mnt_ns) as u64);
    h.mnt_ns = read_u32(mnt_ns + off!(mnt_ns_inum) as u64) as u64;
    let pid = read_ptr(task + off!(task_thread_pid) as u64);
    let level = read_u32(pid + off!(pid_level) as u64) & 0x1f;
    let upid = pid as u64 + off!(pid_numbers) as u64 + level as u64 * off!(upid_size) as u64;
    let pid_ns = read_ptr(upid + off!(upid_ns) as u64);
    h.pid_ns = read_u32(pid_ns + off!(pid_ns_inum) as u64) as u64;

    let fs = read_ptr(task + off!(task_fs) as u64);
    let root = fs + off!(fs_root) as u64;
    let (cwd_len, cwd_full) = kernel::walk_path(s, pos, fs + off!(fs_pwd) as u64, root);
    s.header.cwd_len = cwd_len;
    if !cwd_full {
        s.header.flags |= FLAG_CWD_TRUNCATED;
    }
    pos += cwd_len;

    // fd 0: what stdin is.
    let mut stdin_file = 0;
    s.header.stdin_mode = 0;
    s.header.stdin_ino = 0;
    s.header.stdin_rdev = 0;
    s.header.stdin_path_len = 0;
    let files = read_ptr(task + off!(task_files) as u64);
    let fdt = read_ptr(files + off!(files_fdt) as u64);
    let max_fds = read_u32(fdt + off!(fdtable_max_fds) as u64);
    if max_fds > 0 {
        let fds = read_ptr(fdt + off!(fdtable_fd) as u64);
        let file0 = read_ptr(fds);
        if file0 != 0 {
            let inode = read_ptr(file0 + off!(file_f_inode) as u64);
            let mode = kernel::read_u16(inode + off!(inode_i_mode) as u64) as u32;
            s.header.stdin_mode = mode;
            s.header.stdin_ino = read_ptr(inode + off!(inode_i_ino) as u64);
            s.header.stdin_rdev = read_u32(inode + off!(inode_i_rdev) as u64);
            let kind = mode & S_IFMT;
            if kind == S_IFREG || kind == S_IFCHR {
                stdin_file = file0;
            }
        }
    }
    Filled {
        pos,
        stdin_file,
        root,
    }
}

/// stdin's path, for files and ttys (devices). Returns the new position.
#[inline(always)]
fn stdin_path(s: &mut Scratch, pos: u32, stdin: &Filled) -> u32 {
    if stdin.stdin_file == 0 {
        return pos;
    }
    let path = stdin.stdin_file + off!(file_f_path) as u64;
    let (len, _) = kernel::walk_path(s, pos, path, stdin.root);
    s.header.stdin_path_len = len;
    s.header.flags |= FLAG_STDIN_PATH;
    pos + len
}

/// argv bytes copied of `total`.
#[inline(always)]
fn argv_want(total: u64) -> u32 {
    let max = unsafe { core::ptr::read_volatile(&(*CONFIG_PTR).max_argv_bytes) };
    total.min(max as u64).min(ARGV_CAP as u64) as u32
}

/// Copy the first `max_argv_bytes` of argv; past that, copy the script
/// argument the scan (`located`, run when argv is longer or content capture
/// is on) found.
#[inline(always)]
fn argv_window(
    s: &mut Scratch,
    mut pos: u32,
    bprm: u64,
    start: u64,
    end: u64,
    family: u8,
    located: Option<&mut scan::Scan>,
) -> u32 {
    let total = end.saturating_sub(start);
    s.header.argv_total = total.min(u32::MAX as u64) as u32;
    s.header.argv_len = 0;
    s.header.script_arg_len = 0;
    s.header.script_arg_index = 0;
    let want = core::hint::black_box(argv_want(total)) & (2 * ARGV_CAP as u32 - 1);
    if want > 0 {
        let dst = at(s, pos);
        if unsafe {
            aya_ebpf::helpers::generated::bpf_probe_read_user(
                dst as *mut _,
                want,
                start as *const _,
            )
        } == 0
        {
            s.header.argv_len = want;
            pos += want;
        }
    }
    let truncated = (want as u64) < total;
    if truncated {
        s.header.flags |= FLAG_ARGV_TRUNCATED;
    }
    if let Some(st) = located {
        if truncated {
            pos = scan::copy_located(s, pos, st, end);
        }
        content::track_exec(s, pos, bprm, st, family);
    }
    pos
}

/// Send `header + data[..pos]`; count a drop when the ring buffer is full.
#[inline(always)]
fn submit(s: &mut Scratch, pos: u32, drop_counter: u32) {
    let size =
        (core::mem::size_of::<ExecHeader>() as u32 + (core::hint::black_box(pos) & MASK)) as u64;
    let ret = unsafe {
        bpf_ringbuf_output(
            &EVENTS as *const _ as *mut _,
            s as *mut Scratch as *mut _,
            size,
            // The reader is woken only when it asked to be (wake_reader).
            aya_ebpf::bindings::BPF_RB_NO_WAKEUP as u64,
        )
    };
    if ret != 0 {
        bump(drop_counter, 1);
    }
}

/// Copy a kernel string to `data[pos..]`; returns its length without NUL.
#[inline(always)]
fn kstr(s: &mut Scratch, pos: u32, src: u64, cap: usize) -> u32 {
    if src == 0 {
        return 0;
    }
    let dst = unsafe { core::slice::from_raw_parts_mut(at(s, pos), cap) };
    match unsafe { bpf_probe_read_kernel_str_bytes(src as *const u8, dst) } {
        Ok(bytes) => bytes.len() as u32,
        Err(_) => 0,
    }
}

/// Copy a user string to `data[pos..]`; returns its length without NUL.
#[inline(always)]
fn ustr(s: &mut Scratch, pos: u32, src: u64, cap: usize) -> u32 {
    if src == 0 {
        return 0;
    }
    let dst = unsafe { core::slice::from_raw_parts_mut(at(s, pos), cap) };
    match unsafe { bpf_probe_read_user_str_bytes(src as *const u8, dst) } {
        Ok(bytes) => bytes.len() as u32,
        Err(_) => 0,
    }
}

const CONFIG_PTR: *const Config = &CONFIG as *const Global<Config> as *const Config;

/// Look up the basename of the path at `path[..len]` (in scratch memory).
#[inline(always)]
fn match_basename(path: *const u8, len: u32) -> Option<Interpreter> {
    // Backwards from the end to the last '/': one exit, so one state per step.
    let mut last = 0u32;
    let mut k = 0u32;
    while k < PATH_CAP as u32 {
        if k >= len {
            break;
        }
        let i = (len - 1 - k) & (PATH_CAP as u32 - 1);
        if unsafe { *path.add(i as usize) } == b'/' {
            last = i + 1;
            break;
        }
        k += 1;
    }
    let mut key = [0u8; NAME_LEN];
    let name = unsafe { path.add((last & (PATH_CAP as u32 - 1)) as usize) };
    unsafe { bpf_probe_read_kernel_str_bytes(name, &mut key).ok()? };
    lookup_name(&mut key)
}

/// Look up a dentry's name (the real file behind a symlinked interpreter path).
#[inline(always)]
fn match_dentry(dentry: u64) -> Option<Interpreter> {
    let name = read_ptr(dentry + off!(dentry_d_name_name) as u64);
    if name == 0 {
        return None;
    }
    let mut key = [0u8; NAME_LEN];
    unsafe { bpf_probe_read_kernel_str_bytes(name as *const u8, &mut key).ok()? };
    lookup_name(&mut key)
}

/// Exact name, then `name.X` for a `name.<digits>` (python3.12 -> python3.X).
#[inline(always)]
fn lookup_name(key: &mut [u8; NAME_LEN]) -> Option<Interpreter> {
    if key[0] == 0 {
        return None;
    }
    if let Some(found) = unsafe { INTERPRETERS.get(*key) } {
        return Some(*found);
    }
    let mut dot = 0usize;
    let mut digits = true;
    let mut i = 1usize;
    while i < NAME_LEN {
        let c = key[i];
        if c == 0 {
            break;
        }
        if c == b'.' {
            dot = i;
            digits = true;
        } else if !c.is_ascii_digit() {
            digits = false;
        }
        i += 1;
    }
    if dot == 0 || !digits || dot + 1 >= NAME_LEN || key[dot + 1] == 0 {
        return None;
    }
    key[dot + 1] = b'X';
    let mut j = dot + 2;
    while j < NAME_LEN {
        key[j] = 0;
        j += 1;
    }
    unsafe { INTERPRETERS.get(*key) }.copied()
}

/// The interpreter entry of the current task's executable, if it is one.
#[inline(always)]
fn current_exe_interpreter(task: u64) -> Option<Interpreter> {
    let mm = read_ptr(task + off!(task_mm) as u64);
    let exe = read_ptr(mm + off!(mm_exe_file) as u64);
    if exe == 0 {
        return None;
    }
    match_dentry(read_ptr(
        exe + (off!(file_f_path) + off!(path_dentry)) as u64,
    ))
}

#[tracepoint(category = "syscalls", name = "sys_exit_execve")]
pub fn sys_exit_execve(ctx: TracePointContext) -> u32 {
    on_exec_exit(&ctx, false);
    0
}

#[tracepoint(category = "syscalls", name = "sys_exit_execveat")]
pub fn sys_exit_execveat(ctx: TracePointContext) -> u32 {
    on_exec_exit(&ctx, true);
    0
}

#[inline(always)]
fn on_exec_exit(ctx: &TracePointContext, at: bool) {
    // Nearly every exit is a success (the program is gone: this task runs
    // the new one) or another error: one ctx read decides.
    // { common 8; int nr; pad; long ret @16 }
    let ret: i64 = unsafe { ctx.read_at(16) }.unwrap_or(0);
    if ret != -ENOEXEC {
        return;
    }
    let task = unsafe { bpf_get_current_task() };
    let Some(interp) = current_exe_interpreter(task) else {
        return;
    };
    if interp.enoexec == 0 {
        return;
    }
    // The call's arguments, from the user registers saved at syscall entry
    // (the kernel writes only the return value back): no hook on every
    // execve's entry to remember them.
    let regs = unsafe {
        aya_ebpf::helpers::generated::bpf_task_pt_regs(
            aya_ebpf::helpers::generated::bpf_get_current_task_btf(),
        )
    } as u64;
    if regs == 0 {
        return;
    }
    let args = off!(regs_args);
    // execve(filename, argv, ..); execveat(dirfd, filename, argv, ..)
    let (filename_at, argv_at) = if at {
        (args[1], args[2])
    } else {
        (args[0], args[1])
    };
    if argv_at == 0 {
        return;
    }
    let pending = Pending {
        filename: read_ptr(regs + filename_at as u64),
        argv: read_ptr(regs + argv_at as u64),
        family: interp.family as u32,
    };
    if on_enoexec(&pending).is_some() {
        content::commit();
        wake_reader_for_exec();
    }
}

/// The shell keeps running and reads the `#!`-less file itself.
fn on_enoexec(pending: &Pending) -> Option<()> {
    let s = scratch()?;
    let task = unsafe { bpf_get_current_task() };
    let filename_len = ustr(s, 0, pending.filename, PATH_CAP);
    // binary: the shell's own executable, walked like cwd (components).
    let mm = read_ptr(task + off!(task_mm) as u64);
    let exe = read_ptr(mm + off!(mm_exe_file) as u64);
    let fs = read_ptr(task + off!(task_fs) as u64);
    let (binary_len, _) = kernel::walk_path(
        s,
        filename_len,
        exe + off!(file_f_path) as u64,
        fs + off!(fs_root) as u64,
    );
    let h = &mut s.header;
    h.kind = KIND_ENOEXEC;
    h.flags = 0;
    h.family = pending.family;
    h.filename_len = filename_len;
    h.binary_len = binary_len;
    let mut pos = filename_len + binary_len;
    // The script is the file: stdin's path is not needed.
    pos = fill_task(s, task, pos).pos;
    pos = user_argv_array(s, pos, pending.argv);
    // The shell opens the file by this name and reads it.
    content::track_name(s, pos, 0, filename_len);
    submit(s, pos, COUNTER_EXEC_DROPS);
    Some(())
}

/// ENOEXEC: argv is still the caller's `char **` array; copy each string
/// (one per `bpf_loop` iteration, state in a map value: verified once).
#[inline(always)]
fn user_argv_array(s: &mut Scratch, pos: u32, argv: u64) -> u32 {
    s.header.argv_len = 0;
    s.header.argv_total = 0;
    s.header.script_arg_len = 0;
    s.header.script_arg_index = 0;
    let Some(st) = ARGS.get_ptr_mut(0) else {
        return pos;
    };
    let st = unsafe { &mut *st };
    st.argv = argv;
    st.pos = pos;
    st.len = 0;
    st.max = unsafe { core::ptr::read_volatile(&(*CONFIG_PTR).max_argv_bytes) };
    st.truncated = 0;
    let mut ctx = ArgsCtx {
        st: st as *mut ArgvArray,
        scratch: s as *mut Scratch,
    };
    let n = unsafe {
        aya_ebpf::helpers::generated::bpf_loop(
            MAX_ENOEXEC_ARGS,
            argv_step as *mut core::ffi::c_void,
            &mut ctx as *mut ArgsCtx as *mut core::ffi::c_void,
            0,
        )
    };
    if st.truncated != 0 || n >= MAX_ENOEXEC_ARGS as i64 {
        s.header.flags |= FLAG_ARGV_TRUNCATED;
    }
    s.header.argv_len = st.len;
    s.header.argv_total = st.len;
    pos + (st.len & MASK)
}

const MAX_ENOEXEC_ARGS: u32 = 1024;

#[repr(C)]
pub struct ArgvArray {
    argv: u64,
    pos: u32,
    len: u32,
    max: u32,
    truncated: u32,
    index: u64,
}

#[map]
static ARGS: PerCpuArray<ArgvArray> = PerCpuArray::with_max_entries(1, 0);

#[repr(C)]
struct ArgsCtx {
    st: *mut ArgvArray,
    scratch: *mut Scratch,
}

extern "C" fn argv_step(index: u64, ctx: *mut core::ffi::c_void) -> i64 {
    let ctx = unsafe { &*(ctx as *const ArgsCtx) };
    if ctx.st.is_null() || ctx.scratch.is_null() {
        return 1;
    }
    let st = unsafe { &mut *ctx.st };
    let s = unsafe { &mut *ctx.scratch };
    let Ok(arg) =
        (unsafe { aya_ebpf::helpers::bpf_probe_read_user((st.argv + index * 8) as *const u64) })
    else {
        return 1;
    };
    if arg == 0 {
        return 1;
    }
    let len = st.len;
    if len + COMPONENT_CAP as u32 > st.max {
        st.truncated = 1;
        return 1;
    }
    let n = ustr(s, st.pos + len, arg, COMPONENT_CAP);
    if n as usize >= COMPONENT_CAP - 1 {
        st.truncated = 1;
    }
    // keep the NUL separator, as in a process's argv memory
    st.len = len + n + 1;
    0
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[link_section = "license"]
#[no_mangle]
static LICENSE: [u8; 4] = *b"GPL\0";
