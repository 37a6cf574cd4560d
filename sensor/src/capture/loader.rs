//! Loading the eBPF object: preflight checks, `CONFIG` (offsets + limits),
//! the interpreter map, and attaching every program.

use std::path::Path;

use aya::{
    maps::{Array, HashMap as BpfHashMap, MapData, PerCpuArray, RingBuf},
    programs::{BtfTracePoint, TracePoint},
    Btf, Ebpf, EbpfLoader,
};
use sensor_common::{Config, Interpreter, NAME_LEN};

use super::{offsets, CaptureConfig, CaptureError};
use crate::script::Family;

/// The object built by build.rs from sensor-ebpf.
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/sensor"));

/// What the reader needs from a loaded object; dropping `ebpf` detaches all.
pub struct Loaded {
    pub ebpf: Ebpf,
    pub events: RingBuf<MapData>,
    pub counters: PerCpuArray<MapData, u64>,
    /// The reader arms its one-shot wakeup here (`GATE_WAKE`).
    pub gate: Array<MapData, u64>,
}

/// Refuse early, with a message that says what to do, when capture cannot work.
pub fn preflight() -> Result<(), CaptureError> {
    if OBJECT.is_empty() {
        return Err(CaptureError::NoObject);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(CaptureError::NotRoot);
    }
    if !Path::new(offsets::VMLINUX_BTF).exists() {
        return Err(CaptureError::NoBtf);
    }
    ensure_tracefs()?;
    Ok(())
}

