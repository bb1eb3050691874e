//! S3 versioning on SQLite. A key's current version (possibly a delete marker) is its row in
//! `objects`, so reads, listings and unversioned buckets work exactly as before; older versions
//! move to `object_versions`. `seq` orders a key's versions, newest highest; the current row
//! always has the highest. Every function here runs inside the caller's write transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::objects::{OBJECT_COLUMNS, decode_object, object_from_row, signed};
use crate::{
    BucketObjectLock, BucketVersioning, Garbage, MetaError, MetaResult, ObjectHeaders,
    ObjectRecord, Segment, StoredBody, VersionSelector, WriteCondition,
};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS object_versions (
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key BLOB NOT NULL,
    seq INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    headers TEXT NOT NULL,
    inline_body BLOB,
    segments TEXT,
    parts INTEGER,
    version_id TEXT,
    delete_marker INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, key, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS object_versions_by_id ON object_versions(bucket, key, version_id);
";

/// The columns of a row in `objects` or `object_versions`, in [`object_from_row`]'s order.
pub(super) const VERSION_COLUMNS: &str = "bucket, key, size, etag, last_modified_ms, headers, \
     inline_body, segments, parts, version_id, delete_marker, seq";

/// The versioning state of `bucket`; `NotFound` when it does not exist.
pub(super) fn bucket_versioning(conn: &Connection, bucket: &str) -> MetaResult<BucketVersioning> {
    Ok(bucket_write_state(conn, bucket)?.0)
}

/// The versioning state and Object Lock configuration of `bucket`.
fn bucket_write_state(
    conn: &Connection,
    bucket: &str,
) -> MetaResult<(BucketVersioning, Option<BucketObjectLock>)> {
    let row: Option<(Option<String>, Option<String>)> = conn
        .prepare_cached("SELECT versioning, object_lock FROM buckets WHERE name = ?1")?
        .query_row([bucket], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (state, lock) = row.ok_or(MetaError::NotFound("bucket"))?;
    let lock = lock.map(|json| serde_json::from_str(&json)).transpose()?;
    Ok((BucketVersioning::from_stored(state.as_deref()), lock))
}

/// What versioning needs to know of one stored version.
struct StoredVersion {
    version_id: Option<String>,
    delete_marker: bool,
    seq: i64,
    size: u64,
    etag: String,
    blobs: Vec<String>,
    headers: ObjectHeaders,
}

/// The bytes, objects and blobs a change removed, for the quota and the garbage collector.
#[derive(Default)]
struct Removed {
    bytes: i64,
    objects: i64,
    blobs: Vec<String>,
}

impl Removed {
    fn add(&mut self, version: StoredVersion) {
        if !version.delete_marker {
            self.bytes += signed(version.size);
            self.objects += 1;
        }
        self.blobs.extend(version.blobs);
    }
}

fn stored_version(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(StoredVersion, Option<String>, String)> {
    Ok((
        StoredVersion {
            version_id: row.get(0)?,
            delete_marker: row.get(1)?,
            seq: row.get(2)?,
            size: row.get(3)?,
            etag: row.get(4)?,
            blobs: Vec::new(),
            headers: ObjectHeaders::default(),
        },
        row.get(5)?,
        row.get(6)?,
    ))
}

fn decode_version(raw: (StoredVersion, Option<String>, String)) -> MetaResult<StoredVersion> {
    let (mut version, segments, headers) = raw;
    if let Some(json) = segments {
        version.blobs = serde_json::from_str::<Vec<Segment>>(&json)?
            .into_iter()
            .map(|s| s.blob)
            .collect();
    }
    version.headers = serde_json::from_str(&headers)?;
    Ok(version)
}

const STORED_VERSION_COLUMNS: &str =
    "version_id, delete_marker, seq, size, etag, segments, headers";

fn current(conn: &Connection, bucket: &str, key: &str) -> MetaResult<Option<StoredVersion>> {
    conn.prepare_cached(&format!(
        "SELECT {STORED_VERSION_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2"
    ))?
    .query_row(params![bucket, key.as_bytes()], stored_version)
    .optional()?
    .map(decode_version)
    .transpose()
}

/// The noncurrent version named `version_id` (`None`: the null version).
fn noncurrent(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> MetaResult<Option<StoredVersion>> {
    conn.prepare_cached(&format!(
        "SELECT {STORED_VERSION_COLUMNS} FROM object_versions
         WHERE bucket = ?1 AND key = ?2 AND version_id IS ?3"
    ))?
    .query_row(params![bucket, key.as_bytes(), version_id], stored_version)
    .optional()?
    .map(decode_version)
    .transpose()
}

/// Moves the current row of `key` to the noncurrent versions.
fn demote_current(conn: &Connection, bucket: &str, key: &str) -> MetaResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO object_versions ({VERSION_COLUMNS})
         SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2"
    ))?
    .execute(params![bucket, key.as_bytes()])?;
    delete_current_row(conn, bucket, key)
}

fn delete_current_row(conn: &Connection, bucket: &str, key: &str) -> MetaResult<()> {
    conn.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2")?
        .execute(params![bucket, key.as_bytes()])?;
    Ok(())
}

/// Makes the newest noncurrent version of `key`, if any, the current one.
fn promote_newest(conn: &Connection, bucket: &str, key: &str) -> MetaResult<()> {
    let newest: Option<i64> = conn
        .prepare_cached("SELECT MAX(seq) FROM object_versions WHERE bucket = ?1 AND key = ?2")?
        .query_row(params![bucket, key.as_bytes()], |r| r.get(0))?;
    if let Some(seq) = newest {
        conn.prepare_cached(&format!(
            "INSERT INTO objects ({VERSION_COLUMNS})
             SELECT {VERSION_COLUMNS} FROM object_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3"
        ))?
        .execute(params![bucket, key.as_bytes(), seq])?;
        conn.prepare_cached(
            "DELETE FROM object_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3",
        )?
        .execute(params![bucket, key.as_bytes(), seq])?;
    }
    Ok(())
}

/// Makes room for a new current version of `key` written with versioning in `state`: the old
/// current version is kept as noncurrent when it has an id (or versioning is enabled), and
/// removed when it is the null version a suspended or unversioned bucket overwrites; a
/// noncurrent null version is removed too (there is only ever one null version).
fn retire_current(
    conn: &Connection,
    bucket: &str,
    key: &str,
    state: BucketVersioning,
    existing: Option<StoredVersion>,
    removed: &mut Removed,
) -> MetaResult<()> {
    if let Some(existing) = existing {
        if state == BucketVersioning::Enabled || existing.version_id.is_some() {
            demote_current(conn, bucket, key)?;
        } else {
            delete_current_row(conn, bucket, key)?;
            removed.add(existing);
        }
    }
    if state == BucketVersioning::Suspended
        && let Some(null) = noncurrent(conn, bucket, key, None)?
    {
        conn.prepare_cached(
            "DELETE FROM object_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3",
        )?
        .execute(params![bucket, key.as_bytes(), null.seq])?;
        removed.add(null);
    }
    Ok(())
}

fn insert_current(conn: &Connection, object: &ObjectRecord, seq: i64) -> MetaResult<()> {
    let (inline, segments) = match &object.body {
        StoredBody::Inline(bytes) => (Some(bytes.as_slice()), None),
        StoredBody::Segments(segments) => (None, Some(serde_json::to_string(segments)?)),
    };
    conn.prepare_cached(&format!(
        "INSERT INTO objects ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(params![
        object.bucket,
        object.key.as_bytes(),
        object.size,
        object.etag,
        object.last_modified_ms,
        serde_json::to_string(&object.headers)?,
        inline,
        segments,
        object.parts,
        object.version_id,
        object.delete_marker,
        seq,
    ])?;
    Ok(())
}

/// Writes `object` (an object or, with `delete_marker` set, a delete marker) as the new current
/// version of its key, after checking `condition` against the current object. `object.version_id`
/// is the id to use if the bucket has versioning enabled; otherwise the version is the null one.
/// Returns the blobs made unreachable and the version written.
pub(super) fn write_version(
    conn: &Connection,
    object: &mut ObjectRecord,
    condition: &WriteCondition,
) -> MetaResult<Garbage> {
    let (state, lock) = bucket_write_state(conn, &object.bucket)?;
    let existing = current(conn, &object.bucket, &object.key)?;
    let live = existing.as_ref().filter(|v| !v.delete_marker);
    match (condition, live) {
        (WriteCondition::IfAbsent, Some(_)) => return Err(MetaError::PreconditionFailed),
        (WriteCondition::IfEtag(_), None) => return Err(MetaError::NotFound("key")),
        (WriteCondition::IfEtag(wanted), Some(live)) if *wanted != live.etag => {
            return Err(MetaError::PreconditionFailed);
        }
        (WriteCondition::IfPresent, None) => return Err(MetaError::NotFound("key")),
        (WriteCondition::UnlessEtag(unwanted), Some(live)) if *unwanted == live.etag => {
            return Err(MetaError::PreconditionFailed);
        }
        _ => {}
    }
    if state != BucketVersioning::Enabled {
        object.version_id = None;
    }
    // The bucket's default retention locks every new version that does not name its own.
    if let Some(default) = lock.and_then(|l| l.default_retention)
        && !object.delete_marker
        && object.headers.lock.retention.is_none()
    {
        object.headers.lock.retention = Some(default.applied_at(object.last_modified_ms));
    }
    let seq = existing.as_ref().map_or(1, |v| v.seq + 1);
    let mut removed = Removed::default();
    retire_current(
        conn,
        &object.bucket,
        &object.key,
        state,
        existing,
        &mut removed,
    )?;
    let (added_bytes, added_objects) = if object.delete_marker {
        (0, 0)
    } else {
        (signed(object.size), 1)
    };
    super::quotas::charge_storage(
        conn,
        &object.bucket,
        added_bytes - removed.bytes,
        added_objects - removed.objects,
    )?;
    insert_current(conn, object, seq)?;
    Ok(Garbage {
        blobs: removed.blobs,
        version_id: object.version_id.clone(),
        delete_marker: object.delete_marker,
        ..Garbage::default()
    })
}

/// A delete without a version id. Unversioned: removes the object (nothing when absent).
/// Otherwise: a delete marker becomes the current version (`marker` says its id and time).
/// Returns `None` when nothing changed.
pub(super) fn delete_current(
    conn: &Connection,
    marker: &mut ObjectRecord,
) -> MetaResult<Option<Garbage>> {
    let state = bucket_versioning(conn, &marker.bucket)?;
    if state == BucketVersioning::Unversioned {
        let Some(existing) = current(conn, &marker.bucket, &marker.key)? else {
            return Ok(None);
        };
        delete_current_row(conn, &marker.bucket, &marker.key)?;
        super::quotas::charge_storage(conn, &marker.bucket, -signed(existing.size), -1)?;
        return Ok(Some(Garbage {
            blobs: existing.blobs,
            ..Garbage::default()
        }));
    }
    marker.delete_marker = true;
    write_version(conn, marker, &WriteCondition::Always).map(Some)
}

/// Removes one version for good, unless Object Lock keeps it. Deleting the current version makes
/// the newest older one current. Returns `None` when there is no such version (S3 answers
/// success: deletes are idempotent).
pub(super) fn delete_version(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionSelector,
    lock_check: (i64, bool),
) -> MetaResult<Option<Garbage>> {
    bucket_versioning(conn, bucket)?;
    let wanted = match version {
        VersionSelector::Current => return Err(MetaError::NotFound("version")),
        VersionSelector::Null => None,
        VersionSelector::Id(id) => Some(id.as_str()),
    };
    let (now_ms, bypass_governance) = lock_check;
    let (target, is_current) = match current(conn, bucket, key)? {
        Some(cur) if cur.version_id.as_deref() == wanted => (cur, true),
        _ => match noncurrent(conn, bucket, key, wanted)? {
            Some(old) => (old, false),
            None => return Ok(None),
        },
    };
    if let Some(reason) = target
        .headers
        .lock
        .blocks_deletion(now_ms, bypass_governance)
    {
        return Err(MetaError::ObjectLocked(reason));
    }
    if is_current {
        delete_current_row(conn, bucket, key)?;
        promote_newest(conn, bucket, key)?;
    } else {
        conn.prepare_cached(
            "DELETE FROM object_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3",
        )?
        .execute(params![bucket, key.as_bytes(), target.seq])?;
    }
    let mut removed = Removed::default();
    let delete_marker = target.delete_marker;
    let version_id = target.version_id.clone();
    removed.add(target);
    super::quotas::charge_storage(conn, bucket, -removed.bytes, -removed.objects)?;
    Ok(Some(Garbage {
        blobs: removed.blobs,
        version_id,
        delete_marker,
        ..Garbage::default()
    }))
}

/// One version of `key` as stored, a delete marker included; `None` when there is none.
pub(super) fn get_version(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionSelector,
) -> MetaResult<Option<ObjectRecord>> {
    let current_sql =
        format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2");
    let exact_sql = format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id IS ?3
         UNION ALL
         SELECT {OBJECT_COLUMNS} FROM object_versions WHERE bucket = ?1 AND key = ?2 AND version_id IS ?3
         LIMIT 1"
    );
    let row = match version {
        VersionSelector::Current => conn
            .prepare_cached(&current_sql)?
            .query_row(params![bucket, key.as_bytes()], object_from_row)
            .optional()?,
        VersionSelector::Null | VersionSelector::Id(_) => {
            let wanted = match version {
                VersionSelector::Id(id) => Some(id.as_str()),
                _ => None,
            };
            conn.prepare_cached(&exact_sql)?
                .query_row(params![bucket, key.as_bytes(), wanted], object_from_row)
                .optional()?
        }
    };
    row.map(decode_object).transpose()
}

