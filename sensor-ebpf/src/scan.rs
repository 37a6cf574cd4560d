//! Finding the script argument past the argv window.
//!
//! An attacker can pad argv (`bash -x -x ... -x evil.sh`, `python3 -W a -W a
//! ... -c CODE`) so the script part lies beyond the bytes copied per event.
//! This scan walks argv in user memory with the option grammar of the
//! interpreter family, one argument (or one 255-byte piece of a long one) per
//! `bpf_loop` iteration, and copies the argument that holds the script:
//! the file path, the `-c` literal, or the `-m` module.

use aya_ebpf::{
    helpers::{bpf_probe_read_user, generated::bpf_loop},
    macros::map,
    maps::PerCpuArray,
};
use core::ffi::c_void;
use sensor_common::*;

use crate::{at, Scratch, CONFIG_PTR};

const PREFIX: usize = 64;

#[repr(C)]
pub struct Scan {
    pub ptr: u64,
    pub end: u64,
    idx: u32,
    family: u32,
    /// Inside an argument longer than `PREFIX` (skipping its rest).
    cont: u32,
    /// Arguments still to skip as option values (`-o opt`, `-W arg`).
    skip: u32,
    /// The next argument is the script (after `--`, `-c`, `-m`).
    take_next: u32,
    pub flags: u32,
    pub found: u64,
    pub found_idx: u32,
    pub done: u32,
    buf: [u8; PREFIX],
}

/// Walk argv from `start` to `end` with the option grammar of `family`.
/// The result (per-CPU) says where the script argument is, if any.
#[inline(never)]
pub fn locate(start: u64, end: u64, family: u8) -> Option<&'static mut Scan> {
    // The state lives in a map value, which the verifier tracks loosely, so
    // the callback's states converge; bpf_loop's context (on the stack, as
    // it requires) only points at it.
    let st = SCAN.get_ptr_mut(0)?;
    let st = unsafe { &mut *st };
    let mut ctx = LoopCtx {
        st: st as *mut Scan,
    };
    st.ptr = start;
    st.end = end;
    st.idx = 0;
    st.family = family as u32;
    st.cont = 0;
    st.skip = 0;
    st.take_next = 0;
    st.flags = 0;
    st.found = 0;
    st.found_idx = 0;
    st.done = 0;
    let budget = unsafe { core::ptr::read_volatile(&(*CONFIG_PTR).scan_budget) };
    unsafe {
        bpf_loop(
            budget,
            step as *mut c_void,
            &mut ctx as *mut LoopCtx as *mut c_void,
            0,
        )
    };
    Some(st)
}

impl Scan {
    /// The scan stopped before the end of argv without an answer.
    pub fn exhausted(&self) -> bool {
        self.found == 0 && self.done == 0 && self.ptr < self.end
    }
}

/// Record what the scan found: flags, and a copy of the script argument.
#[inline(always)]
pub fn copy_located(s: &mut Scratch, mut pos: u32, st: &Scan, end: u64) -> u32 {
    s.header.flags |= st.flags;
    if st.found == 0 {
        if st.exhausted() {
            s.header.flags |= FLAG_SCAN_EXHAUSTED;
        }
        return pos;
    }
    let max = unsafe { core::ptr::read_volatile(&(*CONFIG_PTR).max_script_arg_bytes) };
    let left = end.saturating_sub(st.found);
    let want = left.min(max as u64).min(SCRIPT_ARG_CAP as u64) as u32;
    let want = core::hint::black_box(want) & (2 * SCRIPT_ARG_CAP as u32 - 1);
    if want == 0 {
        return pos;
    }
    let dst = at(s, pos);
    let ok = unsafe {
        aya_ebpf::helpers::generated::bpf_probe_read_user(
            dst as *mut c_void,
            want,
            st.found as *const c_void,
        )
    } == 0;
    if ok {
        s.header.flags |= FLAG_SCRIPT_ARG;
        if (want as u64) < left {
            s.header.flags |= FLAG_SCRIPT_ARG_TRUNCATED;
        }
        s.header.script_arg_len = want;
        s.header.script_arg_index = st.found_idx;
        pos += want;
    }
    pos
}

