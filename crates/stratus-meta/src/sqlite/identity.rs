//! Projects and access keys.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteMeta;
use crate::{IdentityRepository, KeyRecord, MetaError, MetaResult};

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    let role: String = row.get(3)?;
    Ok(KeyRecord {
        access_key_id: row.get(0)?,
        secret: row.get(1)?,
        project: row.get(2)?,
        role: role.parse().unwrap_or(stratus_core::Role::ReadOnly),
        created_ms: row.get(4)?,
    })
}

const KEY_COLUMNS: &str = "access_key_id, secret, project, role, created_ms";

fn insert_key(conn: &Connection, key: &KeyRecord) -> MetaResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO projects (name, created_ms) VALUES (?1, ?2)")?
        .execute(params![key.project, key.created_ms])?;
    let inserted = conn.prepare_cached("INSERT OR IGNORE INTO access_keys (access_key_id, secret, project, role, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(
        params![key.access_key_id, key.secret, key.project, key.role.as_str(), key.created_ms],
    )?;
    if inserted == 0 {
        return Err(MetaError::KeyExists);
    }
    Ok(())
}

#[async_trait]
impl IdentityRepository for SqliteMeta {
    async fn create_key(&self, key: KeyRecord) -> MetaResult<()> {
        self.write(move |conn| insert_key(conn, &key)).await
    }

    async fn get_key(&self, access_key_id: &str) -> MetaResult<Option<KeyRecord>> {
        let id = access_key_id.to_owned();
        self.read_point(move |conn| {
            let sql = format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], key_from_row)
                .optional()?)
        })
    }

    async fn list_keys(&self, project: Option<&str>) -> MetaResult<Vec<KeyRecord>> {
        let project = project.map(str::to_owned);
        self.read(move |conn| {
            let sql = format!(
                "SELECT {KEY_COLUMNS} FROM access_keys WHERE ?1 IS NULL OR project = ?1 ORDER BY project, created_ms, access_key_id"
            );
            let mut stmt = conn.prepare(&sql)?;
            let keys = stmt.query_map([project], key_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(keys)
        })
        .await
    }

    async fn delete_key(&self, access_key_id: &str) -> MetaResult<bool> {
        let id = access_key_id.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("DELETE FROM access_keys WHERE access_key_id = ?1")?
                .execute([id])?
                > 0)
        })
        .await
    }
}
