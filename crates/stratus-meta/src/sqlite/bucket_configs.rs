//! Bucket configuration documents: one row per bucket and kind, removed with their bucket
//! (`ON DELETE CASCADE`, in the bucket delete's own transaction). Also the in-place update of a
//! current object's headers, which is how its ACL changes without rewriting the object.

use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};

use super::SqliteMeta;
use crate::{BucketConfigKind, BucketConfigRepository, MetaError, MetaResult};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS bucket_configs (
    bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (bucket, kind)
);
";

#[async_trait]
impl BucketConfigRepository for SqliteMeta {
    async fn set_bucket_config(
        &self,
        bucket: &str,
        kind: BucketConfigKind,
        document: Option<String>,
    ) -> MetaResult<()> {
        let bucket = bucket.to_owned();
        self.write(move |conn| {
            let exists = conn
                .prepare_cached("SELECT 1 FROM buckets WHERE name = ?1")?
                .exists(params![bucket])?;
            if !exists {
                return Err(MetaError::NotFound("bucket"));
            }
            match document {
                Some(document) => conn
                    .prepare_cached(
                        "INSERT INTO bucket_configs (bucket, kind, document) VALUES (?1, ?2, ?3)
                         ON CONFLICT (bucket, kind) DO UPDATE SET document = excluded.document",
                    )?
                    .execute(params![bucket, kind.as_str(), document])?,
                None => conn
                    .prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1 AND kind = ?2")?
                    .execute(params![bucket, kind.as_str()])?,
            };
            Ok(())
        })
        .await
    }

    async fn bucket_config(
        &self,
        bucket: &str,
        kind: BucketConfigKind,
    ) -> MetaResult<Option<String>> {
        self.read_point(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT document FROM bucket_configs WHERE bucket = ?1 AND kind = ?2",
                )?
                .query_row(params![bucket, kind.as_str()], |row| row.get(0))
                .optional()?)
        })
    }

    async fn buckets_with_config(
        &self,
        kind: BucketConfigKind,
    ) -> MetaResult<Vec<(String, String)>> {
        self.read_point(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT bucket, document FROM bucket_configs WHERE kind = ?1 ORDER BY bucket",
            )?;
            let rows =
                stmt.query_map(params![kind.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
