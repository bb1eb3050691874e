//! One function per CloudWatch Logs operation: JSON in, JSON out.

use serde_json::{Value, json};
use stratus_runtime::{
    EventsQuery, FilterPattern, FilterQuery, Functions, Principal, StoredEvent, StreamSummary,
};

use super::errors::LogsError;
use super::input;

pub(crate) struct Context<'a> {
    pub functions: &'a Functions,
    pub caller: &'a Principal,
    pub input: &'a Value,
}

impl Context<'_> {
    /// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`
    fn group_arn(&self, group: &str) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{group}",
            self.functions.config().region,
            stratus_runtime::account_id(&self.caller.project)
        )
    }
}

/// Describe operations page at most this many entries.
const MAX_DESCRIBE: usize = 50;
/// GetLogEvents and FilterLogEvents return at most this many events.
const MAX_EVENTS: usize = 10_000;

pub(crate) async fn dispatch(context: &Context<'_>, operation: &str) -> Result<Value, LogsError> {
    match operation {
        "DescribeLogGroups" => describe_log_groups(context).await,
        "DescribeLogStreams" => describe_log_streams(context).await,
        "GetLogEvents" => get_log_events(context).await,
        "FilterLogEvents" => filter_log_events(context).await,
        "PutRetentionPolicy" => put_retention_policy(context).await,
        "DeleteRetentionPolicy" => delete_retention_policy(context).await,
        other => Err(LogsError::new(
            "UnknownOperationException",
            format!("operation {other} is not supported"),
        )),
    }
}

/// One page of `items` after `token` (an index), with the token of the next page.
fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: usize,
) -> Result<(Vec<T>, Option<String>), LogsError> {
    let start = input::parse_index_token(token)?;
    let total = items.len();
    let taken: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + taken.len();
    Ok((taken, (end < total).then(|| format!("i/{end}"))))
}

async fn describe_log_groups(context: &Context<'_>) -> Result<Value, LogsError> {
    let prefix = input::string(context.input, "logGroupNamePrefix")?;
    let limit = input::limit(context.input, MAX_DESCRIBE)?;
    let groups = context.functions.log_groups(context.caller, prefix).await?;
    let (groups, next) = page(groups, input::string(context.input, "nextToken")?, limit)?;
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|group| {
            let arn = context.group_arn(&group.name);
            let mut entry = json!({
                "logGroupName": group.name,
                "creationTime": group.creation_ms,
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "logGroupArn": arn,
                "storedBytes": group.stored_bytes,
                "logGroupClass": "STANDARD",
            });
            if let Some(days) = group.retention_days {
                entry["retentionInDays"] = json!(days);
            }
            entry
        })
        .collect();
    let mut output = json!({ "logGroups": groups });
    if let Some(next) = next {
        output["nextToken"] = json!(next);
    }
    Ok(output)
}

