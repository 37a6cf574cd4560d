//! Running the live sensor ahead of the workloads it watches.
//!
//! On a busy node the interpreters being watched keep every core runnable;
//! under the normal scheduler the sensor's threads then queue behind them
//! and a verdict waits milliseconds for a core (at 200 execs/s of the bench
//! mix on 2 cores: exec -> verdict p50 about 3 ms, against about 1 ms when
//! the sensor runs at the lowest real-time priority). The sensor's CPU per
//! exec is small and grows only with the exec rate, and the kernel's
//! real-time throttling (`kernel.sched_rt_runtime_us`, 95% by default)
//! keeps even a runaway sensor from taking a whole core.

use std::io;

/// SCHED_FIFO priority of the live sensor's threads by default: the lowest
/// real-time priority, enough to run before every normal task.
pub const DEFAULT_REALTIME_PRIORITY: u8 = 1;

/// Highest SCHED_FIFO priority Linux accepts.
pub const MAX_REALTIME_PRIORITY: u8 = 99;

/// How the calling thread is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    /// The normal scheduler (SCHED_OTHER, SCHED_BATCH or SCHED_IDLE).
    Normal,
    /// SCHED_FIFO at this priority.
    Fifo(u8),
    /// Another real-time or deadline policy, as the kernel numbers it.
    Other(i32),
}

/// Run the calling thread under SCHED_FIFO at `priority` (1..=99). Threads
/// it starts afterwards inherit the policy, so call it before the runtime
/// and the capture threads start.
pub fn run_realtime(priority: u8) -> io::Result<()> {
    if !(1..=MAX_REALTIME_PRIORITY).contains(&priority) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("real-time priority {priority} is outside 1..={MAX_REALTIME_PRIORITY}"),
        ));
    }
    set(libc::SCHED_FIFO, i32::from(priority))
}

/// Put the calling thread back under the normal scheduler.
pub fn run_normal() -> io::Result<()> {
    set(libc::SCHED_OTHER, 0)
}

/// The calling thread's scheduling policy.
pub fn current() -> io::Result<Scheduling> {
    // SAFETY: pid 0 is the calling thread; sched_getparam only writes the
    // struct it is given.
    let (policy, param) = unsafe {
        let policy = libc::sched_getscheduler(0);
        let mut param: libc::sched_param = std::mem::zeroed();
        if policy < 0 || libc::sched_getparam(0, &mut param) != 0 {
            return Err(io::Error::last_os_error());
        }
        (policy, param)
    };
    Ok(match policy {
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => Scheduling::Normal,
        libc::SCHED_FIFO => Scheduling::Fifo(u8::try_from(param.sched_priority).unwrap_or(0)),
        other => Scheduling::Other(other),
    })
}

/// Start `command`'s process under the normal scheduler: a program the
/// sensor runs (`podman inspect`) must not inherit its real-time priority,
/// or a busy helper could starve the node's normal tasks.
pub fn spawn_normally(command: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: `run_normal` is one syscall and
    // reads errno, allocating nothing. Failing it leaves the policy as is.
    unsafe {
        command.pre_exec(|| {
            let _ = run_normal();
            Ok(())
        })
    }
}

fn set(policy: i32, priority: i32) -> io::Result<()> {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: pid 0 is the calling thread; the kernel only reads `param`.
    if unsafe { libc::sched_setscheduler(0, policy, &param) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_priorities_are_refused_with_the_range() {
        for bad in [0, 100, 255] {
            let err = run_realtime(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("1..=99"), "{err}");
        }
    }

    #[test]
    fn a_realtime_thread_passes_its_policy_to_the_threads_it_starts() {
        // On a thread of its own: the test harness's threads stay normal.
        std::thread::spawn(|| {
            match run_realtime(DEFAULT_REALTIME_PRIORITY) {
                Ok(()) => {}
                // Not root (or no CAP_SYS_NICE): nothing to check here.
                Err(err) if err.raw_os_error() == Some(libc::EPERM) => return,
                Err(err) => panic!("{err}"),
            }
            assert_eq!(current().unwrap(), Scheduling::Fifo(1));
            let child = std::thread::spawn(|| current().unwrap()).join().unwrap();
            assert_eq!(child, Scheduling::Fifo(1));
            // Programs it starts run normally, if started through
            // spawn_normally (else they would inherit the policy).
            let policy_of_child = |normally: bool| {
                let mut cmd = std::process::Command::new("/bin/sh");
                cmd.args(["-c", "cut -d' ' -f41 /proc/$$/stat"]);
                if normally {
                    spawn_normally(&mut cmd);
                }
                let out = cmd.output().unwrap();
                String::from_utf8(out.stdout).unwrap().trim().to_string()
            };
            assert_eq!(policy_of_child(false), libc::SCHED_FIFO.to_string());
            assert_eq!(policy_of_child(true), libc::SCHED_OTHER.to_string());
            run_normal().unwrap();
            assert_eq!(current().unwrap(), Scheduling::Normal);
        })
        .join()
        .unwrap();
    }
}
