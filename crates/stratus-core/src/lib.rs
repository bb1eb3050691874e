//! Vocabulary shared by every Stratus crate: validated identifiers, roles, notification rules,
//! the S3 event shape and the function model. Nothing here performs IO, so every rule in it is unit-testable in isolation.

pub mod app;
pub mod arn;
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
