//! Read + hash stage: sha256 of a file up to a limit, a bounded prefix as the
//! `contents`, and a cache keyed by the file's identity so that a script run
//! a thousand times is read (and, downstream, scored) once.

use std::io::{self, Read};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::detection::FileInfo;
use crate::resolve::{FileIdentity, FoundFile, OpenedFile, ResolveError};

/// How much of a file is hashed and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadLimits {
    /// Bytes hashed; beyond this a file is `partiallyHashed`.
    pub hash_limit: u64,
    /// Bytes kept as the finding's `contents` and as the text that is scored.
    pub contents_limit: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            hash_limit: 16 * 1024 * 1024,
            contents_limit: 64 * 1024,
        }
    }
}

/// A file as read: `FileInfo` without the path (which differs per exec), and
/// the raw prefix that was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadContent {
    pub size: u64,
    pub sha256: String,
    pub hashed_size: u64,
    /// The first `contents_limit` bytes, raw.
    pub prefix: Vec<u8>,
}

impl ReadContent {
    /// The finding's File for this content at `path`.
    pub fn file_info(
        &self,
        path: Option<crate::event::RawString>,
        with_contents: bool,
    ) -> FileInfo {
        FileInfo {
            path,
            size: self.size,
            sha256: self.sha256.clone(),
            hashed_size: self.hashed_size,
            contents: with_contents.then(|| String::from_utf8_lossy(&self.prefix).into_owned()),
        }
    }
}

/// Hash and keep a prefix of `bytes` (inline `-c` code, kernel-captured text).
pub fn from_bytes(bytes: &[u8], limits: ReadLimits) -> ReadContent {
    let hashed = &bytes[..bytes.len().min(limits.hash_limit as usize)];
    ReadContent {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(hashed)),
        hashed_size: hashed.len() as u64,
        prefix: bytes[..bytes.len().min(limits.contents_limit)].to_vec(),
    }
}

/// Read an opened file from offset 0: stream up to `hash_limit` bytes
/// through sha256, keep the first `contents_limit`.
pub fn read_file(opened: &OpenedFile, limits: ReadLimits) -> io::Result<ReadContent> {
    use std::os::unix::fs::FileExt;
    thread_local! {
        // One read buffer per enrichment thread: a fresh 64 KiB per file
        // read was a large malloc (and a heap consolidation) per exec.
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 64 * 1024]);
    }
    let mut hasher = Sha256::new();
    let mut prefix = Vec::with_capacity(limits.contents_limit.min(opened.identity.size as usize));
    let mut offset: u64 = 0;
    BUF.with_borrow_mut(|buf| -> io::Result<()> {
        // pread, so a file description shared with the interpreter (stdin) keeps its offset.
        while offset < limits.hash_limit {
            let want = buf.len().min((limits.hash_limit - offset) as usize);
            let n = match opened.file.read_at(&mut buf[..want], offset) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
            let keep = n.min(limits.contents_limit.saturating_sub(prefix.len()));
            prefix.extend_from_slice(&buf[..keep]);
            offset += n as u64;
        }
        Ok(())
    })?;
    // A file that grew after fstat: report what was hashed, never less than it.
    let size = opened.identity.size.max(offset);
    Ok(ReadContent {
        size,
        sha256: hex::encode(hasher.finalize()),
        hashed_size: offset,
        prefix,
    })
}

/// Read a whole stream (for callers without an `OpenedFile`).
pub fn read_stream(mut reader: impl Read, limits: ReadLimits) -> io::Result<ReadContent> {
    let mut bytes = Vec::new();
    reader
        .by_ref()
        .take(limits.hash_limit)
        .read_to_end(&mut bytes)?;
    Ok(from_bytes(&bytes, limits))
}

type ReadCache = LruCache<(FileIdentity, ReadLimits), Arc<ReadContent>>;

/// Identity-keyed cache of file reads, shared by all enrichment workers.
/// Bounded in entries and in bytes of kept contents: 4096 scripts of 64 KiB
/// each would otherwise be 256 MiB resident.
#[derive(Debug, Clone)]
pub struct ContentCache {
    inner: Arc<Mutex<Bounded>>,
}

#[derive(Debug)]
struct Bounded {
    reads: ReadCache,
    /// Sum of the cached reads' `prefix` lengths.
    bytes: usize,
    max_bytes: usize,
}

impl ContentCache {
    /// At most `capacity` reads, with no byte bound.
    pub fn new(capacity: usize) -> Self {
        Self::with_byte_budget(capacity, usize::MAX)
    }

    /// At most `capacity` reads holding at most `max_bytes` of contents
    /// (least recently used ones go first).
    pub fn with_byte_budget(capacity: usize, max_bytes: usize) -> Self {
        let cap = NonZeroUsize::new(capacity.max(1)).expect("capacity is at least 1");
        Self {
            inner: Arc::new(Mutex::new(Bounded {
                reads: LruCache::new(cap),
                bytes: 0,
                max_bytes,
            })),
        }
    }