async fn describe_log_streams(context: &Context<'_>) -> Result<Value, LogsError> {
    let group = input::group(context.input, &context.caller.project)?;
    let prefix = input::string(context.input, "logStreamNamePrefix")?;
    let by_last_event = match input::string(context.input, "orderBy")? {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(LogsError::invalid(format!(
                "orderBy must be LogStreamName or LastEventTime, not {other}"
            )));
        }
    };
    if by_last_event && prefix.is_some() {
        return Err(LogsError::invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let descending = input::boolean(context.input, "descending")?.unwrap_or(false);
    let limit = input::limit(context.input, MAX_DESCRIBE)?;
    let mut streams: Vec<StreamSummary> = context
        .functions
        .log_streams(context.caller, &group)
        .await?
        .into_iter()
        .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
        .collect();
    if by_last_event {
        streams.sort_by(|a, b| (a.last_event_ms, &a.name).cmp(&(b.last_event_ms, &b.name)));
    }
    if descending {
        streams.reverse();
    }
    let (streams, next) = page(streams, input::string(context.input, "nextToken")?, limit)?;
    let group_arn = context.group_arn(&group);
    let streams: Vec<Value> = streams
        .into_iter()
        .map(|s| {
            json!({
                "logStreamName": s.name,
                "creationTime": s.first_event_ms,
                "firstEventTimestamp": s.first_event_ms,
                "lastEventTimestamp": s.last_event_ms,
                "lastIngestionTime": s.last_ingestion_ms,
                "arn": format!("{group_arn}:log-stream:{}", s.name),
                "storedBytes": s.stored_bytes,
            })
        })
        .collect();
    let mut output = json!({ "logStreams": streams });
    if let Some(next) = next {
        output["nextToken"] = json!(next);
    }
    Ok(output)
}

async fn get_log_events(context: &Context<'_>) -> Result<Value, LogsError> {
    let group = input::group(context.input, &context.caller.project)?;
    let query = EventsQuery {
        stream: input::required(context.input, "logStreamName")?.to_owned(),
        start_ms: input::integer(context.input, "startTime")?,
        end_ms: input::integer(context.input, "endTime")?,
        from_head: input::boolean(context.input, "startFromHead")?.unwrap_or(false),
        limit: input::limit(context.input, MAX_EVENTS)?,
        cursor: input::string(context.input, "nextToken")?
            .map(input::parse_stream_token)
            .transpose()?,
    };
    let page = context
        .functions
        .log_events(context.caller, &group, query)
        .await?;
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|e| {
            json!({
                "timestamp": e.timestamp_ms,
                "message": e.message,
                "ingestionTime": e.ingestion_ms,
            })
        })
        .collect();
    Ok(json!({
        "events": events,
        "nextForwardToken": input::stream_token(page.forward),
        "nextBackwardToken": input::stream_token(page.backward),
    }))
}

async fn filter_log_events(context: &Context<'_>) -> Result<Value, LogsError> {
    let group = input::group(context.input, &context.caller.project)?;
    let streams = input::string_list(context.input, "logStreamNames")?;
    let stream_prefix = input::string(context.input, "logStreamNamePrefix")?;
    if streams.is_some() && stream_prefix.is_some() {
        return Err(LogsError::invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive",
        ));
    }
    let pattern =
        FilterPattern::parse(input::string(context.input, "filterPattern")?.unwrap_or_default())
            .map_err(|e| LogsError::invalid(e.0))?;
    let query = FilterQuery {
        streams,
        stream_prefix: stream_prefix.map(str::to_owned),
        start_ms: input::integer(context.input, "startTime")?,
        end_ms: input::integer(context.input, "endTime")?,
        pattern,
        limit: input::limit(context.input, MAX_EVENTS)?,
        after: input::string(context.input, "nextToken")?
            .map(input::parse_filter_token)
            .transpose()?,
    };
    let page = context
        .functions
        .filter_log_events(context.caller, &group, query)
        .await?;
    let events: Vec<Value> = page.events.iter().map(filtered_event).collect();
    let searched: Vec<Value> = page
        .searched_streams
        .iter()
        .map(|name| json!({ "logStreamName": name, "searchedCompletely": true }))
        .collect();
    let mut output = json!({ "events": events, "searchedLogStreams": searched });
    if let Some(next) = &page.next {
        output["nextToken"] = json!(input::filter_token(next));
    }
    Ok(output)
}

fn filtered_event(event: &StoredEvent) -> Value {
    json!({
        "logStreamName": event.stream,
        "timestamp": event.timestamp_ms,
        "message": event.message,
        "ingestionTime": event.ingestion_ms,
        "eventId": event.event_id(),
    })
}

async fn put_retention_policy(context: &Context<'_>) -> Result<Value, LogsError> {
    let group = input::group(context.input, &context.caller.project)?;
    let days = input::integer(context.input, "retentionInDays")?
        .ok_or_else(|| LogsError::invalid("retentionInDays is required"))?;
    let days = u32::try_from(days)
        .map_err(|_| LogsError::invalid(format!("{days} is not a valid retention period")))?;
    context
        .functions
        .set_log_retention(context.caller, &group, Some(days))
        .await?;
    Ok(json!({}))
}

async fn delete_retention_policy(context: &Context<'_>) -> Result<Value, LogsError> {
    let group = input::group(context.input, &context.caller.project)?;
    context
        .functions
        .set_log_retention(context.caller, &group, None)
        .await?;
    Ok(json!({}))
}
