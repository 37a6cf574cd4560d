//! Plain `#[repr(C)]` types shared by `sensor-ebpf` (kernel) and `sensor` (user space).
//!
//! Everything that crosses the kernel boundary is defined here once: the
//! load-time configuration (kernel struct offsets resolved from BTF, capture
//! limits), the interpreter-map value, and the ring-buffer record layout.
#![no_std]

/// Length of `task_struct::comm`.
pub const COMM_LEN: usize = 16;
/// Interpreter names are looked up by basename, NUL-padded to this length.
pub const NAME_LEN: usize = 32;

/// Hard capacity of argv bytes one exec record can carry (the runtime limit
/// `Config::max_argv_bytes` is at most this).
pub const ARGV_CAP: usize = 32 * 1024;
/// Hard capacity for the located script argument (`-c` literal, script path).
pub const SCRIPT_ARG_CAP: usize = 16 * 1024;
/// Cap for each kernel string copied as a whole (filename, interpreter path).
pub const PATH_CAP: usize = 1024;
/// One path component (`NAME_MAX` + NUL).
pub const COMPONENT_CAP: usize = 256;
/// Path walks (cwd, stdin, shell exe) stop after this many components.
pub const PATH_DEPTH: u32 = 48;
/// Bytes reserved for one walked path (components, leaf first).
pub const WALK_CAP: usize = 4096;
/// Variable data area of one record; a power of two so offsets can be masked.
pub const DATA_CAP: usize = 64 * 1024;

/// `Record::kind`.
pub const KIND_EXEC: u32 = 1;
/// A shell's execve failed with ENOEXEC: the shell interprets the file itself.
pub const KIND_ENOEXEC: u32 = 2;
/// Bytes a tracked interpreter read from its script or stdin.
pub const KIND_CONTENT: u32 = 3;
/// A tracked interpreter process exited.
pub const KIND_EXIT: u32 = 4;
/// No data: wakes a reader that armed `GATE_WAKE` before sleeping.
pub const KIND_WAKE: u32 = 5;

/// `ExecHeader::flags`.
pub const FLAG_ARGV_TRUNCATED: u32 = 1 << 0;
/// The cwd walk hit `PATH_DEPTH` or `WALK_CAP`: the path misses its top.
pub const FLAG_CWD_TRUNCATED: u32 = 1 << 1;
/// `script_arg` holds the located script argument.
pub const FLAG_SCRIPT_ARG: u32 = 1 << 2;
/// The located script argument was longer than the copy limit.
pub const FLAG_SCRIPT_ARG_TRUNCATED: u32 = 1 << 3;
/// The in-kernel scan ran out of budget before finding the script argument.
pub const FLAG_SCAN_EXHAUSTED: u32 = 1 << 4;
/// A shell option cluster before the script argument contained `c`.
pub const FLAG_SEEN_C: u32 = 1 << 5;
/// Python: the located argument is the value of `-m`.
pub const FLAG_SEEN_M: u32 = 1 << 6;
/// stdin path was walked and is present in the data area.
pub const FLAG_STDIN_PATH: u32 = 1 << 7;
/// The located argument is `-` (Python: read the program from stdin).
pub const FLAG_ARG_IS_DASH: u32 = 1 << 8;
/// A shell option cluster before the script argument contained `s`.
pub const FLAG_SEEN_S: u32 = 1 << 9;
/// `parent_comm` and `parent_ppid` hold the direct parent's facts.
pub const FLAG_PARENT: u32 = 1 << 10;

/// Interpreter-map values: which option grammar the in-kernel scan applies.
pub const FAMILY_SHELL: u8 = 1;
pub const FAMILY_PYTHON: u8 = 2;
/// `busybox APPLET ...`: skip the applet name, then parse like a shell.
pub const FAMILY_BUSYBOX: u8 = 3;

/// Value of the `INTERPRETERS` map (key: basename, NUL-padded to `NAME_LEN`;
/// `python3.X` is the key for any `python3.<digits>`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interpreter {
    pub family: u8,
    /// Non-zero for shells that interpret a `#!`-less file after ENOEXEC.
    pub enoexec: u8,
    pub _pad: [u8; 6],
}

