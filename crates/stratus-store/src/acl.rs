//! Access control lists. An ACL is a list of grants ([`Acl`]); a canned ACL is a name for one
//! such list. A bucket's ACL is a configuration document, an object version's lives in its
//! headers; both are stored as the canned name when the list is exactly a canned ACL's (as
//! before grants existed), otherwise as a JSON list of grants (`Acl::stored`).

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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grantee {
    /// The owning project (a `CanonicalUser` grantee).
    Owner,
    /// Another project, by its canonical id (the project name, as ListBuckets' `Owner.ID`).
    Project(String),
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
    pub fn uri(&self) -> Option<&'static str> {
        match self {
            Self::Owner | Self::Project(_) => None,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
        wanted.sort();
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
            own.sort();
            own == wanted
        })
    }
}

/// A grant list: who may do what, beyond the owning project (which always has full control
/// through tenancy, whatever its ACL says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub grants: Vec<Grant>,
}

/// No ACL means `private`: the owner's full control and nothing else.
impl Default for Acl {
    fn default() -> Self {
        CannedAcl::Private.into()
    }
}

/// One grant as stored: the grantee as `owner`, `id:PROJECT` or a group URI.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredGrant {
    grantee: String,
    permission: String,
}

impl From<CannedAcl> for Acl {
    fn from(acl: CannedAcl) -> Self {
        Self {
            grants: acl.grants(),
        }
    }
}

impl Acl {
    /// Reads a stored ACL: a canned name (what every ACL was stored as before grants) or a JSON
    /// grant list. Anything else reads as `private`, the safe default.
    #[must_use]
    pub fn parse_stored(text: &str) -> Self {
        if let Ok(canned) = text.parse::<CannedAcl>() {
            return canned.into();
        }
        let Ok(stored) = serde_json::from_str::<Vec<StoredGrant>>(text) else {
            return CannedAcl::Private.into();
        };
        let grants = stored
            .into_iter()
            .filter_map(|g| {
                let grantee = match g.grantee.as_str() {
                    "owner" => Grantee::Owner,
                    other => match other.strip_prefix("id:") {
                        Some(id) => Grantee::Project(id.to_owned()),
                        None => Grantee::from_uri(other)?,
                    },
                };
                Some((grantee, g.permission.parse().ok()?))
            })
            .collect();
        Self { grants }
    }

    /// The stored form: `None` for `private` (nothing stored), the canned name when the grants
    /// are exactly a canned ACL's, else a JSON list.
    #[must_use]
    pub fn stored(&self) -> Option<String> {
        match CannedAcl::from_grants(&self.grants) {
            Some(CannedAcl::Private) => None,
            Some(canned) => Some(canned.as_str().to_owned()),
            None => {
                let stored: Vec<StoredGrant> = self
                    .grants
                    .iter()
                    .map(|(grantee, permission)| StoredGrant {
                        grantee: match grantee {
                            Grantee::Owner => "owner".to_owned(),
                            Grantee::Project(id) => format!("id:{id}"),
                            group => group.uri().unwrap_or_default().to_owned(),
                        },
                        permission: permission.as_str().to_owned(),
                    })
                    .collect();
                Some(serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned()))
            }
        }
    }

    /// Whether the ACL grants anything to everyone or to every key, which AWS's Block Public
    /// Access and policy status treat as public.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.grants
            .iter()
            .any(|(g, _)| matches!(g, Grantee::AllUsers | Grantee::AuthenticatedUsers))
    }

    /// Whether the ACL gives `needed` to a requester outside the owning project: `requester`
    /// is its project (`None`: anonymous). `FULL_CONTROL` includes every permission.
    #[must_use]
    pub fn permits(&self, requester: Option<&str>, needed: Permission) -> bool {
        self.grants.iter().any(|(grantee, permission)| {
            let covers = *permission == needed || *permission == Permission::FullControl;
            let matches = match grantee {
                Grantee::AllUsers => true,
                Grantee::AuthenticatedUsers => requester.is_some(),
                Grantee::Project(id) => requester == Some(id.as_str()),
                Grantee::Owner | Grantee::LogDelivery => false,
            };
            covers && matches
        })
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
    fn grants_give_exactly_their_permission() {
        let acl = Acl {
            grants: vec![
                (Grantee::Owner, Permission::FullControl),
                (Grantee::Project("alt".into()), Permission::Read),
                (Grantee::Project("full".into()), Permission::FullControl),
                (Grantee::AuthenticatedUsers, Permission::ReadAcp),
            ],
        };
        assert!(acl.permits(Some("alt"), Permission::Read));
        assert!(!acl.permits(Some("alt"), Permission::Write));
        assert!(!acl.permits(Some("other"), Permission::Read));
        assert!(acl.permits(Some("full"), Permission::WriteAcp));
        assert!(acl.permits(Some("other"), Permission::ReadAcp));
        assert!(!acl.permits(None, Permission::ReadAcp));
        assert!(acl.is_public());
        let stored = acl.stored().expect("not private");
        assert_eq!(Acl::parse_stored(&stored), acl);
        assert_eq!(
            Acl::from(CannedAcl::PublicRead).stored().as_deref(),
            Some("public-read")
        );
        assert_eq!(Acl::from(CannedAcl::Private).stored(), None);
        assert_eq!(Acl::parse_stored("[]").stored().as_deref(), Some("[]"));
        assert!(Acl::from(CannedAcl::PublicReadWrite).permits(None, Permission::Write));
        assert!(!Acl::from(CannedAcl::PublicRead).permits(None, Permission::Write));
        assert!(!Acl::from(CannedAcl::AuthenticatedRead).permits(None, Permission::Read));
    }
}
