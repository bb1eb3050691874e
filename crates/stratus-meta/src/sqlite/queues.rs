//! Queues: their rows, and the `QueueRepository` implementation whose message operations live in
//! `messages.rs`. Every message change runs in one group-commit job, receives included.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteMeta;
use super::messages;
use crate::{
    ClaimOutcome, ClaimRequest, MetaError, MetaResult, NewMessage, QueueCounts, QueueRecord,
    QueueRepository, ReceiptOutcome, SendOutcome, VisibilityChange,
};

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS queues (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    md5_body TEXT NOT NULL,
    md5_attrs TEXT,
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt TEXT,
    sender_id TEXT NOT NULL,
    group_id TEXT,
    dedup_id TEXT,
    trace_header TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages(project, queue, visible_ms, seq);
CREATE INDEX IF NOT EXISTS messages_in_order ON messages(project, queue, seq);
CREATE TABLE IF NOT EXISTS queue_dedup (
    project TEXT NOT NULL,
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (project, queue, dedup_id)
);
CREATE INDEX IF NOT EXISTS queue_dedup_expiry ON queue_dedup(expires_ms);
";

const COLUMNS: &str = "project, name, attributes, tags, created_ms, modified_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(QueueRecord, String, String)> {
    Ok((
        QueueRecord {
            project: row.get(0)?,
            name: row.get(1)?,
            attributes: Default::default(),
            tags: Default::default(),
            created_ms: row.get(4)?,
            modified_ms: row.get(5)?,
        },
        row.get(2)?,
        row.get(3)?,
    ))
}

fn decode(row: (QueueRecord, String, String)) -> MetaResult<QueueRecord> {
    let (mut queue, attributes, tags) = row;
    queue.attributes = serde_json::from_str(&attributes)?;
    queue.tags = serde_json::from_str(&tags)?;
    Ok(queue)
}

pub(super) fn get(conn: &Connection, project: &str, name: &str) -> MetaResult<Option<QueueRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM queues WHERE project = ?1 AND name = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![project, name], from_row)
        .optional()?
        .map(decode)
        .transpose()
}

fn create(conn: &Connection, queue: &QueueRecord) -> MetaResult<QueueRecord> {
    if let Some(existing) = get(conn, &queue.project, &queue.name)? {
        return Ok(existing);
    }
    conn.prepare_cached(&format!(
        "INSERT INTO queues ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))?
    .execute(params![
        queue.project,
        queue.name,
        serde_json::to_string(&queue.attributes)?,
        serde_json::to_string(&queue.tags)?,
        queue.created_ms,
        queue.modified_ms
    ])?;
    Ok(queue.clone())
}

fn list(conn: &Connection, project: &str, prefix: &str) -> MetaResult<Vec<QueueRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM queues WHERE project = ?1 AND substr(name, 1, length(?2)) = ?2 ORDER BY name"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![project, prefix], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(decode).collect()
}

fn update(conn: &Connection, queue: &QueueRecord) -> MetaResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE queues SET attributes = ?3, tags = ?4, modified_ms = ?5 WHERE project = ?1 AND name = ?2",
        )?
        .execute(params![
            queue.project,
            queue.name,
            serde_json::to_string(&queue.attributes)?,
            serde_json::to_string(&queue.tags)?,
            queue.modified_ms
        ])?;
    if changed == 0 {
        return Err(MetaError::NotFound("queue"));
    }
    Ok(())
}

fn delete(conn: &Connection, project: &str, name: &str) -> MetaResult<bool> {
    messages::purge(conn, project, name)?;
    conn.prepare_cached("DELETE FROM queue_dedup WHERE project = ?1 AND queue = ?2")?
        .execute(params![project, name])?;
    let deleted = conn
        .prepare_cached("DELETE FROM queues WHERE project = ?1 AND name = ?2")?
        .execute(params![project, name])?;
    Ok(deleted > 0)
}

pub(super) fn require(conn: &Connection, project: &str, name: &str) -> MetaResult<()> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM queues WHERE project = ?1 AND name = ?2")?
        .exists(params![project, name])?;
    if exists {
        Ok(())
    } else {
        Err(MetaError::NotFound("queue"))
    }
}

#[async_trait]
impl QueueRepository for SqliteMeta {
    async fn create_queue(&self, queue: QueueRecord) -> MetaResult<QueueRecord> {
        self.write(move |conn| create(conn, &queue)).await
    }

    async fn get_queue(&self, project: &str, name: &str) -> MetaResult<Option<QueueRecord>> {
        self.read_point(|conn| get(conn, project, name))
    }

    async fn list_queues(&self, project: &str, prefix: &str) -> MetaResult<Vec<QueueRecord>> {
        let (project, prefix) = (project.to_owned(), prefix.to_owned());
        self.read(move |conn| list(conn, &project, &prefix)).await
    }

    async fn update_queue(&self, queue: QueueRecord) -> MetaResult<()> {
        self.write(move |conn| update(conn, &queue)).await
    }

    async fn delete_queue(&self, project: &str, name: &str) -> MetaResult<bool> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| delete(conn, &project, &name)).await
    }

    async fn purge_queue(&self, project: &str, name: &str) -> MetaResult<u64> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| {
            require(conn, &project, &name)?;
            messages::purge(conn, &project, &name)
        })
        .await
    }

    async fn send_messages(
        &self,
        project: &str,
        queue: &str,
        batch: Vec<NewMessage>,
        dedup_window_ms: i64,
    ) -> MetaResult<Vec<SendOutcome>> {
        let (project, queue) = (project.to_owned(), queue.to_owned());
        self.write(move |conn| messages::send(conn, &project, &queue, &batch, dedup_window_ms))
            .await
    }

    async fn claim_messages(
        &self,
        project: &str,
        queue: &str,
        request: ClaimRequest,
    ) -> MetaResult<ClaimOutcome> {
        let (project, queue) = (project.to_owned(), queue.to_owned());
        self.write(move |conn| messages::claim(conn, &project, &queue, &request))
            .await
    }

    async fn delete_messages(
        &self,
        project: &str,
        queue: &str,
        receipts: Vec<(i64, String)>,
    ) -> MetaResult<Vec<ReceiptOutcome>> {
        let (project, queue) = (project.to_owned(), queue.to_owned());
        self.write(move |conn| messages::delete(conn, &project, &queue, &receipts))
            .await
    }

    async fn change_visibility(
        &self,
        project: &str,
        queue: &str,
        changes: Vec<VisibilityChange>,
    ) -> MetaResult<Vec<ReceiptOutcome>> {
        let (project, queue) = (project.to_owned(), queue.to_owned());
        self.write(move |conn| messages::change_visibility(conn, &project, &queue, &changes))
            .await
    }

    async fn queue_counts(
        &self,
        project: &str,
        queue: &str,
        now_ms: i64,
    ) -> MetaResult<QueueCounts> {
        let (project, queue) = (project.to_owned(), queue.to_owned());
        self.read(move |conn| messages::counts(conn, &project, &queue, now_ms))
            .await
    }

    async fn sweep_queues(&self, now_ms: i64) -> MetaResult<u64> {
        self.write(move |conn| messages::sweep(conn, now_ms)).await
    }
}
