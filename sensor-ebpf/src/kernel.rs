//! Reading kernel memory at BTF-resolved offsets, and the bounded path walk.

use aya_ebpf::{
    helpers::{bpf_probe_read_kernel, generated::bpf_loop},
    macros::map,
    maps::PerCpuArray,
};
use core::ffi::c_void;
use sensor_common::*;

use crate::{at, kstr, Scratch, MASK};

/// The offset of a kernel struct member, from the load-time `CONFIG`.
macro_rules! off {
    ($field:ident) => {
        unsafe { core::ptr::read_volatile(&(*$crate::CONFIG_PTR).offsets.$field) }
    };
}
pub(crate) use off;

#[inline(always)]
pub fn read_ptr(addr: u64) -> u64 {
    if addr < 4096 {
        return 0;
    }
    unsafe { bpf_probe_read_kernel(addr as *const u64) }.unwrap_or(0)
}

#[inline(always)]
pub fn read_u32(addr: u64) -> u32 {
    if addr < 4096 {
        return 0;
    }
    unsafe { bpf_probe_read_kernel(addr as *const u32) }.unwrap_or(0)
}

#[inline(always)]
pub fn read_u16(addr: u64) -> u16 {
    if addr < 4096 {
        return 0;
    }
    unsafe { bpf_probe_read_kernel(addr as *const u16) }.unwrap_or(0)
}

/// State of one path walk. In a map value, which the verifier tracks
/// loosely, so the `bpf_loop` callback is verified once, not per depth.
#[repr(C)]
pub struct Walk {
    dentry: u64,
    vfsmnt: u64,
    root_dentry: u64,
    root_mnt: u64,
    pos: u32,
    len: u32,
    complete: u32,
    done: u32,
}

#[map]
static WALK: PerCpuArray<Walk> = PerCpuArray::with_max_entries(1, 0);

#[repr(C)]
struct WalkCtx {
    walk: *mut Walk,
    scratch: *mut Scratch,
}

/// Walk `struct path` at `path` up to the process root `root` (a `struct
/// path` too), crossing mount points, writing each component NUL-terminated
/// to `data[pos..]`, leaf first. Returns (bytes written, reached the root).
#[inline(never)]
pub fn walk_path(s: &mut Scratch, pos: u32, path: u64, root: u64) -> (u32, bool) {
    let Some(w) = WALK.get_ptr_mut(0) else {
        return (0, false);
    };
    let w = unsafe { &mut *w };
    w.dentry = read_ptr(path + off!(path_dentry) as u64);
    w.vfsmnt = read_ptr(path + off!(path_mnt) as u64);
    w.root_dentry = read_ptr(root + off!(path_dentry) as u64);
    w.root_mnt = read_ptr(root + off!(path_mnt) as u64);
    w.pos = pos;
    w.len = 0;
    w.complete = 0;
    w.done = 0;
    if w.dentry == 0 {
        return (0, false);
    }
    let mut ctx = WalkCtx {
        walk: w as *mut Walk,
        scratch: s as *mut Scratch,
    };
    unsafe {
        bpf_loop(
            PATH_DEPTH,
            walk_step as *mut c_void,
            &mut ctx as *mut WalkCtx as *mut c_void,
            0,
        )
    };
    (w.len, w.complete != 0)
}

/// One component (or one mount crossing) per iteration.
extern "C" fn walk_step(_index: u64, ctx: *mut c_void) -> i64 {
    let ctx = unsafe { &*(ctx as *const WalkCtx) };
    if ctx.walk.is_null() || ctx.scratch.is_null() {
        return 1;
    }
    let w = unsafe { &mut *ctx.walk };
    let s = unsafe { &mut *ctx.scratch };
    let dentry = w.dentry;
    let vfsmnt = w.vfsmnt;
    if dentry == w.root_dentry && vfsmnt == w.root_mnt {
        w.complete = 1;
        return 1;
    }
    let mount_mnt = off!(mount_mnt) as u64;
    let mnt_root = read_ptr(vfsmnt + off!(vfsmount_mnt_root) as u64);
    if dentry == mnt_root {
        let mount = vfsmnt - mount_mnt;
        let parent = read_ptr(mount + off!(mount_mnt_parent) as u64);
        if parent == mount || parent == 0 {
            w.complete = 1;
            return 1;
        }
        w.dentry = read_ptr(mount + off!(mount_mnt_mountpoint) as u64);
        w.vfsmnt = parent + mount_mnt;
        return 0;
    }
    let parent = read_ptr(dentry + off!(dentry_d_parent) as u64);
    if parent == dentry || parent == 0 {
        w.complete = 1;
        return 1;
    }
    let len = w.len;
    let at_pos = w.pos + len;
    if len + COMPONENT_CAP as u32 > WALK_CAP as u32 {
        return 1;
    }
    let name = read_ptr(dentry + off!(dentry_d_name_name) as u64);
    let n = kstr(s, at_pos, name, COMPONENT_CAP);
    unsafe { *at(s, (at_pos + n) & MASK) = 0 };
    w.len = len + n + 1;
    w.dentry = parent;
    0
}
