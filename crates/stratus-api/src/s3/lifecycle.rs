//! Put/Get/DeleteBucketLifecycleConfiguration: s3s's DTOs to and from the store's
//! `LifecycleRule` (validated there). What the XML itself cannot express (a missing Status or
//! StorageClass, an unknown Status) is refused here as `MalformedXML`, as S3 refuses it.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use stratus_store::{
    AndFilter, Expiration, LifecycleRule as StoreRule, NoncurrentExpiration, NoncurrentTransition,
    RuleFilter, Transition as StoreTransition,
};

use super::StratusS3;
use super::convert::timestamp;
use super::errors::{coded, s3_error};

fn malformed(message: &str) -> s3s::S3Error {
    coded(
        "MalformedXML",
        http::StatusCode::BAD_REQUEST,
        format!(
            "The XML you provided was not well-formed or did not validate against our published schema: {message}"
        ),
    )
}

fn to_ms(date: Timestamp) -> i64 {
    let at = time::OffsetDateTime::from(date);
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn tag_pair(tag: Tag) -> (String, String) {
    (tag.key.unwrap_or_default(), tag.value.unwrap_or_default())
}

fn filter_to_store(filter: LifecycleRuleFilter) -> RuleFilter {
    RuleFilter {
        prefix: filter.prefix,
        tag: filter.tag.map(tag_pair),
        and: filter.and.map(|and| AndFilter {
            prefix: and.prefix,
            tags: and
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(tag_pair)
                .collect(),
            size_greater_than: and.object_size_greater_than,
            size_less_than: and.object_size_less_than,
        }),
        size_greater_than: filter.object_size_greater_than,
        size_less_than: filter.object_size_less_than,
    }
}

fn class_of(class: Option<TransitionStorageClass>) -> S3Result<String> {
    class
        .map(|c| c.as_str().to_owned())
        .ok_or_else(|| malformed("a transition needs a StorageClass"))
}

fn to_store(rule: LifecycleRule) -> S3Result<StoreRule> {
    let enabled = match rule.status.as_str() {
        ExpirationStatus::ENABLED => true,
        ExpirationStatus::DISABLED => false,
        _ => return Err(malformed("Status must be Enabled or Disabled")),
    };
    let transitions = rule
        .transitions
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            Ok(StoreTransition {
                days: t.days,
                date_ms: t.date.map(to_ms),
                storage_class: class_of(t.storage_class)?,
            })
        })
        .collect::<S3Result<Vec<_>>>()?;
    let noncurrent_transitions = rule
        .noncurrent_version_transitions
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            Ok(NoncurrentTransition {
                noncurrent_days: t.noncurrent_days.ok_or_else(|| {
                    malformed("a NoncurrentVersionTransition needs NoncurrentDays")
                })?,
                newer_noncurrent_versions: t.newer_noncurrent_versions,
                storage_class: class_of(t.storage_class)?,
            })
        })
        .collect::<S3Result<Vec<_>>>()?;
    let noncurrent_expiration = rule
        .noncurrent_version_expiration
        .map(|n| {
            Ok::<_, s3s::S3Error>(NoncurrentExpiration {
                noncurrent_days: n.noncurrent_days.ok_or_else(|| {
                    malformed("a NoncurrentVersionExpiration needs NoncurrentDays")
                })?,
                newer_noncurrent_versions: n.newer_noncurrent_versions,
            })
        })
        .transpose()?;
    let abort_upload_days = rule
        .abort_incomplete_multipart_upload
        .map(|a| {
            a.days_after_initiation.ok_or_else(|| {
                malformed("an AbortIncompleteMultipartUpload needs DaysAfterInitiation")
            })
        })
        .transpose()?;
    Ok(StoreRule {
        // S3 names a rule sent without an ID.
        id: rule
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| hex::encode(rand::random::<[u8; 16]>())),
        enabled,
        prefix: rule.prefix,
        filter: rule.filter.map(filter_to_store),
        expiration: rule.expiration.map(|e| Expiration {
            days: e.days,
            date_ms: e.date.map(to_ms),
            expired_object_delete_marker: e.expired_object_delete_marker,
        }),
        noncurrent_expiration,
        abort_upload_days,
        transitions,
        noncurrent_transitions,
    })
}

