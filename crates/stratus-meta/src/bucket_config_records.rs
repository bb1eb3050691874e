//! Per-bucket configuration documents (ACL, policy, public access block, CORS, website,
//! tagging, lifecycle), stored one row per kind. The store validates a document before it is stored and
//! owns its format; this layer keeps the text.

/// Which configuration a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BucketConfigKind {
    /// The bucket's canned ACL (`private`, `public-read`, ...).
    Acl,
    /// The bucket policy, as the JSON the owner sent.
    Policy,
    PublicAccessBlock,
    Cors,
    Website,
    Tagging,
    /// The lifecycle configuration (its rules, as the store's JSON).
    Lifecycle,
}

impl BucketConfigKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acl => "acl",
            Self::Policy => "policy",
            Self::PublicAccessBlock => "public-access-block",
            Self::Cors => "cors",
            Self::Website => "website",
            Self::Tagging => "tagging",
            Self::Lifecycle => "lifecycle",
        }
    }
}
