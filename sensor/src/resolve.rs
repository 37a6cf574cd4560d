//! Resolve stage: find the script a process runs *inside that process's own
//! mount namespace*, and open it without ever escaping its root or hanging.
//!
//! The container's root is `/proc/PID/root`. Every path is resolved with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative to that root,
//! so an absolute symlink (`/etc/shadow`) or `../../..` lands inside the
//! container, never on the host. The file is first opened with `O_PATH`
//! (which opens nothing: no FIFO wait, no device side effect), checked to be a
//! regular file, and only then reopened for reading, `O_NONBLOCK`.

use std::ffi::{CString, OsStr};
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a script could not be opened. `label()` is the metrics label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// `/proc/PID` is gone and no other view of its mount namespace is known.
    ProcessGone,
    /// `/proc/PID` now belongs to another process (pid reuse or setns).
    NamespaceChanged,
    NotFound,
    PermissionDenied,
    /// A FIFO, device, socket, directory or symlink loop: never read.
    NotRegular(FileKind),
    /// Too many symlinks, or a magic link (`/proc/self/...`) inside the root.
    SymlinkRefused,
    /// The path is empty or contains a NUL byte.
    BadPath,
    Io(String),
}

impl ResolveError {
    pub fn label(&self) -> &'static str {
        match self {
            Self::ProcessGone => "process_gone",
            Self::NamespaceChanged => "namespace_changed",
            Self::NotFound => "not_found",
            Self::PermissionDenied => "permission_denied",
            Self::NotRegular(_) => "not_regular_file",
            Self::SymlinkRefused => "symlink_refused",
            Self::BadPath => "bad_path",
            Self::Io(_) => "io_error",
        }
    }

    fn from_io(err: &io::Error) -> Self {
        match err.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ENOTDIR) => Self::NotFound,
            Some(libc::EACCES) | Some(libc::EPERM) => Self::PermissionDenied,
            Some(libc::ELOOP) | Some(libc::EXDEV) => Self::SymlinkRefused,
            _ => Self::Io(err.to_string()),
        }
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProcessGone => f.write_str("process exited before its root could be opened"),
            Self::NamespaceChanged => f.write_str("pid now belongs to another mount namespace"),
            Self::NotFound => f.write_str("no such file in the process's root"),
            Self::PermissionDenied => f.write_str("permission denied"),
            Self::NotRegular(kind) => write!(f, "refused to read a {kind}"),
            Self::SymlinkRefused => f.write_str("symlink loop or magic link refused"),
            Self::BadPath => f.write_str("empty path or path with a NUL byte"),
            Self::Io(msg) => write!(f, "I/O error: {msg}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// What a non-regular file is, for the recorded reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Directory,
    Symlink,
    Unknown,
}

impl FileKind {
    fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & libc::S_IFMT {
            libc::S_IFREG => return None,
            libc::S_IFIFO => Self::Fifo,
            libc::S_IFCHR => Self::CharDevice,
            libc::S_IFBLK => Self::BlockDevice,
            libc::S_IFSOCK => Self::Socket,
            libc::S_IFDIR => Self::Directory,
            libc::S_IFLNK => Self::Symlink,
            _ => Self::Unknown,
        })
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fifo => "FIFO",
            Self::CharDevice => "character device",
            Self::BlockDevice => "block device",
            Self::Socket => "socket",
            Self::Directory => "directory",
            Self::Symlink => "symlink",
            Self::Unknown => "non-regular file",
        })
    }
}

/// The identity of a file's current version: the content cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    /// ctime cannot be set from user space, so a rewrite that restores the
    /// mtime still changes the key.
    pub ctime_ns: i128,
}

/// A regular file opened for reading, with its identity at open time.
#[derive(Debug)]
pub struct OpenedFile {
    pub file: File,
    pub identity: FileIdentity,
}

/// A regular file found but not yet opened for reading: an `O_PATH` fd on
/// it and its identity then. Enough to look its content up in a cache; only
/// a miss pays for [`open`](Self::open) (a walk of `/proc/self/fd/N`, an
/// open and a second `fstat`).
#[derive(Debug)]
pub struct FoundFile {
    fd: OwnedFd,
    pub identity: FileIdentity,
}

