//! Function schedules. Firing one is a single transaction that advances the schedule and
//! inserts its asynchronous invocation, so a crash can neither lose a fire nor repeat it.

use rusqlite::{Connection, Row, params};

use super::functions::insert_invocation;
use crate::{InvocationRecord, MetaError, MetaResult, ScheduleRecord};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    function TEXT NOT NULL,
    position INTEGER NOT NULL,
    expression TEXT NOT NULL,
    input TEXT,
    next_fire_ms INTEGER,
    created_ms INTEGER NOT NULL,
    FOREIGN KEY (project, function) REFERENCES functions(project, name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS schedules_by_function ON schedules(project, function, position);
CREATE INDEX IF NOT EXISTS schedules_due ON schedules(next_fire_ms);
";

const COLUMNS: &str =
    "id, project, function, position, expression, input, next_fire_ms, created_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<ScheduleRecord> {
    Ok(ScheduleRecord {
        id: row.get(0)?,
        project: row.get(1)?,
        function: row.get(2)?,
        position: row.get(3)?,
        expression: row.get(4)?,
        input: row.get(5)?,
        next_fire_ms: row.get(6)?,
        created_ms: row.get(7)?,
    })
}

pub(super) fn list(
    conn: &Connection,
    project: &str,
    function: &str,
) -> MetaResult<Vec<ScheduleRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM schedules WHERE project = ?1 AND function = ?2 ORDER BY position"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![project, function], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(super) fn replace(
    conn: &Connection,
    project: &str,
    function: &str,
    schedules: Vec<ScheduleRecord>,
) -> MetaResult<Vec<ScheduleRecord>> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM functions WHERE project = ?1 AND name = ?2")?
        .exists(params![project, function])?;
    if !exists {
        return Err(MetaError::NotFound("function"));
    }
    let mut current: Vec<Option<ScheduleRecord>> = list(conn, project, function)?
        .into_iter()
        .map(Some)
        .collect();
    let stored: Vec<ScheduleRecord> = schedules
        .into_iter()
        .map(|new| match take_same(&mut current, &new) {
            Some(old) => ScheduleRecord {
                id: old.id,
                next_fire_ms: old.next_fire_ms,
                created_ms: old.created_ms,
                ..new
            },
            None => new,
        })
        .collect();
    conn.prepare_cached("DELETE FROM schedules WHERE project = ?1 AND function = ?2")?
        .execute(params![project, function])?;
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO schedules ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?;
    for schedule in &stored {
        insert.execute(params![
            schedule.id,
            schedule.project,
            schedule.function,
            schedule.position,
            schedule.expression,
            schedule.input,
            schedule.next_fire_ms,
            schedule.created_ms
        ])?;
    }
    Ok(stored)
}

/// Takes the current schedule `new` continues: same expression, preferably at the same
/// position (so identical expressions in one list keep their own rows).
fn take_same(
    current: &mut [Option<ScheduleRecord>],
    new: &ScheduleRecord,
) -> Option<ScheduleRecord> {
    let same = |old: &Option<ScheduleRecord>| {
        old.as_ref()
            .is_some_and(|old| old.expression == new.expression)
    };
    let index = current
        .iter()
        .position(|old| same(old) && old.as_ref().is_some_and(|o| o.position == new.position))
        .or_else(|| current.iter().position(same))?;
    current[index].take()
}

pub(super) fn due(
    conn: &Connection,
    until_ms: i64,
    limit: usize,
) -> MetaResult<Vec<ScheduleRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM schedules WHERE next_fire_ms <= ?1 ORDER BY next_fire_ms LIMIT ?2"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![until_ms, limit as i64], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(super) fn advance(
    conn: &Connection,
    id: &str,
    fired_ms: i64,
    next_fire_ms: Option<i64>,
    invocation: Option<&InvocationRecord>,
) -> MetaResult<bool> {
    // The condition on the old fire time makes firing idempotent: only one writer moves it.
    let advanced = conn
        .prepare_cached(
            "UPDATE schedules SET next_fire_ms = ?3 WHERE id = ?1 AND next_fire_ms = ?2",
        )?
        .execute(params![id, fired_ms, next_fire_ms])?;
    if advanced == 0 {
        return Ok(false);
    }
    if let Some(invocation) = invocation {
        // Never replaces: a fire's id derives from schedule and fire time, and what already ran
        // must stay as it ran.
        insert_invocation(conn, invocation, false)?;
    }
    Ok(true)
}
