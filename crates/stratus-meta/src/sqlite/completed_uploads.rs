//! Completed multipart uploads, remembered for a day: S3 answers a retried
//! CompleteMultipartUpload (the client lost the first answer) as it answered the first.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{CompletedUpload, MetaResult, ObjectRecord};

/// How long a completion is remembered.
const KEEP_MS: i64 = 24 * 60 * 60 * 1000;

/// Records the completion of `upload_id` as `object` (with the version written), and forgets
/// completions older than [`KEEP_MS`] so the table stays small.
pub(super) fn remember(
    conn: &Connection,
    upload_id: &str,
    object: &ObjectRecord,
    version_id: Option<&str>,
) -> MetaResult<()> {
    conn.prepare_cached("DELETE FROM completed_uploads WHERE completed_ms < ?1")?
        .execute([object.last_modified_ms - KEEP_MS])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO completed_uploads
         (upload_id, bucket, key, etag, version_id, completed_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        upload_id,
        object.bucket,
        object.key.as_bytes(),
        object.etag,
        version_id,
        object.last_modified_ms
    ])?;
    Ok(())
}

pub(super) fn get(conn: &Connection, upload_id: &str) -> MetaResult<Option<CompletedUpload>> {
    let found = conn
        .prepare_cached(
            "SELECT bucket, key, etag, version_id FROM completed_uploads WHERE upload_id = ?1",
        )?
        .query_row([upload_id], |row| {
            let key: Vec<u8> = row.get(1)?;
            Ok(CompletedUpload {
                bucket: row.get(0)?,
                key: String::from_utf8_lossy(&key).into_owned(),
                etag: row.get(2)?,
                version_id: row.get(3)?,
            })
        })
        .optional()?;
    Ok(found)
}
