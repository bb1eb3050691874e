//! A bucket's versioning and public access under `/v1/buckets/{bucket}/…`, and its versions:
//! what the console's bucket page shows and changes. Each call is the store method the S3
//! handlers use (PutBucketVersioning, PutBucketAcl, ListObjectVersions), so both APIs agree.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use http::Method;
use serde::Deserialize;
use stratus_client::buckets::{
    AclChange, BucketSettings, VersionList, VersionSummary, VersioningChange,
};
use stratus_identity::Principal;
use stratus_store::{
    BucketVersioning, CannedAcl, StoreError, VersionCursor, VersionListRequest, VersionSelector,
};

use super::caller::Caller;
use super::problem::{ApiResult, Problem, parse_json};
use super::state::AppState;
use super::table::RouteTable;

/// Version listings answer at most this many versions per page (S3's `max-keys` ceiling).
const MAX_VERSIONS: usize = 1000;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::GET, "/v1/buckets/{bucket}/settings", show_settings)
        .add(
            Method::PUT,
            "/v1/buckets/{bucket}/versioning",
            set_versioning,
        )
        .add(Method::PUT, "/v1/buckets/{bucket}/acl", set_acl)
        .add(Method::GET, "/v1/buckets/{bucket}/versions", list_versions)
}

fn versioning_name(state: BucketVersioning) -> &'static str {
    match state {
        BucketVersioning::Unversioned => "Off",
        BucketVersioning::Enabled => "Enabled",
        BucketVersioning::Suspended => "Suspended",
    }
}

async fn access_block(
    state: &AppState,
    caller: &Principal,
    bucket: &str,
) -> ApiResult<stratus_store::PublicAccessBlock> {
    match state.store.public_access_block(caller, bucket).await {
        Ok(block) => Ok(block),
        Err(StoreError::NoSuchConfiguration(_)) => Ok(stratus_store::PublicAccessBlock::default()),
        Err(error) => Err(error.into()),
    }
}

async fn settings(state: &AppState, caller: &Principal, bucket: &str) -> ApiResult<BucketSettings> {
    let (versioning, lock) = state.store.bucket_versioning(caller, bucket).await?;
    let acl = state.store.bucket_acl(caller, bucket).await?;
    Ok(BucketSettings {
        versioning: versioning_name(versioning).to_owned(),
        object_lock: lock.is_some(),
        // A grant list that is no canned ACL (set through S3's AccessControlPolicy) is "custom".
        acl: CannedAcl::from_grants(&acl.grants)
            .map_or("custom", CannedAcl::as_str)
            .to_owned(),
        // AWS's answer to "is this bucket public" (GetBucketPolicyStatus): policy or ACL, as
        // far as Block Public Access lets them count.
        public: state.store.bucket_policy_is_public(caller, bucket).await?,
        public_acls_blocked: access_block(state, caller, bucket).await?.block_public_acls,
    })
}

/// The bucket's versioning state and whether it is public.
#[utoipa::path(get, path = "/v1/buckets/{bucket}/settings", tag = "buckets",
    params(("bucket" = String, Path)),
    responses((status = 200, description = "Versioning and public access", body = BucketSettings)))]
pub(crate) async fn show_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
) -> ApiResult<Json<BucketSettings>> {
    Ok(Json(settings(&state, &caller, &bucket).await?))
}

/// Enables or suspends versioning (it cannot be turned off once on, as in S3).
#[utoipa::path(put, path = "/v1/buckets/{bucket}/versioning", tag = "buckets",
    params(("bucket" = String, Path)), request_body = VersioningChange,
    responses((status = 200, description = "The bucket's new settings", body = BucketSettings)))]
pub(crate) async fn set_versioning(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
    body: Bytes,
) -> ApiResult<Json<BucketSettings>> {
    let change: VersioningChange = parse_json(&body, "invalid versioning document")?;
    let status = match change.status.as_str() {
        "Enabled" => BucketVersioning::Enabled,
        "Suspended" => BucketVersioning::Suspended,
        other => {
            return Err(Problem::invalid(format!(
                "status must be \"Enabled\" or \"Suspended\", not {other:?}"
            )));
        }
    };
    state.store.set_versioning(&caller, &bucket, status).await?;
    Ok(Json(settings(&state, &caller, &bucket).await?))
}

