//! Buckets, objects and the event outbox.

use std::collections::HashSet;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use stratus_core::{EventKind, NotificationRule, ObjectEvent};

use super::{SqliteMeta, uploads, versions};
use crate::CompletedUpload;
use crate::{
    BucketObjectLock, BucketRecord, BucketVersioning, Garbage, HeaderEdit, InvocationRecord,
    MetaError, MetaResult, ObjectHeaders, ObjectRecord, ObjectRepository, ObjectSummary,
    ObjectVersionSummary, OutboxRecord, PartRecord, PendingEvent, Segment, StoredBody,
    UploadRecord, VersionCursor, VersionSelector, WriteCondition,
};

const BUCKET_COLUMNS: &str = "name, project, created_ms, notifications, versioning, object_lock";

type RawBucket = (String, String, i64, String, Option<String>, Option<String>);

fn bucket_from_row(row: &Row<'_>) -> rusqlite::Result<RawBucket> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn to_bucket(raw: RawBucket) -> MetaResult<BucketRecord> {
    let (name, project, created_ms, rules, versioning, object_lock) = raw;
    Ok(BucketRecord {
        name,
        project,
        created_ms,
        notifications: serde_json::from_str(&rules)?,
        versioning: BucketVersioning::from_stored(versioning.as_deref()),
        object_lock: object_lock
            .map(|json| serde_json::from_str(&json))
            .transpose()?,
    })
}

/// The notification rules of `bucket`, or `NotFound` when the bucket does not exist.
pub(super) fn bucket_rules(conn: &Connection, bucket: &str) -> MetaResult<Vec<NotificationRule>> {
    let rules: Option<String> = conn
        .prepare_cached("SELECT notifications FROM buckets WHERE name = ?1")?
        .query_row([bucket], |row| row.get(0))
        .optional()?;
    Ok(serde_json::from_str(
        &rules.ok_or(MetaError::NotFound("bucket"))?,
    )?)
}

/// Writes one outbox row per rule the event matches. Runs inside the caller's transaction, which
/// is the whole point: the event exists if and only if the change it describes does.
///
/// A rule naming a Lambda function is consumed right here: the same transaction queues the
/// asynchronous invocation (its id is the event id, so it can never be queued twice) and marks
/// the outbox row consumed. Handing it over in a second transaction would cost a second fsync
/// between the upload's acknowledgement and the handler's start, for no gain in safety.
/// Returns whether any invocation was queued.
pub(super) fn record_events(
    conn: &Connection,
    rules: &[NotificationRule],
    pending: &PendingEvent,
    garbage: &mut Garbage,
) -> MetaResult<()> {
    let event = &pending.event;
    let created_ms =
        i64::try_from(event.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    for (index, rule) in rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.matches(event.kind, &event.key))
    {
        let event_id = format!("{:016x}-{index}", event.sequencer);
        let payload = event.to_record_json(rule, &pending.region).to_string();
        let consumed_ms = match rule.target.lambda_function() {
            Some((function, qualifier)) => {
                queue_invocation(
                    conn, &event_id, event, function, qualifier, &payload, created_ms,
                )?;
                garbage.invocations_queued = true;
                Some(created_ms)
            }
            None => {
                // Queue and topic targets: the outbox relay delivers these after the commit.
                garbage.outbox_written = true;
                None
            }
        };
        conn.prepare_cached("INSERT INTO outbox (event_id, bucket, key, event_name, target, payload, sequencer, created_ms, consumed_ms, chain_depth)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")?.execute(
            params![
                event_id,
                event.bucket,
                event.key.as_bytes(),
                event.kind.config_name(),
                serde_json::to_string(&rule.target)?,
                payload,
                i64::try_from(event.sequencer).unwrap_or(i64::MAX),
                created_ms,
                consumed_ms,
                event.chain_depth,
            ],
        )?;
    }
    Ok(())
}

/// Queues the invocation a bucket trigger asks for, in the bucket's project (a bucket's events
/// never reach another project's functions). A chain too deep is still queued, so that the
/// dispatcher records it as dead-lettered with the reason, in the one place that logs it.
fn queue_invocation(
    conn: &Connection,
    event_id: &str,
    event: &ObjectEvent,
    function: &str,
    qualifier: Option<&str>,
    payload: &str,
    now_ms: i64,
) -> MetaResult<()> {
    let project: String = conn
        .prepare_cached("SELECT project FROM buckets WHERE name = ?1")?
        .query_row([&event.bucket], |row| row.get(0))?;
    let invocation = InvocationRecord::queued(
        event_id.to_owned(),
        (&project, function, qualifier.unwrap_or("$LATEST")),
        payload.as_bytes().to_vec(),
        now_ms,
        event.chain_depth.saturating_add(1),
    );
    super::functions::insert_invocation(conn, &invocation, false)
}

