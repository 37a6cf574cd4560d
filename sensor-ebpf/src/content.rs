//! Content capture (phase 2): what tracked interpreters read.

/// Remember the current process as an interpreter whose reads are captured.
#[inline(always)]
pub fn track(_family: u8) {}