#[map]
static SCAN: PerCpuArray<Scan> = PerCpuArray::with_max_entries(1, 0);

#[repr(C)]
struct LoopCtx {
    st: *mut Scan,
}

#[inline(always)]
fn byte(st: &Scan, i: usize) -> u8 {
    if i < PREFIX {
        st.buf[i]
    } else {
        0
    }
}

/// One `bpf_loop` iteration: look at one argument (or skip a piece of a long one).
extern "C" fn step(_index: u64, ctx: *mut c_void) -> i64 {
    let ctx = unsafe { &mut *(ctx as *mut LoopCtx) };
    let st = ctx.st;
    if st.is_null() {
        return 1;
    }
    let st = unsafe { &mut *st };
    if st.ptr >= st.end || st.done != 0 {
        return 1;
    }
    if st.cont != 0 {
        // Find the end of a long argument, a buffer at a time.
        let n = unsafe {
            aya_ebpf::helpers::generated::bpf_probe_read_user_str(
                st.buf.as_mut_ptr() as *mut c_void,
                PREFIX as u32,
                st.ptr as *const c_void,
            )
        };
        if n <= 0 {
            return 1;
        }
        if n < PREFIX as i64 {
            st.ptr += n as u64;
            st.cont = 0;
            st.idx += 1;
        } else {
            st.ptr += PREFIX as u64 - 1;
        }
        return 0;
    }
    let n = unsafe {
        aya_ebpf::helpers::generated::bpf_probe_read_user_str(
            st.buf.as_mut_ptr() as *mut c_void,
            PREFIX as u32,
            st.ptr as *const c_void,
        )
    };
    if n <= 0 {
        return 1;
    }
    let n = n as u64;
    // n < PREFIX: the whole argument is in buf. n == PREFIX: maybe longer.
    let whole = n < PREFIX as u64
        || unsafe { bpf_probe_read_user((st.ptr + PREFIX as u64 - 1) as *const u8) }
            .map(|b| b == 0)
            .unwrap_or(true);

    if st.take_next != 0 {
        st.found = st.ptr;
        st.found_idx = st.idx;
        st.done = 1;
        return 1;
    }
    let family = st.family as u8;
    let first = st.idx == 0 || (family == FAMILY_BUSYBOX && st.idx == 1);
    if first {
        // argv[0] (and busybox's applet name) are not options.
    } else if st.skip > 0 {
        st.skip -= 1;
    } else if family == FAMILY_PYTHON {
        if python_arg(ctx, st) {
            return 1;
        }
    } else if shell_arg(ctx, st) {
        return 1;
    }
    advance(st, n, whole);
    0
}

/// Flags and skip counts go through memory (volatile): the verifier tracks
/// map values loosely, so the byte loops below stay one state per step
/// instead of one per combination of flags seen.
#[inline(always)]
fn set_flag(st: &mut Scan, flag: u32) {
    unsafe {
        let v = core::ptr::read_volatile(&st.flags);
        core::ptr::write_volatile(&mut st.flags, v | flag);
    }
}

#[inline(always)]
fn add_skip(st: &mut Scan) {
    unsafe {
        let v = core::ptr::read_volatile(&st.skip);
        core::ptr::write_volatile(&mut st.skip, v + 1);
    }
}

#[inline(always)]
fn advance(st: &mut Scan, n: u64, whole: bool) {
    if whole {
        st.ptr += n;
        st.idx += 1;
    } else {
        st.ptr += PREFIX as u64 - 1;
        st.cont = 1;
    }
}

#[inline(always)]
fn found_here(st: &mut Scan, skip_bytes: u64) -> bool {
    st.found = st.ptr + skip_bytes;
    st.found_idx = st.idx;
    st.done = 1;
    true
}

