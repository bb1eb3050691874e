//! Multipart uploads and their parts.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::objects::{bucket_rules, record_events, upsert_object};
use crate::{
    Garbage, MetaError, MetaResult, ObjectRecord, PartRecord, PendingEvent, UploadRecord,
    WriteCondition,
};

const UPLOAD_COLUMNS: &str = "upload_id, bucket, key, initiated_ms, headers";

fn upload_from_row(row: &Row<'_>) -> rusqlite::Result<(UploadRecord, String)> {
    let key: Vec<u8> = row.get(2)?;
    let record = UploadRecord {
        upload_id: row.get(0)?,
        bucket: row.get(1)?,
        key: String::from_utf8_lossy(&key).into_owned(),
        initiated_ms: row.get(3)?,
        headers: Default::default(),
    };
    Ok((record, row.get(4)?))
}

fn decode(raw: (UploadRecord, String)) -> MetaResult<UploadRecord> {
    let (mut record, headers) = raw;
    record.headers = serde_json::from_str(&headers)?;
    Ok(record)
}

pub(super) fn create(conn: &Connection, upload: &UploadRecord) -> MetaResult<()> {
    bucket_rules(conn, &upload.bucket)?;
    conn.prepare_cached(&format!(
        "INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
    ))?
    .execute(params![
        upload.upload_id,
        upload.bucket,
        upload.key.as_bytes(),
        upload.initiated_ms,
        serde_json::to_string(&upload.headers)?
    ])?;
    Ok(())
}

pub(super) fn get(conn: &Connection, upload_id: &str) -> MetaResult<Option<UploadRecord>> {
    let sql = format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([upload_id], upload_from_row)
        .optional()?
        .map(decode)
        .transpose()
}

pub(super) fn list(conn: &Connection, bucket: &str, prefix: &str) -> MetaResult<Vec<UploadRecord>> {
    let sql = format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY key, initiated_ms"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![bucket, prefix.as_bytes()], upload_from_row)?;
    rows.map(|row| decode(row?)).collect()
}

fn part_from_row(row: &Row<'_>) -> rusqlite::Result<PartRecord> {
    Ok(PartRecord {
        part_number: row.get(0)?,
        blob: row.get(1)?,
        size: row.get(2)?,
        etag: row.get(3)?,
        last_modified_ms: row.get(4)?,
    })
}

pub(super) fn list_parts(conn: &Connection, upload_id: &str) -> MetaResult<Vec<PartRecord>> {
    let mut stmt = conn.prepare(
        "SELECT part_number, blob, size, etag, last_modified_ms FROM parts WHERE upload_id = ?1 ORDER BY part_number",
    )?;
    let parts = stmt
        .query_map([upload_id], part_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(parts)
}

pub(super) fn put_part(
    conn: &Connection,
    upload_id: &str,
    part: &PartRecord,
) -> MetaResult<Garbage> {
    if get(conn, upload_id)?.is_none() {
        return Err(MetaError::NotFound("upload"));
    }
    let replaced: Option<String> = conn
        .prepare_cached("SELECT blob FROM parts WHERE upload_id = ?1 AND part_number = ?2")?
        .query_row(params![upload_id, part.part_number], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO parts (upload_id, part_number, blob, size, etag, last_modified_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        upload_id,
        part.part_number,
        part.blob,
        part.size,
        part.etag,
        part.last_modified_ms
    ])?;
    Ok(Garbage {
        blobs: replaced.into_iter().collect(),
        ..Garbage::default()
    })
}

pub(super) fn complete(
    conn: &Connection,
    upload_id: &str,
    mut object: ObjectRecord,
    condition: &WriteCondition,
    mut event: PendingEvent,
) -> MetaResult<Garbage> {
    if get(conn, upload_id)?.is_none() {
        return Err(MetaError::NotFound("upload"));
    }
    let rules = bucket_rules(conn, &object.bucket)?;
    let used: HashSet<String> = object.body.blobs().into_iter().collect();
    let mut garbage = upsert_object(conn, &mut object, condition, &mut event)?;
    super::completed_uploads::remember(conn, upload_id, &object, garbage.version_id.as_deref())?;
    garbage.blobs.retain(|blob| !used.contains(blob));
    garbage.blobs.extend(
        list_parts(conn, upload_id)?
            .into_iter()
            .map(|p| p.blob)
            .filter(|blob| !used.contains(blob)),
    );
    conn.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
        .execute([upload_id])?;
    record_events(conn, &rules, &event, &mut garbage)?;
    Ok(garbage)
}

pub(super) fn abort(conn: &Connection, upload_id: &str) -> MetaResult<Garbage> {
    if get(conn, upload_id)?.is_none() {
        return Err(MetaError::NotFound("upload"));
    }
    let blobs = list_parts(conn, upload_id)?
        .into_iter()
        .map(|p| p.blob)
        .collect();
    conn.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
        .execute([upload_id])?;
    Ok(Garbage {
        blobs,
        ..Garbage::default()
    })
}

pub(super) fn abort_all_in_bucket(conn: &Connection, bucket: &str) -> MetaResult<Garbage> {
    let mut garbage = Garbage::default();
    for upload in list(conn, bucket, "")? {
        garbage.blobs.extend(abort(conn, &upload.upload_id)?.blobs);
    }
    Ok(garbage)
}
