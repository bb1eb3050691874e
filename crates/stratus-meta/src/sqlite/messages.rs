//! Queue messages: sending with deduplication, claiming (receive) with FIFO group order and
//! redrive, receipt-checked deletes and visibility changes, counts and retention.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::queues::require;
use crate::{
    ClaimOutcome, ClaimRequest, DeadLetter, MessageRecord, MetaResult, NewMessage, QueueCounts,
    ReceiptOutcome, SendOutcome, VisibilityChange,
};

const COLUMNS: &str = "seq, message_id, body, attributes, md5_body, md5_attrs, sent_ms, visible_ms, \
     receive_count, first_receive_ms, receipt, sender_id, group_id, dedup_id, trace_header";

/// How many messages of a FIFO queue one receive looks at to find unblocked groups.
const FIFO_SCAN: i64 = 10_000;

/// What `SELECT COLUMNS` yields, before the attributes JSON is decoded.
type RawMessage = (MessageRecord, String);

fn from_row(row: &Row<'_>) -> rusqlite::Result<RawMessage> {
    Ok((
        MessageRecord {
            seq: row.get(0)?,
            message_id: row.get(1)?,
            body: row.get(2)?,
            attributes: Default::default(),
            md5_of_body: row.get(4)?,
            md5_of_attributes: row.get(5)?,
            sent_ms: row.get(6)?,
            visible_ms: row.get(7)?,
            receive_count: row.get(8)?,
            first_receive_ms: row.get(9)?,
            receipt: row.get(10)?,
            sender_id: row.get(11)?,
            group_id: row.get(12)?,
            dedup_id: row.get(13)?,
            trace_header: row.get(14)?,
        },
        row.get(3)?,
    ))
}

fn decode((mut message, attributes): RawMessage) -> MetaResult<MessageRecord> {
    message.attributes = serde_json::from_str(&attributes)?;
    Ok(message)
}