impl FoundFile {
    /// Check that `fd` (`O_PATH` or any) is a regular file, and note its identity.
    pub fn check(fd: OwnedFd) -> Result<Self, ResolveError> {
        let st = fstat(fd.as_raw_fd()).map_err(|e| ResolveError::from_io(&e))?;
        if let Some(kind) = FileKind::from_mode(st.st_mode) {
            return Err(ResolveError::NotRegular(kind));
        }
        Ok(Self {
            fd,
            identity: identity_of(&st),
        })
    }

    /// Reopen for reading. Going through `/proc/self/fd/N` reopens the very
    /// inode that was checked, so it cannot be swapped for a FIFO in between.
    pub fn open(&self) -> Result<OpenedFile, ResolveError> {
        let file =
            reopen_nonblocking(Path::new(&format!("/proc/self/fd/{}", self.fd.as_raw_fd())))?;
        let opened = identify(file)?;
        if opened.identity.dev != self.identity.dev || opened.identity.ino != self.identity.ino {
            return Err(ResolveError::Io("file changed while being opened".into()));
        }
        Ok(opened)
    }
}

/// A directory that paths are resolved beneath as if it were `/`: a
/// process's root (`/proc/PID/root`) or, in tests, a fake root.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
}

impl Root {
    /// Open `dir` as a root. The fd keeps that mount namespace's root
    /// reachable after the process that owned it exits.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let c = cstring(dir.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: plain open(2) on a NUL-terminated path; the fd is owned below.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
        Ok(Self {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// The root of process `pid` as seen through `proc` (normally `/proc`).
    pub fn of_pid(proc: &Path, pid: u32) -> Result<Self, ResolveError> {
        Self::open(&proc.join(pid.to_string()).join("root")).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ESRCH) => ResolveError::ProcessGone,
            _ => ResolveError::from_io(&e),
        })
    }

    /// Which directory of which mount the root is.
    pub fn id(&self) -> io::Result<RootId> {
        root_id(self.fd.as_raw_fd(), c"", libc::AT_EMPTY_PATH)
    }

    /// Open `path` (absolute or relative to the root) as a regular file,
    /// resolving every component inside this root.
    pub fn open_regular(&self, path: &[u8]) -> Result<OpenedFile, ResolveError> {
        self.find_regular(path)?.open()
    }

    /// As [`open_regular`](Self::open_regular), stopping before the file
    /// is opened for reading.
    pub fn find_regular(&self, path: &[u8]) -> Result<FoundFile, ResolveError> {
        if path.is_empty() {
            return Err(ResolveError::BadPath);
        }
        let c = cstring(path).map_err(|_| ResolveError::BadPath)?;
        // SAFETY: open_how is plain integers; all-zero is its "no options" value.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
        how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
        // SAFETY: openat2 with a valid dirfd, a NUL-terminated path and an
        // open_how of the size we pass; the returned fd is owned below.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd < 0 {
            return Err(ResolveError::from_io(&io::Error::last_os_error()));
        }
        // SAFETY: fresh descriptor owned by nobody else.
        let path_fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        FoundFile::check(path_fd)
    }
}

/// Open a host path that names a file through the kernel (a magic link such
/// as `/proc/PID/exe` or `/proc/PID/fd/N`): the link target is the real file
/// object, so following it is safe. Still refuses non-regular files.
pub fn open_magic_link(path: &Path) -> Result<OpenedFile, ResolveError> {
    find_magic_link(path)?.open()
}

/// As [`open_magic_link`], stopping before the file is opened for reading.
pub fn find_magic_link(path: &Path) -> Result<FoundFile, ResolveError> {
    let c = cstring(path.as_os_str().as_bytes()).map_err(|_| ResolveError::BadPath)?;
    // SAFETY: plain open(2) with O_PATH; fd owned below.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        let err = io::Error::last_os_error();
        return Err(match err.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ESRCH) => ResolveError::ProcessGone,
            _ => ResolveError::from_io(&err),
        });
    }
    // SAFETY: fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    FoundFile::check(fd)
}

fn reopen_nonblocking(path: &Path) -> Result<File, ResolveError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| ResolveError::from_io(&e))
}

fn identify(file: File) -> Result<OpenedFile, ResolveError> {
    let st = fstat(file.as_raw_fd()).map_err(|e| ResolveError::from_io(&e))?;
    if let Some(kind) = FileKind::from_mode(st.st_mode) {
        return Err(ResolveError::NotRegular(kind));
    }
    Ok(OpenedFile {
        file,
        identity: identity_of(&st),
    })
}

fn identity_of(st: &libc::stat) -> FileIdentity {
    FileIdentity {
        dev: st.st_dev,
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        ctime_ns: st.st_ctime as i128 * 1_000_000_000 + st.st_ctime_nsec as i128,
    }
}