/// What [`object_from_row`] reads, from `objects` or `object_versions`.
pub(super) const OBJECT_COLUMNS: &str = "bucket, key, size, etag, last_modified_ms, headers, \
     inline_body, segments, parts, version_id, delete_marker";

pub(super) fn object_from_row(
    row: &Row<'_>,
) -> rusqlite::Result<(ObjectRecord, String, Option<String>)> {
    let key: Vec<u8> = row.get(1)?;
    let inline: Option<Vec<u8>> = row.get(6)?;
    let segments: Option<String> = row.get(7)?;
    let record = ObjectRecord {
        bucket: row.get(0)?,
        key: String::from_utf8_lossy(&key).into_owned(),
        size: row.get(2)?,
        etag: row.get(3)?,
        last_modified_ms: row.get(4)?,
        headers: Default::default(),
        body: StoredBody::Inline(inline.unwrap_or_default()),
        parts: row.get(8)?,
        version_id: row.get(9)?,
        delete_marker: row.get(10)?,
    };
    Ok((record, row.get(5)?, segments))
}

/// Fills in the JSON-encoded columns `object_from_row` left raw.
pub(super) fn decode_object(
    raw: (ObjectRecord, String, Option<String>),
) -> MetaResult<ObjectRecord> {
    let (mut record, headers, segments) = raw;
    record.headers = serde_json::from_str(&headers)?;
    if let Some(segments) = segments {
        record.body = StoredBody::Segments(serde_json::from_str(&segments)?);
    }
    Ok(record)
}

pub(super) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Writes an object as its key's new current version (see [`versions::write_version`]) and
/// stamps the event with the version written.
pub(super) fn upsert_object(
    conn: &Connection,
    object: &mut ObjectRecord,
    condition: &WriteCondition,
    event: &mut PendingEvent,
) -> MetaResult<Garbage> {
    let garbage = versions::write_version(conn, object, condition)?;
    event.event.version_id.clone_from(&garbage.version_id);
    Ok(garbage)
}

/// The event's time in milliseconds: a delete marker's Last-Modified.
fn event_ms(event: &PendingEvent) -> i64 {
    i64::try_from(event.event.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The smallest byte string greater than every string starting with `prefix`, if one exists.
pub(super) fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if last < u8::MAX {
            bound.push(last + 1);
            return Some(bound);
        }
    }
    None
}

