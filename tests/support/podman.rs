//! Podman helpers shared by the container tests (`#[path]`-included).
#![allow(dead_code)] // each test uses its own subset

use std::path::Path;
use std::process::{Command, Stdio};

pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The local test image (built once by tests/support/test-image.sh).
pub fn test_image() -> String {
    let out = Command::new(repo().join("tests/support/test-image.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run tests/support/test-image.sh (needs root and podman: cargo xtask setup)");
    assert!(out.status.success(), "tests/support/test-image.sh failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `podman ARGS`, which must succeed; its trimmed stdout.
pub fn podman(args: &[&str]) -> String {
    let out = Command::new("podman")
        .args(args)
        .output()
        .expect("run podman");
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A container (by name or id), removed however the test ends.
pub struct Container(pub String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "--force", "--time", "0", &self.0])
            .output();
    }
}

/// An image, removed however the test ends.
pub struct Image(pub String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rmi", "--force", &self.0])
            .output();
    }
}
