//! ACLs on the wire: the grant lists GetBucketAcl/GetObjectAcl answer, and the ACL a request
//! asks for — `x-amz-acl`, the `x-amz-grant-*` headers, or an AccessControlPolicy body — as one
//! `stratus_store::Acl`. A grantee is a project by its canonical id (the project name, as
//! ListBuckets' `Owner.ID` shows it) or one of S3's groups; Stratus keeps no e-mail addresses,
//! so a grant by e-mail is `UnresolvableGrantByEmailAddress`, as AWS answers for an unknown one.

use s3s::dto::{self, Grants, Type};
use s3s::{S3ErrorCode, S3Result};
use stratus_identity::Identity;
use stratus_store::{Acl, CannedAcl, Grantee, Permission};

use super::errors::{coded, s3_err};

fn canonical_user(id: &str) -> dto::Grantee {
    dto::Grantee {
        display_name: Some(id.to_owned()),
        email_address: None,
        id: Some(id.to_owned()),
        type_: Type::from_static(Type::CANONICAL_USER),
        uri: None,
    }
}

/// The grant list AWS answers for `acl` of a bucket owned by `owner`. Group grants come first:
/// clients (ceph/s3-tests among them) sort grants by DisplayName, which groups lack.
pub(super) fn render(acl: &Acl, owner: &str) -> Grants {
    let grant = |(grantee, permission): &(Grantee, Permission)| dto::Grant {
        grantee: Some(match grantee {
            Grantee::Owner => canonical_user(owner),
            Grantee::Project(id) => canonical_user(id),
            group => dto::Grantee {
                display_name: None,
                email_address: None,
                id: None,
                type_: Type::from_static(Type::GROUP),
                uri: group.uri().map(str::to_owned),
            },
        }),
        permission: Some(dto::Permission::from(permission.as_str().to_owned())),
    };
    let (groups, users): (Vec<_>, Vec<_>) = acl.grants.iter().partition(|(g, _)| g.uri().is_some());
    groups.into_iter().chain(users).map(grant).collect()
}

/// A grantee as a request names it, before the canonical id is checked.
fn grantee(
    type_: &str,
    id: Option<&str>,
    uri: Option<&str>,
    email: Option<&str>,
    owner: &str,
) -> S3Result<Grantee> {
    match (type_, id, uri, email) {
        ("CanonicalUser", Some(id), _, _) if id == owner => Ok(Grantee::Owner),
        ("CanonicalUser", Some(id), _, _) => Ok(Grantee::Project(id.to_owned())),
        ("Group", _, Some(uri), _) => match Grantee::from_uri(uri) {
            Some(group) => Ok(group),
            None => s3_err(S3ErrorCode::InvalidArgument, "Invalid group uri"),
        },
        ("AmazonCustomerByEmail", _, _, Some(_)) => Err(coded(
            "UnresolvableGrantByEmailAddress",
            http::StatusCode::BAD_REQUEST,
            "The e-mail address you provided does not match any account on record.".into(),
        )),
        _ => s3_err(
            S3ErrorCode::MalformedACLError,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ),
    }
}

/// Parses one `x-amz-grant-*` header: `id="..."`, `uri="..."` or `emailAddress="..."`,
/// comma-separated.
fn header_grantees(value: &str, owner: &str) -> S3Result<Vec<Grantee>> {
    let mut grantees = Vec::new();
    for item in value.split(',') {
        let Some((kind, quoted)) = item.trim().split_once('=') else {
            return s3_err(S3ErrorCode::InvalidArgument, "Invalid grant header");
        };
        let value = quoted.trim().trim_matches('"');
        let found = match kind.trim().to_ascii_lowercase().as_str() {
            "id" => grantee("CanonicalUser", Some(value), None, None, owner)?,
            "uri" => grantee("Group", None, Some(value), None, owner)?,
            "emailaddress" => grantee("AmazonCustomerByEmail", None, None, Some(value), owner)?,
            _ => return s3_err(S3ErrorCode::InvalidArgument, "Invalid grant header"),
        };
        grantees.push(found);
    }
    Ok(grantees)
}

/// The `x-amz-grant-*` headers of a request, each with the permission it grants.
pub(super) type GrantHeaders<'a> = [(Permission, Option<&'a str>); 5];

