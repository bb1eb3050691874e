//! S3 versioning and Object Lock: a bucket's versioning state, which version an operation
//! addresses, the per-version lock, and what ListObjectVersions returns.

use serde::{Deserialize, Serialize};

/// A bucket's versioning state, as S3 reports it. A bucket starts unversioned; once versioning
/// has been enabled it can only be suspended, never unversioned again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BucketVersioning {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

impl BucketVersioning {
    /// The stored (and S3 wire) name; `None` for a bucket that was never versioned.
    #[must_use]
    pub fn as_stored(self) -> Option<&'static str> {
        match self {
            BucketVersioning::Unversioned => None,
            BucketVersioning::Enabled => Some("Enabled"),
            BucketVersioning::Suspended => Some("Suspended"),
        }
    }

    #[must_use]
    pub fn from_stored(value: Option<&str>) -> Self {
        match value {
            Some("Enabled") => BucketVersioning::Enabled,
            Some("Suspended") => BucketVersioning::Suspended,
            _ => BucketVersioning::Unversioned,
        }
    }
}

/// Which version of a key an operation addresses: the current one, or the one S3 names by a
/// `versionId` (the literal `null` naming the version written while versioning was off or
/// suspended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelector {
    Current,
    Null,
    Id(String),
}

impl VersionSelector {
    /// From S3's optional `versionId` parameter.
    #[must_use]
    pub fn from_query(version_id: Option<&str>) -> Self {
        match version_id {
            None => VersionSelector::Current,
            Some("null") => VersionSelector::Null,
            Some(id) => VersionSelector::Id(id.to_owned()),
        }
    }
}

/// Object Lock's retention modes: GOVERNANCE may be shortened or removed by a caller who asks to
/// bypass it; COMPLIANCE by nobody until it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RetentionMode {
    Governance,
    Compliance,
}

impl RetentionMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }

    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "GOVERNANCE" => Some(RetentionMode::Governance),
            "COMPLIANCE" => Some(RetentionMode::Compliance),
            _ => None,
        }
    }
}

/// The retention and legal hold of one object version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legal_hold: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: RetentionMode,
    pub retain_until_ms: i64,
}

impl ObjectLock {
    #[must_use]
    pub fn is_unlocked(&self) -> bool {
        self.retention.is_none() && !self.legal_hold
    }

    /// Why this version may not be deleted (or its retention shortened) at `now_ms`, if it may
    /// not. A GOVERNANCE retention yields to `bypass_governance`; a legal hold and a COMPLIANCE
    /// retention yield to nobody.
    #[must_use]
    pub fn blocks_deletion(&self, now_ms: i64, bypass_governance: bool) -> Option<&'static str> {
        if self.legal_hold {
            return Some("the object version is under a legal hold");
        }
        match self.retention {
            Some(r) if r.retain_until_ms > now_ms => match r.mode {
                RetentionMode::Compliance => {
                    Some("the object version is locked in COMPLIANCE mode")
                }
                RetentionMode::Governance if !bypass_governance => {
                    Some("the object version is locked in GOVERNANCE mode")
                }
                RetentionMode::Governance => None,
            },
            _ => None,
        }
    }
}

/// A bucket's Object Lock configuration: lock is enabled at creation (or later on a versioned
/// bucket) and never disabled; the default retention applies to new versions that name none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketObjectLock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_retention: Option<DefaultRetention>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    pub mode: RetentionMode,
    /// Exactly one of days and years is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

impl DefaultRetention {
    /// The retention a version written at `now_ms` gets.
    #[must_use]
    pub fn applied_at(&self, now_ms: i64) -> Retention {
        const DAY_MS: i64 = 86_400_000;
        let days = i64::from(self.days.unwrap_or(0)) + i64::from(self.years.unwrap_or(0)) * 365;
        Retention {
            mode: self.mode,
            retain_until_ms: now_ms.saturating_add(days.saturating_mul(DAY_MS)),
        }
    }
}

/// One entry of ListObjectVersions: a version or a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersionSummary {
    pub key: String,
    /// `None` is the `null` version.
    pub version_id: Option<String>,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// Where a ListObjectVersions page resumes: after every version of keys up to `key` (byte
/// order), or after `key`'s version `version` (S3's `key-marker` and `version-id-marker`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionCursor {
    pub key: Vec<u8>,
    pub version: Option<VersionSelector>,
}

/// A change to one version's headers, decided inside the transaction that applies it: it sees
/// the version as stored and returns the new headers, or refuses with an error.
pub type HeaderEdit = Box<
    dyn FnOnce(&crate::ObjectRecord) -> crate::MetaResult<crate::ObjectHeaders> + Send + 'static,
>;
