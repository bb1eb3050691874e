//! Queue lifecycle and attributes: create, look up, list, delete, purge, attributes and tags.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use stratus_core::Action;
use stratus_core::arn::queue_arn;
use stratus_identity::Principal;
use stratus_meta::QueueRecord;

use super::attributes::{self, COMPUTED, REDRIVE, Settings, normalise, parse_redrive};
use super::{QueueError, QueueResult, Queues, now_ms, require};

/// One page of queue names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueList {
    pub names: Vec<String>,
    pub next_token: Option<String>,
}

/// The most queues ListQueues returns.
const MAX_LIST: usize = 1000;

impl Queues {
    /// Creates a queue, or returns normally when one exists with the same attributes
    /// (`QueueNameExists` when they differ). Tags are applied only to a new queue.
    ///
    /// # Errors
    /// Invalid names and attributes, an unknown dead-letter queue, a role without writes.
    pub async fn create_queue(
        &self,
        principal: &Principal,
        name: &str,
        given: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> QueueResult<()> {
        require(principal, Action::Write)?;
        if !attributes::valid_queue_name(name) {
            return Err(QueueError::InvalidParameterValue(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length".into(),
            ));
        }
        let wanted = normalise(name, &BTreeMap::new(), given, true)?;
        if let Some(existing) = self.meta.get_queue(&principal.project, name).await? {
            return same_attributes(&existing, &wanted);
        }
        self.check_redrive(&principal.project, name, &wanted)
            .await?;
        let now = now_ms();
        let record = QueueRecord {
            project: principal.project.clone(),
            name: name.to_owned(),
            attributes: wanted.clone(),
            tags: tags.clone(),
            created_ms: now,
            modified_ms: now,
        };
        let stored = self.meta.create_queue(record).await?;
        // A concurrent CreateQueue may have won: then the same comparison applies.
        same_attributes(&stored, &wanted)
    }

    /// Checks that the queue exists in the caller's project (GetQueueUrl).
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn get_queue(&self, principal: &Principal, name: &str) -> QueueResult<()> {
        require(principal, Action::Read)?;
        self.queue(&principal.project, name).await.map(|_| ())
    }

    /// The caller's queue names starting with `prefix`; with `max_results`, pages of that size.
    ///
    /// # Errors
    /// A bad `max_results` or token.
    pub async fn list_queues(
        &self,
        principal: &Principal,
        prefix: &str,
        max_results: Option<usize>,
        next_token: Option<&str>,
    ) -> QueueResult<QueueList> {
        require(principal, Action::Read)?;
        if max_results.is_some_and(|n| !(1..=MAX_LIST).contains(&n)) {
            return Err(QueueError::InvalidParameterValue(
                "MaxResults must be 1 to 1000".into(),
            ));
        }
        let after = match next_token {
            Some(token) => Some(
                URL_SAFE_NO_PAD
                    .decode(token)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| QueueError::InvalidParameterValue("invalid NextToken".into()))?,
            ),
            None => None,
        };
        let queues = self.meta.list_queues(&principal.project, prefix).await?;
        let mut names: Vec<String> = queues
            .into_iter()
            .map(|q| q.name)
            .filter(|name| after.as_ref().is_none_or(|after| name > after))
            .collect();
        let page = max_results.unwrap_or(MAX_LIST);
        let next_token = (max_results.is_some() && names.len() > page)
            .then(|| URL_SAFE_NO_PAD.encode(&names[page - 1]));
        names.truncate(page);
        Ok(QueueList { names, next_token })
    }

