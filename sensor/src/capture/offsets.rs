//! Kernel struct member offsets, read from the running kernel's BTF.
//!
//! aya-ebpf 0.2 has no CO-RE relocations, so the eBPF programs read kernel
//! memory at offsets resolved here once at load time (from
//! `/sys/kernel/btf/vmlinux`) and passed in the read-only `CONFIG` global:
//! one binary runs on any kernel with BTF.

use std::path::Path;

use btf_rs::{Btf, Type};
use sensor_common::Offsets;

/// The kernel's BTF could not give an offset the programs need.
#[derive(Debug, thiserror::Error)]
pub enum OffsetError {
    #[error(
        "cannot read kernel BTF from {path}: {source} (the kernel needs CONFIG_DEBUG_INFO_BTF=y)"
    )]
    Read {
        path: String,
        #[source]
        source: btf_rs::Error,
    },
    #[error("kernel BTF has no struct `{0}`")]
    NoStruct(String),
    #[error("kernel BTF: struct `{strukt}` has no member `{member}`")]
    NoMember { strukt: String, member: String },
    #[error("kernel BTF: {0}")]
    Btf(#[from] btf_rs::Error),
}

/// Where the running kernel describes its types.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Resolve every offset the programs use from the BTF file at `path`.
pub fn resolve(path: &Path) -> Result<Offsets, OffsetError> {
    let btf = Btf::from_file(path).map_err(|source| OffsetError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let r = Resolver { btf: &btf };
    Ok(Offsets {
        task_real_parent: r.off("task_struct", &["real_parent"])?,
        task_tgid: r.off("task_struct", &["tgid"])?,
        task_mm: r.off("task_struct", &["mm"])?,
        task_fs: r.off("task_struct", &["fs"])?,
        task_files: r.off("task_struct", &["files"])?,
        task_nsproxy: r.off("task_struct", &["nsproxy"])?,
        task_thread_pid: r.off("task_struct", &["thread_pid"])?,
        mm_arg_start: r.off("mm_struct", &["arg_start"])?,
        mm_arg_end: r.off("mm_struct", &["arg_end"])?,
        mm_exe_file: r.off("mm_struct", &["exe_file"])?,
        bprm_file: r.off("linux_binprm", &["file"])?,
        bprm_filename: r.off("linux_binprm", &["filename"])?,
        bprm_interp: r.off("linux_binprm", &["interp"])?,
        file_f_path: r.off("file", &["f_path"])?,
        file_f_inode: r.off("file", &["f_inode"])?,
        path_mnt: r.off("path", &["mnt"])?,
        path_dentry: r.off("path", &["dentry"])?,
        dentry_d_parent: r.off("dentry", &["d_parent"])?,
        dentry_d_name_name: r.off("dentry", &["d_name", "name"])?,
        vfsmount_mnt_root: r.off("vfsmount", &["mnt_root"])?,
        mount_mnt: r.off("mount", &["mnt"])?,
        mount_mnt_parent: r.off("mount", &["mnt_parent"])?,
        mount_mnt_mountpoint: r.off("mount", &["mnt_mountpoint"])?,
        fs_root: r.off("fs_struct", &["root"])?,
        fs_pwd: r.off("fs_struct", &["pwd"])?,
        nsproxy_mnt_ns: r.off("nsproxy", &["mnt_ns"])?,
        mnt_ns_inum: r.off("mnt_namespace", &["ns", "inum"])?,
        pid_level: r.off("pid", &["level"])?,
        pid_numbers: r.off("pid", &["numbers"])?,
        upid_size: r.size("upid")?,
        upid_ns: r.off("upid", &["ns"])?,
        pid_ns_inum: r.off("pid_namespace", &["ns", "inum"])?,
        files_fdt: r.off("files_struct", &["fdt"])?,
        fdtable_fd: r.off("fdtable", &["fd"])?,
        fdtable_max_fds: r.off("fdtable", &["max_fds"])?,
        inode_i_mode: r.off("inode", &["i_mode"])?,
        inode_i_ino: r.off("inode", &["i_ino"])?,
        inode_i_rdev: r.off("inode", &["i_rdev"])?,
        // Older kernels lack it (5.x): then `#!` scripts are matched by name.
        bprm_executable: r.off("linux_binprm", &["executable"]).unwrap_or(0),
        dentry_d_name_len: r.off("dentry", &["d_name", "len"])?,
        file_f_pos: r.off("file", &["f_pos"])?,
        task_group_leader: r.off("task_struct", &["group_leader"])?,
        task_comm: r.off("task_struct", &["comm"])?,
        regs_args: syscall_arg_regs(&r),
        _pad: 0,
    })
}

/// Offsets in `struct pt_regs` of a syscall's first three arguments as the
/// task entered it (x86_64: di, si, dx; arm64: orig_x0, x1, x2, since x0
/// gets the return value). Zero where unknown: the ENOEXEC hook then
/// reports nothing rather than read wrong registers.
fn syscall_arg_regs(r: &Resolver) -> [u32; 3] {
    let x86 = ["di", "si", "dx"].map(|reg| r.off("pt_regs", &[reg]));
    if let [Ok(a), Ok(b), Ok(c)] = x86 {
        return [a, b, c];
    }
    match (r.off("pt_regs", &["orig_x0"]), r.off("pt_regs", &["regs"])) {
        (Ok(x0), Ok(regs)) => [x0, regs + 8, regs + 16],
        _ => [0; 3],
    }
}

struct Resolver<'a> {
    btf: &'a Btf,
}

