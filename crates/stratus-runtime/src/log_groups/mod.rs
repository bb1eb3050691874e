//! Function logs as CloudWatch Logs shows them: one log group `/aws/lambda/NAME` per function
//! that has logs, one stream per worker, retention policies, and the queries behind
//! DescribeLogGroups/Streams, GetLogEvents and FilterLogEvents. Wire formats (JSON, token
//! strings on the wire) stay in the edge; tenancy, roles, retention and paging semantics live
//! here.
//!
//! Events older than a group's retention are never returned, whether or not the sweeper has
//! deleted their stream yet. The sweeper runs at start, hourly and after a policy change.

use std::sync::Weak;
use std::time::Duration;

use stratus_core::Action;
use stratus_identity::Principal;

use crate::functions::{Functions, require};
use crate::logs::filter::FilterPattern;
use crate::logs::{StoredEvent, StreamSummary};
use crate::{RuntimeError, RuntimeResult};

/// CloudWatch Logs' allowed retention periods, in days.
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

const GROUP_PREFIX: &str = "/aws/lambda/";
const DAY_MS: i64 = 86_400_000;
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The function a log group name belongs to, if it names one.
#[must_use]
pub fn group_function(group: &str) -> Option<&str> {
    group.strip_prefix(GROUP_PREFIX).filter(|f| !f.is_empty())
}

#[must_use]
pub fn group_name(function: &str) -> String {
    format!("{GROUP_PREFIX}{function}")
}

/// One log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    pub function: String,
    /// The first event of its oldest stream (the group is created by its first invocation).
    pub creation_ms: i64,
    pub retention_days: Option<u32>,
    pub stored_bytes: u64,
}

/// Where GetLogEvents continues: before or after a position in the stream file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamCursor {
    /// Events at or after this byte offset, from the oldest.
    Forward(u64),
    /// Events before this byte offset, the newest `limit` of them.
    Backward(u64),
}

/// GetLogEvents' question.
#[derive(Debug, Clone)]
pub struct EventsQuery {
    pub stream: String,
    pub start_ms: Option<i64>,
    /// Exclusive, as GetLogEvents' `endTime`.
    pub end_ms: Option<i64>,
    pub from_head: bool,
    pub limit: usize,
    pub cursor: Option<StreamCursor>,
}

/// GetLogEvents' answer: the events and the cursors CloudWatch calls its forward and backward
/// tokens. At either end, the cursor asked with comes back unchanged.
#[derive(Debug, Clone)]
pub struct EventsPage {
    pub events: Vec<StoredEvent>,
    pub forward: StreamCursor,
    pub backward: StreamCursor,
}

/// Where FilterLogEvents continues: after the event with this sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterCursor {
    pub timestamp_ms: i64,
    pub stream: String,
    pub offset: u64,
}

/// FilterLogEvents' question.
#[derive(Debug, Clone, Default)]
pub struct FilterQuery {
    pub streams: Option<Vec<String>>,
    pub stream_prefix: Option<String>,
    pub start_ms: Option<i64>,
    /// Inclusive, as FilterLogEvents' `endTime`.
    pub end_ms: Option<i64>,
    pub pattern: FilterPattern,
    pub limit: usize,
    pub after: Option<FilterCursor>,
}

#[derive(Debug, Clone)]
pub struct FilterPage {
    pub events: Vec<StoredEvent>,
    /// Set when more events match after the last one returned.
    pub next: Option<FilterCursor>,
    pub searched_streams: Vec<String>,
}

impl Functions {
    /// The caller's log groups by name, optionally only those whose name starts with `prefix`.
    ///
    /// # Errors
    /// Forbidden, storage failures.
    pub async fn log_groups(
        &self,
        caller: &Principal,
        prefix: Option<&str>,
    ) -> RuntimeResult<Vec<LogGroup>> {
        require(caller, Action::Read)?;
        let retentions = self.meta.log_retentions(&caller.project).await?;
        let (logs, project) = (self.logs.clone(), caller.project.clone());
        let prefix = prefix.map(str::to_owned);
        let groups = blocking(move || {
            logs.flush();
            logs.functions_with_logs(&project)
                .into_iter()
                .filter(|f| prefix.as_ref().is_none_or(|p| group_name(f).starts_with(p)))
                .filter_map(|function| {
                    let streams = logs.streams(&project, &function);
                    Some(LogGroup {
                        name: group_name(&function),
                        creation_ms: streams.iter().map(|s| s.first_event_ms).min()?,
                        stored_bytes: streams.iter().map(|s| s.stored_bytes).sum(),
                        retention_days: None,
                        function,
                    })
                })
                .collect::<Vec<_>>()
        })
        .await?;
        Ok(groups
            .into_iter()
            .map(|group| LogGroup {
                retention_days: retentions.get(&group.function).copied(),
                ..group
            })
            .collect())
    }

