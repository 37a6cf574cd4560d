//! How the script reached the interpreter, from its argv: a file, a `-c`
//! literal, stdin, a file descriptor, or a Python module.
//!
//! Pure functions over argv so every rule is unit-tested here. The kernel's
//! argv scan (`sensor-ebpf/src/scan.rs`) applies the same option grammar to
//! find the script argument past the captured argv window; `classify` merges
//! its answer when argv was truncated.

use crate::event::{RawString, Script, StdinInfo};

/// Option grammar of an interpreter (the kernel's `FAMILY_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// bash, sh, dash, zsh, ksh, mksh, ash.
    Shell,
    /// python, python2, python3, python3.X, pypy3.
    Python,
    /// `busybox APPLET ...`; only shell applets run scripts.
    Busybox,
}

impl Family {
    pub fn from_kernel(value: u32) -> Option<Self> {
        match value as u8 {
            sensor_common::FAMILY_SHELL => Some(Self::Shell),
            sensor_common::FAMILY_PYTHON => Some(Self::Python),
            sensor_common::FAMILY_BUSYBOX => Some(Self::Busybox),
            _ => None,
        }
    }

    pub fn to_kernel(self) -> u8 {
        match self {
            Self::Shell => sensor_common::FAMILY_SHELL,
            Self::Python => sensor_common::FAMILY_PYTHON,
            Self::Busybox => sensor_common::FAMILY_BUSYBOX,
        }
    }

    /// The grammar of an interpreter named `name` (a basename): python* and
    /// pypy* are Python, busybox is busybox, anything else parses like a shell.
    pub fn of_name(name: &str) -> Self {
        if name.starts_with("python") || name.starts_with("pypy") {
            Self::Python
        } else if name == "busybox" {
            Self::Busybox
        } else {
            Self::Shell
        }
    }
}

/// busybox applets that are shells (the others run no scripts).
pub const BUSYBOX_SHELL_APPLETS: &[&str] = &["sh", "ash", "hush", "bash", "msh"];

/// The script argument the kernel found past the argv window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Located {
    /// Index of the argument in argv (for `-cCODE`: the index of that argument).
    pub index: u32,
    /// The argument (for an attached `-cCODE`: just CODE), up to the copy limit.
    pub bytes: Vec<u8>,
    /// A shell option cluster had `c`, or Python's script option was `-c`.
    pub seen_c: bool,
    /// Python: the argument is the value of `-m`.
    pub seen_m: bool,
    /// Shell: an option cluster had `s` (script from stdin, operands are args).
    pub seen_s: bool,
    /// Python: the argument is `-`.
    pub is_dash: bool,
}

/// What the kernel learned about argv past the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelScan {
    /// argv fit in the window: nothing to merge.
    NotNeeded,
    Found(Located),
    /// The scan walked all of argv and found no script argument.
    NoScriptArg,
    /// The scan's budget ran out first.
    Exhausted,
}

/// Where in argv the script is, as parsed from a (possibly partial) argv.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed {
    /// `argv[index][skip..]` is a script path.
    File(usize),
    /// `argv[index][skip..]` is code.
    Inline(usize, usize),
    /// `argv[index][skip..]` is a module name.
    Module(usize, usize),
    Stdin,
    /// `-c` with no argument (the interpreter will fail): empty code.
    EmptyInline,
    /// argv ended (truncated) before the script argument.
    Incomplete,
}

