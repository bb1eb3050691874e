//! The SNS delivery outbox: one row per pending delivery to one subscription, inserted in the
//! transaction that published (or subscribed), deleted once delivered or abandoned.

use rusqlite::{Connection, Row, params};

use crate::{MetaResult, SnsDeliveryRecord};

const COLUMNS: &str =
    "id, subscription_arn, project, payload, attempts, next_attempt_ms, created_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<SnsDeliveryRecord> {
    Ok(SnsDeliveryRecord {
        id: row.get(0)?,
        subscription_arn: row.get(1)?,
        project: row.get(2)?,
        payload: row.get(3)?,
        attempts: row.get(4)?,
        next_attempt_ms: row.get(5)?,
        created_ms: row.get(6)?,
    })
}

/// Inserts a delivery; a repeated id (a replayed publish) is ignored.
pub(super) fn insert(conn: &Connection, delivery: &SnsDeliveryRecord) -> MetaResult<()> {
    conn.prepare_cached(&format!(
        "INSERT OR IGNORE INTO sns_deliveries ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![
        delivery.id,
        delivery.subscription_arn,
        delivery.project,
        delivery.payload,
        delivery.attempts,
        delivery.next_attempt_ms,
        delivery.created_ms
    ])?;
    Ok(())
}

pub(super) fn due(
    conn: &Connection,
    now_ms: i64,
    limit: usize,
) -> MetaResult<(Vec<SnsDeliveryRecord>, Option<i64>)> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sns_deliveries WHERE next_attempt_ms <= ?1 ORDER BY next_attempt_ms LIMIT ?2"
        ))?
        .query_map(params![now_ms, limit as i64], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next: Option<i64> = conn
        .prepare_cached(
            "SELECT MIN(next_attempt_ms) FROM sns_deliveries WHERE next_attempt_ms > ?1",
        )?
        .query_row(params![now_ms], |row| row.get(0))?;
    Ok((rows, next))
}

pub(super) fn retry(
    conn: &Connection,
    id: &str,
    attempts: u32,
    next_attempt_ms: i64,
) -> MetaResult<()> {
    conn.prepare_cached(
        "UPDATE sns_deliveries SET attempts = ?2, next_attempt_ms = ?3 WHERE id = ?1",
    )?
    .execute(params![id, attempts, next_attempt_ms])?;
    Ok(())
}

pub(super) fn delete(conn: &Connection, id: &str) -> MetaResult<()> {
    conn.prepare_cached("DELETE FROM sns_deliveries WHERE id = ?1")?
        .execute(params![id])?;
    Ok(())
}
