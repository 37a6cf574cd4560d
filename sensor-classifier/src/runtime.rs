//! Finding the onnxruntime shared library that ort loads at run time.
//!
//! The sensor links onnxruntime dynamically (ort's `load-dynamic`), so the
//! library must be found on the host. Search order:
//! 1. `ORT_DYLIB_PATH`, if set (an error if it names a missing file);
//! 2. next to the sensor binary, or in `../lib` from it (for packaged installs);
//! 3. the venv that `cargo xtask setup` creates in the source tree:
//!    `models/.venv/lib/python3*/site-packages/onnxruntime/capi/`;
//! 4. where `cargo xtask setup` installs it machine-wide:
//!    `/opt/sensor/onnxruntime-1.31.1/libonnxruntime.so.1.31.1`;
//! 5. `/usr/local/lib` and `/usr/lib`.

use std::path::{Path, PathBuf};

/// The onnxruntime release the model and ort's `api-31` are built against.
pub const ORT_VERSION: &str = "1.31.1";
/// The file inside the PyPI `onnxruntime` wheel (`onnxruntime/capi/`).
pub const ORT_LIB_NAME: &str = "libonnxruntime.so.1.31.1";
/// The venv, relative to the repository root, that holds the wheel.
pub const VENV_DIR: &str = "models/.venv";
/// The machine-wide venv `cargo xtask setup` creates (with the library symlinked at its top).
pub const SETUP_DIR: &str = "/opt/sensor/onnxruntime-1.31.1";

/// The source tree this crate was built from (for developer builds).
fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `libonnxruntime` inside a venv's site-packages, if installed there.
pub fn venv_library(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("python3"))
        })
        .collect();
    pythons.sort();
    pythons
        .into_iter()
        .map(|p| p.join("site-packages/onnxruntime/capi").join(ORT_LIB_NAME))
        .find(|p| p.is_file())
}

#[derive(Debug, thiserror::Error)]
pub enum OrtNotFound {
    #[error("ORT_DYLIB_PATH={0} does not exist: point it at {ORT_LIB_NAME} from the onnxruntime=={ORT_VERSION} wheel, or unset it and run `cargo xtask setup`")]
    EnvPathMissing(PathBuf),
    #[error("onnxruntime {ORT_VERSION} not found ({ORT_LIB_NAME}); run `cargo xtask setup` (installs it into {VENV_DIR}) or set ORT_DYLIB_PATH to the library. Looked in: {}", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound(Vec<PathBuf>),
}

/// The path of the onnxruntime library to load, following the search order above.
pub fn locate_onnxruntime() -> Result<PathBuf, OrtNotFound> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(OrtNotFound::EnvPathMissing(path))
        };
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join(ORT_LIB_NAME));
        candidates.push(dir.join("../lib").join(ORT_LIB_NAME));
    }
    let venv = source_root().join(VENV_DIR);
    if let Some(found) = venv_library(&venv) {
        return Ok(found);
    }
    candidates.push(
        venv.join("lib/python3*/site-packages/onnxruntime/capi")
            .join(ORT_LIB_NAME),
    );
    candidates.push(Path::new(SETUP_DIR).join(ORT_LIB_NAME));
    if let Some(found) = venv_library(Path::new(SETUP_DIR)) {
        candidates.push(found);
    }
    candidates.push(Path::new("/usr/local/lib").join(ORT_LIB_NAME));
    candidates.push(Path::new("/usr/lib").join(ORT_LIB_NAME));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(OrtNotFound::NotFound(candidates))
}