fn insert(conn: &Connection, project: &str, queue: &str, m: &NewMessage) -> MetaResult<i64> {
    conn.prepare_cached(
        "INSERT INTO messages (project, queue, message_id, body, attributes, md5_body, md5_attrs, \
         sent_ms, visible_ms, sender_id, group_id, dedup_id, trace_header) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        project,
        queue,
        m.message_id,
        m.body,
        serde_json::to_string(&m.attributes)?,
        m.md5_of_body,
        m.md5_of_attributes,
        m.sent_ms,
        m.visible_ms,
        m.sender_id,
        m.group_id,
        m.dedup_id,
        m.trace_header
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn send(
    conn: &Connection,
    project: &str,
    queue: &str,
    batch: &[NewMessage],
    dedup_window_ms: i64,
) -> MetaResult<Vec<SendOutcome>> {
    require(conn, project, queue)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for message in batch {
        if let Some(dedup_id) = &message.dedup_id {
            let seen = conn
                .prepare_cached(
                    "SELECT message_id, sequence_number FROM queue_dedup \
                     WHERE project = ?1 AND queue = ?2 AND dedup_id = ?3 AND expires_ms > ?4",
                )?
                .query_row(params![project, queue, dedup_id, message.sent_ms], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            if let Some((message_id, sequence_number)) = seen {
                outcomes.push(SendOutcome {
                    message_id,
                    sequence_number,
                    duplicate: true,
                });
                continue;
            }
        }
        let seq = insert(conn, project, queue, message)?;
        if let Some(dedup_id) = &message.dedup_id {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO queue_dedup \
                 (project, queue, dedup_id, message_id, sequence_number, expires_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                project,
                queue,
                dedup_id,
                message.message_id,
                seq,
                message.sent_ms + dedup_window_ms
            ])?;
        }
        outcomes.push(SendOutcome {
            message_id: message.message_id.clone(),
            sequence_number: seq,
            duplicate: false,
        });
    }
    Ok(outcomes)
}

pub(super) fn claim(
    conn: &Connection,
    project: &str,
    queue: &str,
    request: &ClaimRequest,
) -> MetaResult<ClaimOutcome> {
    require(conn, project, queue)?;
    let candidates = if request.fifo {
        fifo_candidates(conn, project, queue, request.now_ms)?
    } else {
        standard_candidates(conn, project, queue, request)?
    };
    let mut messages = Vec::new();
    for mut message in candidates {
        if messages.len() >= request.max {
            break;
        }
        if let Some(dead_letter) = &request.dead_letter
            && message.receive_count >= dead_letter.max_receive_count
            && redrive(conn, project, queue, &message, dead_letter, request.now_ms)?
        {
            continue;
        }
        conn.prepare_cached(
            "UPDATE messages SET visible_ms = ?2, receive_count = receive_count + 1, \
             first_receive_ms = COALESCE(first_receive_ms, ?3), receipt = ?4 WHERE seq = ?1",
        )?
        .execute(params![
            message.seq,
            request.visible_until_ms,
            request.now_ms,
            request.receipt
        ])?;
        message.visible_ms = request.visible_until_ms;
        message.receive_count += 1;
        message.first_receive_ms = message.first_receive_ms.or(Some(request.now_ms));
        message.receipt = Some(request.receipt.clone());
        messages.push(message);
    }
    let next_visible_ms = conn
        .prepare_cached(
            "SELECT MIN(visible_ms) FROM messages WHERE project = ?1 AND queue = ?2 AND visible_ms > ?3",
        )?
        .query_row(params![project, queue, request.now_ms], |row| row.get(0))?;
    Ok(ClaimOutcome {
        messages,
        next_visible_ms,
    })
}

/// Visible messages, the longest visible first. Redriven ones are skipped by the caller, so a
/// few more than asked for are read.
fn standard_candidates(
    conn: &Connection,
    project: &str,
    queue: &str,
    request: &ClaimRequest,
) -> MetaResult<Vec<MessageRecord>> {
    let limit = i64::try_from(request.max.saturating_mul(4).max(16)).unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE project = ?1 AND queue = ?2 AND visible_ms <= ?3 \
         ORDER BY visible_ms, seq LIMIT ?4"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![project, queue, request.now_ms, limit], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(decode).collect()
}

/// Visible messages in send order whose group has no earlier message that is not visible
/// (in flight or delayed): a group delivers strictly in order, one batch in flight at a time.
fn fifo_candidates(
    conn: &Connection,
    project: &str,
    queue: &str,
    now_ms: i64,
) -> MetaResult<Vec<MessageRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE project = ?1 AND queue = ?2 ORDER BY seq LIMIT ?3"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![project, queue, FIFO_SCAN], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut blocked: HashSet<Option<String>> = HashSet::new();
    let mut candidates = Vec::new();
    for row in rows {
        let message = decode(row)?;
        if blocked.contains(&message.group_id) {
            continue;
        }
        if message.visible_ms > now_ms {
            blocked.insert(message.group_id.clone());
        } else {
            candidates.push(message);
        }
    }
    Ok(candidates)
}

/// Moves `message` to the dead-letter queue (keeping its id, body, attributes and sent time);
/// false, leaving it in place, when that queue no longer exists.
fn redrive(
    conn: &Connection,
    project: &str,
    queue: &str,
    message: &MessageRecord,
    dead_letter: &DeadLetter,
    now_ms: i64,
) -> MetaResult<bool> {
    if require(conn, project, &dead_letter.queue).is_err() {
        return Ok(false);
    }
    let moved = NewMessage {
        message_id: message.message_id.clone(),
        body: message.body.clone(),
        attributes: message.attributes.clone(),
        md5_of_body: message.md5_of_body.clone(),
        md5_of_attributes: message.md5_of_attributes.clone(),
        sent_ms: message.sent_ms,
        visible_ms: now_ms,
        sender_id: message.sender_id.clone(),
        group_id: message.group_id.clone(),
        dedup_id: message.dedup_id.clone(),
        trace_header: message.trace_header.clone(),
    };
    let seq = insert(conn, project, &dead_letter.queue, &moved)?;
    // The message moves, it is not sent anew: it keeps its receive count and first receive
    // time, so the dead-letter queue shows how often it was tried.
    conn.prepare_cached(
        "UPDATE messages SET receive_count = ?2, first_receive_ms = ?3 WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        message.receive_count,
        message.first_receive_ms
    ])?;
    conn.prepare_cached("DELETE FROM messages WHERE seq = ?1 AND project = ?2 AND queue = ?3")?
        .execute(params![message.seq, project, queue])?;
    Ok(true)
}

