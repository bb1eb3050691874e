//! The grouped aggregates `/metrics` reads at scrape time.

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteMeta;
use crate::repository::MetricsRepository;
use crate::{MetaResult, QueueCounts};

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl MetricsRepository for SqliteMeta {
    async fn async_backlog(&self) -> MetaResult<Vec<(String, String, u64, i64)>> {
        // `invocations_due` is indexed by state first, so this reads only queued rows.
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT project, function, COUNT(*), MIN(accepted_ms) FROM invocations \
                 WHERE state = 'queued' GROUP BY project, function",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    count(row.get(2)?),
                    row.get::<_, i64>(3)?,
                ))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn all_queue_counts(
        &self,
        now_ms: i64,
    ) -> MetaResult<Vec<(String, String, QueueCounts)>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT q.project, q.name, \
                   COALESCE(SUM(m.visible_ms <= ?1), 0), \
                   COALESCE(SUM(m.visible_ms > ?1 AND m.receive_count > 0), 0), \
                   COALESCE(SUM(m.visible_ms > ?1 AND m.receive_count = 0), 0) \
                 FROM queues q LEFT JOIN messages m ON m.project = q.project AND m.queue = q.name \
                 GROUP BY q.project, q.name",
            )?;
            let rows = statement.query_map(params![now_ms], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    QueueCounts {
                        visible: count(row.get(2)?),
                        in_flight: count(row.get(3)?),
                        delayed: count(row.get(4)?),
                    },
                ))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