    /// Deletes the queue and its messages.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn delete_queue(&self, principal: &Principal, name: &str) -> QueueResult<()> {
        require(principal, Action::Write)?;
        if !self.meta.delete_queue(&principal.project, name).await? {
            return Err(QueueError::QueueDoesNotExist);
        }
        self.forget_waker(&principal.project, name);
        Ok(())
    }

    /// Deletes every message of the queue.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn purge_queue(&self, principal: &Principal, name: &str) -> QueueResult<()> {
        require(principal, Action::Write)?;
        self.meta
            .purge_queue(&principal.project, name)
            .await
            .map_err(not_found)?;
        Ok(())
    }

    /// The named attributes (`All` for every one); unknown names are `InvalidAttributeName`.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `InvalidAttributeName`.
    pub async fn get_attributes(
        &self,
        principal: &Principal,
        name: &str,
        names: &[String],
    ) -> QueueResult<BTreeMap<String, String>> {
        require(principal, Action::Read)?;
        let queue = self.queue(&principal.project, name).await?;
        if let Some(unknown) = names
            .iter()
            .find(|n| *n != "All" && !attributes::is_known(n))
        {
            return Err(QueueError::InvalidAttributeName(unknown.clone()));
        }
        let all = names.iter().any(|n| n == "All");
        let wanted = |key: &str| all || names.iter().any(|n| n == key);
        let mut out: BTreeMap<String, String> = queue
            .attributes
            .iter()
            .filter(|(k, _)| wanted(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if COMPUTED.iter().any(|k| wanted(k)) {
            let counts = self
                .meta
                .queue_counts(&principal.project, name, now_ms())
                .await?;
            let computed = [
                ("ApproximateNumberOfMessages", counts.visible.to_string()),
                (
                    "ApproximateNumberOfMessagesNotVisible",
                    counts.in_flight.to_string(),
                ),
                (
                    "ApproximateNumberOfMessagesDelayed",
                    counts.delayed.to_string(),
                ),
                ("CreatedTimestamp", (queue.created_ms / 1000).to_string()),
                (
                    "LastModifiedTimestamp",
                    (queue.modified_ms / 1000).to_string(),
                ),
                ("QueueArn", queue_arn(&principal.project, name)),
            ];
            for (key, value) in computed {
                if wanted(key) {
                    out.insert(key.to_owned(), value);
                }
            }
        }
        Ok(out)
    }

    /// Changes settable attributes.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, invalid names or values, an unknown dead-letter queue.
    pub async fn set_attributes(
        &self,
        principal: &Principal,
        name: &str,
        given: &BTreeMap<String, String>,
    ) -> QueueResult<()> {
        require(principal, Action::Write)?;
        let mut queue = self.queue(&principal.project, name).await?;
        let merged = normalise(name, &queue.attributes, given, false)?;
        self.check_redrive(&principal.project, name, &merged)
            .await?;
        queue.attributes = merged;
        queue.modified_ms = now_ms();
        self.meta.update_queue(queue).await.map_err(not_found)
    }

    /// Adds or replaces tags.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn tag_queue(
        &self,
        principal: &Principal,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> QueueResult<()> {
        require(principal, Action::Write)?;
        let mut queue = self.queue(&principal.project, name).await?;
        if tags.is_empty() {
            return Err(QueueError::MissingParameter("Tags".into()));
        }
        queue.tags.extend(tags.clone());
        self.meta.update_queue(queue).await.map_err(not_found)
    }

    /// Removes tags by key.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn untag_queue(
        &self,
        principal: &Principal,
        name: &str,
        keys: &[String],
    ) -> QueueResult<()> {
        require(principal, Action::Write)?;
        let mut queue = self.queue(&principal.project, name).await?;
        for key in keys {
            queue.tags.remove(key);
        }
        self.meta.update_queue(queue).await.map_err(not_found)
    }

    /// The queue's tags.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn list_tags(
        &self,
        principal: &Principal,
        name: &str,
    ) -> QueueResult<BTreeMap<String, String>> {
        require(principal, Action::Read)?;
        Ok(self.queue(&principal.project, name).await?.tags)
    }

    /// The caller's queues whose redrive policy names `name` as dead-letter queue.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn dead_letter_sources(
        &self,
        principal: &Principal,
        name: &str,
    ) -> QueueResult<Vec<String>> {
        require(principal, Action::Read)?;
        self.queue(&principal.project, name).await?;
        let queues = self.meta.list_queues(&principal.project, "").await?;
        Ok(queues
            .into_iter()
            .filter(|q| {
                Settings::of(&principal.project, &q.attributes)
                    .redrive
                    .is_some_and(|r| r.queue == name)
            })
            .map(|q| q.name)
            .collect())
    }

    /// A redrive policy's target must exist in the project and be FIFO exactly when `name` is.
    async fn check_redrive(
        &self,
        project: &str,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> QueueResult<()> {
        let Some(policy) = attributes.get(REDRIVE) else {
            return Ok(());
        };
        let redrive = parse_redrive(project, policy)?;
        let target = self.meta.get_queue(project, &redrive.queue).await?;
        let fifo = name.ends_with(".fifo");
        match target {
            Some(target) if target.name.ends_with(".fifo") == fifo && target.name != name => Ok(()),
            Some(_) => Err(QueueError::InvalidParameterValue(
                "Value for parameter RedrivePolicy is invalid. Reason: the dead-letter queue must be of the same type as the source queue".into(),
            )),
            None => Err(QueueError::InvalidParameterValue(
                "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist".into(),
            )),
        }
    }
}

fn same_attributes(existing: &QueueRecord, wanted: &BTreeMap<String, String>) -> QueueResult<()> {
    let differing = wanted
        .iter()
        .find(|(k, v)| existing.attributes.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .or_else(|| {
            existing
                .attributes
                .keys()
                .find(|k| !wanted.contains_key(*k))
                .cloned()
        });
    match differing {
        Some(name) => Err(QueueError::QueueNameExists(name)),
        None => Ok(()),
    }
}

fn not_found(error: stratus_meta::MetaError) -> QueueError {
    match error {
        stratus_meta::MetaError::NotFound(_) => QueueError::QueueDoesNotExist,
        other => QueueError::Storage(other),
    }
}
