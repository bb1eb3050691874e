//! Functions, versions and asynchronous invocations.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteMeta;
use crate::{
    EventInvokeConfigRecord, FunctionRecord, FunctionRepository, FunctionUrlRecord,
    InvocationRecord, InvocationState, MetaError, MetaResult, ScheduleRecord, VersionRecord,
};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS functions (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    reserved_concurrency INTEGER,
    created_ms INTEGER NOT NULL,
    execution_key TEXT NOT NULL,
    next_version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS function_versions (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    config TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (project, name, version),
    FOREIGN KEY (project, name) REFERENCES functions(project, name) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS invocations (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    accepted_ms INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    result BLOB,
    error TEXT,
    chain_depth INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS invocations_due ON invocations(state, next_attempt_ms);
CREATE INDEX IF NOT EXISTS invocations_by_function ON invocations(project, function, state);
";

const FUNCTION_COLUMNS: &str = "project, name, reserved_concurrency, created_ms, execution_key";
const VERSION_COLUMNS: &str =
    "project, name, version, config, code_sha256, code_size, last_modified_ms, revision_id";
const INVOCATION_COLUMNS: &str = "id, project, function, qualifier, payload, state, attempts, accepted_ms, next_attempt_ms, finished_ms, result, error, chain_depth";

fn function_from_row(row: &Row<'_>) -> rusqlite::Result<FunctionRecord> {
    Ok(FunctionRecord {
        project: row.get(0)?,
        name: row.get(1)?,
        reserved_concurrency: row.get(2)?,
        created_ms: row.get(3)?,
        execution_key: row.get(4)?,
    })
}

/// Reads a version row; the config column is JSON, decoded by the caller's `?`.
fn version_from_row(row: &Row<'_>) -> rusqlite::Result<(VersionRecord, String)> {
    let config: String = row.get(3)?;
    Ok((
        VersionRecord {
            project: row.get(0)?,
            name: row.get(1)?,
            version: row.get(2)?,
            config: stratus_core::FunctionConfig::new("", ""),
            code_sha256: row.get(4)?,
            code_size: row.get(5)?,
            last_modified_ms: row.get(6)?,
            revision_id: row.get(7)?,
        },
        config,
    ))
}

fn decode_version((mut record, config): (VersionRecord, String)) -> MetaResult<VersionRecord> {
    record.config = serde_json::from_str(&config)?;
    Ok(record)
}

fn invocation_from_row(row: &Row<'_>) -> rusqlite::Result<InvocationRecord> {
    let state: String = row.get(5)?;
    Ok(InvocationRecord {
        id: row.get(0)?,
        project: row.get(1)?,
        function: row.get(2)?,
        qualifier: row.get(3)?,
        payload: row.get(4)?,
        state: InvocationState::parse(&state).unwrap_or(InvocationState::Queued),
        attempts: row.get(6)?,
        accepted_ms: row.get(7)?,
        next_attempt_ms: row.get(8)?,
        finished_ms: row.get(9)?,
        result: row.get(10)?,
        error: row.get(11)?,
        chain_depth: row.get(12)?,
    })
}

/// Writes an invocation row. `replace` updates an existing row (recording an attempt); without
/// it a row whose id exists is left alone, which is how an event delivered twice is queued once.
pub(super) fn insert_invocation(
    conn: &Connection,
    invocation: &InvocationRecord,
    replace: bool,
) -> MetaResult<()> {
    let verb = if replace {
        "INSERT OR REPLACE"
    } else {
        "INSERT OR IGNORE"
    };
    conn.prepare_cached(&format!(
        "{verb} INTO invocations ({INVOCATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))?
    .execute(params![
        invocation.id,
        invocation.project,
        invocation.function,
        invocation.qualifier,
        invocation.payload,
        invocation.state.as_str(),
        invocation.attempts,
        invocation.accepted_ms,
        invocation.next_attempt_ms,
        invocation.finished_ms,
        invocation.result,
        invocation.error,
        invocation.chain_depth
    ])?;
    Ok(())
}

fn upsert_version(conn: &Connection, version: &VersionRecord) -> MetaResult<()> {
    let config = serde_json::to_string(&version.config)?;
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO function_versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        version.project,
        version.name,
        version.version,
        config,
        version.code_sha256,
        version.code_size,
        version.last_modified_ms,
        version.revision_id
    ])?;
    Ok(())
}

fn select_version(
    conn: &Connection,
    project: &str,
    name: &str,
    version: &str,
) -> MetaResult<Option<VersionRecord>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM function_versions WHERE project = ?1 AND name = ?2 AND version = ?3"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![project, name, version], version_from_row)
        .optional()?
        .map(decode_version)
        .transpose()
}

fn publish(conn: &Connection, project: &str, name: &str, now_ms: i64) -> MetaResult<VersionRecord> {
    let latest =
        select_version(conn, project, name, "$LATEST")?.ok_or(MetaError::NotFound("function"))?;
    // Lambda returns the newest published version instead of a new one when nothing changed.
    let newest = conn
        .prepare_cached(
            "SELECT version FROM function_versions WHERE project = ?1 AND name = ?2 AND version != '$LATEST' ORDER BY CAST(version AS INTEGER) DESC LIMIT 1",
        )?
        .query_row(params![project, name], |row| row.get::<_, String>(0))
        .optional()?;
    if let Some(newest) = newest {
        let previous =
            select_version(conn, project, name, &newest)?.ok_or(MetaError::NotFound("version"))?;
        if previous.code_sha256 == latest.code_sha256 && previous.config == latest.config {
            return Ok(previous);
        }
    }
    let number: u32 = conn
        .prepare_cached("UPDATE functions SET next_version = next_version + 1 WHERE project = ?1 AND name = ?2 RETURNING next_version - 1")?
        .query_row(params![project, name], |row| row.get(0))?;
    let version = VersionRecord {
        version: number.to_string(),
        last_modified_ms: now_ms,
        ..latest
    };
    upsert_version(conn, &version)?;
    Ok(version)
}

#[async_trait]
impl FunctionRepository for SqliteMeta {
    async fn create_function(
        &self,
        function: FunctionRecord,
        latest: VersionRecord,
    ) -> MetaResult<()> {
        self.write(move |conn| {
            let inserted = conn
                .prepare_cached(&format!(
                    "INSERT OR IGNORE INTO functions ({FUNCTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
                ))?
                .execute(params![
                    function.project,
                    function.name,
                    function.reserved_concurrency,
                    function.created_ms,
                    function.execution_key
                ])?;
            if inserted == 0 {
                return Err(MetaError::AlreadyExists("function"));
            }
            super::quotas::check_function_count(conn, &function.project)?;
            upsert_version(conn, &latest)
        })
        .await
    }

    async fn get_function(&self, project: &str, name: &str) -> MetaResult<Option<FunctionRecord>> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.read_point(move |conn| {
            let sql = format!(
                "SELECT {FUNCTION_COLUMNS} FROM functions WHERE project = ?1 AND name = ?2"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row(params![project, name], function_from_row)
                .optional()?)
        })
    }

    async fn list_functions(
        &self,
        project: &str,
        after: &str,
        limit: usize,
    ) -> MetaResult<Vec<VersionRecord>> {
        let (project, after) = (project.to_owned(), after.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {VERSION_COLUMNS} FROM function_versions WHERE project = ?1 AND version = '$LATEST' AND name > ?2 ORDER BY name LIMIT ?3"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map(params![project, after, limit as i64], version_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(decode_version).collect()
        })
        .await
    }

    async fn all_functions(&self) -> MetaResult<Vec<VersionRecord>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {VERSION_COLUMNS} FROM function_versions ORDER BY project, name, version"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map([], version_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(decode_version).collect()
        })
        .await
    }

    async fn get_version(
        &self,
        project: &str,
        name: &str,
        version: &str,
    ) -> MetaResult<Option<VersionRecord>> {
        let (project, name, version) = (project.to_owned(), name.to_owned(), version.to_owned());
        self.read_point(move |conn| select_version(conn, &project, &name, &version))
    }

    async fn list_versions(&self, project: &str, name: &str) -> MetaResult<Vec<VersionRecord>> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {VERSION_COLUMNS} FROM function_versions WHERE project = ?1 AND name = ?2 ORDER BY version = '$LATEST' DESC, CAST(version AS INTEGER)"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(params![project, name], version_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(decode_version).collect()
        })
        .await
    }

    async fn update_latest(
        &self,
        version: VersionRecord,
        expected_revision: Option<String>,
    ) -> MetaResult<()> {
        self.write(move |conn| {
            let current = select_version(conn, &version.project, &version.name, "$LATEST")?
                .ok_or(MetaError::NotFound("function"))?;
            if expected_revision.is_some_and(|expected| expected != current.revision_id) {
                return Err(MetaError::PreconditionFailed);
            }
            upsert_version(conn, &version)
        })
        .await
    }

    async fn publish_version(
        &self,
        project: &str,
        name: &str,
        now_ms: i64,
    ) -> MetaResult<VersionRecord> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| publish(conn, &project, &name, now_ms))
            .await
    }

    async fn set_reserved_concurrency(
        &self,
        project: &str,
        name: &str,
        reserved: Option<u32>,
    ) -> MetaResult<()> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE functions SET reserved_concurrency = ?3 WHERE project = ?1 AND name = ?2")?
                .execute(params![project, name, reserved])?;
            if changed == 0 {
                return Err(MetaError::NotFound("function"));
            }
            Ok(())
        })
        .await
    }

    async fn delete_function(&self, project: &str, name: &str) -> MetaResult<FunctionRecord> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| {
            let sql = format!(
                "SELECT {FUNCTION_COLUMNS} FROM functions WHERE project = ?1 AND name = ?2"
            );
            let function = conn
                .prepare_cached(&sql)?
                .query_row(params![project, name], function_from_row)
                .optional()?
                .ok_or(MetaError::NotFound("function"))?;
            conn.prepare_cached("DELETE FROM function_versions WHERE project = ?1 AND name = ?2")?
                .execute(params![project, name])?;
            conn.prepare_cached("DELETE FROM functions WHERE project = ?1 AND name = ?2")?
                .execute(params![project, name])?;
            Ok(function)
        })
        .await
    }

    async fn code_in_use(&self) -> MetaResult<std::collections::HashSet<String>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare("SELECT DISTINCT code_sha256 FROM function_versions")?;
            let hashes = stmt
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(hashes)
        })
        .await
    }

    async fn put_invocation(&self, invocation: InvocationRecord) -> MetaResult<()> {
        self.write(move |conn| insert_invocation(conn, &invocation, true))
            .await
    }

    async fn get_invocation(&self, id: &str) -> MetaResult<Option<InvocationRecord>> {
        let id = id.to_owned();
        self.read_point(move |conn| {
            let sql = format!("SELECT {INVOCATION_COLUMNS} FROM invocations WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], invocation_from_row)
                .optional()?)
        })
    }

    async fn queued_invocations(&self, limit: usize) -> MetaResult<Vec<InvocationRecord>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {INVOCATION_COLUMNS} FROM invocations WHERE state = 'queued' ORDER BY next_attempt_ms, accepted_ms LIMIT ?1"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map([limit as i64], invocation_from_row)?.collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn create_function_url(&self, url: FunctionUrlRecord) -> MetaResult<()> {
        self.write(move |conn| super::function_urls::insert(conn, &url))
            .await
    }

    async fn update_function_url(&self, url: FunctionUrlRecord) -> MetaResult<()> {
        self.write(move |conn| super::function_urls::update(conn, &url))
            .await
    }

    async fn delete_function_url(&self, project: &str, function: &str) -> MetaResult<()> {
        let (project, function) = (project.to_owned(), function.to_owned());
        self.write(move |conn| super::function_urls::delete(conn, &project, &function))
            .await
    }

    async fn get_function_url(
        &self,
        project: &str,
        function: &str,
    ) -> MetaResult<Option<FunctionUrlRecord>> {
        self.read_point(|conn| super::function_urls::by_function(conn, project, function))
    }

    async fn function_url_by_name(&self, function: &str) -> MetaResult<Option<FunctionUrlRecord>> {
        self.read_point(|conn| super::function_urls::by_name(conn, function))
    }

    async fn dead_letters(
        &self,
        project: &str,
        function: &str,
        limit: usize,
    ) -> MetaResult<Vec<InvocationRecord>> {
        let (project, function) = (project.to_owned(), function.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {INVOCATION_COLUMNS} FROM invocations WHERE project = ?1 AND function = ?2 AND state = 'dead-lettered' ORDER BY finished_ms DESC LIMIT ?3"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map(params![project, function, limit as i64], invocation_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn replace_schedules(
        &self,
        project: &str,
        function: &str,
        schedules: Vec<ScheduleRecord>,
    ) -> MetaResult<Vec<ScheduleRecord>> {
        let (project, function) = (project.to_owned(), function.to_owned());
        self.write(move |conn| super::schedules::replace(conn, &project, &function, schedules))
            .await
    }

    async fn list_schedules(
        &self,
        project: &str,
        function: &str,
    ) -> MetaResult<Vec<ScheduleRecord>> {
        let (project, function) = (project.to_owned(), function.to_owned());
        self.read(move |conn| super::schedules::list(conn, &project, &function))
            .await
    }

    async fn due_schedules(&self, until_ms: i64, limit: usize) -> MetaResult<Vec<ScheduleRecord>> {
        self.read(move |conn| super::schedules::due(conn, until_ms, limit))
            .await
    }

    async fn advance_schedule(
        &self,
        id: &str,
        fired_ms: i64,
        next_fire_ms: Option<i64>,
        invocation: Option<InvocationRecord>,
    ) -> MetaResult<bool> {
        let id = id.to_owned();
        self.write(move |conn| {
            super::schedules::advance(conn, &id, fired_ms, next_fire_ms, invocation.as_ref())
        })
        .await
    }

    async fn queue_invocation_once(&self, invocation: InvocationRecord) -> MetaResult<bool> {
        self.write(move |conn| {
            let before = conn.total_changes();
            insert_invocation(conn, &invocation, false)?;
            Ok(conn.total_changes() > before)
        })
        .await
    }

    async fn put_event_invoke_config(&self, config: EventInvokeConfigRecord) -> MetaResult<()> {
        self.write(move |conn| super::event_invoke_configs::put(conn, &config))
            .await
    }

    async fn get_event_invoke_config(
        &self,
        project: &str,
        function: &str,
        qualifier: &str,
    ) -> MetaResult<Option<EventInvokeConfigRecord>> {
        self.read_point(|conn| super::event_invoke_configs::get(conn, project, function, qualifier))
    }

    async fn list_event_invoke_configs(
        &self,
        project: &str,
        function: &str,
    ) -> MetaResult<Vec<EventInvokeConfigRecord>> {
        self.read_point(|conn| super::event_invoke_configs::list(conn, project, function))
    }

    async fn delete_event_invoke_config(
        &self,
        project: &str,
        function: &str,
        qualifier: &str,
    ) -> MetaResult<bool> {
        let (project, function, qualifier) = (
            project.to_owned(),
            function.to_owned(),
            qualifier.to_owned(),
        );
        self.write(move |conn| {
            super::event_invoke_configs::delete(conn, &project, &function, &qualifier)
        })
        .await
    }
}