/// bash/sh/dash/zsh/ksh: options until the first non-option argument, which
/// is the script file, or the command string when a cluster had `c`.
#[inline(always)]
fn shell_arg(ctx: &mut LoopCtx, st: &mut Scan) -> bool {
    let b0 = byte(st, 0);
    let b1 = byte(st, 1);
    let b2 = byte(st, 2);
    if b0 == b'-' && (b1 == 0 || (b1 == b'-' && b2 == 0)) {
        // `-` and `--` end the options.
        st.take_next = 1;
        return false;
    }
    if b0 == b'-' && b1 == b'-' {
        // --rcfile FILE, --init-file FILE take a value.
        if starts_with(st, b"--rcfile\0") || starts_with(st, b"--init-file\0") {
            add_skip(st);
        }
        return false;
    }
    if (b0 == b'-' || b0 == b'+') && b1 != 0 {
        scan_cluster(ctx);
        return false;
    }
    found_here(st, 0)
}

/// python: flags until `-c CODE`, `-m MOD`, `-` or the script path; `-W` and
/// `-X` take a value, attached or in the next argument.
#[inline(always)]
fn python_arg(ctx: &mut LoopCtx, st: &mut Scan) -> bool {
    let b0 = byte(st, 0);
    let b1 = byte(st, 1);
    let b2 = byte(st, 2);
    if b0 == b'-' && b1 == 0 {
        set_flag(st, FLAG_ARG_IS_DASH);
        return found_here(st, 0);
    }
    if b0 == b'-' && b1 == b'-' {
        if b2 == 0 {
            st.take_next = 1;
        } else if starts_with(st, b"--check-hash-based-pycs\0") {
            add_skip(st);
        }
        return false;
    }
    if b0 == b'-' {
        scan_cluster(ctx);
        return st.done != 0;
    }
    found_here(st, 0)
}

/// The letters of an option cluster (`-xec`, `-IBc`), one per iteration of
/// a nested `bpf_loop`, so the verifier sees one simple body.
#[inline(always)]
fn scan_cluster(ctx: &mut LoopCtx) {
    unsafe {
        bpf_loop(
            PREFIX as u32 - 2,
            cluster_step as *mut c_void,
            ctx as *mut LoopCtx as *mut c_void,
            0,
        )
    };
}

extern "C" fn cluster_step(index: u64, ctx: *mut c_void) -> i64 {
    let st = unsafe { (*(ctx as *mut LoopCtx)).st };
    if st.is_null() {
        return 1;
    }
    let st = unsafe { &mut *st };
    let j = (index as usize + 1) & (PREFIX - 1);
    let c = st.buf[j];
    if c == 0 {
        return 1;
    }
    let next = st.buf[(j + 1) & (PREFIX - 1)];
    if st.family as u8 == FAMILY_PYTHON {
        if c == b'c' || c == b'm' {
            set_flag(st, if c == b'c' { FLAG_SEEN_C } else { FLAG_SEEN_M });
            if next != 0 {
                // -cCODE: the value is attached.
                found_here(st, j as u64 + 1);
            } else {
                st.take_next = 1;
            }
            return 1;
        }
        if c == b'W' || c == b'X' {
            if next == 0 {
                add_skip(st);
            }
            return 1;
        }
        return 0;
    }
    if c == b'c' {
        set_flag(st, FLAG_SEEN_C);
    } else if c == b's' {
        set_flag(st, FLAG_SEEN_S);
    } else if c == b'o' || c == b'O' {
        add_skip(st);
    }
    0
}

#[inline(always)]
fn starts_with<const N: usize>(st: &Scan, lit: &[u8; N]) -> bool {
    let mut i = 0;
    while i < N {
        if byte(st, i) != lit[i] {
            return false;
        }
        i += 1;
    }
    true
}
