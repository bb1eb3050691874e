//! Vocabulary shared by every Stratus crate: validated identifiers, roles, notification rules,
//! the S3 event shape and the function model. Nothing here performs IO (no tokio), so every rule
//! in it is unit-testable in isolation.
//!
//! Files:
//! - `ids.rs` — `BucketName`, `ObjectKey`, `ProjectName`: validated once at the edge.
//! - `role.rs` — `Role` (`admin` ⊃ `member` ⊃ `read-only`) and the `Action`s each permits.
//! - `function.rs` — the function model (`FunctionConfig`, `FunctionName`, `RuntimeKind`) with
//!   Lambda's limits.
//! - `trigger.rs` — bucket and schedule triggers of `function.yaml` or an application.
//! - `event.rs` — notification rules, their matching, and the AWS S3 event JSON
//!   (`ObjectEvent::to_record_json`).
//! - `lineage.rs` — the event-chain depth carried in trace headers (Lambda's 16-hop rule).
//! - `schedule.rs`, `schedule/cron.rs` — EventBridge `rate`/`cron` expressions and next fire
//!   times, in UTC.
//! - `app.rs` — application names and what an application owns (`AppResources`).
//! - `clock.rs` — `now_ms` and `at_ms`: instants as milliseconds since the epoch, UTC.
//! - `arn.rs` — ARNs written and read; a project's 12-digit account id derives from its name.
//! - `message.rs` — SQS/SNS message attributes, their rules and SQS's MD5 digests (byte for
//!   byte Amazon's: boto3 checks them).
//! - `filter_policy.rs` — SNS filter policies: parsing with Amazon's limits and matching.
//! - `secret.rs` — constant-time comparison (`subtle`), the one comparison every check of a secret
//!   (signatures, tokens, CSRF) uses.
//! - `metrics/` — the metrics registry (counters, gauges, histograms on atomics), every family
//!   Stratus exports, and the Prometheus text renderer.

pub mod app;
pub mod arn;
pub mod clock;
pub mod event;
pub mod filter_policy;
pub mod function;
pub mod ids;
pub mod lineage;
pub mod message;
pub mod metrics;
pub mod role;
pub mod schedule;
pub mod secret;
pub mod trigger;

pub use app::{AppFunction, AppName, AppResources};
pub use event::{
    EventKind, NotificationRule, NotificationTarget, ObjectEvent, is_known_event_pattern,
};
pub use function::{FunctionConfig, FunctionName, InvalidConfig, RuntimeKind};
pub use ids::{BucketName, InvalidId, ObjectKey, ProjectName};
pub use role::{Action, Role};
pub use schedule::{InvalidSchedule, Schedule};
pub use trigger::{BucketTrigger, ScheduleTrigger, Trigger};
