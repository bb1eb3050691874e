//! Asynchronous-invocation settings of functions (Lambda's `FunctionEventInvokeConfig`): one row
//! per function and qualifier, deleted with the function.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{EventInvokeConfigRecord, MetaError, MetaResult};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS event_invoke_configs (
    project TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    maximum_retry_attempts INTEGER,
    maximum_event_age_s INTEGER,
    on_success TEXT,
    on_failure TEXT,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (project, function, qualifier),
    FOREIGN KEY (project, function) REFERENCES functions(project, name) ON DELETE CASCADE
);
";

const COLUMNS: &str = "project, function, qualifier, maximum_retry_attempts, maximum_event_age_s, on_success, on_failure, last_modified_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<EventInvokeConfigRecord> {
    Ok(EventInvokeConfigRecord {
        project: row.get(0)?,
        function: row.get(1)?,
        qualifier: row.get(2)?,
        maximum_retry_attempts: row.get(3)?,
        maximum_event_age_s: row.get(4)?,
        on_success: row.get(5)?,
        on_failure: row.get(6)?,
        last_modified_ms: row.get(7)?,
    })
}

/// Inserts or replaces; [`MetaError::NotFound`] when the function does not exist (checked
/// here, in the writer's transaction, so a concurrent delete cannot leave an orphan row).
pub(super) fn put(conn: &Connection, config: &EventInvokeConfigRecord) -> MetaResult<()> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM functions WHERE project = ?1 AND name = ?2")?
        .exists(params![config.project, config.function])?;
    if !exists {
        return Err(MetaError::NotFound("function"));
    }
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO event_invoke_configs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        config.project,
        config.function,
        config.qualifier,
        config.maximum_retry_attempts,
        config.maximum_event_age_s,
        config.on_success,
        config.on_failure,
        config.last_modified_ms
    ])?;
    Ok(())
}

pub(super) fn get(
    conn: &Connection,
    project: &str,
    function: &str,
    qualifier: &str,
) -> MetaResult<Option<EventInvokeConfigRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM event_invoke_configs WHERE project = ?1 AND function = ?2 AND qualifier = ?3"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![project, function, qualifier], from_row)
        .optional()?)
}

/// A function's configurations, by qualifier.
pub(super) fn list(
    conn: &Connection,
    project: &str,
    function: &str,
) -> MetaResult<Vec<EventInvokeConfigRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM event_invoke_configs WHERE project = ?1 AND function = ?2 ORDER BY qualifier"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![project, function], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Returns false when there was no such configuration.
pub(super) fn delete(
    conn: &Connection,
    project: &str,
    function: &str,
    qualifier: &str,
) -> MetaResult<bool> {
    let deleted = conn
        .prepare_cached(
            "DELETE FROM event_invoke_configs WHERE project = ?1 AND function = ?2 AND qualifier = ?3",
        )?
        .execute(params![project, function, qualifier])?;
    Ok(deleted > 0)
}
