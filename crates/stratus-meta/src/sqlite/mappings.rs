//! Event source mappings. A mapping belongs to its function: deleting the function deletes it.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::SqliteMeta;
use crate::{MappingRecord, MappingRepository, MetaError, MetaResult};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS event_source_mappings (
    uuid TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT,
    source_arn TEXT NOT NULL,
    batch_size INTEGER NOT NULL,
    batching_window_s INTEGER NOT NULL,
    report_item_failures INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    maximum_concurrency INTEGER,
    last_result TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    FOREIGN KEY (project, function) REFERENCES functions(project, name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS mappings_by_project ON event_source_mappings(project, source_arn);
";

const COLUMNS: &str = "uuid, project, function, qualifier, source_arn, batch_size, batching_window_s, report_item_failures, enabled, maximum_concurrency, last_result, modified_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<MappingRecord> {
    Ok(MappingRecord {
        uuid: row.get(0)?,
        project: row.get(1)?,
        function: row.get(2)?,
        qualifier: row.get(3)?,
        source_arn: row.get(4)?,
        batch_size: row.get(5)?,
        batching_window_s: row.get(6)?,
        report_item_failures: row.get(7)?,
        enabled: row.get(8)?,
        maximum_concurrency: row.get(9)?,
        last_result: row.get(10)?,
        modified_ms: row.get(11)?,
    })
}

fn upsert(conn: &Connection, m: &MappingRecord) -> MetaResult<()> {
    let function_exists = conn
        .prepare_cached("SELECT 1 FROM functions WHERE project = ?1 AND name = ?2")?
        .exists(params![m.project, m.function])?;
    if !function_exists {
        return Err(MetaError::NotFound("function"));
    }
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO event_source_mappings ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(params![
        m.uuid,
        m.project,
        m.function,
        m.qualifier,
        m.source_arn,
        m.batch_size,
        m.batching_window_s,
        m.report_item_failures,
        m.enabled,
        m.maximum_concurrency,
        m.last_result,
        m.modified_ms
    ])?;
    Ok(())
}

#[async_trait]
impl MappingRepository for SqliteMeta {
    async fn put_mapping(&self, mapping: MappingRecord) -> MetaResult<()> {
        self.write(move |conn| upsert(conn, &mapping)).await
    }

    async fn get_mapping(&self, uuid: &str) -> MetaResult<Option<MappingRecord>> {
        self.read_point(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM event_source_mappings WHERE uuid = ?1"
                ))?
                .query_row(params![uuid], from_row)
                .optional()?)
        })
    }

    async fn list_mappings(&self, project: Option<&str>) -> MetaResult<Vec<MappingRecord>> {
        let project = project.map(str::to_owned);
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM event_source_mappings WHERE ?1 IS NULL OR project = ?1 ORDER BY modified_ms, uuid"
            );
            let rows = conn
                .prepare_cached(&sql)?
                .query_map(params![project], from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn set_mapping_result(&self, uuid: &str, result: &str) -> MetaResult<()> {
        let (uuid, result) = (uuid.to_owned(), result.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE event_source_mappings SET last_result = ?2 WHERE uuid = ?1",
            )?
            .execute(params![uuid, result])?;
            Ok(())
        })
        .await
    }

    async fn delete_mapping(&self, uuid: &str) -> MetaResult<bool> {
        let uuid = uuid.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("DELETE FROM event_source_mappings WHERE uuid = ?1")?
                .execute(params![uuid])?
                > 0)
        })
        .await
    }
}
