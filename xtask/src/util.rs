//! Helpers shared by every task: where things are, and running commands with
//! errors that say what failed and what to do about it.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Result};

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `$CARGO_HOME/bin`, where `cargo install` puts bpf-linker.
pub fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
        .join("bin")
}

/// PATH with `$CARGO_HOME/bin` in front, so tools installed by setup are found
/// even by a shell whose profile never added it.
pub fn path_with_cargo_bin() -> std::ffi::OsString {
    let mut dirs = vec![cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path).filter(|d| *d != cargo_bin_dir()));
    }
    std::env::join_paths(dirs).expect("PATH entries contain no ':'")
}

/// The `cargo` to run sub-builds with: the rustup proxy on PATH, so that
/// `cargo fmt`/`cargo clippy` and toolchain overrides behave as for the user.
pub fn cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(workspace_root())
        .env("PATH", path_with_cargo_bin());
    cmd
}

/// Finds an executable on PATH (plus `$CARGO_HOME/bin`).
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&path_with_cargo_bin())
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A one-line rendering of a command for messages: `apt-get install -y x`.
pub fn display(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(shell_word));
    parts.join(" ")
}

pub fn shell_word(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs a command with inherited stdio; fails with the command line and its
/// exit status, plus `hint` (what the user should do).
pub fn run(cmd: &mut Command, hint: &str) -> Result<()> {
    let shown = display(cmd);
    let status = cmd.status().map_err(|e| not_started(cmd, &shown, e))?;
    if !status.success() {
        bail!(format!("`{shown}` failed ({status}). {hint}")
            .trim_end()
            .to_string());
    }
    Ok(())
}

/// Runs a command, capturing its output; fails like [`run`], including stderr.
pub fn output(cmd: &mut Command, hint: &str) -> Result<String> {
    let shown = display(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| not_started(cmd, &shown, e))?;
    if !out.status.success() {
        bail!(
            "`{shown}` failed ({}): {}\n{hint}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn not_started(cmd: &Command, shown: &str, err: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "could not start `{shown}`: {err}. Is `{}` installed, on PATH and executable?",
        cmd.get_program().to_string_lossy()
    )
}

/// Runs a command quietly and tells whether it succeeded; for "is it present?" probes.
pub fn probe(cmd: &mut Command) -> Option<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
}
