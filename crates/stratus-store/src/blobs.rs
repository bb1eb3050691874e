//! Immutable blob files: `blobs/xx/ID`, where `xx` is the first byte of the random ID in hex.
//! The 256 fan-out directories are created and fsynced when the store opens, so a blob's rename
//! never depends on a directory entry that is not yet durable.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use stratus_meta::{Segment, StoredBody};
use tokio::task::JoinHandle;

use crate::{StoreError, StoreResult};

/// A request or response body.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send + Sync>>;

/// Bytes written to disk per blocking call; large enough to amortise the thread hop.
const WRITE_CHUNK: usize = 1 << 20;
/// Bytes read per blocking call when streaming a blob out.
const READ_CHUNK: usize = 1 << 20;

#[derive(Debug, Clone)]
pub(crate) struct BlobDir {
    root: PathBuf,
}

fn new_blob_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A durably written body that no metadata row references yet. Dropping it without
/// [`StagedBody::keep`] deletes the blob file: the write it belonged to failed.
#[derive(Debug)]
pub struct StagedBody {
    body: StoredBody,
    size: u64,
    md5: [u8; 16],
    blob_path: Option<PathBuf>,
}

impl StagedBody {
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    #[must_use]
    pub fn md5(&self) -> [u8; 16] {
        self.md5
    }

    pub(crate) fn stored_body(&self) -> StoredBody {
        self.body.clone()
    }

    pub(crate) fn blob_id(&self) -> Option<String> {
        self.body.blobs().into_iter().next()
    }

    /// The metadata row referencing this body has committed: the file must stay.
    pub(crate) fn keep(mut self) {
        self.blob_path = None;
    }
}

impl Drop for StagedBody {
    fn drop(&mut self) {
        if let Some(path) = self.blob_path.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Writes a blob in the background so the next chunk can be received meanwhile.
/// Writes the received chunks themselves (no copy into a buffer) on a blocking thread, while
/// the next batch is being received.
struct BlobWriter {
    id: String,
    tmp_path: PathBuf,
    idle: Option<File>,
    in_flight: Option<JoinHandle<io::Result<File>>>,
}

impl BlobWriter {
    async fn create(dir: &BlobDir) -> io::Result<Self> {
        let id = new_blob_id();
        let tmp_path = dir.root.join("tmp").join(&id);
        let path = tmp_path.clone();
        let file = tokio::task::spawn_blocking(move || File::create(path))
            .await
            .map_err(io::Error::other)??;
        Ok(Self {
            id,
            tmp_path,
            idle: Some(file),
            in_flight: None,
        })
    }

    /// The file once the previous write finished.
    async fn take(&mut self) -> io::Result<File> {
        if let Some(handle) = self.in_flight.take() {
            return handle.await.map_err(io::Error::other)?;
        }
        self.idle
            .take()
            .ok_or_else(|| io::Error::other("blob writer used after failure"))
    }

    /// Starts writing `chunks` in the background.
    async fn write(&mut self, chunks: Vec<Bytes>) -> io::Result<()> {
        let mut file = self.take().await?;
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            for chunk in &chunks {
                file.write_all(chunk)?;
            }
            Ok(file)
        }));
        Ok(())
    }

    /// fsync, rename into place, fsync the directory: after this the blob survives a crash.
    async fn finish(mut self, dir: &BlobDir) -> io::Result<PathBuf> {
        let file = self.take().await?;
        let final_path = dir.path_of(&self.id);
        let tmp_path = std::mem::take(&mut self.tmp_path);
        tokio::task::spawn_blocking(move || {
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp_path, &final_path)?;
            if let Some(parent) = final_path.parent() {
                fsync_dir(parent)?;
            }
            Ok(final_path)
        })
        .await
        .map_err(io::Error::other)?
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.tmp_path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

