//! Schema creation. Object keys are stored as BLOBs so that ordering and range bounds are plain
//! byte comparisons, exactly S3's (UTF-8 binary) listing order.

use rusqlite::Connection;

const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    project TEXT NOT NULL REFERENCES projects(name),
    role TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects(name),
    created_ms INTEGER NOT NULL,
    notifications TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS buckets_by_project ON buckets(project, name);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key BLOB NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    headers TEXT NOT NULL,
    inline_body BLOB,
    segments TEXT,
    parts INTEGER,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key BLOB NOT NULL,
    initiated_ms INTEGER NOT NULL,
    headers TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_bucket ON uploads(bucket, key);
CREATE TABLE IF NOT EXISTS completed_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    etag TEXT NOT NULL,
    version_id TEXT,
    completed_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS completed_uploads_by_time ON completed_uploads(completed_ms);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    event_name TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    sequencer INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    consumed_ms INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(consumed_ms, seq);
";

pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(super::functions::SCHEMA)?;
    conn.execute_batch(super::function_urls::SCHEMA)?;
    conn.execute_batch(super::apps::SCHEMA)?;
    conn.execute_batch(super::schedules::SCHEMA)?;
    conn.execute_batch(super::mappings::SCHEMA)?;
    conn.execute_batch(super::queues::SCHEMA)?;
    conn.execute_batch(super::event_invoke_configs::SCHEMA)?;
    conn.execute_batch(super::topics::SCHEMA)?;
    conn.execute_batch(super::log_retention::SCHEMA)?;
    conn.execute_batch(super::usage::SCHEMA)?;
    conn.execute_batch(super::bucket_configs::SCHEMA)?;
    super::quotas::migrate(conn)?;
    // Columns added after a table first shipped: `CREATE TABLE IF NOT EXISTS` leaves older data
    // directories' tables as they were.
    add_column_if_missing(
        conn,
        "invocations",
        "chain_depth",
        "INTEGER NOT NULL DEFAULT 0",
    )?;
    // Why an outbox event was consumed without being delivered (its destination refused it).
    add_column_if_missing(conn, "outbox", "failure", "TEXT")?;
    // The event-chain depth of the write, for the queue or topic message the relay sends.
    add_column_if_missing(conn, "outbox", "chain_depth", "INTEGER NOT NULL DEFAULT 0")?;
    // S3 versioning: the bucket's state and Object Lock configuration; on each current object
    // its version id (NULL: the `null` version), whether it is a delete marker, and its
    // position among the key's versions (older ones live in `object_versions`).
    add_column_if_missing(conn, "buckets", "versioning", "TEXT")?;
    add_column_if_missing(conn, "buckets", "object_lock", "TEXT")?;
    add_column_if_missing(conn, "objects", "version_id", "TEXT")?;
    add_column_if_missing(
        conn,
        "objects",
        "delete_marker",
        "INTEGER NOT NULL DEFAULT 0",
    )?;
    add_column_if_missing(conn, "objects", "seq", "INTEGER NOT NULL DEFAULT 1")?;
    conn.execute_batch(super::versions::SCHEMA)?;
    // A part's verified checksums (JSON, by algorithm), for multipart checksums.
    add_column_if_missing(conn, "parts", "checksums", "TEXT")
}

fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    definition: &str,
) -> rusqlite::Result<()> {
    let exists = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
        ))?
        .exists([column])?;
    if !exists {
        conn.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN {column} {definition}"
        ))?;
    }
    Ok(())
}
