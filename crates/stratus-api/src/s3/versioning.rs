//! S3 versioning, Object Lock and object tagging: bucket versioning and lock configuration,
//! ListObjectVersions, and one version's retention, legal hold and tags. The semantics live in
//! the store (`stratus_store`'s `versions.rs`); this file only translates.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_store::{
    BucketObjectLock, BucketVersioning, DefaultRetention, ObjectLock, Retention, RetentionMode,
    VersionCursor, VersionListRequest, VersionSelector,
};

use super::StratusS3;
use super::convert::{etag, timestamp};
use super::errors::{coded, s3_err, s3_error};
use super::listing::{Encoder, max_keys, resume_after};

/// The version a request's `versionId` names.
pub(super) fn selector(version_id: Option<&str>) -> VersionSelector {
    VersionSelector::from_query(version_id)
}

/// The `x-amz-tagging` header of a write: `k1=v1&k2=v2`, form-URL-encoded.
pub(super) fn tags_from_header(tagging: Option<&str>) -> S3Result<Vec<(String, String)>> {
    let Some(tagging) = tagging.filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    let tags: Vec<(String, String)> = form_urlencoded::parse(tagging.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    stratus_store::validate_tags(&tags, stratus_store::TagOwner::Object).map_err(s3_error)?;
    Ok(tags)
}

/// A retention mode from a header (`InvalidArgument` when unknown) or from an XML body
/// (`MalformedXML`, as S3 answers a document that does not validate).
fn parse_mode(mode: &str, in_body: bool) -> S3Result<RetentionMode> {
    let code = if in_body {
        S3ErrorCode::MalformedXML
    } else {
        S3ErrorCode::InvalidArgument
    };
    RetentionMode::parse(mode).map_or_else(|| s3_err(code, "unknown retention mode"), Ok)
}

fn unix_ms(ts: &Timestamp) -> i64 {
    let time: time::OffsetDateTime = ts.clone().into();
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A write's `x-amz-object-lock-*` headers.
pub(super) fn lock_from_headers(
    mode: Option<&ObjectLockMode>,
    until: Option<&Timestamp>,
    legal_hold: Option<&ObjectLockLegalHoldStatus>,
) -> S3Result<ObjectLock> {
    let retention = match (mode, until) {
        (None, None) => None,
        (Some(mode), Some(until)) => {
            let until = unix_ms(until);
            if until <= stratus_core::clock::now_ms() {
                return s3_err(
                    S3ErrorCode::InvalidArgument,
                    "the retain until date must be in the future",
                );
            }
            Some(Retention {
                mode: parse_mode(mode.as_str(), false)?,
                retain_until_ms: until,
            })
        }
        _ => {
            return s3_err(
                S3ErrorCode::InvalidArgument,
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            );
        }
    };
    Ok(ObjectLock {
        retention,
        legal_hold: legal_hold.is_some_and(|h| h.as_str() == ObjectLockLegalHoldStatus::ON),
    })
}

pub(super) async fn get_bucket_versioning(
    s3: &StratusS3,
    req: S3Request<GetBucketVersioningInput>,
) -> S3Result<S3Response<GetBucketVersioningOutput>> {
    let caller = s3.caller(&req).await?;
    let (state, _) = s3
        .store
        .bucket_versioning(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketVersioningOutput {
        status: state
            .as_stored()
            .map(|s| BucketVersioningStatus::from(s.to_owned())),
        ..Default::default()
    }))
}

pub(super) async fn put_bucket_versioning(
    s3: &StratusS3,
    req: S3Request<PutBucketVersioningInput>,
) -> S3Result<S3Response<PutBucketVersioningOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let state = match input
        .versioning_configuration
        .status
        .as_ref()
        .map(BucketVersioningStatus::as_str)
    {
        Some("Enabled") => BucketVersioning::Enabled,
        Some("Suspended") => BucketVersioning::Suspended,
        _ => {
            return s3_err(
                S3ErrorCode::MalformedXML,
                "the versioning status must be Enabled or Suspended",
            );
        }
    };
    if input
        .versioning_configuration
        .mfa_delete
        .as_ref()
        .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
    {
        return s3_err(S3ErrorCode::NotImplemented, "MFA delete is not supported");
    }
    s3.store
        .set_versioning(&caller, &input.bucket, state)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutBucketVersioningOutput::default()))
}