fn current_receipt(
    conn: &Connection,
    project: &str,
    queue: &str,
    seq: i64,
) -> MetaResult<Option<Option<String>>> {
    Ok(conn
        .prepare_cached(
            "SELECT receipt FROM messages WHERE seq = ?1 AND project = ?2 AND queue = ?3",
        )?
        .query_row(params![seq, project, queue], |row| row.get(0))
        .optional()?)
}

pub(super) fn delete(
    conn: &Connection,
    project: &str,
    queue: &str,
    receipts: &[(i64, String)],
) -> MetaResult<Vec<ReceiptOutcome>> {
    require(conn, project, queue)?;
    let mut outcomes = Vec::with_capacity(receipts.len());
    for (seq, receipt) in receipts {
        let outcome = match current_receipt(conn, project, queue, *seq)? {
            None => ReceiptOutcome::Gone,
            Some(current) if current.as_deref() == Some(receipt.as_str()) => {
                conn.prepare_cached("DELETE FROM messages WHERE seq = ?1")?
                    .execute(params![seq])?;
                ReceiptOutcome::Done
            }
            Some(_) => ReceiptOutcome::Stale,
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

pub(super) fn change_visibility(
    conn: &Connection,
    project: &str,
    queue: &str,
    changes: &[VisibilityChange],
) -> MetaResult<Vec<ReceiptOutcome>> {
    require(conn, project, queue)?;
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        let outcome = match current_receipt(conn, project, queue, change.seq)? {
            None => ReceiptOutcome::Gone,
            Some(current) if current.as_deref() == Some(change.receipt.as_str()) => {
                conn.prepare_cached("UPDATE messages SET visible_ms = ?2 WHERE seq = ?1")?
                    .execute(params![change.seq, change.visible_ms])?;
                ReceiptOutcome::Done
            }
            Some(_) => ReceiptOutcome::Stale,
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

pub(super) fn purge(conn: &Connection, project: &str, queue: &str) -> MetaResult<u64> {
    let deleted = conn
        .prepare_cached("DELETE FROM messages WHERE project = ?1 AND queue = ?2")?
        .execute(params![project, queue])?;
    Ok(deleted as u64)
}

pub(super) fn counts(
    conn: &Connection,
    project: &str,
    queue: &str,
    now_ms: i64,
) -> MetaResult<QueueCounts> {
    let (visible, in_flight, delayed): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT \
               COALESCE(SUM(visible_ms <= ?3), 0), \
               COALESCE(SUM(visible_ms > ?3 AND receive_count > 0), 0), \
               COALESCE(SUM(visible_ms > ?3 AND receive_count = 0), 0) \
             FROM messages WHERE project = ?1 AND queue = ?2",
        )?
        .query_row(params![project, queue, now_ms], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(QueueCounts {
        visible: count(visible),
        in_flight: count(in_flight),
        delayed: count(delayed),
    })
}

/// The default `MessageRetentionPeriod` (4 days) in seconds, for queues that do not set one.
const DEFAULT_RETENTION_S: i64 = 345_600;

pub(super) fn sweep(conn: &Connection, now_ms: i64) -> MetaResult<u64> {
    let deleted = conn
        .prepare_cached(
            "DELETE FROM messages WHERE seq IN (\
               SELECT m.seq FROM messages m JOIN queues q ON q.project = m.project AND q.name = m.queue \
               WHERE m.sent_ms < ?1 - 1000 * CAST(COALESCE(json_extract(q.attributes, '$.MessageRetentionPeriod'), ?2) AS INTEGER) \
               LIMIT 10000)",
        )?
        .execute(params![now_ms, DEFAULT_RETENTION_S])?;
    conn.prepare_cached("DELETE FROM queue_dedup WHERE expires_ms <= ?1")?
        .execute(params![now_ms])?;
    Ok(deleted as u64)
}