fn dto_tag((key, value): (String, String)) -> Tag {
    Tag {
        key: Some(key),
        value: Some(value),
    }
}

fn filter_to_dto(filter: RuleFilter) -> LifecycleRuleFilter {
    LifecycleRuleFilter {
        prefix: filter.prefix,
        tag: filter.tag.map(dto_tag),
        and: filter.and.map(|and| LifecycleRuleAndOperator {
            prefix: and.prefix,
            tags: (!and.tags.is_empty()).then(|| and.tags.into_iter().map(dto_tag).collect()),
            object_size_greater_than: and.size_greater_than,
            object_size_less_than: and.size_less_than,
        }),
        object_size_greater_than: filter.size_greater_than,
        object_size_less_than: filter.size_less_than,
    }
}

fn to_dto(rule: StoreRule) -> LifecycleRule {
    LifecycleRule {
        id: Some(rule.id),
        status: ExpirationStatus::from_static(if rule.enabled {
            ExpirationStatus::ENABLED
        } else {
            ExpirationStatus::DISABLED
        }),
        prefix: rule.prefix,
        filter: rule.filter.map(filter_to_dto),
        expiration: rule.expiration.map(|e| LifecycleExpiration {
            days: e.days,
            date: e.date_ms.map(timestamp),
            expired_object_delete_marker: e.expired_object_delete_marker,
        }),
        noncurrent_version_expiration: rule.noncurrent_expiration.map(|n| {
            NoncurrentVersionExpiration {
                noncurrent_days: Some(n.noncurrent_days),
                newer_noncurrent_versions: n.newer_noncurrent_versions,
            }
        }),
        abort_incomplete_multipart_upload: rule.abort_upload_days.map(|days| {
            AbortIncompleteMultipartUpload {
                days_after_initiation: Some(days),
            }
        }),
        transitions: (!rule.transitions.is_empty()).then(|| {
            rule.transitions
                .into_iter()
                .map(|t| Transition {
                    days: t.days,
                    date: t.date_ms.map(timestamp),
                    storage_class: Some(TransitionStorageClass::from(t.storage_class)),
                })
                .collect()
        }),
        noncurrent_version_transitions: (!rule.noncurrent_transitions.is_empty()).then(|| {
            rule.noncurrent_transitions
                .into_iter()
                .map(|t| NoncurrentVersionTransition {
                    noncurrent_days: Some(t.noncurrent_days),
                    newer_noncurrent_versions: t.newer_noncurrent_versions,
                    storage_class: Some(TransitionStorageClass::from(t.storage_class)),
                })
                .collect()
        }),
    }
}

pub(super) async fn put_bucket_lifecycle_configuration(
    s3: &StratusS3,
    req: S3Request<PutBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let config = input
        .lifecycle_configuration
        .ok_or_else(|| malformed("the request has no LifecycleConfiguration"))?;
    let rules = config
        .rules
        .into_iter()
        .map(to_store)
        .collect::<S3Result<Vec<_>>>()?;
    s3.store
        .set_bucket_lifecycle(&caller, &input.bucket, Some(rules))
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(
        PutBucketLifecycleConfigurationOutput::default(),
    ))
}

pub(super) async fn get_bucket_lifecycle_configuration(
    s3: &StratusS3,
    req: S3Request<GetBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    let rules = s3
        .store
        .bucket_lifecycle(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
        rules: Some(rules.into_iter().map(to_dto).collect()),
        ..Default::default()
    }))
}

pub(super) async fn delete_bucket_lifecycle(
    s3: &StratusS3,
    req: S3Request<DeleteBucketLifecycleInput>,
) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .set_bucket_lifecycle(&caller, &req.input.bucket, None)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeleteBucketLifecycleOutput::default()))
}