fn fstat(fd: i32) -> io::Result<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a full stat struct on success.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: initialized by the successful fstat above.
    Ok(unsafe { st.assume_init() })
}

fn cstring(bytes: &[u8]) -> Result<CString, std::ffi::NulError> {
    CString::new(bytes)
}

/// The script path as the process sees it: absolute paths stay, relative ones
/// are joined onto the process's cwd (both inside its mount namespace).
pub fn path_in_namespace(cwd: &[u8], path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'/') || cwd.is_empty() {
        return path.to_vec();
    }
    let mut joined = cwd.to_vec();
    if joined.last() != Some(&b'/') {
        joined.push(b'/');
    }
    joined.extend_from_slice(path);
    joined
}

/// The cwd of a live process inside its own root (`readlink /proc/PID/cwd`).
pub fn cwd_of_pid(proc: &Path, pid: u32) -> Option<Vec<u8>> {
    std::fs::read_link(proc.join(pid.to_string()).join("cwd"))
        .ok()
        .map(|p: PathBuf| p.into_os_string().into_encoded_bytes())
}

/// A directory as the root of a path walk: its mount and inode. While one
/// holder keeps the mount alive its id is that mount's alone, so two roots
/// with equal ids then are one directory of one mount and resolve every path
/// alike (a bind mount of the same directory is another mount, another id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootId {
    pub mount: u64,
    pub dev: (u32, u32),
    pub ino: u64,
}

fn root_id(dirfd: i32, path: &std::ffi::CStr, flags: i32) -> io::Result<RootId> {
    let mut stx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: statx writes into the statx struct we own; path is NUL-terminated.
    let rc = unsafe {
        libc::statx(
            dirfd,
            path.as_ptr(),
            flags | libc::AT_STATX_DONT_SYNC,
            libc::STATX_INO | libc::STATX_MNT_ID,
            stx.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: zero-initialized and filled by the successful statx above.
    let stx = unsafe { stx.assume_init() };
    if stx.stx_mask & libc::STATX_MNT_ID == 0 {
        return Err(io::Error::other("statx gave no mount id"));
    }
    Ok(RootId {
        mount: stx.stx_mnt_id,
        dev: (stx.stx_dev_major, stx.stx_dev_minor),
        ino: stx.stx_ino,
    })
}

/// Which directory of which mount process `pid`'s root is (`statx` through
/// `/proc/PID/root`): one lookup, no fd. `Err(ProcessGone)` when it exited.
pub fn root_id_of_pid(proc: &Path, pid: u32) -> Result<RootId, ResolveError> {
    let path = proc.join(pid.to_string()).join("root");
    let c = cstring(path.as_os_str().as_bytes()).map_err(|_| ResolveError::BadPath)?;
    root_id(libc::AT_FDCWD, &c, 0).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ESRCH) => ResolveError::ProcessGone,
        _ => ResolveError::from_io(&e),
    })
}

/// The inode of a process's mount namespace (`/proc/PID/ns/mnt`).
pub fn mnt_ns_of_pid(proc: &Path, pid: u32) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(proc.join(pid.to_string()).join("ns/mnt"))
        .ok()
        .map(|m| m.ino())
}

