//! Topics and subscriptions. Attributes are JSON objects: they are only read and written whole.
//! Deleting a topic or subscription deletes its pending deliveries in the same transaction.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    DeliverySelector, MetaError, MetaResult, PublishOutcome, SnsDeliveryRecord, SubscriptionRecord,
    TopicRecord, TopicRepository,
};

use super::SqliteMeta;
use super::sns_deliveries;

pub(super) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS topics (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    arn TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    topic TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    attributes TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions(project, topic, arn);
CREATE INDEX IF NOT EXISTS subscriptions_by_token ON subscriptions(token);
CREATE TABLE IF NOT EXISTS sns_deliveries (
    id TEXT PRIMARY KEY,
    subscription_arn TEXT NOT NULL,
    project TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sns_deliveries_due ON sns_deliveries(next_attempt_ms);
CREATE INDEX IF NOT EXISTS sns_deliveries_by_subscription ON sns_deliveries(subscription_arn);
CREATE TABLE IF NOT EXISTS sns_published (
    id TEXT PRIMARY KEY,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sns_published_expiry ON sns_published(expires_ms);
";

const TOPIC_COLUMNS: &str = "project, name, attributes, created_ms";
const SUBSCRIPTION_COLUMNS: &str =
    "arn, project, topic, protocol, endpoint, attributes, confirmed, token, created_ms";

fn topic_row(row: &Row<'_>) -> rusqlite::Result<(TopicRecord, String)> {
    Ok((
        TopicRecord {
            project: row.get(0)?,
            name: row.get(1)?,
            attributes: BTreeMap::new(),
            created_ms: row.get(3)?,
        },
        row.get(2)?,
    ))
}

fn decode_topic((mut topic, attributes): (TopicRecord, String)) -> MetaResult<TopicRecord> {
    topic.attributes = serde_json::from_str(&attributes)?;
    Ok(topic)
}

fn subscription_row(row: &Row<'_>) -> rusqlite::Result<(SubscriptionRecord, String)> {
    Ok((
        SubscriptionRecord {
            arn: row.get(0)?,
            project: row.get(1)?,
            topic: row.get(2)?,
            protocol: row.get(3)?,
            endpoint: row.get(4)?,
            attributes: BTreeMap::new(),
            confirmed: row.get::<_, i64>(6)? != 0,
            token: row.get(7)?,
            created_ms: row.get(8)?,
        },
        row.get(5)?,
    ))
}

fn decode_subscription(
    (mut subscription, attributes): (SubscriptionRecord, String),
) -> MetaResult<SubscriptionRecord> {
    subscription.attributes = serde_json::from_str(&attributes)?;
    Ok(subscription)
}

fn topic_exists(conn: &Connection, project: &str, name: &str) -> MetaResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM topics WHERE project = ?1 AND name = ?2")?
        .exists(params![project, name])?)
}

pub(super) fn subscriptions_of(
    conn: &Connection,
    project: &str,
    topic: &str,
) -> MetaResult<Vec<SubscriptionRecord>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE project = ?1 AND topic = ?2 ORDER BY arn"
        ))?
        .query_map(params![project, topic], subscription_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(decode_subscription).collect()
}

fn insert_subscription(conn: &Connection, subscription: &SubscriptionRecord) -> MetaResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        subscription.arn,
        subscription.project,
        subscription.topic,
        subscription.protocol,
        subscription.endpoint,
        serde_json::to_string(&subscription.attributes)?,
        i64::from(subscription.confirmed),
        subscription.token,
        subscription.created_ms
    ])?;
    Ok(())
}

fn subscribe(
    conn: &Connection,
    subscription: &SubscriptionRecord,
    first_delivery: Option<&SnsDeliveryRecord>,
) -> MetaResult<SubscriptionRecord> {
    if !topic_exists(conn, &subscription.project, &subscription.topic)? {
        return Err(MetaError::NotFound("topic"));
    }
    let existing = subscriptions_of(conn, &subscription.project, &subscription.topic)?
        .into_iter()
        .find(|s| s.protocol == subscription.protocol && s.endpoint == subscription.endpoint);
    if let Some(existing) = existing {
        return Ok(existing);
    }
    insert_subscription(conn, subscription)?;
    if let Some(delivery) = first_delivery {
        sns_deliveries::insert(conn, delivery)?;
    }
    Ok(subscription.clone())
}

