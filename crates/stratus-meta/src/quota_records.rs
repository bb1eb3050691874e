//! Per-project quotas and the usage they are checked against.

/// The limits of one project; `None` means unlimited. A project without a stored row has none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    pub max_storage_bytes: Option<u64>,
    pub max_objects: Option<u64>,
    pub max_functions: Option<u64>,
    pub max_worker_memory_mb: Option<u64>,
    pub max_concurrent_invocations: Option<u64>,
}

impl QuotaLimits {
    /// Whether no limit is set (a row of only NULLs need not be kept).
    #[must_use]
    pub fn is_unlimited(&self) -> bool {
        *self == Self::default()
    }
}

/// What a project holds in metadata: kept as running totals (storage) or counted on a primary
/// key prefix (functions), never by scanning objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredUsage {
    pub project: String,
    pub storage_bytes: u64,
    pub objects: u64,
    pub functions: u64,
}