pub(super) async fn list_object_versions(
    s3: &StratusS3,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let max_keys = max_keys(input.max_keys)?;
    let version_marker = input.version_id_marker.as_deref().filter(|m| !m.is_empty());
    let key_marker = input.key_marker.as_deref().filter(|m| !m.is_empty());
    if version_marker.is_some() && key_marker.is_none() {
        return s3_err(
            S3ErrorCode::InvalidArgument,
            "a version-id marker cannot be specified without a key marker",
        );
    }
    let prefix = input.prefix.clone().unwrap_or_default();
    let request = VersionListRequest {
        bucket: input.bucket.clone(),
        after: VersionCursor {
            key: key_marker
                .map(|m| resume_after(m, &prefix, input.delimiter.as_deref()))
                .unwrap_or_default(),
            version: version_marker.map(|m| selector(Some(m))),
        },
        prefix,
        delimiter: input.delimiter.clone(),
        max_keys,
    };
    let page = s3
        .store
        .list_object_versions(&caller, request)
        .await
        .map_err(s3_error)?;
    let encoder = Encoder::new(input.encoding_type.as_ref());
    let owner = super::access_config::project_owner(&caller.project);
    let (mut versions, mut markers) = (Vec::new(), Vec::new());
    for entry in page.versions {
        let version_id = Some(entry.version_id.clone().unwrap_or_else(|| "null".into()));
        if entry.delete_marker {
            markers.push(DeleteMarkerEntry {
                is_latest: Some(entry.is_latest),
                key: Some(encoder.apply(&entry.key)),
                last_modified: Some(timestamp(entry.last_modified_ms)),
                owner: Some(owner.clone()),
                version_id,
            });
        } else {
            versions.push(ObjectVersion {
                e_tag: Some(etag(&entry.etag)),
                is_latest: Some(entry.is_latest),
                key: Some(encoder.apply(&entry.key)),
                last_modified: Some(timestamp(entry.last_modified_ms)),
                owner: Some(owner.clone()),
                size: i64::try_from(entry.size).ok(),
                storage_class: Some(ObjectVersionStorageClass::from_static(
                    ObjectVersionStorageClass::STANDARD,
                )),
                version_id,
                ..Default::default()
            });
        }
    }
    let truncated = page.next_marker.is_some();
    let (next_key_marker, next_version_id_marker) = match page.next_marker {
        Some((key, version)) => (
            Some(encoder.apply(&key)),
            version.map(|v| match v {
                VersionSelector::Id(id) => id,
                _ => "null".to_owned(),
            }),
        ),
        None => (None, None),
    };
    Ok(S3Response::new(ListObjectVersionsOutput {
        common_prefixes: Some(
            page.common_prefixes
                .into_iter()
                .map(|p| CommonPrefix {
                    prefix: Some(encoder.apply(&p)),
                })
                .collect(),
        ),
        delete_markers: Some(markers),
        delimiter: input.delimiter.map(|d| encoder.apply(&d)),
        encoding_type: input.encoding_type,
        is_truncated: Some(truncated),
        key_marker: input.key_marker,
        max_keys: i32::try_from(max_keys).ok(),
        name: Some(input.bucket),
        next_key_marker,
        next_version_id_marker,
        prefix: input.prefix.map(|p| encoder.apply(&p)),
        version_id_marker: input.version_id_marker,
        versions: Some(versions),
        ..Default::default()
    }))
}

