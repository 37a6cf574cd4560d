//! Findings on stdout, one JSON object per line, flushed per finding
//! (findings are rare and someone may be tailing them).

/// Stdout written from the caller's thread: no task, no blocking-pool hop
/// per finding. One `write` per line (std's stdout is line buffered). The
/// pipeline calls it from its output thread, where blocking is allowed.
pub(super) struct Direct {
    out: std::io::Stdout,
    broken: bool,
}

impl Direct {
    pub(super) fn new() -> Self {
        Self {
            out: std::io::stdout(),
            broken: false,
        }
    }

    pub(super) fn write(&mut self, line: &super::Line) {
        use std::io::Write as _;
        if self.broken {
            return;
        }
        // The line and its newline in one buffer: std's line-buffered stdout
        // writes a finding longer than its 1 KiB buffer in one write then,
        // not the JSON and the newline apart.
        let mut buf = Vec::with_capacity(line.json.len() + 1);
        buf.extend_from_slice(line.json.as_bytes());
        buf.push(b'\n');
        let mut out = self.out.lock();
        let result = out.write_all(&buf).and_then(|()| out.flush());
        if let Err(err) = result {
            // A closed stdout (`sensor run | head`) must not stop the other sinks.
            tracing::error!("stdout sink: {err}; findings are no longer printed");
            self.broken = true;
        }
    }

    pub(super) fn flush(&mut self) {
        use std::io::Write as _;
        let _ = self.out.flush();
    }
}
