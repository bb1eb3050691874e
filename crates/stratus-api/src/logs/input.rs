//! Reading CloudWatch Logs' JSON input: typed fields, range checks and the paging tokens, each
//! failure an InvalidParameterException naming the field.

use serde_json::Value;
use stratus_runtime::{FilterCursor, StreamCursor};

use super::errors::LogsError;

pub(crate) fn string<'v>(input: &'v Value, field: &str) -> Result<Option<&'v str>, LogsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(LogsError::invalid(format!("{field} must be a string"))),
    }
}

pub(crate) fn required<'v>(input: &'v Value, field: &str) -> Result<&'v str, LogsError> {
    string(input, field)?.ok_or_else(|| LogsError::invalid(format!("{field} is required")))
}

/// The log group a request names: `logGroupName`, or `logGroupIdentifier` (a name or an ARN).
/// Group names are per project, so an ARN of another account (another project) names a group
/// the caller cannot have: not found, as a missing one, rather than its own namesake.
pub(crate) fn group(input: &Value, project: &str) -> Result<String, LogsError> {
    if let Some(name) = string(input, "logGroupName")? {
        return Ok(name.to_owned());
    }
    let identifier = string(input, "logGroupIdentifier")?
        .ok_or_else(|| LogsError::invalid("logGroupName is required"))?;
    // `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`
    Ok(match identifier.split_once(":log-group:") {
        Some((head, rest)) => {
            let account = head.rsplit(':').next().unwrap_or_default();
            if account != stratus_core::arn::account_id(project) {
                return Err(LogsError::not_found(format!(
                    "The specified log group does not exist: {identifier}"
                )));
            }
            rest.strip_suffix(":*").unwrap_or(rest).to_owned()
        }
        None => identifier.to_owned(),
    })
}

pub(crate) fn integer(input: &Value, field: &str) -> Result<Option<i64>, LogsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| LogsError::invalid(format!("{field} must be an integer"))),
    }
}

pub(crate) fn boolean(input: &Value, field: &str) -> Result<Option<bool>, LogsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(LogsError::invalid(format!("{field} must be a boolean"))),
    }
}

/// `limit` between 1 and `max`, `max` when absent.
pub(crate) fn limit(input: &Value, max: usize) -> Result<usize, LogsError> {
    match integer(input, "limit")? {
        None => Ok(max),
        Some(n) if n >= 1 && n <= max as i64 => Ok(n as usize),
        Some(n) => Err(LogsError::invalid(format!(
            "limit must be between 1 and {max}, not {n}"
        ))),
    }
}

pub(crate) fn string_list(input: &Value, field: &str) -> Result<Option<Vec<String>>, LogsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| LogsError::invalid(format!("{field} must list strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(LogsError::invalid(format!("{field} must be a list"))),
    }
}

fn bad_token() -> LogsError {
    LogsError::invalid("The specified nextToken is invalid.")
}

/// GetLogEvents' tokens, as CloudWatch spells them: `f/POSITION` and `b/POSITION`.
pub(crate) fn stream_token(cursor: StreamCursor) -> String {
    match cursor {
        StreamCursor::Forward(at) => format!("f/{at:020}"),
        StreamCursor::Backward(at) => format!("b/{at:020}"),
    }
}

pub(crate) fn parse_stream_token(token: &str) -> Result<StreamCursor, LogsError> {
    let (kind, at) = token.split_once('/').ok_or_else(bad_token)?;
    let at: u64 = at.parse().map_err(|_| bad_token())?;
    match kind {
        "f" => Ok(StreamCursor::Forward(at)),
        "b" => Ok(StreamCursor::Backward(at)),
        _ => Err(bad_token()),
    }
}

/// FilterLogEvents' token: the sort key of the last event returned.
pub(crate) fn filter_token(cursor: &FilterCursor) -> String {
    format!(
        "{}.{}.{}",
        cursor.timestamp_ms,
        cursor.offset,
        hex::encode(cursor.stream.as_bytes())
    )
}

pub(crate) fn parse_filter_token(token: &str) -> Result<FilterCursor, LogsError> {
    let mut parts = token.splitn(3, '.');
    let (Some(timestamp), Some(offset), Some(stream)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad_token());
    };
    Ok(FilterCursor {
        timestamp_ms: timestamp.parse().map_err(|_| bad_token())?,
        offset: offset.parse().map_err(|_| bad_token())?,
        stream: hex::decode(stream)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(bad_token)?,
    })
}

/// DescribeLogGroups/Streams' token: how many entries earlier pages returned.
pub(crate) fn parse_index_token(token: Option<&str>) -> Result<usize, LogsError> {
    token.map_or(Ok(0), |t| {
        t.strip_prefix("i/")
            .and_then(|n| n.parse().ok())
            .ok_or_else(bad_token)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        for cursor in [StreamCursor::Forward(7), StreamCursor::Backward(0)] {
            assert_eq!(parse_stream_token(&stream_token(cursor)), Ok(cursor));
        }
        let cursor = FilterCursor {
            timestamp_ms: 5,
            stream: "2026/01/01/[$LATEST]ab.c".into(),
            offset: 9,
        };
        assert_eq!(parse_filter_token(&filter_token(&cursor)), Ok(cursor));
        for bad in ["", "x/1", "f/-1", "f/abc"] {
            assert!(parse_stream_token(bad).is_err(), "{bad}");
        }
        assert!(parse_filter_token("1.2.zz").is_err());
        assert_eq!(parse_index_token(Some("i/3")), Ok(3));
        assert!(parse_index_token(Some("3")).is_err());
    }
}