impl BlobDir {
    pub(crate) fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join("tmp"))?;
        for fan in 0..=255u8 {
            fs::create_dir_all(root.join(format!("{fan:02x}")))?;
        }
        fsync_dir(root)?;
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.root.join(id.get(..2).unwrap_or("00")).join(id)
    }

    /// Receives `body`; keeps it in memory when it fits in `inline_max`, otherwise writes a blob.
    pub(crate) async fn stage(
        &self,
        mut body: BodyStream,
        inline_max: usize,
    ) -> StoreResult<StagedBody> {
        let mut pending: Vec<Bytes> = Vec::new();
        let mut pending_len = 0usize;
        let mut size = 0u64;
        let mut writer: Option<BlobWriter> = None;
        // Hashing each chunk as it arrives (tens of microseconds) overlaps MD5 with the file
        // writes running on a blocking thread, instead of adding the two up.
        let mut md5 = Md5::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StoreError::IncompleteBody(e.to_string()))?;
            size += chunk.len() as u64;
            // Bodies without a trustworthy length (aws-chunked, chunked) are bounded here.
            if size > crate::MAX_BODY_BYTES {
                return Err(StoreError::EntityTooLarge);
            }
            md5.update(&chunk);
            pending_len += chunk.len();
            pending.push(chunk);
            if writer.is_none() && pending_len > inline_max {
                writer = Some(BlobWriter::create(self).await?);
            }
            if let Some(writer) = writer.as_mut().filter(|_| pending_len >= WRITE_CHUNK) {
                writer.write(std::mem::take(&mut pending)).await?;
                pending_len = 0;
            }
        }
        let Some(mut writer) = writer else {
            return Ok(StagedBody {
                body: StoredBody::Inline(pending.concat()),
                size,
                md5: md5.finalize().into(),
                blob_path: None,
            });
        };
        if !pending.is_empty() {
            writer.write(pending).await?;
        }
        let id = writer.id.clone();
        let path = writer.finish(self).await?;
        let body = StoredBody::Segments(vec![Segment {
            blob: id,
            len: size,
        }]);
        Ok(StagedBody {
            body,
            size,
            md5: md5.finalize().into(),
            blob_path: Some(path),
        })
    }

    /// Streams bytes `start..=end` of `body`. Every blob file is opened before this returns, so
    /// a concurrent overwrite that unlinks them cannot cut the stream short.
    pub(crate) async fn open_body(
        &self,
        body: &StoredBody,
        start: u64,
        end: u64,
    ) -> io::Result<BodyStream> {
        let segments = match body {
            StoredBody::Inline(bytes) => {
                let slice = Bytes::copy_from_slice(
                    bytes
                        .get(to_usize(start)..=to_usize(end))
                        .unwrap_or_default(),
                );
                return Ok(Box::pin(futures::stream::iter([Ok(slice)])));
            }
            StoredBody::Segments(segments) => segments.clone(),
        };
        let paths: Vec<(PathBuf, u64)> = segments
            .iter()
            .map(|s| (self.path_of(&s.blob), s.len))
            .collect();
        let reads = tokio::task::spawn_blocking(move || plan_reads(&paths, start, end))
            .await
            .map_err(io::Error::other)??;
        Ok(Box::pin(futures::stream::unfold(
            Reads::from(reads),
            next_chunk,
        )))
    }

    pub(crate) async fn remove(&self, ids: Vec<String>) {
        let paths: Vec<PathBuf> = ids.iter().map(|id| self.path_of(id)).collect();
        let _ = tokio::task::spawn_blocking(move || {
            for path in paths {
                if let Err(error) = fs::remove_file(&path) {
                    tracing::warn!(?path, %error, "could not remove unreferenced blob");
                }
            }
        })
        .await;
    }

    /// Deletes temporary files and blobs not in `referenced`; returns how many blobs went.
    pub(crate) async fn collect_garbage(&self, referenced: HashSet<String>) -> io::Result<usize> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            for entry in fs::read_dir(root.join("tmp"))? {
                fs::remove_file(entry?.path())?;
            }
            let mut removed = 0;
            for fan in 0..=255u8 {
                for entry in fs::read_dir(root.join(format!("{fan:02x}")))? {
                    let entry = entry?;
                    if !referenced.contains(entry.file_name().to_string_lossy().as_ref()) {
                        fs::remove_file(entry.path())?;
                        removed += 1;
                    }
                }
            }
            Ok(removed)
        })
        .await
        .map_err(io::Error::other)?
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// One contiguous read from an opened blob file.
struct Read1 {
    file: File,
    remaining: u64,
}

fn plan_reads(paths: &[(PathBuf, u64)], start: u64, end: u64) -> io::Result<Vec<Read1>> {
    let mut reads = Vec::new();
    let mut segment_start = 0u64;
    for (path, len) in paths {
        let segment_end = segment_start + len; // exclusive
        if segment_end > start && segment_start <= end {
            let from = start.saturating_sub(segment_start);
            let to = (end + 1).min(segment_end) - segment_start;
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(from))?;
            reads.push(Read1 {
                file,
                remaining: to - from,
            });
        }
        segment_start = segment_end;
    }
    Ok(reads)
}

type Reads = std::collections::VecDeque<Read1>;

async fn next_chunk(mut reads: Reads) -> Option<(Result<Bytes, io::Error>, Reads)> {
    let mut read = reads.pop_front()?;
    let outcome = tokio::task::spawn_blocking(move || {
        let want = to_usize(read.remaining.min(READ_CHUNK as u64));
        let mut buf = vec![0u8; want];
        read.file.read_exact(&mut buf)?;
        read.remaining -= want as u64;
        Ok::<_, io::Error>((Bytes::from(buf), read))
    })
    .await
    .map_err(io::Error::other)
    .and_then(|r| r);
    match outcome {
        Ok((bytes, read)) => {
            if read.remaining > 0 {
                reads.push_front(read);
            }
            Some((Ok(bytes), reads))
        }
        // Yield the error once, then end the stream.
        Err(error) => Some((Err(error), Reads::new())),
    }
}
