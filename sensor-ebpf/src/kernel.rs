//! Reading kernel memory at BTF-resolved offsets, and the bounded path walk.

use aya_ebpf::helpers::bpf_probe_read_kernel;
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

/// Walk `struct path` at `path` up to the process root `root` (a `struct
/// path` too), crossing mount points, writing each component NUL-terminated
/// to `data[pos..]`, leaf first. Returns (bytes written, reached the root).
#[inline(never)]
pub fn walk_path(s: &mut Scratch, pos: u32, path: u64, root: u64) -> (u32, bool) {
    let mut dentry = read_ptr(path + off!(path_dentry) as u64);
    let mut vfsmnt = read_ptr(path + off!(path_mnt) as u64);
    let root_dentry = read_ptr(root + off!(path_dentry) as u64);
    let root_mnt = read_ptr(root + off!(path_mnt) as u64);
    let mount_mnt = off!(mount_mnt) as u64;
    let mut len = 0u32;
    let mut complete = false;
    if dentry == 0 {
        return (0, false);
    }
    let mut i = 0;
    while i < PATH_DEPTH {
        i += 1;
        if dentry == root_dentry && vfsmnt == root_mnt {
            complete = true;
            break;
        }
        let mnt_root = read_ptr(vfsmnt + off!(vfsmount_mnt_root) as u64);
        if dentry == mnt_root {
            let mount = vfsmnt - mount_mnt;
            let parent = read_ptr(mount + off!(mount_mnt_parent) as u64);
            if parent == mount || parent == 0 {
                complete = true;
                break;
            }
            dentry = read_ptr(mount + off!(mount_mnt_mountpoint) as u64);
            vfsmnt = parent + mount_mnt;
            continue;
        }
        let parent = read_ptr(dentry + off!(dentry_d_parent) as u64);
        if parent == dentry || parent == 0 {
            complete = true;
            break;
        }
        if len + COMPONENT_CAP as u32 > WALK_CAP as u32
            || pos + len + COMPONENT_CAP as u32 > DATA_CAP as u32
        {
            break;
        }
        let name = read_ptr(dentry + off!(dentry_d_name_name) as u64);
        let n = kstr(s, pos + len, name, COMPONENT_CAP);
        unsafe { *at(s, (pos + len + n) & MASK) = 0 };
        len += n + 1;
        dentry = parent;
    }
    (len, complete)
}