#[async_trait]
impl ObjectRepository for SqliteMeta {
    async fn create_bucket(&self, bucket: BucketRecord) -> MetaResult<()> {
        self.write(move |conn| {
            let owner: Option<String> = conn
                .prepare_cached("SELECT project FROM buckets WHERE name = ?1")?
                .query_row([&bucket.name], |r| r.get(0))
                .optional()?;
            if let Some(owner) = owner {
                return Err(MetaError::BucketOwnedBy { owner });
            }
            conn.prepare_cached(
                "INSERT OR IGNORE INTO projects (name, created_ms) VALUES (?1, ?2)",
            )?
            .execute(params![bucket.project, bucket.created_ms])?;
            let object_lock = bucket
                .object_lock
                .map(|c| serde_json::to_string(&c))
                .transpose()?;
            conn.prepare_cached(&format!(
                "INSERT INTO buckets ({BUCKET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))?
            .execute(params![
                bucket.name,
                bucket.project,
                bucket.created_ms,
                serde_json::to_string(&bucket.notifications)?,
                bucket.versioning.as_stored(),
                object_lock
            ])?;
            Ok(())
        })
        .await
    }

    async fn get_bucket(&self, name: &str) -> MetaResult<Option<BucketRecord>> {
        let name = name.to_owned();
        self.read_point(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {BUCKET_COLUMNS} FROM buckets WHERE name = ?1"
            ))?
            .query_row([name], bucket_from_row)
            .optional()?
            .map(to_bucket)
            .transpose()
        })
    }

    async fn list_buckets(&self, project: &str) -> MetaResult<Vec<BucketRecord>> {
        let project = project.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {BUCKET_COLUMNS} FROM buckets WHERE project = ?1 ORDER BY name"
            ))?;
            let rows = stmt
                .query_map([project], bucket_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(to_bucket).collect()
        })
        .await
    }

    async fn delete_bucket(&self, name: &str) -> MetaResult<Garbage> {
        let name = name.to_owned();
        self.write(move |conn| {
            bucket_rules(conn, &name)?;
            // Every version and delete marker counts: S3 deletes only a bucket without any.
            let has_objects: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)
                     OR EXISTS (SELECT 1 FROM object_versions WHERE bucket = ?1)",
                )?
                .query_row([&name], |r| r.get(0))?;
            if has_objects {
                return Err(MetaError::BucketNotEmpty);
            }
            let garbage = uploads::abort_all_in_bucket(conn, &name)?;
            // Bucket names are global and free again once deleted, and outbox rows name their
            // bucket, not its project: left behind, they would become the next owner's history
            // (another project's key names). Pending ones could not be delivered anyway: the
            // relay drops events whose bucket is gone.
            conn.prepare_cached("DELETE FROM outbox WHERE bucket = ?1")?
                .execute([&name])?;
            conn.prepare_cached("DELETE FROM buckets WHERE name = ?1")?
                .execute([&name])?;
            Ok(garbage)
        })
        .await
    }

    async fn set_notifications(
        &self,
        bucket: &str,
        rules: Vec<NotificationRule>,
    ) -> MetaResult<()> {
        let bucket = bucket.to_owned();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE buckets SET notifications = ?2 WHERE name = ?1")?
                .execute(params![bucket, serde_json::to_string(&rules)?])?;
            if changed == 0 {
                Err(MetaError::NotFound("bucket"))
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn replace_owned_rules(
        &self,
        project: &str,
        owner: &str,
        rules: Vec<(String, NotificationRule)>,
    ) -> MetaResult<()> {
        let (project, owner) = (project.to_owned(), owner.to_owned());
        self.write(move |conn| {
            let mut buckets: Vec<(String, Vec<NotificationRule>)> = Vec::new();
            {
                let mut stmt = conn.prepare_cached(
                    "SELECT name, notifications FROM buckets WHERE project = ?1 ORDER BY name",
                )?;
                for row in
                    stmt.query_map([&project], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))?
                {
                    let (name, json) = row?;
                    buckets.push((name, serde_json::from_str(&json)?));
                }
            }
            if rules
                .iter()
                .any(|(bucket, _)| !buckets.iter().any(|(name, _)| name == bucket))
            {
                return Err(MetaError::NotFound("bucket"));
            }
            for (name, existing) in buckets {
                let mut kept: Vec<NotificationRule> = existing
                    .iter()
                    .filter(|rule| !rule.id.starts_with(&owner))
                    .cloned()
                    .collect();
                kept.extend(
                    rules
                        .iter()
                        .filter(|(b, _)| *b == name)
                        .map(|(_, r)| r.clone()),
                );
                if kept != existing {
                    conn.prepare_cached("UPDATE buckets SET notifications = ?2 WHERE name = ?1")?
                        .execute(params![name, serde_json::to_string(&kept)?])?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn put_object(
        &self,
        mut object: ObjectRecord,
        condition: WriteCondition,
        mut event: PendingEvent,
    ) -> MetaResult<Garbage> {
        self.write(move |conn| {
            let rules = bucket_rules(conn, &object.bucket)?;
            let mut garbage = upsert_object(conn, &mut object, &condition, &mut event)?;
            record_events(conn, &rules, &event, &mut garbage)?;
            Ok(garbage)
        })
        .await
    }

    async fn get_object(&self, bucket: &str, key: &str) -> MetaResult<Option<ObjectRecord>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.read_point(move |conn| {
            let sql = format!(
                "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND delete_marker = 0"
            );
            conn.prepare_cached(&sql)?
                .query_row(params![bucket, key.as_bytes()], object_from_row)
                .optional()?
                .map(decode_object)
                .transpose()
        })
    }

    async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        marker_version_id: String,
        mut event: PendingEvent,
    ) -> MetaResult<Garbage> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.write(move |conn| {
            let rules = bucket_rules(conn, &bucket)?;
            let mut marker = ObjectRecord {
                bucket,
                key,
                size: 0,
                etag: String::new(),
                last_modified_ms: event_ms(&event),
                headers: ObjectHeaders::default(),
                body: StoredBody::Inline(Vec::new()),
                parts: None,
                version_id: Some(marker_version_id),
                delete_marker: false,
            };
            let Some(mut garbage) = versions::delete_current(conn, &mut marker)? else {
                return Ok(Garbage::default());
            };
            if garbage.delete_marker {
                event.event.kind = EventKind::DeleteMarkerCreated;
            }
            event.event.version_id.clone_from(&garbage.version_id);
            record_events(conn, &rules, &event, &mut garbage)?;
            Ok(garbage)
        })
        .await
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSelector,
        lock_check: (i64, bool),
        mut event: PendingEvent,
    ) -> MetaResult<Garbage> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.write(move |conn| {
            let rules = bucket_rules(conn, &bucket)?;
            let Some(mut garbage) =
                versions::delete_version(conn, &bucket, &key, &version, lock_check)?
            else {
                return Ok(Garbage {
                    version_id: match version {
                        VersionSelector::Id(id) => Some(id),
                        _ => None,
                    },
                    ..Garbage::default()
                });
            };
            event.event.version_id.clone_from(&garbage.version_id);
            record_events(conn, &rules, &event, &mut garbage)?;
            Ok(garbage)
        })
        .await
    }

    async fn get_object_version(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSelector,
    ) -> MetaResult<Option<ObjectRecord>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.read_point(move |conn| versions::get_version(conn, &bucket, &key, &version))
    }

    async fn edit_object_headers(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSelector,
        edit: HeaderEdit,
    ) -> MetaResult<Option<String>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.write(move |conn| versions::edit_headers(conn, &bucket, &key, &version, edit))
            .await
    }

    async fn set_bucket_versioning(
        &self,
        bucket: &str,
        versioning: BucketVersioning,
    ) -> MetaResult<()> {
        let bucket = bucket.to_owned();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE buckets SET versioning = ?2 WHERE name = ?1")?
                .execute(params![bucket, versioning.as_stored()])?;
            if changed == 0 {
                return Err(MetaError::NotFound("bucket"));
            }
            Ok(())
        })
        .await
    }

    async fn set_bucket_object_lock(
        &self,
        bucket: &str,
        config: BucketObjectLock,
    ) -> MetaResult<()> {
        let bucket = bucket.to_owned();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE buckets SET object_lock = ?2 WHERE name = ?1")?
                .execute(params![bucket, serde_json::to_string(&config)?])?;
            if changed == 0 {
                return Err(MetaError::NotFound("bucket"));
            }
            Ok(())
        })
        .await
    }

    async fn list_object_versions(
        &self,
        bucket: &str,
        prefix: &str,
        after: VersionCursor,
        limit: usize,
    ) -> MetaResult<Vec<ObjectVersionSummary>> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        self.read(move |conn| versions::list(conn, &bucket, &prefix, &after, limit))
            .await
    }

    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        after: &[u8],
        limit: usize,
    ) -> MetaResult<Vec<ObjectSummary>> {
        let (bucket, prefix, after) = (
            bucket.to_owned(),
            prefix.as_bytes().to_vec(),
            after.to_vec(),
        );
        // Resuming exactly at the prefix (after == prefix: the key equal to the prefix was the
        // last one returned) must exclude it; only a bound below the prefix starts at it.
        let inclusive = after.as_slice() < prefix.as_slice();
        let lower = if inclusive { prefix.clone() } else { after };
        let upper = prefix_upper_bound(&prefix);
        self.read(move |conn| {
            let sql = format!(
                "SELECT key, size, etag, last_modified_ms FROM objects
                 WHERE bucket = ?1 AND delete_marker = 0 AND key {} ?2 AND (?3 IS NULL OR key < ?3) ORDER BY key LIMIT ?4",
                if inclusive { ">=" } else { ">" }
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![bucket, lower, upper, i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                let key: Vec<u8> = row.get(0)?;
                Ok(ObjectSummary {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    size: row.get(1)?,
                    etag: row.get(2)?,
                    last_modified_ms: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_upload(&self, upload: UploadRecord) -> MetaResult<()> {
        self.write(move |conn| uploads::create(conn, &upload)).await
    }

    async fn get_upload(&self, upload_id: &str) -> MetaResult<Option<UploadRecord>> {
        let id = upload_id.to_owned();
        self.read_point(move |conn| uploads::get(conn, &id))
    }

    async fn put_part(&self, upload_id: &str, part: PartRecord) -> MetaResult<Garbage> {
        let id = upload_id.to_owned();
        self.write(move |conn| uploads::put_part(conn, &id, &part))
            .await
    }

    async fn list_parts(&self, upload_id: &str) -> MetaResult<Vec<PartRecord>> {
        let id = upload_id.to_owned();
        self.read(move |conn| uploads::list_parts(conn, &id)).await
    }

    async fn list_uploads(&self, bucket: &str, prefix: &str) -> MetaResult<Vec<UploadRecord>> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        self.read(move |conn| uploads::list(conn, &bucket, &prefix))
            .await
    }

    async fn complete_upload(
        &self,
        upload_id: &str,
        object: ObjectRecord,
        event: PendingEvent,
    ) -> MetaResult<Garbage> {
        let id = upload_id.to_owned();
        self.write(move |conn| uploads::complete(conn, &id, object, &WriteCondition::Always, event))
            .await
    }

    async fn complete_upload_if(
        &self,
        upload_id: &str,
        object: ObjectRecord,
        condition: WriteCondition,
        event: PendingEvent,
    ) -> MetaResult<Garbage> {
        let id = upload_id.to_owned();
        self.write(move |conn| uploads::complete(conn, &id, object, &condition, event))
            .await
    }

    async fn completed_upload(&self, upload_id: &str) -> MetaResult<Option<CompletedUpload>> {
        let id = upload_id.to_owned();
        self.read(move |conn| super::completed_uploads::get(conn, &id))
            .await
    }

    async fn abort_upload(&self, upload_id: &str) -> MetaResult<Garbage> {
        let id = upload_id.to_owned();
        self.write(move |conn| uploads::abort(conn, &id)).await
    }

    async fn pending_events(&self, limit: usize) -> MetaResult<Vec<OutboxRecord>> {
        self.read(move |conn| {
            outbox_rows(
                conn,
                "WHERE consumed_ms IS NULL ORDER BY seq LIMIT ?1",
                limit,
            )
        })
        .await
    }

    async fn recent_events(&self, limit: usize) -> MetaResult<Vec<OutboxRecord>> {
        self.read(move |conn| {
            let mut newest_first = outbox_rows(conn, "ORDER BY seq DESC LIMIT ?1", limit)?;
            newest_first.reverse();
            Ok(newest_first)
        })
        .await
    }

    async fn consume_event(&self, event_id: &str, failure: Option<String>) -> MetaResult<()> {
        let event_id = event_id.to_owned();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE outbox SET consumed_ms = ?2, failure = ?3 WHERE event_id = ?1 AND consumed_ms IS NULL",
            )?
            .execute(params![event_id, now_ms, failure])?;
            Ok(())
        })
        .await
    }

    async fn referenced_blobs(&self) -> MetaResult<HashSet<String>> {
        self.read(|conn| {
            let mut referenced = HashSet::new();
            let mut stmt = conn.prepare(
                "SELECT segments FROM objects WHERE segments IS NOT NULL
                 UNION ALL SELECT segments FROM object_versions WHERE segments IS NOT NULL",
            )?;
            for json in stmt.query_map([], |row| row.get::<_, String>(0))? {
                referenced.extend(
                    serde_json::from_str::<Vec<Segment>>(&json?)?
                        .into_iter()
                        .map(|s| s.blob),
                );
            }
            let mut stmt = conn.prepare("SELECT blob FROM parts")?;
            for blob in stmt.query_map([], |row| row.get::<_, String>(0))? {
                referenced.insert(blob?);
            }
            Ok(referenced)
        })
        .await
    }

    async fn max_sequencer(&self) -> MetaResult<u64> {
        self.read(|conn| {
            let max: Option<i64> = conn
                .prepare_cached("SELECT MAX(sequencer) FROM outbox")?
                .query_row([], |r| r.get(0))?;
            Ok(max.and_then(|m| u64::try_from(m).ok()).unwrap_or(0))
        })
        .await
    }
}

/// Outbox rows selected by `tail` (a WHERE/ORDER/LIMIT clause whose `?1` is the limit).
fn outbox_rows(conn: &Connection, tail: &str, limit: usize) -> MetaResult<Vec<OutboxRecord>> {
    let sql = format!(
        "SELECT seq, event_id, bucket, key, event_name, target, payload, created_ms, consumed_ms, failure, \
         chain_depth FROM outbox {tail}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([i64::try_from(limit).unwrap_or(i64::MAX)])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        let key: Vec<u8> = row.get(3)?;
        let target: String = row.get(5)?;
        let payload: String = row.get(6)?;
        events.push(OutboxRecord {
            seq: row.get(0)?,
            event_id: row.get(1)?,
            bucket: row.get(2)?,
            key: String::from_utf8_lossy(&key).into_owned(),
            event_name: row.get(4)?,
            target: serde_json::from_str(&target)?,
            payload: serde_json::from_str(&payload)?,
            created_ms: row.get(7)?,
            consumed_ms: row.get(8)?,
            failure: row.get(9)?,
            chain_depth: row.get(10)?,
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    #[test]
    fn upper_bound_of_prefix() {
        assert_eq!(prefix_upper_bound(b"a/"), Some(b"a0".to_vec()));
        assert_eq!(prefix_upper_bound(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_upper_bound(b""), None);
    }
}
