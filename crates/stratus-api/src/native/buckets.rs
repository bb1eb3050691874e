//! The native bucket and object API under `/v1/buckets` (what `stratus buckets`, `stratus cp`
//! and script services use), with problem documents for errors. Every call goes through the
//! [`Store`](stratus_store::Store) exactly as an S3 request does, so durability, tenancy,
//! outbox events and bucket triggers behave the same whichever API wrote an object.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use futures::{Stream, TryStreamExt as _};
use http::{HeaderMap, Method, Response, StatusCode};
use serde::Deserialize;
use stratus_client::buckets::{Bucket, BucketList, ObjectList, ObjectSummary, StoredObject};
use stratus_core::{Action, BucketName, EventKind, ObjectKey};
use stratus_store::{ObjectHeaders, ObjectWrite, StoreError, VersionSelector, WriteCondition};

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

/// Listings answer at most this many objects per page (S3's `max-keys` ceiling).
const MAX_LIST: usize = 1000;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::GET, "/v1/buckets", list_buckets)
        .add(Method::GET, "/v1/buckets/{bucket}", show_bucket)
        .add(Method::PUT, "/v1/buckets/{bucket}", create_bucket)
        .add(Method::DELETE, "/v1/buckets/{bucket}", delete_bucket)
        .add(Method::GET, "/v1/buckets/{bucket}/objects", list_objects)
        .add(
            Method::PUT,
            "/v1/buckets/{bucket}/objects/{*key}",
            put_object,
        )
        .add(
            Method::GET,
            "/v1/buckets/{bucket}/objects/{*key}",
            get_object,
        )
        .add(
            Method::DELETE,
            "/v1/buckets/{bucket}/objects/{*key}",
            delete_object,
        )
}

fn bucket_of(record: stratus_store::BucketRecord) -> Bucket {
    Bucket {
        name: record.name,
        project: record.project,
        created_ms: record.created_ms,
    }
}

/// The caller's project's buckets.
#[utoipa::path(get, path = "/v1/buckets", tag = "buckets",
    responses((status = 200, description = "The project's buckets", body = BucketList)))]
pub(crate) async fn list_buckets(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<BucketList>> {
    let buckets = state.store.list_buckets(&caller).await?;
    Ok(Json(BucketList {
        buckets: buckets.into_iter().map(bucket_of).collect(),
    }))
}

/// Creates the bucket; 200 when the caller's project already owns it, so scripts and
/// `stratus apply` may "ensure" a bucket without a separate check. Another project's name is a
/// 409: bucket names are global, as in S3.
#[utoipa::path(put, path = "/v1/buckets/{bucket}", tag = "buckets",
    params(("bucket" = String, Path, description = "The bucket's name (S3 naming rules)")),
    responses(
        (status = 201, description = "Created", body = Bucket),
        (status = 200, description = "The project already owns it", body = Bucket)))]
pub(crate) async fn create_bucket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
) -> ApiResult<(StatusCode, Json<Bucket>)> {
    let name = BucketName::parse(&bucket).map_err(|e| Problem::invalid(e.0))?;
    let status = match state.store.create_bucket(&caller, &name).await {
        Ok(()) => StatusCode::CREATED,
        Err(StoreError::BucketAlreadyOwnedByYou) => StatusCode::OK,
        Err(StoreError::BucketAlreadyExists) => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("the bucket name {bucket:?} is taken by another project"),
            ));
        }
        Err(error) => return Err(Problem::from(&error)),
    };
    let record = state.store.head_bucket(&caller, &bucket).await?;
    Ok((status, Json(bucket_of(record))))
}

/// One of the project's buckets.
#[utoipa::path(get, path = "/v1/buckets/{bucket}", tag = "buckets",
    params(("bucket" = String, Path)),
    responses((status = 200, description = "The bucket", body = Bucket)))]
pub(crate) async fn show_bucket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
) -> ApiResult<Json<Bucket>> {
    let record = state.store.head_bucket(&caller, &bucket).await?;
    Ok(Json(bucket_of(record)))
}

/// Deletes an empty bucket.
#[utoipa::path(delete, path = "/v1/buckets/{bucket}", tag = "buckets",
    params(("bucket" = String, Path)),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_bucket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_bucket(&caller, &bucket).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only keys that start with this.
    #[serde(default)]
    prefix: String,
    /// Keys after this one (the previous page's `next_after`).
    #[serde(default)]
    after: String,
    /// At most this many objects (1 to 1000, the default).
    limit: Option<usize>,
}

/// One page of the bucket's objects, in key order.
#[utoipa::path(get, path = "/v1/buckets/{bucket}/objects", tag = "buckets",
    params(("bucket" = String, Path), ListQuery),
    responses((status = 200, description = "A page of objects", body = ObjectList)))]
