//! Log retention policies: one small row per function that has one. They live in the metadata
//! database (not beside the log files) so a policy is as durable as the function it belongs to
//! and disappears with it (`ON DELETE CASCADE`), in the same transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteMeta;
use crate::{LogRetentionRepository, MetaError, MetaResult};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS log_retention (
    project TEXT NOT NULL,
    function TEXT NOT NULL,
    days INTEGER NOT NULL,
    PRIMARY KEY (project, function),
    FOREIGN KEY (project, function) REFERENCES functions(project, name) ON DELETE CASCADE
);
";

#[async_trait]
impl LogRetentionRepository for SqliteMeta {
    async fn set_log_retention(
        &self,
        project: &str,
        function: &str,
        days: Option<u32>,
    ) -> MetaResult<()> {
        let (project, function) = (project.to_owned(), function.to_owned());
        self.write(move |conn| {
            let exists = conn
                .prepare_cached("SELECT 1 FROM functions WHERE project = ?1 AND name = ?2")?
                .exists(params![project, function])?;
            if !exists {
                return Err(MetaError::NotFound("function"));
            }
            match days {
                Some(days) => conn
                    .prepare_cached(
                        "INSERT INTO log_retention (project, function, days) VALUES (?1, ?2, ?3)
                         ON CONFLICT (project, function) DO UPDATE SET days = excluded.days",
                    )?
                    .execute(params![project, function, days])?,
                None => conn
                    .prepare_cached(
                        "DELETE FROM log_retention WHERE project = ?1 AND function = ?2",
                    )?
                    .execute(params![project, function])?,
            };
            Ok(())
        })
        .await
    }

    async fn log_retentions(&self, project: &str) -> MetaResult<BTreeMap<String, u32>> {
        self.read_point(|conn| {
            let rows = conn
                .prepare_cached("SELECT function, days FROM log_retention WHERE project = ?1")?
                .query_map(params![project], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    async fn all_log_retentions(&self) -> MetaResult<Vec<(String, String, u32)>> {
        self.read(|conn| {
            let rows = conn
                .prepare_cached("SELECT project, function, days FROM log_retention")?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }
}
