//! Project quotas, and the running storage totals the object writes keep.
//!
//! `project_storage` holds each project's bytes and object count, changed by every object write
//! in that write's own transaction. Checking a quota there, rather than before the write, is what
//! stops two concurrent uploads from both fitting under the limit: the writer thread runs writes
//! one after the other, so the second sees the first one's total.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteMeta;
use crate::{MetaError, MetaResult, QuotaLimits, QuotaRepository, StoredUsage};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS project_quotas (
    project TEXT PRIMARY KEY,
    max_storage_bytes INTEGER,
    max_objects INTEGER,
    max_functions INTEGER,
    max_worker_memory_mb INTEGER,
    max_concurrent_invocations INTEGER
);
";

const STORAGE_SCHEMA: &str = r"
CREATE TABLE project_storage (
    project TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    objects INTEGER NOT NULL
);
";

/// Creates the tables; the storage totals, when created now, start from the objects already
/// stored, so a data directory from before quotas existed is counted correctly.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    let has_totals = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'project_storage'")?
        .exists([])?;
    if !has_totals {
        conn.execute_batch(STORAGE_SCHEMA)?;
        conn.execute_batch(
            "INSERT INTO project_storage (project, bytes, objects)
             SELECT b.project, SUM(o.size), COUNT(*) FROM objects o JOIN buckets b ON b.name = o.bucket
             GROUP BY b.project",
        )?;
    }
    Ok(())
}

