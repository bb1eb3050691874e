//! Per-bucket configuration documents (ACL, policy, public access block, CORS, website,
//! tagging, lifecycle, ownership controls), stored one row per kind. The store validates a document before it is stored and
//! owns its format; this layer keeps the text.

/// Which configuration a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BucketConfigKind {
    /// The bucket's ACL: a canned name (`public-read`, ...) or a JSON grant list.
    Acl,
    /// The bucket policy, as the JSON the owner sent.
    Policy,
    PublicAccessBlock,
    Cors,
    Website,
    Tagging,
    /// The lifecycle configuration (its rules, as the store's JSON).
    Lifecycle,
    /// S3 Object Ownership (`BucketOwnerEnforced`, `BucketOwnerPreferred`, `ObjectWriter`).
    OwnershipControls,
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
            Self::OwnershipControls => "ownership-controls",
        }
    }
}