/// Byte offsets of the kernel struct members the programs read, resolved at
/// load time from `/sys/kernel/btf/vmlinux` (aya-ebpf has no CO-RE).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    pub task_real_parent: u32,
    pub task_tgid: u32,
    pub task_mm: u32,
    pub task_fs: u32,
    pub task_files: u32,
    pub task_nsproxy: u32,
    pub task_thread_pid: u32,
    pub mm_arg_start: u32,
    pub mm_arg_end: u32,
    pub mm_exe_file: u32,
    pub bprm_file: u32,
    pub bprm_filename: u32,
    pub bprm_interp: u32,
    pub file_f_path: u32,
    pub file_f_inode: u32,
    pub path_mnt: u32,
    pub path_dentry: u32,
    pub dentry_d_parent: u32,
    pub dentry_d_name_name: u32,
    pub vfsmount_mnt_root: u32,
    pub mount_mnt: u32,
    pub mount_mnt_parent: u32,
    pub mount_mnt_mountpoint: u32,
    pub fs_root: u32,
    pub fs_pwd: u32,
    pub nsproxy_mnt_ns: u32,
    pub mnt_ns_inum: u32,
    pub pid_level: u32,
    pub pid_numbers: u32,
    pub upid_size: u32,
    pub upid_ns: u32,
    pub pid_ns_inum: u32,
    pub files_fdt: u32,
    pub fdtable_fd: u32,
    pub fdtable_max_fds: u32,
    pub inode_i_mode: u32,
    pub inode_i_ino: u32,
    pub inode_i_rdev: u32,
    pub bprm_executable: u32,
    pub dentry_d_name_len: u32,
    pub file_f_pos: u32,
    pub task_group_leader: u32,
    pub task_comm: u32,
    /// `struct pt_regs`: where a syscall's first three arguments were
    /// saved at entry (0: unknown on this architecture).
    pub regs_args: [u32; 3],
    pub _pad: u32,
}

/// Read-only global `CONFIG` of the eBPF object, set by the loader.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub offsets: Offsets,
    /// argv bytes copied per exec (<= `ARGV_CAP`).
    pub max_argv_bytes: u32,
    /// Bytes copied of the located script argument (<= `SCRIPT_ARG_CAP`).
    pub max_script_arg_bytes: u32,
    /// Iterations the in-kernel argv scan may spend looking for the script
    /// argument past the argv window (one per argument or 255-byte piece).
    pub scan_budget: u32,
    /// Script content bytes copied per process (0 disables content capture).
    pub max_content_bytes: u32,
    /// The sensor's own pid: its reads are never captured.
    pub self_pid: u32,
    pub _pad: u32,
    /// An exec record wakes a polling reader unless a wakeup went out less
    /// than this long ago (see [`EXEC_WAKE_GAP_NS`], the default).
    pub exec_wake_gap_ns: u64,
}

/// Fixed part of every ring-buffer record; `kind` says which.
/// Exec and ENOEXEC records are followed by a data area holding, in order:
/// `filename_len` bytes, `binary_len` bytes, `cwd_len` bytes of cwd components
/// (leaf first, each NUL-terminated), `stdin_path_len` bytes of stdin path
/// components (same form; walked only when the script may come from stdin),
/// `argv_len` argv bytes (NUL-separated as in the process's memory),
/// `script_arg_len` bytes of the located script argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecHeader {
    pub kind: u32,
    pub flags: u32,
    pub ktime_ns: u64,
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// `Interpreter::family` of the matched binary.
    pub family: u32,
    pub cgroup_id: u64,
    pub mnt_ns: u64,
    pub pid_ns: u64,
    pub comm: [u8; COMM_LEN],
    /// `i_mode` of the inode behind fd 0 (0: fd 0 closed).
    pub stdin_mode: u32,
    /// `i_rdev` of that inode (character devices), kernel encoding.
    pub stdin_rdev: u32,
    pub stdin_ino: u64,
    /// `arg_end - arg_start`: total argv bytes in the process.
    pub argv_total: u32,
    pub filename_len: u32,
    pub binary_len: u32,
    pub cwd_len: u32,
    pub stdin_path_len: u32,
    pub argv_len: u32,
    pub script_arg_len: u32,
    /// Index in argv of the located script argument.
    pub script_arg_index: u32,
    /// The direct parent process (`real_parent`'s thread group leader): its
    /// comm and its own parent's tgid, as `/proc/<ppid>/stat` shows them.
    /// Set with [`FLAG_PARENT`].
    pub parent_comm: [u8; COMM_LEN],
    pub parent_ppid: u32,
    pub _pad: u32,
}

