//! `cargo xtask train`: rebuilds models/script-classifier.onnx (+ its sidecar
//! JSON, MODEL_CARD.md and the parity fixture) from the shared corpus.
//!
//! Steps: featurize with the Rust feature code, make sure the pinned Python
//! venv exists (models/.venv), then run models/train.py, which validates by
//! source (leave-one-collection-out), picks the thresholds and exports ONNX.
//!
//! The same venv holds the onnxruntime wheel whose libonnxruntime.so the
//! sensor loads at run time; `ensure_onnxruntime` is the piece setup needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sensor_classifier::runtime::{venv_library, ORT_VERSION, VENV_DIR};

use crate::featurize;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of the shared corpus (`*.jsonl`). Default: $SENSOR_DATA_DIR, else ../shared/data/train.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is one level down")
        .to_path_buf()
}

/// The venv's own python.
pub fn venv_python() -> PathBuf {
    root().join(VENV_DIR).join("bin/python")
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("{what}: could not start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status}): {cmd:?}");
    }
    Ok(())
}

/// The interpreter venvs are made from: Debian's python3 (the pyenv shim on PATH
/// is slow to start and may lack venv support).
fn base_python() -> PathBuf {
    let system = PathBuf::from("/usr/bin/python3");
    if system.is_file() {
        system
    } else {
        PathBuf::from("python3")
    }
}

/// Creates models/.venv if missing. Installs Debian's python3-venv when the
/// venv module is missing and we are root.
pub fn ensure_venv() -> Result<PathBuf> {
    let python = venv_python();
    if python.is_file() {
        return Ok(python);
    }
    let venv = root().join(VENV_DIR);
    let base = base_python();
    eprintln!("train: creating {} with {}", venv.display(), base.display());
    let created = Command::new(&base).args(["-m", "venv"]).arg(&venv).status();
    if !created.as_ref().is_ok_and(|s| s.success()) {
        // A half-made venv (no ensurepip) would make the next attempt think it exists.
        let _ = std::fs::remove_dir_all(&venv);
        let root_user = running_as_root();
        if !root_user {
            bail!("`{} -m venv` failed: install python3-venv (apt-get install -y python3-venv) and retry", base.display());
        }
        eprintln!("train: installing python3-venv with apt-get");
        run_checked(
            Command::new("apt-get").arg("update").arg("-qq"),
            "apt-get update",
        )?;
        run_checked(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "python3-venv"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get install python3-venv",
        )?;
        run_checked(
            Command::new(&base).args(["-m", "venv"]).arg(&venv),
            "creating the venv",
        )?;
    }
    Ok(python)
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn pip_install(python: &Path, args: &[&str], what: &str) -> Result<()> {
    run_checked(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(args)
            .current_dir(root()),
        what,
    )
}

/// Makes sure onnxruntime (the PyPI wheel, pinned) is in models/.venv and
/// returns the path of its libonnxruntime.so: the library the sensor loads
/// (sensor-classifier's `runtime::locate_onnxruntime` looks there after
/// ORT_DYLIB_PATH). Idempotent and quick when already installed.
pub fn ensure_onnxruntime() -> Result<PathBuf> {
    let venv = root().join(VENV_DIR);
    if let Some(lib) = venv_library(&venv) {
        return Ok(lib);
    }
    let python = ensure_venv()?;
    // --no-deps: the shared library needs none of the wheel's Python dependencies.
    pip_install(
        &python,
        &["--no-deps", &format!("onnxruntime=={ORT_VERSION}")],
        "installing onnxruntime",
    )?;
    venv_library(&venv).with_context(|| {
        format!(
            "onnxruntime {ORT_VERSION} installed but its library is not under {}",
            venv.display()
        )
    })
}

/// Installs models/requirements.txt (pinned) into the venv, once per change of that file.
pub fn ensure_training_env() -> Result<PathBuf> {
    let python = ensure_venv()?;
    let requirements = root().join("models/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let stamp = root().join(VENV_DIR).join(".requirements-installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        eprintln!("train: installing {}", requirements.display());
        pip_install(
            &python,
            &["-r", "models/requirements.txt"],
            "installing models/requirements.txt",
        )?;
        std::fs::write(&stamp, &wanted)?;
    }
    Ok(python)
}

pub fn run(args: Args) -> Result<()> {
    let features = featurize::run(featurize::Args {
        data: args.data,
        extra: Vec::new(),
        out: None,
    })?;
    let python = ensure_training_env()?;
    let meta = features.with_file_name("features-meta.json");
    run_checked(
        Command::new(&python)
            .arg(root().join("models/train.py"))
            .arg("--features")
            .arg(&features)
            .arg("--meta")
            .arg(&meta)
            .arg("--out-dir")
            .arg(root().join("models"))
            .current_dir(root())
            // Single-threaded BLAS keeps results bit-for-bit reproducible and leaves a core free.
            .env("PYTHONHASHSEED", "0")
            .env("OMP_NUM_THREADS", "1")
            .env("OPENBLAS_NUM_THREADS", "1")
            .env("MKL_NUM_THREADS", "1")
            // OpenBLAS picks its kernels by CPU (AVX-512 on this Xeon, AVX2
            // on AMD EPYC), which moves the weights in their last bits; one
            // fixed kernel set reproduces the committed model byte for byte
            // on either (it needs AVX2, which every x86-64 server has).
            .envs(cfg!(target_arch = "x86_64").then_some(("OPENBLAS_CORETYPE", "Haswell"))),
        "models/train.py",
    )?;
    Ok(())
}
