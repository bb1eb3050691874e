//! Multipart checksums: each part's verified checksums (the `parts.checksums` column, JSON by
//! algorithm) and the upload's headers once its object checksum is computed.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteMeta;
use crate::{MetaError, MetaResult, MultipartChecksumRepository, ObjectHeaders};

#[async_trait]
impl MultipartChecksumRepository for SqliteMeta {
    async fn set_part_checksums(
        &self,
        upload_id: &str,
        part_number: u32,
        blob: &str,
        checksums: BTreeMap<String, String>,
    ) -> MetaResult<()> {
        let (id, blob) = (upload_id.to_owned(), blob.to_owned());
        let json = serde_json::to_string(&checksums)?;
        self.write(move |conn| {
            // Matching the blob makes this a no-op when a later upload replaced the part.
            conn.prepare_cached(
                "UPDATE parts SET checksums = ?1 WHERE upload_id = ?2 AND part_number = ?3 AND blob = ?4",
            )?
            .execute(params![json, id, part_number, blob])?;
            Ok(())
        })
        .await
    }

    async fn part_checksums(
        &self,
        upload_id: &str,
    ) -> MetaResult<BTreeMap<u32, BTreeMap<String, String>>> {
        let id = upload_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT part_number, checksums FROM parts WHERE upload_id = ?1 AND checksums IS NOT NULL",
            )?;
            let rows = stmt.query_map([&id], |row| {
                Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?))
            })?;
            let mut out = BTreeMap::new();
            for row in rows {
                let (number, json) = row?;
                out.insert(number, serde_json::from_str(&json)?);
            }
            Ok(out)
        })
        .await
    }

    async fn set_upload_headers(&self, upload_id: &str, headers: ObjectHeaders) -> MetaResult<()> {
        let id = upload_id.to_owned();
        let json = serde_json::to_string(&headers)?;
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE uploads SET headers = ?1 WHERE upload_id = ?2")?
                .execute(params![json, id])?;
            if changed == 0 {
                return Err(MetaError::NotFound("upload"));
            }
            Ok(())
        })
        .await
    }
}
