//! What the bucket lifecycle sweeper (`stratus-store`'s `lifecycle_sweep.rs`) needs beyond a
//! client's operations: an expiration that acts only on the version the sweeper judged due.

use async_trait::async_trait;

use crate::{Garbage, MetaResult, PendingEvent};

/// The version a lifecycle rule found due: its version id (`None`: the null version) and its
/// last modification.
pub type ExpectedVersion = (Option<String>, i64);

#[async_trait]
pub trait LifecycleRepository: Send + Sync + 'static {
    /// Expires the current version of `key` exactly as `ObjectRepository::delete_object` does
    /// (removed when unversioned, hidden by the delete marker `marker_version_id` otherwise),
    /// but only while it is still `expected`: a version written after the sweeper looked is
    /// left alone. `None` when nothing was done.
    async fn expire_current_if(
        &self,
        bucket: &str,
        key: &str,
        expected: ExpectedVersion,
        marker_version_id: String,
        event: PendingEvent,
    ) -> MetaResult<Option<Garbage>>;
}
