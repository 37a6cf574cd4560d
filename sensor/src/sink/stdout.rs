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
        let mut out = self.out.lock();
        let result = out
            .write_all(line.json.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
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