/// Syscall tracepoints are attached through tracefs ids: mount it if needed.
fn ensure_tracefs() -> Result<(), CaptureError> {
    let events = Path::new("/sys/kernel/tracing/events");
    if events.exists() || Path::new("/sys/kernel/debug/tracing/events").exists() {
        return Ok(());
    }
    let target = c"/sys/kernel/tracing";
    // SAFETY: static NUL-terminated strings; no data argument.
    let rc = unsafe {
        libc::mount(
            c"tracefs".as_ptr(),
            target.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(CaptureError::Tracefs(std::io::Error::last_os_error()));
    }
    Ok(())
}

pub fn load(config: &CaptureConfig) -> Result<Loaded, CaptureError> {
    preflight()?;
    let started = std::time::Instant::now();
    let offsets = offsets::resolve(Path::new(offsets::VMLINUX_BTF))?;
    tracing::debug!(
        "kernel struct offsets resolved from BTF in {:?}",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    let kernel_config = Config {
        offsets,
        max_argv_bytes: config
            .max_argv_bytes
            .clamp(64, sensor_common::ARGV_CAP as u32),
        max_script_arg_bytes: config
            .max_script_arg_bytes
            .clamp(64, sensor_common::SCRIPT_ARG_CAP as u32),
        scan_budget: config.scan_budget.clamp(1, 1 << 23),
        max_content_bytes: config.max_content_bytes,
        self_pid: std::process::id(),
        _pad: 0,
        exec_wake_gap_ns: u64::try_from(config.exec_wake_gap.as_nanos()).unwrap_or(u64::MAX),
    };
    let cpus = aya::util::nr_cpus()
        .map_err(|(path, err)| CaptureError::Kernel(format!("reading {path}: {err}")))?
        as u32;
    let ring = config.ring_buffer_bytes.next_power_of_two().max(4096 * 16);
    // Parsed once: the loader's relocations and the tp_btf attach both need it.
    let btf =
        Btf::from_sys_fs().map_err(|err| CaptureError::Kernel(format!("kernel BTF: {err}")))?;
    let mut ebpf = EbpfLoader::new()
        .btf(Some(&btf))
        .override_global("CONFIG", &kernel_config, true)
        .map_max_entries("SCRATCH", cpus)
        .map_max_entries("EVENTS", ring)
        .load(OBJECT)
        .map_err(|err| CaptureError::Load(format!("{err:#}")))?;

    fill_interpreters(&mut ebpf, &config.interpreters)?;

    attach_btf(&mut ebpf, "sched_process_exec", "sched_process_exec", &btf)?;
    for (prog, category, name) in [
        ("sys_exit_execve", "syscalls", "sys_exit_execve"),
        ("sys_exit_execveat", "syscalls", "sys_exit_execveat"),
    ] {
        attach_tp(&mut ebpf, prog, category, name)?;
    }
    if config.max_content_bytes > 0 {
        for (prog, category, name) in [
            ("sys_enter_read", "syscalls", "sys_enter_read"),
            ("sys_exit_read", "syscalls", "sys_exit_read"),
            ("sched_process_exit", "sched", "sched_process_exit"),
        ] {
            if ebpf.program(prog).is_some() {
                attach_tp(&mut ebpf, prog, category, name)?;
            }
        }
    }

    tracing::debug!(
        "eBPF programs loaded and attached in {:?}",
        started.elapsed()
    );
    // The parsed BTF is tens of MiB: free it before the ring buffer is
    // mapped, so the two never add up in the sensor's peak memory.
    drop(btf);
    let events = RingBuf::try_from(take_map(&mut ebpf, "EVENTS")?)
        .map_err(|err| CaptureError::Kernel(format!("ring buffer EVENTS: {err}")))?;
    let counters = PerCpuArray::try_from(take_map(&mut ebpf, "COUNTERS")?)
        .map_err(|err| CaptureError::Kernel(format!("map COUNTERS: {err}")))?;
    let gate = Array::try_from(take_map(&mut ebpf, "GATE")?)
        .map_err(|err| CaptureError::Kernel(format!("map GATE: {err}")))?;
    Ok(Loaded {
        ebpf,
        events,
        counters,
        gate,
    })
}

fn take_map(ebpf: &mut Ebpf, name: &str) -> Result<aya::maps::Map, CaptureError> {
    ebpf.take_map(name)
        .ok_or_else(|| CaptureError::Kernel(format!("the eBPF object has no map {name}")))
}

/// Interpreter basenames -> family, in the kernel's `INTERPRETERS` map.
fn fill_interpreters(ebpf: &mut Ebpf, names: &[String]) -> Result<(), CaptureError> {
    let map = ebpf
        .map_mut("INTERPRETERS")
        .ok_or_else(|| CaptureError::Kernel("the eBPF object has no map INTERPRETERS".into()))?;
    let mut map: BpfHashMap<_, [u8; NAME_LEN], Interpreter> = BpfHashMap::try_from(map)
        .map_err(|err| CaptureError::Kernel(format!("map INTERPRETERS: {err}")))?;
    for name in names {
        let key = interpreter_key(name)?;
        let family = Family::of_name(name);
        let value = Interpreter {
            family: family.to_kernel(),
            // Shells run a `#!`-less file themselves when execve says ENOEXEC.
            enoexec: u8::from(family != Family::Python),
            _pad: [0; 6],
        };
        map.insert(key, value, 0)
            .map_err(|err| CaptureError::Kernel(format!("adding interpreter {name}: {err}")))?;
    }
    Ok(())
}

/// The map key of an interpreter name: a basename of at most 31 bytes.
pub fn interpreter_key(name: &str) -> Result<[u8; NAME_LEN], CaptureError> {
    if name.is_empty() || name.len() >= NAME_LEN || name.contains('/') || name.contains('\0') {
        return Err(CaptureError::BadInterpreter(name.to_string()));
    }
    let mut key = [0u8; NAME_LEN];
    key[..name.len()].copy_from_slice(name.as_bytes());
    Ok(key)
}

fn attach_btf(
    ebpf: &mut Ebpf,
    prog: &str,
    tracepoint: &str,
    btf: &Btf,
) -> Result<(), CaptureError> {
    let program: &mut BtfTracePoint = ebpf
        .program_mut(prog)
        .ok_or_else(|| CaptureError::Kernel(format!("the eBPF object has no program {prog}")))?
        .try_into()
        .map_err(|err| CaptureError::Kernel(format!("program {prog}: {err}")))?;
    program
        .load(tracepoint, btf)
        .map_err(|err| CaptureError::program(prog, err))?;
    program
        .attach()
        .map_err(|err| CaptureError::program(prog, err))?;
    Ok(())
}

fn attach_tp(ebpf: &mut Ebpf, prog: &str, category: &str, name: &str) -> Result<(), CaptureError> {
    let program: &mut TracePoint = ebpf
        .program_mut(prog)
        .ok_or_else(|| CaptureError::Kernel(format!("the eBPF object has no program {prog}")))?
        .try_into()
        .map_err(|err| CaptureError::Kernel(format!("program {prog}: {err}")))?;
    program
        .load()
        .map_err(|err| CaptureError::program(prog, err))?;
    program
        .attach(category, name)
        .map_err(|err| CaptureError::program(prog, err))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_keys_are_checked() {
        assert_eq!(&interpreter_key("bash").unwrap()[..5], b"bash\0");
        assert!(interpreter_key("").is_err());
        assert!(interpreter_key("/bin/bash").is_err());
        assert!(interpreter_key(&"x".repeat(32)).is_err());
    }
}
