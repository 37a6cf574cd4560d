//! Plain `#[repr(C)]` types shared by `sensor-ebpf` (kernel) and `sensor` (user space).
#![no_std]