/// Classify argv. `complete` is false when argv was truncated: then the last
/// element may be cut and later arguments are missing; `scan` carries the
/// kernel's answer for that case. Returns `None` for busybox applets that are
/// not shells.
pub fn classify(
    family: Family,
    argv: &[RawString],
    complete: bool,
    stdin: &StdinInfo,
    scan: &KernelScan,
) -> Option<Script> {
    let (family, first) = match family {
        Family::Busybox => {
            let applet = argv.get(1).map(|a| basename(a.as_bytes()).to_vec());
            match applet {
                Some(a) if BUSYBOX_SHELL_APPLETS.iter().any(|s| s.as_bytes() == a) => {
                    (Family::Shell, 2)
                }
                Some(_) => return None,
                // `busybox` alone prints help; treat as a shell reading stdin.
                None => (Family::Shell, 1),
            }
        }
        other => (other, 1),
    };
    let parsed = match family {
        Family::Python => parse_python(argv, first, complete),
        _ => parse_shell(argv, first, complete),
    };
    // When truncated, an argument at the end of the window may be cut: only
    // trust userspace's answer if it points at an argument before the last.
    let whole = |index: usize| complete || index + 1 < argv.len();
    let from_argv = |index: usize, skip: usize| -> RawString {
        RawString(argv[index].as_bytes()[skip.min(argv[index].0.len())..].to_vec())
    };
    let script = match parsed {
        Parsed::File(i) if whole(i) => file_or_fd(from_argv(i, 0), family, stdin),
        Parsed::Inline(i, skip) if whole(i) => Script::Inline {
            inline: from_argv(i, skip),
        },
        Parsed::Module(i, skip) if whole(i) => Script::Module {
            module: from_argv(i, skip).to_lossy().into_owned(),
        },
        Parsed::Stdin => stdin_script(stdin),
        Parsed::EmptyInline => Script::Inline {
            inline: RawString::default(),
        },
        partial => match scan {
            KernelScan::Found(located) => from_located(located, family, stdin),
            KernelScan::NoScriptArg => stdin_script(stdin),
            // Best effort from what was captured: the (cut) argument itself.
            KernelScan::NotNeeded | KernelScan::Exhausted => match partial {
                Parsed::File(i) => file_or_fd(from_argv(i, 0), family, stdin),
                Parsed::Inline(i, skip) => Script::Inline {
                    inline: from_argv(i, skip),
                },
                Parsed::Module(i, skip) => Script::Module {
                    module: from_argv(i, skip).to_lossy().into_owned(),
                },
                _ => stdin_script(stdin),
            },
        },
    };
    Some(script)
}

fn from_located(located: &Located, family: Family, stdin: &StdinInfo) -> Script {
    let bytes = RawString(located.bytes.clone());
    match family {
        Family::Python if located.is_dash => stdin_script(stdin),
        Family::Python if located.seen_m => Script::Module {
            module: bytes.to_lossy().into_owned(),
        },
        _ if located.seen_c => Script::Inline { inline: bytes },
        _ if located.seen_s => stdin_script(stdin),
        _ => file_or_fd(bytes, family, stdin),
    }
}

fn stdin_script(stdin: &StdinInfo) -> Script {
    Script::Stdin {
        stdin: stdin.clone(),
    }
}

/// A script path, or the file descriptor it names (`/dev/fd/N`,
/// `/proc/self/fd/N`, `/proc/PID/fd/N`, `/dev/stdin`: memfd and pipe execs).
fn file_or_fd(path: RawString, family: Family, stdin: &StdinInfo) -> Script {
    if family == Family::Python && path.as_bytes() == b"-" {
        return stdin_script(stdin);
    }
    if is_fd_path(path.as_bytes()) {
        Script::Fd { path }
    } else {
        Script::File { path }
    }
}

/// Paths that name an open file descriptor rather than a file on disk.
pub fn is_fd_path(path: &[u8]) -> bool {
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if matches!(path, b"/dev/stdin" | b"/dev/fd/0") {
        return true;
    }
    if let Some(rest) = path.strip_prefix(b"/dev/fd/") {
        return digits(rest);
    }
    if let Some(rest) = path.strip_prefix(b"/proc/") {
        let mut parts = rest.splitn(3, |&b| b == b'/');
        let who = parts.next().unwrap_or_default();
        let fd_dir = parts.next().unwrap_or_default();
        let fd = parts.next().unwrap_or_default();
        return (who == b"self" || who == b"thread-self" || digits(who))
            && fd_dir == b"fd"
            && digits(fd);
    }
    false
}