    /// Bytes of contents held now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// The cached read of this file version, or read it now. The bool says
    /// whether it came from the cache.
    pub fn get_or_read(
        &self,
        opened: &OpenedFile,
        limits: ReadLimits,
    ) -> io::Result<(Arc<ReadContent>, bool)> {
        let key = (opened.identity, limits);
        if let Some(hit) = self.lock().reads.get(&key) {
            return Ok((hit.clone(), true));
        }
        let read = Arc::new(read_file(opened, limits)?);
        // Cache only when nothing changed under us while reading.
        if read.hashed_size == opened.identity.size || read.hashed_size == limits.hash_limit {
            self.lock().put(key, read.clone());
        }
        Ok((read, false))
    }

    /// As [`get_or_read`](Self::get_or_read) for a file not opened yet: a
    /// cached version is answered from its identity alone, and only a miss
    /// opens the file (an error opening it is the `Err(ResolveError)`).
    pub fn get_or_open(
        &self,
        found: &FoundFile,
        limits: ReadLimits,
    ) -> Result<io::Result<(Arc<ReadContent>, bool)>, ResolveError> {
        if let Some(hit) = self.lock().reads.get(&(found.identity, limits)) {
            return Ok(Ok((hit.clone(), true)));
        }
        let opened = found.open()?;
        Ok(self.get_or_read(&opened, limits))
    }

    pub fn len(&self) -> usize {
        self.lock().reads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bounded> {
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Bounded {
    fn put(&mut self, key: (FileIdentity, ReadLimits), read: Arc<ReadContent>) {
        if read.prefix.len() > self.max_bytes {
            return;
        }
        self.bytes += read.prefix.len();
        if let Some((_, old)) = self.reads.push(key, read) {
            self.bytes -= old.prefix.len();
        }
        while self.bytes > self.max_bytes {
            let Some((_, old)) = self.reads.pop_lru() else {
                break;
            };
            self.bytes -= old.prefix.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Root;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_whole_small_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.sh"), "echo hi\n").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let opened = root.open_regular(b"/a.sh").unwrap();
        let read = read_file(&opened, ReadLimits::default()).unwrap();
        assert_eq!(read.size, 8);
        assert_eq!(read.hashed_size, 8);
        assert_eq!(read.prefix, b"echo hi\n");
        assert_eq!(read.sha256, hex::encode(Sha256::digest(b"echo hi\n")));
        let info = read.file_info(Some("/a.sh".into()), true);
        assert!(!info.partially_hashed());
        assert_eq!(info.contents.as_deref(), Some("echo hi\n"));
    }

    #[test]
    fn large_file_is_partially_hashed_with_bounded_contents() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(dir.path().join("big.py"), &body).unwrap();
        let root = Root::open(dir.path()).unwrap();
        let opened = root.open_regular(b"/big.py").unwrap();
        let limits = ReadLimits {
            hash_limit: 100_000,
            contents_limit: 1000,
        };
        let read = read_file(&opened, limits).unwrap();
        assert_eq!(read.size, 300_000);
        assert_eq!(read.hashed_size, 100_000);
        assert_eq!(read.sha256, hex::encode(Sha256::digest(&body[..100_000])));
        assert_eq!(read.prefix, &body[..1000]);
        assert!(read.file_info(None, false).partially_hashed());
    }

    #[test]
    fn empty_file_and_inline_text() {
        assert_eq!(from_bytes(b"", ReadLimits::default()).sha256, EMPTY_SHA256);
        let inline = from_bytes(b"curl x | sh", ReadLimits::default());
        assert_eq!(inline.size, 11);
        assert_eq!(inline.prefix, b"curl x | sh");
    }

    #[test]
    fn cache_reads_each_version_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sh");
        std::fs::write(&p, "echo one\n").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let cache = ContentCache::new(16);
        let limits = ReadLimits::default();
        let (_, hit) = cache
            .get_or_read(&root.open_regular(b"/a.sh").unwrap(), limits)
            .unwrap();
        assert!(!hit);
        for _ in 0..1000 {
            let (read, hit) = cache
                .get_or_read(&root.open_regular(b"/a.sh").unwrap(), limits)
                .unwrap();
            assert!(hit);
            assert_eq!(read.prefix, b"echo one\n");
        }
        std::fs::write(&p, "echo two, longer\n").unwrap();
        let (read, hit) = cache
            .get_or_read(&root.open_regular(b"/a.sh").unwrap(), limits)
            .unwrap();
        assert!(!hit);
        assert_eq!(read.prefix, b"echo two, longer\n");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn cache_keeps_within_its_byte_budget() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::open(dir.path()).unwrap();
        // Room for two 100-byte scripts, not three.
        let cache = ContentCache::with_byte_budget(16, 250);
        let limits = ReadLimits::default();
        for name in ["a", "b", "c"] {
            std::fs::write(dir.path().join(name), [b'x'; 100]).unwrap();
            let (_, hit) = cache
                .get_or_read(&root.open_regular(name.as_bytes()).unwrap(), limits)
                .unwrap();
            assert!(!hit);
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.bytes(), 200);
        // The least recently used one ("a") went; the newest stays.
        let (_, hit) = cache
            .get_or_read(&root.open_regular(b"c").unwrap(), limits)
            .unwrap();
        assert!(hit);
        // A read larger than the whole budget is returned, not kept.
        std::fs::write(dir.path().join("big"), [b'y'; 300]).unwrap();
        let (read, _) = cache
            .get_or_read(&root.open_regular(b"big").unwrap(), limits)
            .unwrap();
        assert_eq!(read.prefix.len(), 300);
        assert_eq!(cache.bytes(), 200);
    }
}