pub(super) async fn put_object_lock_configuration(
    s3: &StratusS3,
    req: S3Request<PutObjectLockConfigurationInput>,
) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let Some(config) = input.object_lock_configuration else {
        return s3_err(
            S3ErrorCode::MalformedXML,
            "an Object Lock configuration is required",
        );
    };
    if config
        .object_lock_enabled
        .as_ref()
        .is_none_or(|e| e.as_str() != ObjectLockEnabled::ENABLED)
    {
        return s3_err(
            S3ErrorCode::MalformedXML,
            "ObjectLockEnabled must be Enabled",
        );
    }
    let default_retention = match config.rule.and_then(|r| r.default_retention) {
        None => None,
        Some(d) => {
            let Some(mode) = d.mode else {
                return s3_err(
                    S3ErrorCode::MalformedXML,
                    "a default retention needs a Mode",
                );
            };
            let positive = |n: Option<i32>| -> S3Result<Option<u32>> {
                match n {
                    None => Ok(None),
                    Some(n) if n > 0 => Ok(u32::try_from(n).ok()),
                    Some(_) => Err(coded(
                        "InvalidRetentionPeriod",
                        http::StatusCode::BAD_REQUEST,
                        "the retention period must be a positive integer".into(),
                    )),
                }
            };
            let (days, years) = (positive(d.days)?, positive(d.years)?);
            if days.is_some() == years.is_some() {
                return s3_err(
                    S3ErrorCode::MalformedXML,
                    "a default retention names either Days or Years",
                );
            }
            Some(DefaultRetention {
                mode: parse_mode(mode.as_str(), true)?,
                days,
                years,
            })
        }
    };
    s3.store
        .set_object_lock(
            &caller,
            &input.bucket,
            BucketObjectLock { default_retention },
        )
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
}

pub(super) async fn get_object_lock_configuration(
    s3: &StratusS3,
    req: S3Request<GetObjectLockConfigurationInput>,
) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    let (_, lock) = s3
        .store
        .bucket_versioning(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    let Some(lock) = lock else {
        return s3_err(
            S3ErrorCode::ObjectLockConfigurationNotFoundError,
            "Object Lock configuration does not exist for this bucket",
        );
    };
    let rule = lock.default_retention.map(|d| ObjectLockRule {
        default_retention: Some(s3s::dto::DefaultRetention {
            days: d.days.and_then(|n| i32::try_from(n).ok()),
            years: d.years.and_then(|n| i32::try_from(n).ok()),
            mode: Some(ObjectLockRetentionMode::from(d.mode.as_str().to_owned())),
        }),
    });
    Ok(S3Response::new(GetObjectLockConfigurationOutput {
        object_lock_configuration: Some(ObjectLockConfiguration {
            object_lock_enabled: Some(ObjectLockEnabled::from_static(ObjectLockEnabled::ENABLED)),
            rule,
        }),
    }))
}

/// The version's lock, after checking the bucket has Object Lock (S3 answers InvalidRequest
/// otherwise, even for reads).
async fn version_lock(
    s3: &StratusS3,
    caller: &stratus_identity::Principal,
    object: (&str, &str, Option<&str>),
) -> S3Result<ObjectLock> {
    let (bucket, key, version_id) = object;
    let (_, lock) = s3
        .store
        .bucket_versioning(caller, bucket)
        .await
        .map_err(s3_error)?;
    if lock.is_none() {
        return s3_err(
            S3ErrorCode::InvalidRequest,
            "Bucket is missing Object Lock Configuration",
        );
    }
    let record = s3
        .store
        .head_object_version(caller, bucket, key, &selector(version_id))
        .await
        .map_err(s3_error)?;
    Ok(record.headers.lock)
}

pub(super) async fn put_object_retention(
    s3: &StratusS3,
    req: S3Request<PutObjectRetentionInput>,
) -> S3Result<S3Response<PutObjectRetentionOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let retention = match input.retention {
        None => None,
        Some(r) => match (r.mode, r.retain_until_date) {
            (None, None) => None,
            (Some(mode), Some(until)) => Some(Retention {
                mode: parse_mode(mode.as_str(), true)?,
                retain_until_ms: unix_ms(&until),
            }),
            _ => {
                return s3_err(
                    S3ErrorCode::MalformedXML,
                    "a retention needs both Mode and RetainUntilDate",
                );
            }
        },
    };
    let bypass = input.bypass_governance_retention.unwrap_or(false);
    s3.store
        .set_retention(
            &caller,
            (
                &input.bucket,
                &input.key,
                &selector(input.version_id.as_deref()),
            ),
            retention,
            bypass,
        )
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutObjectRetentionOutput::default()))
}