/// bash/sh/dash/zsh/ksh/ash: option clusters (`-x`, `+o`, `-lc`) until the
/// first operand; `-o`/`-O`/`+o`/`+O` and `--rcfile`/`--init-file` take the
/// next argument; `-`/`--` end options. With `c` the first operand is the
/// code; with `s` (or no operand) the script comes from stdin.
fn parse_shell(argv: &[RawString], first: usize, complete: bool) -> Parsed {
    let mut seen_c = false;
    let mut seen_s = false;
    let mut skip = 0usize;
    let mut i = first;
    while i < argv.len() {
        let arg = argv[i].as_bytes();
        if skip > 0 {
            skip -= 1;
            i += 1;
            continue;
        }
        if arg == b"-" || arg == b"--" {
            i += 1;
            break;
        }
        if arg.starts_with(b"--") {
            if arg == b"--rcfile" || arg == b"--init-file" {
                skip += 1;
            }
            i += 1;
            continue;
        }
        if (arg[0] == b'-' || arg[0] == b'+') && arg.len() > 1 {
            for &c in &arg[1..] {
                match c {
                    b'c' => seen_c = true,
                    b's' => seen_s = true,
                    b'o' | b'O' => skip += 1,
                    _ => {}
                }
            }
            i += 1;
            continue;
        }
        break;
    }
    // Skipped option values that ran past the end: argv is missing the rest.
    if i >= argv.len() {
        return if !complete {
            Parsed::Incomplete
        } else if seen_c {
            Parsed::EmptyInline
        } else {
            Parsed::Stdin
        };
    }
    if seen_c {
        Parsed::Inline(i, 0)
    } else if seen_s {
        Parsed::Stdin
    } else {
        Parsed::File(i)
    }
}

/// python: flag clusters (`-I`, `-uB`) until `-c CODE`, `-m MOD` (value
/// attached or next), `-` (stdin) or the script path; `-W`/`-X` (and py2's
/// `-Q`) take a value, `--check-hash-based-pycs` too; `--` ends options.
fn parse_python(argv: &[RawString], first: usize, complete: bool) -> Parsed {
    let mut skip = 0usize;
    let mut i = first;
    while i < argv.len() {
        let arg = argv[i].as_bytes();
        if skip > 0 {
            skip -= 1;
            i += 1;
            continue;
        }
        if arg == b"-" {
            return Parsed::Stdin;
        }
        if arg == b"--" {
            i += 1;
            break;
        }
        if arg.starts_with(b"--") {
            if arg == b"--check-hash-based-pycs" {
                skip += 1;
            }
            i += 1;
            continue;
        }
        if arg[0] == b'-' && arg.len() > 1 {
            for (j, &c) in arg.iter().enumerate().skip(1) {
                let attached = j + 1 < arg.len();
                match c {
                    b'c' | b'm' => {
                        let (at, skip_bytes) = if attached { (i, j + 1) } else { (i + 1, 0) };
                        if at >= argv.len() {
                            return if complete {
                                Parsed::EmptyInline
                            } else {
                                Parsed::Incomplete
                            };
                        }
                        return if c == b'c' {
                            Parsed::Inline(at, skip_bytes)
                        } else {
                            Parsed::Module(at, skip_bytes)
                        };
                    }
                    b'W' | b'X' | b'Q' => {
                        if !attached {
                            skip += 1;
                        }
                        break;
                    }
                    _ => {}
                }
            }
            i += 1;
            continue;
        }
        break;
    }
    if i >= argv.len() {
        return if complete {
            Parsed::Stdin
        } else {
            Parsed::Incomplete
        };
    }
    if argv[i].as_bytes() == b"-" {
        Parsed::Stdin
    } else {
        Parsed::File(i)
    }
}

