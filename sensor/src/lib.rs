//! The sensor pipeline: capture -> resolve -> hash -> score -> finding -> sink.
//! Each stage is one module; data flows one way, as `event::ExecEvent` and what
//! later stages derive from it.

pub mod capture;
pub mod config;
pub mod container;
pub mod content;
pub mod detection;
pub mod enrich;
pub mod event;
pub mod finding;
pub mod kernel_content;
pub mod metrics;
pub mod pipeline;
pub mod priority;
pub mod process;
pub mod resolve;
pub mod score;
pub mod script;
pub mod sink;
pub mod stdin_peek;
pub mod trace;
