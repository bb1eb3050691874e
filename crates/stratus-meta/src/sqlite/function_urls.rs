//! Function URLs: one per function; the function's name is the URL's, so it is the key, unique
//! server-wide.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{FunctionUrlRecord, MetaError, MetaResult};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS function_urls (
    function TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    auth_type TEXT NOT NULL,
    cors TEXT,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    FOREIGN KEY (project, function) REFERENCES functions(project, name) ON DELETE CASCADE
);
";

const COLUMNS: &str = "function, project, qualifier, auth_type, cors, created_ms, modified_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<FunctionUrlRecord> {
    Ok(FunctionUrlRecord {
        function: row.get(0)?,
        project: row.get(1)?,
        qualifier: row.get(2)?,
        auth_type: row.get(3)?,
        cors: row.get(4)?,
        created_ms: row.get(5)?,
        modified_ms: row.get(6)?,
    })
}

/// Inserts a new URL; `AlreadyExists` when the function has one or another project's function
/// holds the name.
pub(super) fn insert(conn: &Connection, url: &FunctionUrlRecord) -> MetaResult<()> {
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT OR IGNORE INTO function_urls ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))?
        .execute(params![
            url.function,
            url.project,
            url.qualifier,
            url.auth_type,
            url.cors,
            url.created_ms,
            url.modified_ms
        ])?;
    if inserted == 0 {
        return Err(MetaError::AlreadyExists("function URL"));
    }
    Ok(())
}

/// Replaces the settings of an existing URL; `NotFound` when the function has none.
pub(super) fn update(conn: &Connection, url: &FunctionUrlRecord) -> MetaResult<()> {
    let updated = conn
        .prepare_cached(
            "UPDATE function_urls SET qualifier = ?3, auth_type = ?4, cors = ?5, modified_ms = ?6 \
             WHERE project = ?1 AND function = ?2",
        )?
        .execute(params![
            url.project,
            url.function,
            url.qualifier,
            url.auth_type,
            url.cors,
            url.modified_ms
        ])?;
    if updated == 0 {
        return Err(MetaError::NotFound("function URL"));
    }
    Ok(())
}

pub(super) fn delete(conn: &Connection, project: &str, function: &str) -> MetaResult<()> {
    let deleted = conn
        .prepare_cached("DELETE FROM function_urls WHERE project = ?1 AND function = ?2")?
        .execute(params![project, function])?;
    if deleted == 0 {
        return Err(MetaError::NotFound("function URL"));
    }
    Ok(())
}

pub(super) fn by_function(
    conn: &Connection,
    project: &str,
    function: &str,
) -> MetaResult<Option<FunctionUrlRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM function_urls WHERE project = ?1 AND function = ?2"
        ))?
        .query_row(params![project, function], from_row)
        .optional()?)
}

pub(super) fn by_name(conn: &Connection, function: &str) -> MetaResult<Option<FunctionUrlRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM function_urls WHERE function = ?1"
        ))?
        .query_row(params![function], from_row)
        .optional()?)
}
