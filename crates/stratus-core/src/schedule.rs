//! EventBridge schedule expressions — `rate(5 minutes)` and `cron(0 12 * * ? *)` — parsed with
//! EventBridge's rules and evaluated in UTC, as EventBridge evaluates them. Written here rather
//! than taken from a cron crate because EventBridge's dialect (six fields, a year, `?`, 1 = SUN)
//! is neither Unix cron nor any crate's exactly.

mod cron;
#[cfg(test)]
mod tests;

use time::{Duration, OffsetDateTime};

pub use cron::Cron;

/// Why an expression was refused: `message` names the field and the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schedule expression {expression:?}: {message}")]
pub struct InvalidSchedule {
    pub expression: String,
    pub message: String,
}

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Fires every period, counted from when the schedule was created.
    Rate(Duration),
    /// Fires at every minute the fields match, in UTC.
    Cron(Cron),
}

impl Schedule {
    /// Parses `rate(VALUE UNIT)` or `cron(FIELDS)` exactly as EventBridge accepts them.
    ///
    /// # Errors
    /// [`InvalidSchedule`] naming the field and the text it did not accept.
    pub fn parse(expression: &str) -> Result<Self, InvalidSchedule> {
        let invalid = |message: String| InvalidSchedule {
            expression: expression.to_owned(),
            message,
        };
        let text = expression.trim();
        if let Some(body) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            parse_rate(body).map(Self::Rate).map_err(invalid)
        } else if let Some(body) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            Cron::parse(body).map(Self::Cron).map_err(invalid)
        } else {
            Err(invalid(
                "expected rate(VALUE UNIT) or cron(Minutes Hours Day-of-month Month Day-of-week Year)"
                    .into(),
            ))
        }
    }

    /// The first fire time strictly after `after` (and after `since`), or `None` when the
    /// schedule never fires again (a cron whose years are over, or whose day never exists).
    ///
    /// A rate fires at `since + k·period` for k ≥ 1, where `since` is when the schedule was
    /// created or last fired: periods missed while nobody was watching are skipped, and the
    /// schedule keeps its phase. A cron ignores `since` except as a lower bound.
    #[must_use]
    pub fn next_after(
        &self,
        since: OffsetDateTime,
        after: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        match self {
            Self::Rate(period) => {
                let period_ns = period.whole_nanoseconds();
                let elapsed_ns = (after - since).whole_nanoseconds();
                let periods = if elapsed_ns < 0 {
                    1
                } else {
                    elapsed_ns / period_ns + 1
                };
                let offset = i64::try_from(periods.checked_mul(period_ns)?).ok()?;
                since.checked_add(Duration::nanoseconds(offset))
            }
            Self::Cron(cron) => cron.next_after(since.max(after)),
        }
    }
}

/// `VALUE UNIT`: a positive whole number and `minute`, `hour` or `day`, singular exactly when
/// the value is 1 (EventBridge refuses `rate(1 minutes)` and `rate(5 minute)`).
fn parse_rate(body: &str) -> Result<Duration, String> {
    let words: Vec<&str> = body.split_whitespace().collect();
    let [value, unit] = words.as_slice() else {
        return Err(format!(
            "rate({body}) must be rate(VALUE UNIT), e.g. rate(5 minutes)"
        ));
    };
    let number = value
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| value.parse::<u32>().ok())
        .flatten()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("rate value {value:?} must be a whole number of at least 1"))?;
    let (singular, seconds) = match *unit {
        "minute" | "minutes" => ("minute", 60),
        "hour" | "hours" => ("hour", 3_600),
        "day" | "days" => ("day", 86_400),
        _ => {
            return Err(format!(
                "rate unit {unit:?} must be minute(s), hour(s) or day(s)"
            ));
        }
    };
    if number == 1 && *unit != singular {
        return Err(format!(
            "rate unit {unit:?} must be singular ({singular}) when the value is 1"
        ));
    }
    if number != 1 && *unit == singular {
        return Err(format!(
            "rate unit {unit:?} must be plural ({singular}s) when the value is {number}"
        ));
    }
    Ok(Duration::seconds(i64::from(number) * seconds))
}
