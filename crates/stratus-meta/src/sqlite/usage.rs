//! Usage totals per hour. A flush adds deltas to the stored rows with UPSERTs in one
//! transaction, so it either lands whole or not at all and can be retried without counting
//! anything twice. Rows have no foreign keys: usage outlives the functions and projects it
//! bills.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    FunctionUsageRow, InvocationTotals, MetaResult, RequestTotals, S3UsageRow, UsageDeltas,
    UsageRepository, UsageRows, hour_of,
};

use super::SqliteMeta;

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS usage_invocations (
    project TEXT NOT NULL,
    function TEXT NOT NULL,
    hour_ms INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    mb_ms INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    errors INTEGER NOT NULL,
    PRIMARY KEY (project, function, hour_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_invocations_by_hour ON usage_invocations(hour_ms);
CREATE TABLE IF NOT EXISTS usage_s3 (
    project TEXT NOT NULL,
    hour_ms INTEGER NOT NULL,
    writes INTEGER NOT NULL DEFAULT 0,
    reads INTEGER NOT NULL DEFAULT 0,
    byte_hours REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (project, hour_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_s3_by_hour ON usage_s3(hour_ms);
CREATE TABLE IF NOT EXISTS usage_storage_sampler (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    last_sample_ms INTEGER NOT NULL
);
";

/// SQLite integers are signed; usage never gets near the limit, but saturate rather than wrap.
fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn add_deltas(conn: &Connection, deltas: &UsageDeltas) -> MetaResult<()> {
    let mut invocations = conn.prepare_cached(
        "INSERT INTO usage_invocations (project, function, hour_ms, requests, mb_ms, duration_ms, errors) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (project, function, hour_ms) DO UPDATE SET \
         requests = requests + excluded.requests, mb_ms = mb_ms + excluded.mb_ms, \
         duration_ms = duration_ms + excluded.duration_ms, errors = errors + excluded.errors",
    )?;
    for ((project, function, hour_ms), totals) in &deltas.invocations {
        invocations.execute(params![
            project,
            function,
            hour_ms,
            int(totals.requests),
            int(totals.mb_ms),
            totals.duration_ms,
            int(totals.errors)
        ])?;
    }
    let mut requests = conn.prepare_cached(
        "INSERT INTO usage_s3 (project, hour_ms, writes, reads) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (project, hour_ms) DO UPDATE SET \
         writes = writes + excluded.writes, reads = reads + excluded.reads",
    )?;
    for ((project, hour_ms), totals) in &deltas.requests {
        requests.execute(params![
            project,
            hour_ms,
            int(totals.writes),
            int(totals.reads)
        ])?;
    }
    Ok(())
}

/// Credits each project's bytes × the hours since the previous sample (at most `max_gap_ms`,
/// so a server that was down is not billed for storage it never observed) to `now_ms`'s hour.
fn add_storage_sample(
    conn: &Connection,
    now_ms: i64,
    max_gap_ms: i64,
    stored: &[(String, u64)],
) -> MetaResult<f64> {
    let previous: Option<i64> = conn
        .prepare_cached("SELECT last_sample_ms FROM usage_storage_sampler WHERE id = 0")?
        .query_row([], |row| row.get(0))
        .optional()?;
    let gap_ms = previous.map_or(0, |last| (now_ms - last).clamp(0, max_gap_ms.max(0)));
    // Milliseconds in f64: exact below 2^53.
    let hours = gap_ms as f64 / crate::HOUR_MS as f64;
    if hours > 0.0 {
        let mut add = conn.prepare_cached(
            "INSERT INTO usage_s3 (project, hour_ms, byte_hours) VALUES (?1, ?2, ?3) \
             ON CONFLICT (project, hour_ms) DO UPDATE SET byte_hours = byte_hours + excluded.byte_hours",
        )?;
        for (project, bytes) in stored {
            let byte_hours = *bytes as f64 * hours;
            add.execute(params![project, hour_of(now_ms), byte_hours])?;
        }
    }
    conn.prepare_cached(
        "INSERT INTO usage_storage_sampler (id, last_sample_ms) VALUES (0, ?1) \
         ON CONFLICT (id) DO UPDATE SET last_sample_ms = excluded.last_sample_ms",
    )?
    .execute(params![now_ms])?;
    Ok(hours)
}

fn stored_bytes(conn: &Connection) -> MetaResult<Vec<(String, u64)>> {
    let rows = conn
        .prepare_cached(
            // The running totals the object writes keep (`quotas.rs`): no scan of the objects.
            "SELECT project, bytes FROM project_storage WHERE bytes > 0 ORDER BY project",
        )?
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, uint(row.get::<_, i64>(1)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn usage_rows(
    conn: &Connection,
    project: Option<&str>,
    since_ms: i64,
    until_ms: i64,
) -> MetaResult<UsageRows> {
    let functions = conn
        .prepare_cached(
            "SELECT project, function, hour_ms, requests, mb_ms, duration_ms, errors \
             FROM usage_invocations WHERE hour_ms >= ?1 AND hour_ms < ?2 \
             AND (?3 IS NULL OR project = ?3) ORDER BY project, function, hour_ms",
        )?
        .query_map(params![since_ms, until_ms, project], |row| {
            Ok(FunctionUsageRow {
                project: row.get(0)?,
                function: row.get(1)?,
                hour_ms: row.get(2)?,
                totals: InvocationTotals {
                    requests: uint(row.get(3)?),
                    mb_ms: uint(row.get(4)?),
                    duration_ms: row.get(5)?,
                    errors: uint(row.get(6)?),
                },
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let s3 = conn
        .prepare_cached(
            "SELECT project, hour_ms, writes, reads, byte_hours FROM usage_s3 \
             WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?3 IS NULL OR project = ?3) \
             ORDER BY project, hour_ms",
        )?
        .query_map(params![since_ms, until_ms, project], |row| {
            Ok(S3UsageRow {
                project: row.get(0)?,
                hour_ms: row.get(1)?,
                requests: RequestTotals {
                    writes: uint(row.get(2)?),
                    reads: uint(row.get(3)?),
                },
                byte_hours: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(UsageRows { functions, s3 })
}

#[async_trait::async_trait]
impl UsageRepository for SqliteMeta {
    async fn add_usage(&self, deltas: UsageDeltas) -> MetaResult<()> {
        if deltas.is_empty() {
            return Ok(());
        }
        self.write(move |conn| add_deltas(conn, &deltas)).await
    }

    async fn stored_bytes(&self) -> MetaResult<Vec<(String, u64)>> {
        self.read(stored_bytes).await
    }

    async fn add_storage_sample(
        &self,
        now_ms: i64,
        max_gap_ms: i64,
        stored: Vec<(String, u64)>,
    ) -> MetaResult<f64> {
        self.write(move |conn| add_storage_sample(conn, now_ms, max_gap_ms, &stored))
            .await
    }

    async fn usage_rows(
        &self,
        project: Option<&str>,
        since_ms: i64,
        until_ms: i64,
    ) -> MetaResult<UsageRows> {
        let project = project.map(str::to_owned);
        self.read(move |conn| usage_rows(conn, project.as_deref(), since_ms, until_ms))
            .await
    }
}