/// Replaces the headers of one version (tags, retention, legal hold) after `edit` accepted the
/// change; `edit` sees the version as stored and may refuse.
pub(super) fn edit_headers(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionSelector,
    edit: crate::HeaderEdit,
) -> MetaResult<Option<String>> {
    let Some(record) = get_version(conn, bucket, key, version)? else {
        return Err(MetaError::NotFound(match version {
            VersionSelector::Current => "key",
            _ => "version",
        }));
    };
    if record.delete_marker {
        return Err(MetaError::NotFound("delete marker"));
    }
    let headers = edit(&record)?;
    let json = serde_json::to_string(&headers)?;
    for table in ["objects", "object_versions"] {
        conn.prepare_cached(&format!(
            "UPDATE {table} SET headers = ?4 WHERE bucket = ?1 AND key = ?2 AND version_id IS ?3"
        ))?
        .execute(params![bucket, key.as_bytes(), record.version_id, json])?;
    }
    Ok(record.version_id)
}

/// Keys whose versions one listing query reads at a time: the query sorts only their versions,
/// so a page costs the same however many versions the bucket holds.
const LIST_KEY_WINDOW: i64 = 100;

const LISTED_VERSION: &str =
    "SELECT key, version_id, latest, delete_marker, size, etag, last_modified_ms FROM (
     SELECT key, seq, version_id, 1 AS latest, delete_marker, size, etag, last_modified_ms
     FROM objects WHERE bucket = ?1 AND key >= ?2 AND key <= ?3
     UNION ALL
     SELECT key, seq, version_id, 0 AS latest, delete_marker, size, etag, last_modified_ms
     FROM object_versions WHERE bucket = ?1 AND key >= ?2 AND key <= ?3)
 WHERE seq < ?4
 ORDER BY key, seq DESC LIMIT ?5";

