//! Canned ACLs: the only access control lists Stratus keeps. A bucket's ACL is a configuration
//! document, an object's lives in its headers. Every canned ACL expands into the grant list AWS
//! answers for it, and a grant list that is exactly one of those is read back as that ACL.

use std::fmt;
use std::str::FromStr;

/// An ACL AWS names with `x-amz-acl`. The bucket owner and the object owner are always the same
/// project in Stratus, so the `bucket-owner-*` ACLs grant what `private` grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CannedAcl {
    #[default]
    Private,
    PublicRead,
    PublicReadWrite,
    AuthenticatedRead,
    AwsExecRead,
    BucketOwnerRead,
    BucketOwnerFullControl,
    LogDeliveryWrite,
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    /// The owning project (a `CanonicalUser` grantee).
    Owner,
    /// `http://acs.amazonaws.com/groups/global/AllUsers`: anyone, signed or not.
    AllUsers,
    /// `http://acs.amazonaws.com/groups/global/AuthenticatedUsers`: any valid key.
    AuthenticatedUsers,
    /// `http://acs.amazonaws.com/groups/s3/LogDelivery`.
    LogDelivery,
}

impl Grantee {
    /// The group URI of a group grantee.
    #[must_use]
    pub fn uri(self) -> Option<&'static str> {
        match self {
            Self::Owner => None,
            Self::AllUsers => Some("http://acs.amazonaws.com/groups/global/AllUsers"),
            Self::AuthenticatedUsers => {
                Some("http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
            }
            Self::LogDelivery => Some("http://acs.amazonaws.com/groups/s3/LogDelivery"),
        }
    }

    /// The group named by `uri`, if it is one of S3's.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::AllUsers, Self::AuthenticatedUsers, Self::LogDelivery]
            .into_iter()
            .find(|g| g.uri() == Some(uri))
    }
}

/// An S3 permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    FullControl,
    Read,
    Write,
    ReadAcp,
    WriteAcp,
}

impl Permission {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullControl => "FULL_CONTROL",
            Self::Read => "READ",
            Self::Write => "WRITE",
            Self::ReadAcp => "READ_ACP",
            Self::WriteAcp => "WRITE_ACP",
        }
    }
}

impl FromStr for Permission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::FullControl,
            Self::Read,
            Self::Write,
            Self::ReadAcp,
            Self::WriteAcp,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| format!("unknown permission {s:?}"))
    }
}

pub type Grant = (Grantee, Permission);

const ALL: [CannedAcl; 8] = [
    CannedAcl::Private,
    CannedAcl::PublicRead,
    CannedAcl::PublicReadWrite,
    CannedAcl::AuthenticatedRead,
    CannedAcl::AwsExecRead,
    CannedAcl::BucketOwnerRead,
    CannedAcl::BucketOwnerFullControl,
    CannedAcl::LogDeliveryWrite,
];

impl CannedAcl {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::PublicRead => "public-read",
            Self::PublicReadWrite => "public-read-write",
            Self::AuthenticatedRead => "authenticated-read",
            Self::AwsExecRead => "aws-exec-read",
            Self::BucketOwnerRead => "bucket-owner-read",
            Self::BucketOwnerFullControl => "bucket-owner-full-control",
            Self::LogDeliveryWrite => "log-delivery-write",
        }
    }

    /// The grants AWS lists for this ACL, owner first.
    #[must_use]
    pub fn grants(self) -> Vec<Grant> {
        let mut grants = vec![(Grantee::Owner, Permission::FullControl)];
        match self {
            Self::PublicRead => grants.push((Grantee::AllUsers, Permission::Read)),
            Self::PublicReadWrite => {
                grants.push((Grantee::AllUsers, Permission::Read));
                grants.push((Grantee::AllUsers, Permission::Write));
            }
            Self::AuthenticatedRead => grants.push((Grantee::AuthenticatedUsers, Permission::Read)),
            Self::LogDeliveryWrite => {
                grants.push((Grantee::LogDelivery, Permission::Write));
                grants.push((Grantee::LogDelivery, Permission::ReadAcp));
            }
            Self::Private
            | Self::AwsExecRead
            | Self::BucketOwnerRead
            | Self::BucketOwnerFullControl => {}
        }
        grants
    }

    /// The canned ACL whose grants are exactly `grants` (in any order), if there is one.
    #[must_use]
    pub fn from_grants(grants: &[Grant]) -> Option<Self> {
        let mut wanted = grants.to_vec();
        wanted.sort_by_key(|(g, p)| (*g as u8, *p));
        wanted.dedup();
        [
            Self::Private,
            Self::PublicRead,
            Self::PublicReadWrite,
            Self::AuthenticatedRead,
            Self::LogDeliveryWrite,
        ]
        .into_iter()
        .find(|acl| {
            let mut own = acl.grants();
            own.sort_by_key(|(g, p)| (*g as u8, *p));
            own == wanted
        })
    }

    /// Whether the ACL grants anything to everyone or to every key, which AWS's Block Public
    /// Access treats as public.
    #[must_use]
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Self::PublicRead | Self::PublicReadWrite | Self::AuthenticatedRead
        )
    }

    /// Whether a requester outside the owning project may read (list a bucket, get an object).
    /// `signed`: the request carries a valid key of some project.
    #[must_use]
    pub fn grants_read(self, signed: bool) -> bool {
        match self {
            Self::PublicRead | Self::PublicReadWrite => true,
            Self::AuthenticatedRead => signed,
            _ => false,
        }
    }

    /// Whether a requester outside the owning project may write objects into a bucket.
    #[must_use]
    pub fn grants_write(self) -> bool {
        self == Self::PublicReadWrite
    }
}

impl fmt::Display for CannedAcl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CannedAcl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.into_iter()
            .find(|acl| acl.as_str() == s)
            .ok_or_else(|| format!("the canned ACL {s:?} is not valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_round_trip_through_their_grants() {
        for acl in [
            CannedAcl::Private,
            CannedAcl::PublicRead,
            CannedAcl::PublicReadWrite,
            CannedAcl::AuthenticatedRead,
        ] {
            let mut grants = acl.grants();
            grants.reverse();
            assert_eq!(CannedAcl::from_grants(&grants), Some(acl));
            assert_eq!(acl.as_str().parse::<CannedAcl>(), Ok(acl));
        }
        assert_eq!(
            CannedAcl::from_grants(&[(Grantee::AllUsers, Permission::Write)]),
            None
        );
        assert!("public".parse::<CannedAcl>().is_err());
    }

    #[test]
    fn only_public_acls_grant_outsiders() {
        assert!(CannedAcl::PublicRead.grants_read(false));
        assert!(!CannedAcl::AuthenticatedRead.grants_read(false));
        assert!(CannedAcl::AuthenticatedRead.grants_read(true));
        assert!(!CannedAcl::BucketOwnerRead.grants_read(true));
        assert!(!CannedAcl::PublicRead.grants_write());
        assert!(CannedAcl::PublicReadWrite.grants_write());
    }
}