/// `/dev/fd/N`, `/proc/self/fd/N`, `/proc/thread-self/fd/N` or
/// `/proc/PID/fd/N`: the fd number, so it can be opened through the real
/// process's `/proc/PID/fd/N`.
pub fn fd_number(path: &[u8]) -> Option<u32> {
    let path = OsStr::from_bytes(path).to_str()?;
    let rest = path
        .strip_prefix("/dev/fd/")
        .or_else(|| path.strip_prefix("/proc/self/fd/"))
        .or_else(|| path.strip_prefix("/proc/thread-self/fd/"))
        .or_else(|| {
            let after = path.strip_prefix("/proc/")?;
            let (pid, rest) = after.split_once('/')?;
            pid.parse::<u32>().ok()?;
            rest.strip_prefix("fd/")
        })?;
    rest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    fn fake_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("tmp/work")).unwrap();
        std::fs::write(dir.path().join("etc/shadow"), "container shadow\n").unwrap();
        dir
    }

    fn read_all(mut opened: OpenedFile) -> String {
        let mut s = String::new();
        opened.file.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn absolute_symlink_resolves_inside_the_root() {
        let dir = fake_root();
        symlink("/etc/shadow", dir.path().join("tmp/x.sh")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        let opened = root.open_regular(b"/tmp/x.sh").unwrap();
        assert_eq!(read_all(opened), "container shadow\n");
    }

    #[test]
    fn dotdot_cannot_climb_out_of_the_root() {
        let dir = fake_root();
        symlink(
            "../../../../../../etc/shadow",
            dir.path().join("tmp/work/up.sh"),
        )
        .unwrap();
        let root = Root::open(dir.path()).unwrap();
        let opened = root.open_regular(b"/tmp/work/up.sh").unwrap();
        assert_eq!(read_all(opened), "container shadow\n");
        let opened = root.open_regular(b"/../../../etc/shadow").unwrap();
        assert_eq!(read_all(opened), "container shadow\n");
    }

    #[test]
    fn missing_file_in_root_is_not_found_even_if_host_has_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::open(dir.path()).unwrap();
        // /etc/hostname exists on the host, not in the empty fake root.
        assert_eq!(
            root.open_regular(b"/etc/hostname").unwrap_err(),
            ResolveError::NotFound
        );
    }

    #[test]
    fn magic_links_are_refused() {
        let dir = fake_root();
        symlink("/proc/self/root/etc/passwd", dir.path().join("tmp/m.sh")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        // Inside the fake root /proc does not exist, so this is not found;
        // it must never reach the host's /etc/passwd.
        assert!(root.open_regular(b"/tmp/m.sh").is_err());
    }

    #[test]
    fn fifo_is_refused_without_hanging() {
        let dir = fake_root();
        let fifo = dir.path().join("tmp/fifo.sh");
        let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let root = Root::open(dir.path()).unwrap();
        assert_eq!(
            root.open_regular(b"/tmp/fifo.sh").unwrap_err(),
            ResolveError::NotRegular(FileKind::Fifo)
        );
    }

    #[test]
    fn directory_device_and_socket_are_refused() {
        let dir = fake_root();
        let root = Root::open(dir.path()).unwrap();
        assert_eq!(
            root.open_regular(b"/tmp").unwrap_err(),
            ResolveError::NotRegular(FileKind::Directory)
        );
        let _listener =
            std::os::unix::net::UnixListener::bind(dir.path().join("tmp/sock")).unwrap();
        assert_eq!(
            root.open_regular(b"/tmp/sock").unwrap_err(),
            ResolveError::NotRegular(FileKind::Socket)
        );
        let host = Root::open(Path::new("/")).unwrap();
        assert_eq!(
            host.open_regular(b"/dev/null").unwrap_err(),
            ResolveError::NotRegular(FileKind::CharDevice)
        );
    }

    #[test]
    fn relative_paths_join_the_cwd() {
        assert_eq!(path_in_namespace(b"/tmp/work", b"x.sh"), b"/tmp/work/x.sh");
        assert_eq!(path_in_namespace(b"/", b"x.sh"), b"/x.sh");
        assert_eq!(path_in_namespace(b"/tmp", b"/abs.sh"), b"/abs.sh");
        assert_eq!(
            path_in_namespace(b"/tmp/work", b"../x.sh"),
            b"/tmp/work/../x.sh"
        );

        let dir = fake_root();
        std::fs::write(dir.path().join("tmp/x.sh"), "echo hi\n").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let joined = path_in_namespace(b"/tmp/work", b"../x.sh");
        assert_eq!(read_all(root.open_regular(&joined).unwrap()), "echo hi\n");
    }

    #[test]
    fn fd_paths_are_recognised() {
        assert_eq!(fd_number(b"/dev/fd/3"), Some(3));
        assert_eq!(fd_number(b"/proc/self/fd/12"), Some(12));
        assert_eq!(fd_number(b"/proc/4242/fd/5"), Some(5));
        assert_eq!(fd_number(b"/tmp/fd/3"), None);
        assert_eq!(fd_number(b"/dev/fd/x"), None);
    }

    #[test]
    fn identity_changes_when_the_file_is_rewritten() {
        let dir = fake_root();
        let p = dir.path().join("tmp/x.sh");
        std::fs::write(&p, "a").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let first = root.open_regular(b"/tmp/x.sh").unwrap().identity;
        std::fs::write(&p, "bb").unwrap();
        let second = root.open_regular(b"/tmp/x.sh").unwrap().identity;
        assert_ne!(first, second);
        assert_eq!(second.size, 2);
    }
}