fn listed_version(row: &rusqlite::Row<'_>) -> rusqlite::Result<crate::ObjectVersionSummary> {
    let key: Vec<u8> = row.get(0)?;
    Ok(crate::ObjectVersionSummary {
        key: String::from_utf8_lossy(&key).into_owned(),
        version_id: row.get(1)?,
        is_latest: row.get(2)?,
        delete_marker: row.get(3)?,
        size: row.get(4)?,
        etag: row.get(5)?,
        last_modified_ms: row.get(6)?,
    })
}

/// ListObjectVersions: up to `limit` versions and delete markers of keys starting with
/// `prefix`, after `after`, by key and then newest first. Every key with versions has a current
/// row in `objects` (deleting the current version promotes the next), so the keys are walked
/// there, a window at a time, and only each window's versions are sorted.
pub(super) fn list(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
    after: &crate::VersionCursor,
    limit: usize,
) -> MetaResult<Vec<crate::ObjectVersionSummary>> {
    let prefix = prefix.as_bytes();
    let upper = super::objects::prefix_upper_bound(prefix);
    let sql_count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let mut listed = Vec::new();
    let mut versions = conn.prepare_cached(LISTED_VERSION)?;
    // The rest of the key the previous page stopped in.
    if let Some(selector) = &after.version {
        let wanted = match selector {
            VersionSelector::Id(id) => Some(id.as_str()),
            _ => None,
        };
        let resume: Option<i64> = conn
            .prepare_cached(
                "SELECT seq FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id IS ?3
                 UNION ALL
                 SELECT seq FROM object_versions WHERE bucket = ?1 AND key = ?2 AND version_id IS ?3",
            )?
            .query_row(params![bucket, after.key, wanted], |r| r.get(0))
            .optional()?;
        if let Some(seq) = resume.filter(|_| after.key.starts_with(prefix)) {
            let rows = versions.query_map(
                params![bucket, after.key, after.key, seq, sql_count(limit)],
                listed_version,
            )?;
            listed.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
        }
    }
    let mut keys_after = after.key.clone();
    let mut window = conn.prepare_cached(
        "SELECT key FROM objects WHERE bucket = ?1 AND key > ?2 AND key >= ?3
         AND (?4 IS NULL OR key < ?4) ORDER BY key LIMIT ?5",
    )?;
    while listed.len() < limit {
        let keys: Vec<Vec<u8>> = window
            .query_map(
                params![bucket, keys_after, prefix, upper, LIST_KEY_WINDOW],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
            break;
        };
        let wanted = sql_count(limit - listed.len());
        let rows = versions.query_map(
            params![bucket, first, last, i64::MAX, wanted],
            listed_version,
        )?;
        listed.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
        keys_after.clone_from(last);
    }
    Ok(listed)
}
