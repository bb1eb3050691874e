//! Applications: one row per (project, name), the resources kept as JSON because they are only
//! ever read and written whole.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{AppRecord, AppRepository, MetaResult};

use super::SqliteMeta;

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS apps (
    project TEXT NOT NULL REFERENCES projects(name),
    name TEXT NOT NULL,
    resources TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (project, name)
);
";

const COLUMNS: &str = "project, name, resources, manifest_digest, updated_ms";

/// The row, with the resources still JSON text: decoding happens outside rusqlite so a corrupt
/// value surfaces as [`crate::MetaError::Corrupt`], not as a database error.
type RawApp = (String, String, String, String, i64);

fn raw(row: &Row<'_>) -> rusqlite::Result<RawApp> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn decode(
    (project, name, resources, manifest_digest, updated_ms): RawApp,
) -> MetaResult<AppRecord> {
    Ok(AppRecord {
        project,
        name,
        resources: serde_json::from_str(&resources)?,
        manifest_digest,
        updated_ms,
    })
}

fn upsert(conn: &Connection, app: &AppRecord) -> MetaResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO apps ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (project, name) DO UPDATE SET resources = excluded.resources, \
         manifest_digest = excluded.manifest_digest, updated_ms = excluded.updated_ms"
    ))?
    .execute(params![
        app.project,
        app.name,
        serde_json::to_string(&app.resources)?,
        app.manifest_digest,
        app.updated_ms
    ])?;
    Ok(())
}

#[async_trait::async_trait]
impl AppRepository for SqliteMeta {
    async fn put_app(&self, app: AppRecord) -> MetaResult<()> {
        self.write(move |conn| upsert(conn, &app)).await
    }

    async fn get_app(&self, project: &str, name: &str) -> MetaResult<Option<AppRecord>> {
        let row = self.read_point(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM apps WHERE project = ?1 AND name = ?2"
                ))?
                .query_row(params![project, name], raw)
                .optional()?)
        })?;
        row.map(decode).transpose()
    }

    async fn list_apps(&self, project: &str) -> MetaResult<Vec<AppRecord>> {
        let project = project.to_owned();
        let rows = self
            .read(move |conn| {
                let mut statement = conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM apps WHERE project = ?1 ORDER BY name"
                ))?;
                let rows = statement.query_map(params![project], raw)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await?;
        rows.into_iter().map(decode).collect()
    }

    async fn delete_app(&self, project: &str, name: &str) -> MetaResult<bool> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("DELETE FROM apps WHERE project = ?1 AND name = ?2")?
                .execute(params![project, name])?
                > 0)
        })
        .await
    }
}
