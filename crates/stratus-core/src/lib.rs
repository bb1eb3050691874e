//! Vocabulary shared by every Stratus crate: validated identifiers, roles, notification rules and
//! the S3 event shape. Nothing here performs IO, so every rule in it is unit-testable in isolation.

pub mod event;
pub mod ids;
pub mod role;

pub use event::{
    EventKind, NotificationRule, NotificationTarget, ObjectEvent, is_known_event_pattern,
};
pub use ids::{BucketName, InvalidId, ObjectKey, ProjectName};
pub use role::{Action, Role};