    /// A group's streams by name, leaving out those wholly past retention.
    ///
    /// # Errors
    /// NotFound (no such group in the caller's project), Forbidden, storage failures.
    pub async fn log_streams(
        &self,
        caller: &Principal,
        group: &str,
    ) -> RuntimeResult<Vec<StreamSummary>> {
        let (function, cutoff) = self.group_and_cutoff(caller, group).await?;
        let (logs, project) = (self.logs.clone(), caller.project.clone());
        let streams = blocking(move || {
            logs.flush();
            logs.streams(&project, &function)
        })
        .await?;
        if streams.is_empty() {
            return Err(group_not_found());
        }
        Ok(streams
            .into_iter()
            .filter(|s| s.last_event_ms >= cutoff)
            .collect())
    }

    /// One stream's events, CloudWatch's GetLogEvents.
    ///
    /// # Errors
    /// NotFound (group or stream), Forbidden, storage failures.
    pub async fn log_events(
        &self,
        caller: &Principal,
        group: &str,
        query: EventsQuery,
    ) -> RuntimeResult<EventsPage> {
        let (function, cutoff) = self.group_and_cutoff(caller, group).await?;
        let (logs, project) = (self.logs.clone(), caller.project.clone());
        let stream = query.stream.clone();
        let events = blocking(move || {
            logs.flush();
            logs.stream_events(&project, &function, &stream)
        })
        .await?
        .ok_or_else(|| RuntimeError::NotFound("The specified log stream does not exist.".into()))?;
        let start = query.start_ms.unwrap_or(i64::MIN).max(cutoff);
        let end = query.end_ms.unwrap_or(i64::MAX);
        let file_end = events.last().map_or(0, |e| e.next_offset);
        let visible: Vec<StoredEvent> = events
            .into_iter()
            .filter(|e| e.timestamp_ms >= start && e.timestamp_ms < end)
            .collect();
        Ok(page_of_stream(visible, &query, file_end))
    }

    /// Events of a group matching a filter, all streams merged by time (FilterLogEvents).
    ///
    /// # Errors
    /// NotFound (group), Forbidden, storage failures.
    pub async fn filter_log_events(
        &self,
        caller: &Principal,
        group: &str,
        query: FilterQuery,
    ) -> RuntimeResult<FilterPage> {
        let (function, cutoff) = self.group_and_cutoff(caller, group).await?;
        let (logs, project) = (self.logs.clone(), caller.project.clone());
        let start = query.start_ms.unwrap_or(i64::MIN).max(cutoff);
        let (events, streams) = blocking(move || {
            logs.flush();
            let streams: Vec<String> = logs
                .streams(&project, &function)
                .into_iter()
                .map(|s| s.name)
                .collect();
            (logs.events(&project, &function, start), streams)
        })
        .await?;
        if streams.is_empty() {
            return Err(group_not_found());
        }
        let selected = |stream: &str| {
            query
                .streams
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == stream))
                && query
                    .stream_prefix
                    .as_ref()
                    .is_none_or(|p| stream.starts_with(p.as_str()))
        };
        let end = query.end_ms.unwrap_or(i64::MAX);
        let after = |e: &StoredEvent| {
            query.after.as_ref().is_none_or(|c| {
                (e.timestamp_ms, e.stream.as_str(), e.offset)
                    > (c.timestamp_ms, c.stream.as_str(), c.offset)
            })
        };
        let mut matching = events.into_iter().filter(|e| {
            e.timestamp_ms <= end
                && selected(&e.stream)
                && after(e)
                && query.pattern.matches(&e.message)
        });
        let page: Vec<StoredEvent> = matching.by_ref().take(query.limit).collect();
        let next = match (matching.next(), page.last()) {
            (Some(_), Some(last)) => Some(FilterCursor {
                timestamp_ms: last.timestamp_ms,
                stream: last.stream.clone(),
                offset: last.offset,
            }),
            _ => None,
        };
        Ok(FilterPage {
            events: page,
            next,
            searched_streams: streams.into_iter().filter(|s| selected(s)).collect(),
        })
    }

    /// Sets (`Some`) or removes (`None`) a group's retention, then sweeps it.
    ///
    /// # Errors
    /// Invalid (a period CloudWatch does not offer), NotFound, Forbidden, storage failures.
    pub async fn set_log_retention(
        &self,
        caller: &Principal,
        group: &str,
        days: Option<u32>,
    ) -> RuntimeResult<()> {
        require(caller, Action::Write)?;
        if let Some(days) = days
            && !RETENTION_DAYS.contains(&days)
        {
            return Err(RuntimeError::Invalid {
                field: "retentionInDays",
                message: format!(
                    "{days} is not a valid retention period; valid values are {RETENTION_DAYS:?}"
                ),
            });
        }
        let (function, _) = self.group_and_cutoff(caller, group).await?;
        if !self.group_exists(&caller.project, &function).await? {
            return Err(group_not_found());
        }
        match self
            .meta
            .set_log_retention(&caller.project, &function, days)
            .await
        {
            Err(stratus_meta::MetaError::NotFound(_)) => return Err(group_not_found()),
            other => other?,
        }
        if let Some(days) = days {
            let (logs, project) = (self.logs.clone(), caller.project.clone());
            let cutoff = cutoff_for(days);
            blocking(move || logs.sweep(&project, &function, cutoff)).await?;
        }
        Ok(())
    }

    /// Deletes every stream past its group's retention; returns how many.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn sweep_logs(&self) -> RuntimeResult<usize> {
        let retentions = self.meta.all_log_retentions().await?;
        let logs = self.logs.clone();
        blocking(move || {
            retentions
                .iter()
                .map(|(project, function, days)| logs.sweep(project, function, cutoff_for(*days)))
                .sum()
        })
        .await
    }

    /// The function a group of the caller's project names, and the oldest event time its
    /// retention lets through.
    async fn group_and_cutoff(
        &self,
        caller: &Principal,
        group: &str,
    ) -> RuntimeResult<(String, i64)> {
        require(caller, Action::Read)?;
        let function = group_function(group)
            .filter(|f| stratus_core::FunctionName::parse(f).is_ok())
            .ok_or_else(group_not_found)?
            .to_owned();
        let retentions = self.meta.log_retentions(&caller.project).await?;
        let cutoff = retentions
            .get(&function)
            .map_or(i64::MIN, |d| cutoff_for(*d));
        Ok((function, cutoff))
    }

    async fn group_exists(&self, project: &str, function: &str) -> RuntimeResult<bool> {
        let (logs, project, function) =
            (self.logs.clone(), project.to_owned(), function.to_owned());
        blocking(move || {
            logs.flush();
            !logs.streams(&project, &function).is_empty()
        })
        .await
    }
}