fn delete_subscriptions_where(conn: &Connection, condition: &str, args: &[&str]) -> MetaResult<()> {
    let sql = format!(
        "DELETE FROM sns_deliveries WHERE subscription_arn IN (SELECT arn FROM subscriptions WHERE {condition})"
    );
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(args))?;
    conn.prepare_cached(&format!("DELETE FROM subscriptions WHERE {condition}"))?
        .execute(rusqlite::params_from_iter(args))?;
    Ok(())
}

fn publish(
    conn: &Connection,
    project: &str,
    topic: &str,
    idempotency_id: Option<&(String, i64)>,
    select: &DeliverySelector,
    now_ms: i64,
) -> MetaResult<PublishOutcome> {
    if !topic_exists(conn, project, topic)? {
        return Err(MetaError::NotFound("topic"));
    }
    if let Some((id, expires_ms)) = idempotency_id {
        conn.prepare_cached("DELETE FROM sns_published WHERE expires_ms < ?1")?
            .execute(params![now_ms])?;
        let fresh = conn
            .prepare_cached("INSERT OR IGNORE INTO sns_published (id, expires_ms) VALUES (?1, ?2)")?
            .execute(params![id, expires_ms])?;
        if fresh == 0 {
            return Ok(PublishOutcome::Duplicate);
        }
    }
    let mut queued = 0;
    for subscription in subscriptions_of(conn, project, topic)? {
        if let Some(delivery) = select(&subscription) {
            sns_deliveries::insert(conn, &delivery)?;
            queued += 1;
        }
    }
    Ok(PublishOutcome::Published(queued))
}

use stratus_core::clock::now_ms;

#[async_trait::async_trait]
impl TopicRepository for SqliteMeta {
    async fn create_topic(&self, topic: TopicRecord) -> MetaResult<TopicRecord> {
        self.write(move |conn| {
            let existing = conn
                .prepare_cached(&format!(
                    "SELECT {TOPIC_COLUMNS} FROM topics WHERE project = ?1 AND name = ?2"
                ))?
                .query_row(params![topic.project, topic.name], topic_row)
                .optional()?;
            if let Some(existing) = existing {
                return decode_topic(existing);
            }
            conn.prepare_cached(&format!(
                "INSERT INTO topics ({TOPIC_COLUMNS}) VALUES (?1, ?2, ?3, ?4)"
            ))?
            .execute(params![
                topic.project,
                topic.name,
                serde_json::to_string(&topic.attributes)?,
                topic.created_ms
            ])?;
            Ok(topic)
        })
        .await
    }

