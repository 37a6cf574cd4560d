//! Which language a script is in: from `--lang`, the shebang, or the file extension.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The languages the classifier knows. POSIX sh, dash, zsh, ksh and busybox sh count as Bash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Bash,
    Python,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Bash => "bash",
            Lang::Python => "python",
        }
    }

    /// Language of an interpreter named by its path or basename (`/usr/bin/python3.11`, `dash`).
    pub fn from_interpreter(interpreter: &str) -> Option<Lang> {
        let base = interpreter.rsplit('/').next().unwrap_or(interpreter);
        if base.starts_with("python") || base.starts_with("pypy") {
            return Some(Lang::Python);
        }
        match base {
            "sh" | "bash" | "dash" | "zsh" | "ksh" | "mksh" | "ash" | "busybox" | "rbash" => {
                Some(Lang::Bash)
            }
            _ => None,
        }
    }

    /// Language named by a script's `#!` line, if it has one we know.
    pub fn from_shebang(content: &str) -> Option<Lang> {
        let line = content.strip_prefix("#!")?.lines().next().unwrap_or("");
        let mut words = line.split_whitespace();
        let interpreter = words.next()?;
        if interpreter.ends_with("/env") {
            // `#!/usr/bin/env -S python3 -u`: the first word that is not an option.
            return words
                .find(|w| !w.starts_with('-'))
                .and_then(Lang::from_interpreter);
        }
        Lang::from_interpreter(interpreter)
    }

    /// Language from the shebang first, then the file extension.
    pub fn detect(path: &Path, content: &str) -> Option<Lang> {
        if let Some(lang) = Lang::from_shebang(content) {
            return Some(lang);
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("py" | "pyw") => Some(Lang::Python),
            Some("sh" | "bash" | "dash" | "zsh" | "ksh") => Some(Lang::Bash),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--lang` value that is neither bash nor python.
#[derive(Debug, thiserror::Error)]
#[error("unknown language {0:?}: expected bash (also sh, dash, zsh) or python")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "bash" | "sh" | "shell" | "dash" | "zsh" | "ksh" => Ok(Lang::Bash),
            "python" | "py" | "python3" | "python2" => Ok(Lang::Python),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(Lang::from_shebang("#!/bin/sh\necho"), Some(Lang::Bash));
        assert_eq!(
            Lang::from_shebang("#! /usr/bin/python3.11 -u\n"),
            Some(Lang::Python)
        );
        assert_eq!(
            Lang::from_shebang("#!/usr/bin/env bash\n"),
            Some(Lang::Bash)
        );
        assert_eq!(
            Lang::from_shebang("#!/usr/bin/env -S python3 -u\n"),
            Some(Lang::Python)
        );
        assert_eq!(Lang::from_shebang("#!/usr/bin/perl\n"), None);
        assert_eq!(Lang::from_shebang("echo hi"), None);
    }

    #[test]
    fn detect_prefers_shebang_over_extension() {
        assert_eq!(
            Lang::detect(Path::new("x.py"), "#!/bin/bash\n"),
            Some(Lang::Bash)
        );
        assert_eq!(
            Lang::detect(Path::new("x.py"), "print(1)"),
            Some(Lang::Python)
        );
        assert_eq!(Lang::detect(Path::new("run.sh"), "ls"), Some(Lang::Bash));
        assert_eq!(Lang::detect(Path::new("README"), "ls"), None);
    }

    #[test]
    fn parse() {
        assert_eq!("SH".parse::<Lang>().unwrap(), Lang::Bash);
        assert_eq!("python3".parse::<Lang>().unwrap(), Lang::Python);
        assert!("perl".parse::<Lang>().is_err());
    }
}
