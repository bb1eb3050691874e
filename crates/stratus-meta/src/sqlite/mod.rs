//! SQLite implementation of the repositories.
//!
//! One dedicated thread owns the only writing connection and commits in groups: it takes every
//! write queued while the previous commit was syncing, runs each inside its own savepoint (so one
//! failing write does not undo the others), commits once, and only then answers all of them. One
//! fsync thus acknowledges many writes, which is what makes durable small PUTs fast. Reads use a
//! small pool of connections on blocking threads; WAL mode lets them run beside the writer.

mod apps;
mod bucket_configs;
mod completed_uploads;
mod event_invoke_configs;
mod function_urls;
mod functions;
mod identity;
mod lifecycle;
mod log_retention;
mod mappings;
mod messages;
mod objects;
mod part_checksums;
mod queues;
mod quotas;
mod schedules;
mod schema;
mod scrape;
mod sns_deliveries;
mod topics;
mod uploads;
mod usage;
mod versions;

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::{MetaError, MetaResult};

/// The most writes committed together; bounds the latency a single huge batch could add.
const MAX_GROUP: usize = 512;

type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

/// Metadata on an embedded SQLite database.
#[derive(Clone)]
pub struct SqliteMeta {
    jobs: mpsc::Sender<Job>,
    readers: Arc<ReaderPool>,
}

struct ReaderPool {
    path: std::path::PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteMeta")
            .field("path", &self.readers.path)
            .finish_non_exhaustive()
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // FULL makes every WAL commit fsync: an acknowledged write survives power loss, not only kill -9.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
    )?;
    // Every query goes through prepare_cached; hold them all, not SQLite's default 16.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteMeta {
    /// Opens (creating if needed) the database at `path` and starts its writer thread.
    ///
    /// # Errors
    /// [`MetaError::Database`] when the file cannot be opened or migrated.
    pub fn open(path: &Path) -> MetaResult<Self> {
        let writer = open_connection(path)?;
        schema::migrate(&writer)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("stratus-meta-writer".into())
            .spawn(move || run_writer(&writer, &queue))
            .map_err(|e| MetaError::Commit(format!("cannot start writer thread: {e}")))?;
        let readers = Arc::new(ReaderPool {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        });
        Ok(Self { jobs, readers })
    }

    /// Runs `op` in the next group commit and resolves once that commit is durable.
    async fn write<T, F>(&self, op: F) -> MetaResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> MetaResult<T> + Send + 'static,
    {
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = in_savepoint(conn, op);
            Box::new(move |commit| {
                let result = match commit {
                    Ok(()) => result,
                    Err(message) => Err(MetaError::Commit(message)),
                };
                let _ = done.send(result);
            })
        });
        self.jobs.send(job).map_err(|_| MetaError::WriterGone)?;
        outcome.await.map_err(|_| MetaError::WriterGone)?
    }

    /// Runs a primary-key lookup on the calling thread. Such a read takes microseconds from the
    /// page cache, less than the two thread hops of `spawn_blocking`, which dominated small GETs.
    /// Scans and anything unbounded use [`SqliteMeta::read`].
    fn read_point<T>(&self, op: impl FnOnce(&Connection) -> MetaResult<T>) -> MetaResult<T> {
        let pooled = self
            .readers
            .idle
            .lock()
            .map_err(|_| MetaError::WriterGone)?
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.readers.path)?,
        };
        let result = op(&conn);
        if let Ok(mut idle) = self.readers.idle.lock() {
            idle.push(conn);
        }
        result
    }

    /// Runs `op` on a pooled read connection on a blocking thread.
    async fn read<T, F>(&self, op: F) -> MetaResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> MetaResult<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let pooled = pool.idle.lock().map_err(|_| MetaError::WriterGone)?.pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&pool.path)?,
            };
            let result = op(&conn);
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|_| MetaError::WriterGone)?
    }
}

fn in_savepoint<T>(
    conn: &Connection,
    op: impl FnOnce(&Connection) -> MetaResult<T>,
) -> MetaResult<T> {
    conn.execute_batch("SAVEPOINT job")?;
    let result = op(conn);
    let end = if result.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    conn.execute_batch(end)?;
    result
}

fn run_writer(conn: &Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let began = conn.execute_batch("BEGIN IMMEDIATE");
        let replies: Vec<Reply> = batch.into_iter().map(|job| job(conn)).collect();
        let committed = began
            .and_then(|()| conn.execute_batch("COMMIT"))
            .map_err(|e| e.to_string());
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!(error = ?committed, "metadata group commit failed");
        }
        for reply in replies {
            reply(committed.clone());
        }
    }
}