/// What a tracked interpreter's script stream is (`Tracked::mode`).
pub const TRACK_NONE: u32 = 0;
/// Reads from what fd 0 was at exec (the pipe, socket or file of inode
/// `Tracked::ino`; fd 0 itself when that is 0), through any fd: a shell
/// reading its script from a pipe moves it off fd 0 when a redirection
/// (`done <file`) takes fd 0, and what comes through that fd is not script.
pub const TRACK_STDIN: u32 = 1;
/// Reads from any fd open on inode `Tracked::ino`.
pub const TRACK_INODE: u32 = 2;
/// Reads from a file whose name is `Tracked::name`; becomes `TRACK_INODE`
/// at the first match.
pub const TRACK_NAME: u32 = 3;
/// Bytes of a script basename kept for matching.
pub const TRACK_NAME_LEN: usize = 64;
/// Largest piece of one read() carried by one content record.
pub const READ_CHUNK_CAP: usize = 32 * 1024;
/// One-byte reads (a shell reading a piped script, byte by byte so it never
/// reads past the command it runs) are gathered up to this many bytes, or
/// to the end of the line, into one content record instead of one record
/// per byte: a shell runs nothing before it has read the line's newline.
/// A power of two (masked index).
pub const STAGE_CAP: usize = 128;

/// Value of the `TRACKED` map (key: tgid of an interpreter process).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Tracked {
    pub mode: u32,
    pub name_len: u32,
    pub ino: u64,
    /// Script bytes sent so far (the budget is `Config::max_content_bytes`).
    pub captured: u64,
    /// Bytes read so far from a stream (pipe, socket): their offsets.
    pub stream: u64,
    pub name: [u8; TRACK_NAME_LEN],
    /// Gathered one-byte reads not sent yet (see `STAGE_CAP`): their count,
    /// fd, offset of the first and inode.
    pub stage_len: u32,
    pub stage_fd: u32,
    pub stage_offset: u64,
    pub stage_ino: u64,
    pub stage: [u8; STAGE_CAP],
}

/// A piece of what a tracked interpreter read (phase 2 content capture).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ContentHeader {
    pub kind: u32,
    /// fd the bytes were read from.
    pub fd: u32,
    pub ktime_ns: u64,
    pub pid: u32,
    pub tid: u32,
    /// Offset of these bytes in what this process read from `fd` so far.
    pub offset: u64,
    /// Inode the fd refers to (to tell the script from other files).
    pub ino: u64,
    pub len: u32,
    /// Non-zero when nothing more will come: the per-process limit was
    /// reached with this chunk, or (with `len` 0) the stream hit end of file.
    pub last: u32,
}

/// A tracked interpreter process exited: its content is complete.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ExitRecord {
    pub kind: u32,
    pub pid: u32,
    pub ktime_ns: u64,
}

/// A wakeup for the reader ([`KIND_WAKE`]): records are sent without
/// waking user space (on a VM each wakeup is a self-IPI, a VM exit that
/// costs the exec'ing task ~20 µs); the reader, before it sleeps, sets
/// `GATE[GATE_WAKE]` and the next urgent record (exec, exit, end of a
/// stream) is followed by one of these, sent with a forced wakeup.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WakeRecord {
    pub kind: u32,
    pub _pad: u32,
}

/// Indices of the global `GATE` array (one u64 each).
/// Non-zero: the reader sleeps and wants a [`WakeRecord`] after the next
/// urgent record. Written by user space, cleared by the kernel.
pub const GATE_WAKE: u32 = 0;
/// Boot time (ns) of the last wakeup the kernel sent (kernel-only).
pub const GATE_LAST_WAKE: u32 = 1;
/// Boot time (ns) of the last exec record (kernel-only).
pub const GATE_LAST_EXEC: u32 = 2;
pub const GATE_LEN: u32 = 3;

/// Default of `Config::exec_wake_gap_ns`: an exec record wakes a polling
/// reader too, unless a wakeup went out or another exec record came less
/// than this long ago: an exec that comes alone waits for no poll
/// (detection latency), while execs in a dense stream (hundreds a second)
/// wait for the reader's next poll instead of each paying for a wakeup.
pub const EXEC_WAKE_GAP_NS: u64 = 2_000_000;

/// Indices of the per-CPU `COUNTERS` array.
pub const COUNTER_EXEC_DROPS: u32 = 0;
pub const COUNTER_CONTENT_DROPS: u32 = 1;
pub const COUNTER_EXECS_SEEN: u32 = 2;
pub const COUNTER_CONTENT_BYTES: u32 = 3;
pub const COUNTER_TRACKED_FULL: u32 = 4;
pub const COUNTERS_LEN: u32 = 8;

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all are #[repr(C)] structs of integers with no padding holes
    // that user space could misread.
    unsafe impl aya::Pod for super::Config {}
    unsafe impl aya::Pod for super::Interpreter {}
}