fn to_u64(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

fn to_i64(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

pub(super) fn limits(conn: &Connection, project: &str) -> MetaResult<QuotaLimits> {
    let row = conn
        .prepare_cached(
            "SELECT max_storage_bytes, max_objects, max_functions, max_worker_memory_mb, max_concurrent_invocations
             FROM project_quotas WHERE project = ?1",
        )?
        .query_row([project], |r| {
            Ok(QuotaLimits {
                max_storage_bytes: to_u64(r.get(0)?),
                max_objects: to_u64(r.get(1)?),
                max_functions: to_u64(r.get(2)?),
                max_worker_memory_mb: to_u64(r.get(3)?),
                max_concurrent_invocations: to_u64(r.get(4)?),
            })
        })
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// Refuses growing past `max`; shrinking is always allowed, even above a limit set later.
fn check(
    project: &str,
    limit: &'static str,
    max: Option<u64>,
    current: u64,
    delta: i64,
) -> MetaResult<()> {
    let requested = current.saturating_add_signed(delta);
    match max {
        Some(max) if delta > 0 && requested > max => Err(MetaError::QuotaExceeded {
            project: project.to_owned(),
            limit,
            max,
            current,
            requested,
        }),
        _ => Ok(()),
    }
}

/// A bucket's project, its storage totals and its storage limits.
struct ProjectStorage {
    project: String,
    bytes: u64,
    objects: u64,
    max_bytes: Option<u64>,
    max_objects: Option<u64>,
}

/// Adds a write's change to its project's storage totals, refusing it when it would pass the
/// project's byte or object limit. Runs inside the write's transaction.
pub(super) fn charge_storage(
    conn: &Connection,
    bucket: &str,
    bytes_delta: i64,
    objects_delta: i64,
) -> MetaResult<()> {
    if bytes_delta == 0 && objects_delta == 0 {
        return Ok(());
    }
    // One lookup for the project, its totals and its storage limits: this runs on every write.
    let row = conn
        .prepare_cached(
            "SELECT b.project, COALESCE(s.bytes, 0), COALESCE(s.objects, 0), q.max_storage_bytes, q.max_objects
             FROM buckets b
             LEFT JOIN project_storage s ON s.project = b.project
             LEFT JOIN project_quotas q ON q.project = b.project
             WHERE b.name = ?1",
        )?
        .query_row([bucket], |r| {
            Ok(ProjectStorage {
                project: r.get(0)?,
                bytes: to_u64(r.get(1)?).unwrap_or(0),
                objects: to_u64(r.get(2)?).unwrap_or(0),
                max_bytes: to_u64(r.get(3)?),
                max_objects: to_u64(r.get(4)?),
            })
        })
        .optional()?;
    let ProjectStorage {
        project,
        bytes,
        objects,
        max_bytes,
        max_objects,
    } = row.ok_or(MetaError::NotFound("bucket"))?;
    check(&project, "max_storage_bytes", max_bytes, bytes, bytes_delta)?;
    check(&project, "max_objects", max_objects, objects, objects_delta)?;
    conn.prepare_cached(
        "INSERT INTO project_storage (project, bytes, objects) VALUES (?1, ?2, ?3)
         ON CONFLICT (project) DO UPDATE SET bytes = ?2, objects = ?3",
    )?
    .execute(params![
        project,
        i64::try_from(bytes.saturating_add_signed(bytes_delta)).unwrap_or(i64::MAX),
        i64::try_from(objects.saturating_add_signed(objects_delta)).unwrap_or(i64::MAX),
    ])?;
    Ok(())
}

fn function_count(conn: &Connection, project: &str) -> MetaResult<u64> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM functions WHERE project = ?1")?
        .query_row([project], |r| r.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Refuses a function just inserted (counted) when the project now has more than it may.
pub(super) fn check_function_count(conn: &Connection, project: &str) -> MetaResult<()> {
    let count = function_count(conn, project)?;
    check(
        project,
        "max_functions",
        limits(conn, project)?.max_functions,
        count.saturating_sub(1),
        1,
    )
}

fn usage_rows(conn: &Connection, project: Option<&str>) -> MetaResult<Vec<StoredUsage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.name, COALESCE(s.bytes, 0), COALESCE(s.objects, 0),
                (SELECT COUNT(*) FROM functions f WHERE f.project = p.name)
         FROM (SELECT name FROM projects UNION SELECT project FROM project_quotas
               UNION SELECT project FROM functions) p
         LEFT JOIN project_storage s ON s.project = p.name
         WHERE ?1 IS NULL OR p.name = ?1 ORDER BY p.name",
    )?;
    let rows = stmt.query_map([project], |r| {
        Ok(StoredUsage {
            project: r.get(0)?,
            storage_bytes: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            objects: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            functions: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[async_trait]
impl QuotaRepository for SqliteMeta {
    async fn get_quota(&self, project: &str) -> MetaResult<QuotaLimits> {
        let project = project.to_owned();
        self.read_point(move |conn| limits(conn, &project))
    }

    async fn set_quota(&self, project: &str, quota: QuotaLimits) -> MetaResult<()> {
        let project = project.to_owned();
        self.write(move |conn| {
            if quota.is_unlimited() {
                conn.prepare_cached("DELETE FROM project_quotas WHERE project = ?1")?
                    .execute([&project])?;
                return Ok(());
            }
            conn.prepare_cached(
                "INSERT OR REPLACE INTO project_quotas (project, max_storage_bytes, max_objects, max_functions,
                 max_worker_memory_mb, max_concurrent_invocations) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                project,
                to_i64(quota.max_storage_bytes),
                to_i64(quota.max_objects),
                to_i64(quota.max_functions),
                to_i64(quota.max_worker_memory_mb),
                to_i64(quota.max_concurrent_invocations),
            ])?;
            Ok(())
        })
        .await
    }

    async fn all_quotas(&self) -> MetaResult<Vec<(String, QuotaLimits)>> {
        self.read(|conn| {
            let projects: Vec<String> = conn
                .prepare("SELECT project FROM project_quotas ORDER BY project")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            projects
                .into_iter()
                .map(|p| limits(conn, &p).map(|l| (p, l)))
                .collect()
        })
        .await
    }

    async fn stored_usage(&self, project: Option<&str>) -> MetaResult<Vec<StoredUsage>> {
        let project = project.map(str::to_owned);
        self.read(move |conn| usage_rows(conn, project.as_deref()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::MetaError;

    #[test]
    fn growth_past_the_limit_is_refused_and_shrinking_never_is() {
        assert!(check("p", "max_objects", Some(2), 1, 1).is_ok());
        assert!(matches!(
            check("p", "max_objects", Some(2), 2, 1),
            Err(MetaError::QuotaExceeded {
                max: 2,
                current: 2,
                requested: 3,
                ..
            })
        ));
        // Above a limit lowered later, a delete or a smaller overwrite still goes through.
        assert!(check("p", "max_storage_bytes", Some(10), 50, -5).is_ok());
        assert!(check("p", "max_storage_bytes", None, u64::MAX - 1, 1).is_ok());
    }
}