/// The part after the last `/`.
pub fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::StdinKind;

    fn pipe() -> StdinInfo {
        StdinInfo {
            kind: StdinKind::Pipe,
            path: None,
            inode: Some(7),
        }
    }

    fn argv(args: &[&str]) -> Vec<RawString> {
        args.iter().map(|a| RawString::from(*a)).collect()
    }

    fn run(family: Family, args: &[&str]) -> Script {
        classify(family, &argv(args), true, &pipe(), &KernelScan::NotNeeded).unwrap()
    }

    fn file(p: &str) -> Script {
        Script::File { path: p.into() }
    }
    fn inline(c: &str) -> Script {
        Script::Inline { inline: c.into() }
    }
    fn fd(p: &str) -> Script {
        Script::Fd { path: p.into() }
    }
    fn module(m: &str) -> Script {
        Script::Module { module: m.into() }
    }
    fn stdin() -> Script {
        Script::Stdin { stdin: pipe() }
    }

    use Family::{Python, Shell};

    /// Each argv, run by an interpreter of its family, must classify as its expected script.
    fn check(cases: &[(Family, &[&str], Script)]) {
        for (family, args, expected) in cases {
            assert_eq!(&run(*family, args), expected, "{family:?} argv {args:?}");
        }
    }

    #[test]
    fn shell_script_files() {
        check(&[
            (Shell, &["bash", "x.sh"], file("x.sh")),
            (Shell, &["/bin/bash", "./x.sh", "a", "-c"], file("./x.sh")),
            (Shell, &["bash", "-e", "-x", "/tmp/x.sh"], file("/tmp/x.sh")),
            (Shell, &["bash", "-o", "pipefail", "x.sh"], file("x.sh")),
            (Shell, &["bash", "-eo", "pipefail", "x.sh"], file("x.sh")),
            (Shell, &["bash", "+o", "posix", "x.sh"], file("x.sh")),
            (Shell, &["bash", "-O", "extglob", "x.sh"], file("x.sh")),
            (Shell, &["bash", "--norc", "x.sh"], file("x.sh")),
            (Shell, &["bash", "--rcfile", "rc", "x.sh"], file("x.sh")),
            (Shell, &["sh", "--", "-x.sh"], file("-x.sh")),
            (Shell, &["sh", "-", "x.sh"], file("x.sh")),
        ]);
    }

    #[test]
    fn shell_inline_with_flags() {
        check(&[
            (Shell, &["bash", "-c", "id"], inline("id")),
            (Shell, &["sh", "-c", "id", "arg0", "a"], inline("id")),
            (Shell, &["bash", "-lc", "id"], inline("id")),
            (Shell, &["bash", "-c", "-e", "id"], inline("id")),
            (
                Shell,
                &["bash", "-x", "-o", "errexit", "-c", "id"],
                inline("id"),
            ),
            (Shell, &["bash", "-c"], inline("")),
        ]);
    }

    #[test]
    fn shell_stdin() {
        check(&[
            (Shell, &["bash"], stdin()),
            (Shell, &["-bash"], stdin()),
            (Shell, &["bash", "-s"], stdin()),
            (Shell, &["bash", "-s", "a", "b"], stdin()),
            (Shell, &["bash", "-i"], stdin()),
            (Shell, &["sh", "-"], stdin()),
        ]);
    }

    #[test]
    fn fd_paths() {
        check(&[
            (Shell, &["bash", "/dev/fd/63"], fd("/dev/fd/63")),
            (Shell, &["sh", "/proc/self/fd/3"], fd("/proc/self/fd/3")),
            (Python, &["python3", "/proc/42/fd/5"], fd("/proc/42/fd/5")),
            (Shell, &["bash", "/dev/stdin"], fd("/dev/stdin")),
        ]);
        assert!(!is_fd_path(b"/dev/fd/"));
        assert!(!is_fd_path(b"/proc/self/fd/x"));
        assert!(!is_fd_path(b"/proc/self/fdinfo/3"));
        assert!(!is_fd_path(b"/tmp/dev/fd/3"));
        assert!(is_fd_path(b"/proc/thread-self/fd/9"));
    }

    #[test]
    fn python_forms() {
        check(&[
            (Python, &["python3", "x.py"], file("x.py")),
            (Python, &["python3", "-u", "-B", "x.py", "-c"], file("x.py")),
            (Python, &["python3", "-c", "print(1)"], inline("print(1)")),
            (
                Python,
                &["python3", "-I", "-c", "print(1)"],
                inline("print(1)"),
            ),
            (Python, &["python3", "-Ic", "print(1)"], inline("print(1)")),
            (Python, &["python3", "-cprint(1)"], inline("print(1)")),
            (Python, &["python3", "-c", "-x"], inline("-x")),
            (Python, &["python3", "-W", "ignore", "-c", "1"], inline("1")),
            (Python, &["python3", "-Wignore", "x.py"], file("x.py")),
            (Python, &["python3", "-X", "dev", "x.py"], file("x.py")),
            (
                Python,
                &["python3", "-m", "http.server"],
                module("http.server"),
            ),
            (
                Python,
                &["python3", "-Im", "json.tool"],
                module("json.tool"),
            ),
            (Python, &["python3", "-mjson.tool"], module("json.tool")),
            (Python, &["python3"], stdin()),
            (Python, &["python3", "-"], stdin()),
            (Python, &["python3", "-u", "-", "arg"], stdin()),
            (Python, &["python3", "--", "x.py"], file("x.py")),
            (
                Python,
                &["python3", "--check-hash-based-pycs", "always", "x.py"],
                file("x.py"),
            ),
            (Python, &["python3", "-c"], inline("")),
        ]);
    }

    #[test]
    fn busybox_applets() {
        assert_eq!(
            run(Family::Busybox, &["busybox", "sh", "x.sh"]),
            file("x.sh")
        );
        assert_eq!(
            run(Family::Busybox, &["busybox", "ash", "-c", "id"]),
            inline("id")
        );
        assert_eq!(
            classify(
                Family::Busybox,
                &argv(&["busybox", "ls"]),
                true,
                &pipe(),
                &KernelScan::NotNeeded
            ),
            None
        );
    }

    #[test]
    fn family_names() {
        assert_eq!(Family::of_name("python3.12"), Family::Python);
        assert_eq!(Family::of_name("pypy3"), Family::Python);
        assert_eq!(Family::of_name("busybox"), Family::Busybox);
        assert_eq!(Family::of_name("dash"), Family::Shell);
        for f in [Family::Shell, Family::Python, Family::Busybox] {
            assert_eq!(Family::from_kernel(f.to_kernel() as u32), Some(f));
        }
    }

    fn truncated(family: Family, args: &[&str], scan: KernelScan) -> Script {
        classify(family, &argv(args), false, &pipe(), &scan).unwrap()
    }

    #[test]
    fn truncated_argv_uses_what_the_kernel_located() {
        let located = |bytes: &str, seen_c: bool, seen_m: bool| {
            KernelScan::Found(Located {
                index: 900,
                bytes: bytes.as_bytes().to_vec(),
                seen_c,
                seen_m,
                ..Located::default()
            })
        };
        // Padding flags fill the window; the script is beyond it.
        assert_eq!(
            truncated(
                Family::Shell,
                &["bash", "-x", "-x", "-x"],
                located("evil.sh", false, false)
            ),
            file("evil.sh")
        );
        assert_eq!(
            truncated(
                Family::Shell,
                &["bash", "-x", "-x", "-"],
                located("id", true, false)
            ),
            inline("id")
        );
        assert_eq!(
            truncated(
                Family::Python,
                &["python3", "-W", "a", "-W"],
                located("print(1)", true, false)
            ),
            inline("print(1)")
        );
        assert_eq!(
            truncated(
                Family::Python,
                &["python3", "-u", "-u"],
                located("json.tool", false, true)
            ),
            module("json.tool")
        );
        // The -c literal itself is cut by the window: the kernel copy is longer.
        assert_eq!(
            truncated(
                Family::Shell,
                &["bash", "-c", "echo AAAA"],
                located("echo AAAAAAAA; id", true, false)
            ),
            inline("echo AAAAAAAA; id")
        );
        // Script argument complete inside the window, padding after it.
        assert_eq!(
            truncated(
                Family::Shell,
                &["bash", "x.sh", "AAAA", "AA"],
                KernelScan::Exhausted
            ),
            file("x.sh")
        );
        // Kernel walked all of argv: only options.
        assert_eq!(
            truncated(
                Family::Shell,
                &["bash", "-x", "-x"],
                KernelScan::NoScriptArg
            ),
            stdin()
        );
        let dash = KernelScan::Found(Located {
            is_dash: true,
            bytes: b"-".to_vec(),
            ..Located::default()
        });
        assert_eq!(
            truncated(Family::Python, &["python3", "-u", "-u"], dash),
            stdin()
        );
    }

    #[test]
    fn non_utf8_arguments_survive() {
        let args = vec![
            RawString::from("bash"),
            RawString::from("-c"),
            RawString(vec![b'e', b'c', b'h', b'o', b' ', 0xff, 0xfe]),
        ];
        let script = classify(Family::Shell, &args, true, &pipe(), &KernelScan::NotNeeded).unwrap();
        assert_eq!(
            script,
            Script::Inline {
                inline: RawString(vec![b'e', b'c', b'h', b'o', b' ', 0xff, 0xfe])
            }
        );
    }

    #[test]
    fn basenames() {
        assert_eq!(basename(b"/usr/bin/python3"), b"python3");
        assert_eq!(basename(b"bash"), b"bash");
        assert_eq!(basename(b"/x/"), b"");
    }
}