/// The ACL a request asks for, with the canned ACL it named (if any); `None` when it names
/// none (no `x-amz-acl`, no grant headers, no body). Grantees' ids are not checked here
/// (`check_grantees`).
///
/// # Errors
/// `InvalidArgument` (unknown canned ACL, bad header), `InvalidRequest` (a canned ACL with
/// grants), `MalformedACLError`, `UnresolvableGrantByEmailAddress`.
pub(super) fn requested(
    canned: Option<&str>,
    headers: &GrantHeaders<'_>,
    body: Option<&dto::AccessControlPolicy>,
    owner: &str,
) -> S3Result<Option<(Option<CannedAcl>, Acl)>> {
    let has_headers = headers.iter().any(|(_, v)| v.is_some());
    if usize::from(canned.is_some()) + usize::from(has_headers) + usize::from(body.is_some()) > 1 {
        return s3_err(
            S3ErrorCode::InvalidRequest,
            "Specifying both Canned ACLs and Header Grants is not allowed",
        );
    }
    if let Some(name) = canned {
        return match name.parse::<CannedAcl>() {
            Ok(acl) => Ok(Some((Some(acl), acl.into()))),
            Err(message) => s3_err(S3ErrorCode::InvalidArgument, message),
        };
    }
    if has_headers {
        let mut grants = Vec::new();
        for (permission, value) in headers {
            if let Some(value) = value {
                for who in header_grantees(value, owner)? {
                    grants.push((who, *permission));
                }
            }
        }
        return Ok(Some((None, Acl { grants })));
    }
    let Some(body) = body else {
        return Ok(None);
    };
    let mut grants = Vec::new();
    for grant in body.grants.iter().flatten() {
        let (Some(who), Some(permission)) = (&grant.grantee, &grant.permission) else {
            return s3_err(
                S3ErrorCode::MalformedACLError,
                "a Grant needs a Grantee and a Permission",
            );
        };
        let Ok(permission) = permission.as_str().parse::<Permission>() else {
            return s3_err(
                S3ErrorCode::MalformedACLError,
                "The XML you provided was not well-formed or did not validate against our published schema",
            );
        };
        let who = grantee(
            who.type_.as_str(),
            who.id.as_deref(),
            who.uri.as_deref(),
            who.email_address.as_deref(),
            owner,
        )?;
        grants.push((who, permission));
    }
    Ok(Some((None, Acl { grants })))
}

/// Refuses grants to canonical ids that are no project: `InvalidArgument`, as AWS answers.
///
/// # Errors
/// `InvalidArgument`, `InternalError`.
pub(super) async fn check_grantees(identity: &Identity, acl: &Acl) -> S3Result<()> {
    for (grantee, _) in &acl.grants {
        if let Grantee::Project(id) = grantee {
            match identity.project_exists(id).await {
                Ok(true) => {}
                Ok(false) => return s3_err(S3ErrorCode::InvalidArgument, "Invalid id"),
                Err(error) => {
                    tracing::error!(?error, "project lookup failed");
                    return s3_err(S3ErrorCode::InternalError, "identity lookup failed");
                }
            }
        }
    }
    Ok(())
}

/// The `x-amz-grant-*` headers of an s3s input (object writes have no `grant_write`).
macro_rules! grant_headers {
    ($input:expr, $write:expr) => {
        [
            (
                stratus_store::Permission::FullControl,
                $input.grant_full_control.as_deref(),
            ),
            (
                stratus_store::Permission::Read,
                $input.grant_read.as_deref(),
            ),
            (stratus_store::Permission::Write, $write),
            (
                stratus_store::Permission::ReadAcp,
                $input.grant_read_acp.as_deref(),
            ),
            (
                stratus_store::Permission::WriteAcp,
                $input.grant_write_acp.as_deref(),
            ),
        ]
    };
}
pub(crate) use grant_headers;

/// The stored ACL of an object write (PutObject, CopyObject, CreateMultipartUpload), whose
/// headers the access hook has validated: `None` for `private`.
macro_rules! object_write_acl {
    ($input:expr, $owner:expr) => {
        $crate::s3::acl_grants::requested(
            $input.acl.as_ref().map(|a| a.as_str()),
            &$crate::s3::acl_grants::grant_headers!($input, None),
            None,
            $owner,
        )
        .ok()
        .flatten()
        .and_then(|(_, acl)| acl.stored())
    };
}
pub(crate) use object_write_acl;
