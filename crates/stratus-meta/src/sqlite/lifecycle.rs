//! The lifecycle sweeper's conditional expiration: the check of the current version and the
//! delete share one write transaction, so no client write can slip in between.

use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use stratus_core::EventKind;

use super::SqliteMeta;
use super::objects::{bucket_rules, record_events};
use super::versions::delete_current;
use crate::{
    ExpectedVersion, Garbage, LifecycleRepository, MetaResult, ObjectHeaders, ObjectRecord,
    PendingEvent, StoredBody,
};

#[async_trait]
impl LifecycleRepository for SqliteMeta {
    async fn expire_current_if(
        &self,
        bucket: &str,
        key: &str,
        expected: ExpectedVersion,
        marker_version_id: String,
        mut event: PendingEvent,
    ) -> MetaResult<Option<Garbage>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.write(move |conn| {
            let current: Option<(Option<String>, i64, bool)> = conn
                .prepare_cached(
                    "SELECT version_id, last_modified_ms, delete_marker FROM objects
                     WHERE bucket = ?1 AND key = ?2",
                )?
                .query_row(params![bucket, key.as_bytes()], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()?;
            match current {
                Some((version, modified, false))
                    if version == expected.0 && modified == expected.1 => {}
                _ => return Ok(None),
            }
            let rules = bucket_rules(conn, &bucket)?;
            let marker_ms =
                i64::try_from(event.event.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
            let mut marker = ObjectRecord {
                bucket,
                key,
                size: 0,
                etag: String::new(),
                last_modified_ms: marker_ms,
                headers: ObjectHeaders::default(),
                body: StoredBody::Inline(Vec::new()),
                parts: None,
                version_id: Some(marker_version_id),
                delete_marker: false,
            };
            let Some(mut garbage) = delete_current(conn, &mut marker)? else {
                return Ok(None);
            };
            if garbage.delete_marker {
                event.event.kind = EventKind::LifecycleExpirationDeleteMarkerCreated;
            }
            event.event.version_id.clone_from(&garbage.version_id);
            record_events(conn, &rules, &event, &mut garbage)?;
            Ok(Some(garbage))
        })
        .await
    }
}