pub(super) async fn get_object_retention(
    s3: &StratusS3,
    req: S3Request<GetObjectRetentionInput>,
) -> S3Result<S3Response<GetObjectRetentionOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let lock = version_lock(
        s3,
        &caller,
        (&input.bucket, &input.key, input.version_id.as_deref()),
    )
    .await?;
    let Some(retention) = lock.retention else {
        return s3_err(
            S3ErrorCode::NoSuchObjectLockConfiguration,
            "the specified object does not have a ObjectLock configuration",
        );
    };
    Ok(S3Response::new(GetObjectRetentionOutput {
        retention: Some(ObjectLockRetention {
            mode: Some(ObjectLockRetentionMode::from(
                retention.mode.as_str().to_owned(),
            )),
            retain_until_date: Some(timestamp(retention.retain_until_ms)),
        }),
    }))
}

pub(super) async fn put_object_legal_hold(
    s3: &StratusS3,
    req: S3Request<PutObjectLegalHoldInput>,
) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let on = match input
        .legal_hold
        .and_then(|h| h.status)
        .as_ref()
        .map(ObjectLockLegalHoldStatus::as_str)
    {
        Some(ObjectLockLegalHoldStatus::ON) => true,
        Some(ObjectLockLegalHoldStatus::OFF) => false,
        _ => {
            return s3_err(
                S3ErrorCode::MalformedXML,
                "the legal hold status must be ON or OFF",
            );
        }
    };
    s3.store
        .set_legal_hold(
            &caller,
            (
                &input.bucket,
                &input.key,
                &selector(input.version_id.as_deref()),
            ),
            on,
        )
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
}

pub(super) async fn get_object_legal_hold(
    s3: &StratusS3,
    req: S3Request<GetObjectLegalHoldInput>,
) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let lock = version_lock(
        s3,
        &caller,
        (&input.bucket, &input.key, input.version_id.as_deref()),
    )
    .await?;
    let status = if lock.legal_hold {
        ObjectLockLegalHoldStatus::ON
    } else {
        ObjectLockLegalHoldStatus::OFF
    };
    Ok(S3Response::new(GetObjectLegalHoldOutput {
        legal_hold: Some(ObjectLockLegalHold {
            status: Some(ObjectLockLegalHoldStatus::from_static(status)),
        }),
    }))
}

pub(super) async fn put_object_tagging(
    s3: &StratusS3,
    req: S3Request<PutObjectTaggingInput>,
) -> S3Result<S3Response<PutObjectTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let tags: Vec<(String, String)> = input
        .tagging
        .tag_set
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();
    let version_id = s3
        .store
        .set_object_tags(
            &caller,
            (
                &input.bucket,
                &input.key,
                &selector(input.version_id.as_deref()),
            ),
            tags,
        )
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutObjectTaggingOutput { version_id }))
}

pub(super) async fn delete_object_tagging(
    s3: &StratusS3,
    req: S3Request<DeleteObjectTaggingInput>,
) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let version_id = s3
        .store
        .set_object_tags(
            &caller,
            (
                &input.bucket,
                &input.key,
                &selector(input.version_id.as_deref()),
            ),
            Vec::new(),
        )
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeleteObjectTaggingOutput { version_id }))
}

pub(super) async fn get_object_tagging(
    s3: &StratusS3,
    req: S3Request<GetObjectTaggingInput>,
) -> S3Result<S3Response<GetObjectTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let record = s3
        .store
        .head_object_version(
            &caller,
            &input.bucket,
            &input.key,
            &selector(input.version_id.as_deref()),
        )
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: record
            .headers
            .tags
            .into_iter()
            .map(|(key, value)| Tag {
                key: Some(key),
                value: Some(value),
            })
            .collect(),
        version_id: record.version_id,
    }))
}