/// Sets the bucket's canned ACL: `public-read` lets anyone list the bucket and read objects
/// whose own ACL allows it, unless Block Public Access refuses public ACLs (403).
#[utoipa::path(put, path = "/v1/buckets/{bucket}/acl", tag = "buckets",
    params(("bucket" = String, Path)), request_body = AclChange,
    responses((status = 200, description = "The bucket's new settings", body = BucketSettings)))]
pub(crate) async fn set_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
    body: Bytes,
) -> ApiResult<Json<BucketSettings>> {
    let change: AclChange = parse_json(&body, "invalid ACL document")?;
    let acl: CannedAcl = change.acl.parse().map_err(|_| {
        Problem::invalid(format!(
            "acl must be private, public-read, public-read-write or authenticated-read, not {:?}",
            change.acl
        ))
    })?;
    state
        .store
        .set_bucket_acl(&caller, &bucket, acl.into())
        .await?;
    Ok(Json(settings(&state, &caller, &bucket).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct VersionsQuery {
    /// Only keys that start with this.
    #[serde(default)]
    prefix: String,
    /// Resume after this key (the previous page's `next_key_marker`) ...
    key_marker: Option<String>,
    /// ... and this version of it (`next_version_marker`).
    version_marker: Option<String>,
    /// At most this many versions (1 to 1000, the default).
    limit: Option<usize>,
}

/// One page of the bucket's versions and delete markers, in key order, newest first per key.
#[utoipa::path(get, path = "/v1/buckets/{bucket}/versions", tag = "buckets",
    params(("bucket" = String, Path), VersionsQuery),
    responses((status = 200, description = "A page of versions", body = VersionList)))]
pub(crate) async fn list_versions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
    Query(query): Query<VersionsQuery>,
) -> ApiResult<Json<VersionList>> {
    let limit = query.limit.unwrap_or(MAX_VERSIONS);
    if !(1..=MAX_VERSIONS).contains(&limit) {
        return Err(Problem::invalid(format!(
            "limit must be 1 to {MAX_VERSIONS}"
        )));
    }
    if query.version_marker.is_some() && query.key_marker.is_none() {
        return Err(Problem::invalid("version_marker needs key_marker"));
    }
    let after = VersionCursor {
        key: query.key_marker.unwrap_or_default().into_bytes(),
        version: query
            .version_marker
            .as_deref()
            .map(|id| VersionSelector::from_query(Some(id))),
    };
    let page = state
        .store
        .list_object_versions(
            &caller,
            VersionListRequest {
                bucket,
                prefix: query.prefix,
                delimiter: None,
                after,
                max_keys: limit,
            },
        )
        .await?;
    let (next_key_marker, next_version_marker) = match page.next_marker {
        Some((key, version)) => (
            Some(key),
            version.map(|v| match v {
                VersionSelector::Id(id) => id,
                VersionSelector::Null | VersionSelector::Current => "null".to_owned(),
            }),
        ),
        None => (None, None),
    };
    Ok(Json(VersionList {
        versions: page
            .versions
            .into_iter()
            .map(|v| VersionSummary {
                key: v.key,
                version_id: v.version_id.unwrap_or_else(|| "null".to_owned()),
                is_latest: v.is_latest,
                delete_marker: v.delete_marker,
                size: v.size,
                etag: v.etag,
                last_modified_ms: v.last_modified_ms,
            })
            .collect(),
        next_key_marker,
        next_version_marker,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioning_states_have_the_names_the_console_shows() {
        assert_eq!(versioning_name(BucketVersioning::Unversioned), "Off");
        assert_eq!(versioning_name(BucketVersioning::Enabled), "Enabled");
        assert_eq!(versioning_name(BucketVersioning::Suspended), "Suspended");
    }

    #[test]
    fn an_unknown_status_is_not_a_versioning_change() {
        let change: VersioningChange =
            parse_json(br#"{"status": "Off"}"#, "x").expect("valid JSON");
        assert_eq!(change.status, "Off");
        assert!(parse_json::<VersioningChange>(b"{}", "x").is_err());
    }
}