pub(crate) async fn list_objects(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<ObjectList>> {
    let request = stratus_store::ListRequest {
        bucket,
        prefix: query.prefix,
        delimiter: None,
        after: query.after.into_bytes(),
        max_keys: query.limit.unwrap_or(MAX_LIST).clamp(1, MAX_LIST),
    };
    let page = state.store.list_objects(&caller, request).await?;
    let objects = page
        .objects
        .into_iter()
        .map(|o| ObjectSummary {
            key: o.key,
            size: o.size,
            etag: o.etag,
            last_modified_ms: o.last_modified_ms,
        })
        .collect();
    let next_after = page
        .next_after
        .map(|bound| String::from_utf8_lossy(&bound).into_owned());
    Ok(Json(ObjectList {
        objects,
        next_after,
    }))
}

/// The store wants a `Sync` body stream; axum's request body is only `Send`. The stream is only
/// ever polled through `&mut`, so the mutex is never locked (`get_mut`), it just proves `Sync`.
struct SyncStream<S>(Mutex<S>);

impl<S: Stream + Unpin> Stream for SyncStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut().0.get_mut() {
            Ok(inner) => Pin::new(inner).poll_next(cx),
            Err(_) => Poll::Ready(None),
        }
    }
}

fn header_text(headers: &HeaderMap, name: http::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Stores the request body as the object. `Content-Type` is kept; `If-None-Match: *` makes
/// the write conditional on the key being absent, as in S3.
#[utoipa::path(put, path = "/v1/buckets/{bucket}/objects/{key}", tag = "buckets",
    params(("bucket" = String, Path), ("key" = String, Path, description = "The object's key; may contain `/`")),
    request_body(content = stratus_client::Binary, content_type = "application/octet-stream", description = "The object's bytes"),
    responses((status = 200, description = "Stored", body = StoredObject)))]
pub(crate) async fn put_object(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((bucket, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<StoredObject>> {
    ObjectKey::parse(&key).map_err(|e| Problem::invalid(e.0))?;
    // A denied caller must not get to upload gigabytes first.
    state
        .store
        .authorize(&caller, &bucket, Action::Write)
        .await?;
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let staged = state
        .store
        .stage(Box::pin(SyncStream(Mutex::new(stream))), true)
        .await?;
    let condition = match headers.get(http::header::IF_NONE_MATCH) {
        Some(value) if value.as_bytes() == b"*" => WriteCondition::IfAbsent,
        _ => WriteCondition::Always,
    };
    let write = ObjectWrite {
        bucket,
        key,
        headers: ObjectHeaders {
            content_type: header_text(&headers, http::header::CONTENT_TYPE),
            ..ObjectHeaders::default()
        },
        condition,
        kind: EventKind::Put,
    };
    let record = state.store.put_object(&caller, write, staged).await?;
    Ok(Json(StoredObject {
        bucket: record.bucket,
        key: record.key,
        size: record.size,
        etag: record.etag,
        last_modified_ms: record.last_modified_ms,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct VersionQuery {
    /// One version of the object (`null`: the one written while versioning was off); absent:
    /// the current version.
    version_id: Option<String>,
}

impl VersionQuery {
    fn selector(&self) -> VersionSelector {
        VersionSelector::from_query(self.version_id.as_deref())
    }
}

/// Streams the object's bytes (the current version, or `version_id`'s) with its
/// `Content-Type`, `Content-Length` and `ETag`.
#[utoipa::path(get, path = "/v1/buckets/{bucket}/objects/{key}", tag = "buckets",
    params(("bucket" = String, Path), ("key" = String, Path), VersionQuery),
    responses((status = 200, description = "The object's bytes", body = stratus_client::Binary, content_type = "application/octet-stream")))]
pub(crate) async fn get_object(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((bucket, key)): Path<(String, String)>,
    Query(version): Query<VersionQuery>,
) -> ApiResult<Response<Body>> {
    let (record, _, body) = state
        .store
        .get_object_version(&caller, (&bucket, &key, &version.selector()), |_| {
            Ok::<_, StoreError>(None)
        })
        .await?;
    let content_type = record
        .headers
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CONTENT_LENGTH, record.size)
        .header(http::header::ETAG, format!("\"{}\"", record.etag))
        .body(Body::from_stream(body))
        .map_err(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "the object's headers could not be written",
            )
        })
}

/// Deletes the object (in a versioned bucket: adds a delete marker), or with `version_id` that
/// one version for good unless Object Lock keeps it; a missing key succeeds, as in S3.
#[utoipa::path(delete, path = "/v1/buckets/{bucket}/objects/{key}", tag = "buckets",
    params(("bucket" = String, Path), ("key" = String, Path), VersionQuery),
    responses((status = 204, description = "Deleted (or was absent)")))]
pub(crate) async fn delete_object(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((bucket, key)): Path<(String, String)>,
    Query(version): Query<VersionQuery>,
) -> ApiResult<StatusCode> {
    match version.selector() {
        VersionSelector::Current => state.store.delete_object(&caller, &bucket, &key).await?,
        selector => {
            state
                .store
                .delete_object_version(&caller, (&bucket, &key, &selector), false)
                .await?
        }
    };
    Ok(StatusCode::NO_CONTENT)
}