fn cutoff_for(days: u32) -> i64 {
    crate::now_ms() - i64::from(days) * DAY_MS
}

fn group_not_found() -> RuntimeError {
    RuntimeError::NotFound("The specified log group does not exist.".into())
}

async fn blocking<T: Send + 'static>(op: impl FnOnce() -> T + Send + 'static) -> RuntimeResult<T> {
    tokio::task::spawn_blocking(op)
        .await
        .map_err(|e| RuntimeError::Io(std::io::Error::other(e)))
}

/// CloudWatch's paging over one stream (`visible`: its events in range, in file order).
fn page_of_stream(visible: Vec<StoredEvent>, query: &EventsQuery, file_end: u64) -> EventsPage {
    let limit = query.limit;
    let cursor = query.cursor.unwrap_or(if query.from_head {
        StreamCursor::Forward(0)
    } else {
        StreamCursor::Backward(u64::MAX)
    });
    let events: Vec<StoredEvent> = match cursor {
        StreamCursor::Forward(from) => visible
            .into_iter()
            .filter(|e| e.offset >= from)
            .take(limit)
            .collect(),
        StreamCursor::Backward(before) => {
            let mut rest: Vec<StoredEvent> =
                visible.into_iter().filter(|e| e.offset < before).collect();
            let skip = rest.len().saturating_sub(limit);
            rest.drain(skip..).collect()
        }
    };
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        // Nothing there: the token asked with comes back (CloudWatch's end-of-stream signal);
        // a first tail read with no events points both ways at the stream's end.
        let (forward, backward) = match (query.cursor, cursor) {
            (Some(c @ StreamCursor::Forward(at)), _) => (c, StreamCursor::Backward(at)),
            (Some(c @ StreamCursor::Backward(at)), _) => {
                (StreamCursor::Forward(at.min(file_end)), c)
            }
            (None, StreamCursor::Forward(at)) => {
                (StreamCursor::Forward(at), StreamCursor::Backward(at))
            }
            (None, StreamCursor::Backward(_)) => (
                StreamCursor::Forward(file_end),
                StreamCursor::Backward(file_end),
            ),
        };
        return EventsPage {
            events,
            forward,
            backward,
        };
    };
    EventsPage {
        forward: StreamCursor::Forward(last.next_offset),
        backward: StreamCursor::Backward(first.offset),
        events,
    }
}

/// At start and then hourly: delete streams past their group's retention.
pub(crate) async fn sweeper(service: Weak<Functions>) {
    loop {
        let Some(functions) = service.upgrade() else {
            return;
        };
        match functions.sweep_logs().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "log streams past retention removed"),
            Err(error) => tracing::warn!(%error, "log retention sweep failed"),
        }
        drop(functions);
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

#[cfg(test)]
mod tests;