    async fn get_topic(&self, project: &str, name: &str) -> MetaResult<Option<TopicRecord>> {
        let row = self.read_point(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {TOPIC_COLUMNS} FROM topics WHERE project = ?1 AND name = ?2"
                ))?
                .query_row(params![project, name], topic_row)
                .optional()?)
        })?;
        row.map(decode_topic).transpose()
    }

    async fn list_topics(
        &self,
        project: &str,
        after: Option<&str>,
        limit: usize,
    ) -> MetaResult<Vec<TopicRecord>> {
        let (project, after) = (project.to_owned(), after.unwrap_or("").to_owned());
        let rows = self
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(&format!(
                        "SELECT {TOPIC_COLUMNS} FROM topics WHERE project = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
                    ))?
                    .query_map(params![project, after, limit as i64], topic_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await?;
        rows.into_iter().map(decode_topic).collect()
    }

    async fn set_topic_attributes(
        &self,
        project: &str,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> MetaResult<bool> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "UPDATE topics SET attributes = ?3 WHERE project = ?1 AND name = ?2",
                )?
                .execute(params![project, name, serde_json::to_string(&attributes)?])?
                > 0)
        })
        .await
    }

    async fn delete_topic(&self, project: &str, name: &str) -> MetaResult<bool> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.write(move |conn| {
            delete_subscriptions_where(conn, "project = ?1 AND topic = ?2", &[&project, &name])?;
            Ok(conn
                .prepare_cached("DELETE FROM topics WHERE project = ?1 AND name = ?2")?
                .execute(params![project, name])?
                > 0)
        })
        .await
    }

    async fn subscribe(
        &self,
        subscription: SubscriptionRecord,
        first_delivery: Option<SnsDeliveryRecord>,
    ) -> MetaResult<SubscriptionRecord> {
        self.write(move |conn| subscribe(conn, &subscription, first_delivery.as_ref()))
            .await
    }

    async fn get_subscription(&self, arn: &str) -> MetaResult<Option<SubscriptionRecord>> {
        let row = self.read_point(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE arn = ?1"
                ))?
                .query_row(params![arn], subscription_row)
                .optional()?)
        })?;
        row.map(decode_subscription).transpose()
    }

    async fn subscription_by_token(&self, token: &str) -> MetaResult<Option<SubscriptionRecord>> {
        let row = self.read_point(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE token = ?1"
                ))?
                .query_row(params![token], subscription_row)
                .optional()?)
        })?;
        row.map(decode_subscription).transpose()
    }

    async fn list_subscriptions(
        &self,
        project: &str,
        topic: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> MetaResult<Vec<SubscriptionRecord>> {
        let project = project.to_owned();
        let topic = topic.map(str::to_owned);
        let after = after.unwrap_or("").to_owned();
        let rows = self
            .read(move |conn| {
                let sql = format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE project = ?1 \
                     AND (?2 IS NULL OR topic = ?2) AND arn > ?3 ORDER BY arn LIMIT ?4"
                );
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_map(
                        params![project, topic, after, limit as i64],
                        subscription_row,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await?;
        rows.into_iter().map(decode_subscription).collect()
    }

    async fn update_subscription(&self, subscription: SubscriptionRecord) -> MetaResult<bool> {
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "UPDATE subscriptions SET attributes = ?2, confirmed = ?3 WHERE arn = ?1",
                )?
                .execute(params![
                    subscription.arn,
                    serde_json::to_string(&subscription.attributes)?,
                    i64::from(subscription.confirmed)
                ])?
                > 0)
        })
        .await
    }

    async fn delete_subscription(&self, arn: &str) -> MetaResult<bool> {
        let arn = arn.to_owned();
        self.write(move |conn| {
            let existed = conn
                .prepare_cached("SELECT 1 FROM subscriptions WHERE arn = ?1")?
                .exists(params![arn])?;
            delete_subscriptions_where(conn, "arn = ?1", &[&arn])?;
            Ok(existed)
        })
        .await
    }

    async fn publish(
        &self,
        project: &str,
        topic: &str,
        idempotency_id: Option<(String, i64)>,
        select: DeliverySelector,
    ) -> MetaResult<PublishOutcome> {
        let (project, topic) = (project.to_owned(), topic.to_owned());
        self.write(move |conn| {
            publish(
                conn,
                &project,
                &topic,
                idempotency_id.as_ref(),
                &select,
                now_ms(),
            )
        })
        .await
    }

    async fn due_sns_deliveries(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> MetaResult<(Vec<SnsDeliveryRecord>, Option<i64>)> {
        self.read(move |conn| sns_deliveries::due(conn, now_ms, limit))
            .await
    }

    async fn retry_sns_delivery(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_ms: i64,
    ) -> MetaResult<()> {
        let id = id.to_owned();
        self.write(move |conn| sns_deliveries::retry(conn, &id, attempts, next_attempt_ms))
            .await
    }

    async fn delete_sns_delivery(&self, id: &str) -> MetaResult<()> {
        let id = id.to_owned();
        self.write(move |conn| sns_deliveries::delete(conn, &id))
            .await
    }
}