impl Resolver<'_> {
    fn strukt(&self, name: &str) -> Result<btf_rs::Struct, OffsetError> {
        self.btf
            .resolve_types_by_name(name)
            .unwrap_or_default()
            .into_iter()
            .find_map(|t| match t {
                Type::Struct(s) if !s.members.is_empty() => Some(s),
                _ => None,
            })
            .ok_or_else(|| OffsetError::NoStruct(name.to_string()))
    }

    fn size(&self, name: &str) -> Result<u32, OffsetError> {
        Ok(self.strukt(name)?.size() as u32)
    }

    /// Byte offset of `path` (member, member of that member, ...) in `name`.
    fn off(&self, name: &str, path: &[&str]) -> Result<u32, OffsetError> {
        let mut current = self.strukt(name)?;
        let mut total_bits = 0u32;
        for (i, member) in path.iter().enumerate() {
            let (bits, ty) =
                self.find_member(&current, member)?
                    .ok_or_else(|| OffsetError::NoMember {
                        strukt: format!(
                            "{name}{}",
                            path[..i]
                                .iter()
                                .map(|p| format!(".{p}"))
                                .collect::<String>()
                        ),
                        member: member.to_string(),
                    })?;
            total_bits += bits;
            if i + 1 < path.len() {
                current = match self.strip(ty)? {
                    Type::Struct(s) | Type::Union(s) => s,
                    _ => {
                        return Err(OffsetError::NoMember {
                            strukt: name.to_string(),
                            member: path[i + 1].to_string(),
                        })
                    }
                };
            }
        }
        Ok(total_bits / 8)
    }

    /// A member by name, searching anonymous struct/union members too.
    /// Returns its bit offset and type.
    fn find_member(
        &self,
        strukt: &btf_rs::Struct,
        wanted: &str,
    ) -> Result<Option<(u32, Type)>, OffsetError> {
        for member in &strukt.members {
            let name = self.btf.resolve_name(member).unwrap_or_default();
            let ty = self.btf.resolve_chained_type(member)?;
            if name == wanted {
                return Ok(Some((member.bit_offset(), ty)));
            }
            if name.is_empty() {
                if let Type::Struct(inner) | Type::Union(inner) = self.strip(ty)? {
                    if let Some((bits, ty)) = self.find_member(&inner, wanted)? {
                        return Ok(Some((member.bit_offset() + bits, ty)));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Follow typedefs and qualifiers to the underlying type.
    fn strip(&self, mut ty: Type) -> Result<Type, OffsetError> {
        for _ in 0..16 {
            match &ty {
                Type::Typedef(_)
                | Type::Volatile(_)
                | Type::Const(_)
                | Type::Restrict(_)
                | Type::TypeTag(_) => {
                    let inner = ty.as_btf_type().expect("qualifier is a btf type");
                    ty = self.btf.resolve_chained_type(inner)?;
                }
                _ => break,
            }
        }
        Ok(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the running kernel's BTF; every Linux CI machine of ours has it.
    #[test]
    fn resolves_every_offset_from_the_running_kernel() {
        let offsets = resolve(Path::new(VMLINUX_BTF)).expect("kernel BTF resolves");
        assert!(offsets.task_mm > 0 && offsets.mm_arg_end > offsets.mm_arg_start);
        assert_eq!(offsets.dentry_d_name_name % 8, 0);
        assert!(offsets.upid_size >= 16);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            offsets.regs_args,
            [14 * 8, 13 * 8, 12 * 8],
            "pt_regs di, si, dx"
        );
    }
}
