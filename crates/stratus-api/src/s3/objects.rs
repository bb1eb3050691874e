//! Object operations.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_core::{Action, EventKind, ObjectKey};
use stratus_store::{
    ByteRange, CopyDirectives, ObjectRecord, ObjectWrite, StoreError, WriteCondition,
};

use super::StratusS3;
use super::checksums::{declared_checksums, receive_body};
use super::convert::{
    check_read_conditions, etag, header_input, metadata, parse_http_date, timestamp,
};
use super::errors::{s3_err, s3_error};
use super::versioning::{lock_from_headers, selector, tags_from_header};

/// Errors of a read: the store's, or a protocol-level one (precondition, range).
pub(super) enum ReadError {
    Store(StoreError),
    S3(S3Error),
}

impl From<StoreError> for ReadError {
    fn from(err: StoreError) -> Self {
        ReadError::Store(err)
    }
}

impl From<ReadError> for S3Error {
    fn from(err: ReadError) -> Self {
        match err {
            ReadError::Store(err) => s3_error(err),
            ReadError::S3(err) => err,
        }
    }
}

pub(super) fn check_key(key: &str) -> S3Result<()> {
    match ObjectKey::parse(key) {
        Ok(_) => Ok(()),
        Err(_) if key.is_empty() => {
            s3_err(S3ErrorCode::InvalidArgument, "object key must not be empty")
        }
        Err(e) => s3_err(S3ErrorCode::KeyTooLongError, e.0),
    }
}

/// S3's conditional writes (PutObject, CompleteMultipartUpload), checked by the store inside
/// the write's transaction so two racing writers cannot both win.
pub(super) fn write_condition(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> WriteCondition {
    match (if_match, if_none_match) {
        (_, Some(ETagCondition::Any)) => WriteCondition::IfAbsent,
        (Some(ETagCondition::ETag(tag)), _) => WriteCondition::IfEtag(tag.value().to_owned()),
        (Some(ETagCondition::Any), _) => WriteCondition::IfPresent,
        (None, Some(ETagCondition::ETag(tag))) => {
            WriteCondition::UnlessEtag(tag.value().to_owned())
        }
        (None, None) => WriteCondition::Always,
    }
}

pub(super) async fn put_object(
    s3: &StratusS3,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    check_key(&input.key)?;
    // Denied callers must not get to upload gigabytes first.
    s3.store
        .authorize(&caller, &input.bucket, Action::Write)
        .await
        .map_err(s3_error)?;
    let (staged, checksums) = receive_body(
        &s3.store,
        &req.headers,
        req.trailing_headers.as_ref(),
        declared_checksums!(input),
        input.body,
        true,
    )
    .await?;
    let mut headers = header_input!(input).into_headers();
    headers.acl = super::acl_grants::object_write_acl!(input, &caller.project);
    headers.checksums = checksums;
    headers.tags = tags_from_header(input.tagging.as_deref())?;
    headers.lock = lock_from_headers(
        input.object_lock_mode.as_ref(),
        input.object_lock_retain_until_date.as_ref(),
        input.object_lock_legal_hold_status.as_ref(),
    )?;
    let write = ObjectWrite {
        bucket: input.bucket,
        key: input.key,
        headers,
        condition: write_condition(input.if_match.as_ref(), input.if_none_match.as_ref()),
        kind: EventKind::Put,
    };
    let record = s3
        .store
        .put_object(&caller, write, staged)
        .await
        .map_err(s3_error)?;
    let sums = &record.headers.checksums;
    let expiration = s3.store.expiration_of(&record).await.map_err(s3_error)?;
    Ok(S3Response::new(PutObjectOutput {
        e_tag: Some(etag(&record.etag)),
        expiration,
        checksum_crc32: sums.get("CRC32").cloned(),
        checksum_crc32c: sums.get("CRC32C").cloned(),
        checksum_crc64nvme: sums.get("CRC64NVME").cloned(),
        checksum_sha1: sums.get("SHA1").cloned(),
        checksum_sha256: sums.get("SHA256").cloned(),
        version_id: record.version_id.clone(),
        ..Default::default()
    }))
}

fn resolve_range(range: Option<&Range>, size: u64) -> Result<Option<ByteRange>, ReadError> {
    let Some(range) = range else { return Ok(None) };
    match range.check(size) {
        Ok(bytes) if bytes.end > bytes.start => Ok(Some(ByteRange {
            start: bytes.start,
            end: bytes.end - 1,
        })),
        _ => Err(ReadError::S3(S3Error::with_message(
            S3ErrorCode::InvalidRange,
            "the requested range is not satisfiable",
        ))),
    }
}

/// Checksums are returned only for whole-object reads the client asked to validate.
fn wants_checksums(mode: Option<&ChecksumMode>, range: Option<ByteRange>) -> bool {
    range.is_none() && mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}

pub(super) async fn get_object(
    s3: &StratusS3,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let version = selector(input.version_id.as_deref());
    let (record, range, body) = s3
        .store
        .get_object_version(
            &caller,
            (&input.bucket, &input.key, &version),
            |record: &ObjectRecord| {
                check_read_conditions(
                    record,
                    input.if_match.as_ref(),
                    input.if_none_match.as_ref(),
                    input.if_modified_since.as_ref(),
                    input.if_unmodified_since.as_ref(),
                )
                .map_err(ReadError::S3)?;
                super::part_reads::range_for(
                    input.part_number,
                    input.range.as_ref(),
                    record,
                    resolve_range,
                )
            },
        )
        .await
        .map_err(S3Error::from)?;
    let mut head = describe(&record, range, input.checksum_mode.as_ref());
    super::multipart_checksums::add_part_checksum(&mut head, &record.headers, input.part_number);
    let expiration = current_expiration(s3, input.version_id.as_deref(), &record).await?;
    let output = GetObjectOutput {
        expiration,
        body: Some(StreamingBlob::wrap(body)),
        content_length: head.content_length,
        content_range: head.content_range,
        accept_ranges: head.accept_ranges,
        e_tag: head.e_tag,
        last_modified: head.last_modified,
        // `response-*` query parameters override the stored headers, as S3 allows for GET.
        content_type: input.response_content_type.or(head.content_type),
        content_encoding: input.response_content_encoding.or(head.content_encoding),
        content_disposition: input
            .response_content_disposition
            .or(head.content_disposition),
        content_language: input.response_content_language.or(head.content_language),
        cache_control: input.response_cache_control.or(head.cache_control),
        expires: input.response_expires.or(head.expires),
        metadata: head.metadata,
        parts_count: head.parts_count,
        checksum_crc32: head.checksum_crc32,
        checksum_crc32c: head.checksum_crc32c,
        checksum_crc64nvme: head.checksum_crc64nvme,
        checksum_sha1: head.checksum_sha1,
        checksum_sha256: head.checksum_sha256,
        version_id: head.version_id,
        tag_count: i32::try_from(record.headers.tags.len())
            .ok()
            .filter(|n| *n > 0),
        object_lock_mode: head.object_lock_mode,
        object_lock_retain_until_date: head.object_lock_retain_until_date,
        object_lock_legal_hold_status: head.object_lock_legal_hold_status,
        checksum_type: head.checksum_type,
        ..Default::default()
    };
    if range.is_some() {
        Ok(S3Response::with_status(
            output,
            http::StatusCode::PARTIAL_CONTENT,
        ))
    } else {
        Ok(S3Response::new(output))
    }
}

pub(super) async fn head_object(
    s3: &StratusS3,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
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
    check_read_conditions(
        &record,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
        input.if_modified_since.as_ref(),
        input.if_unmodified_since.as_ref(),
    )?;
    let range = super::part_reads::range_for(
        input.part_number,
        input.range.as_ref(),
        &record,
        resolve_range,
    )
    .map_err(S3Error::from)?;
    let mut head = describe(&record, range, input.checksum_mode.as_ref());
    super::multipart_checksums::add_part_checksum(&mut head, &record.headers, input.part_number);
    head.expiration = current_expiration(s3, input.version_id.as_deref(), &record).await?;
    let mut response = S3Response::new(head);
    // S3 counts the tags on HEAD as on GET (s3s's HeadObjectOutput has no field for it).
    if !record.headers.tags.is_empty() {
        response.headers.insert(
            "x-amz-tagging-count",
            http::HeaderValue::from(record.headers.tags.len()),
        );
    }
    Ok(response)
}

/// `x-amz-expiration` for a read of the current version (lifecycle expiration rules act on
/// current versions only, so a read naming a version id gets none).
async fn current_expiration(
    s3: &StratusS3,
    version_id: Option<&str>,
    record: &ObjectRecord,
) -> S3Result<Option<String>> {
    if version_id.is_some() {
        return Ok(None);
    }
    s3.store.expiration_of(record).await.map_err(s3_error)
}

/// What GET and HEAD both say about an object: its headers for `range` (all of it when `None`),
/// with checksums only when the client asked to validate a whole-object read.
fn describe(
    record: &ObjectRecord,
    range: Option<ByteRange>,
    mode: Option<&ChecksumMode>,
) -> HeadObjectOutput {
    let headers = &record.headers;
    let with_sums = wants_checksums(mode, range);
    let sum = |name: &str| {
        with_sums
            .then(|| headers.checksums.get(name).cloned())
            .flatten()
    };
    let length = range.map_or(record.size, |r| r.end - r.start + 1);
    HeadObjectOutput {
        content_length: i64::try_from(length).ok(),
        content_range: range.map(|r| format!("bytes {}-{}/{}", r.start, r.end, record.size)),
        accept_ranges: Some("bytes".into()),
        e_tag: Some(etag(&record.etag)),
        last_modified: Some(timestamp(record.last_modified_ms)),
        content_type: headers.content_type.clone(),
        content_encoding: headers.content_encoding.clone(),
        content_disposition: headers.content_disposition.clone(),
        content_language: headers.content_language.clone(),
        cache_control: headers.cache_control.clone(),
        expires: headers.expires.as_deref().and_then(parse_http_date),
        metadata: metadata(headers),
        parts_count: record.parts.and_then(|p| i32::try_from(p).ok()),
        checksum_crc32: sum("CRC32"),
        checksum_crc32c: sum("CRC32C"),
        checksum_crc64nvme: sum("CRC64NVME"),
        checksum_sha1: sum("SHA1"),
        checksum_sha256: sum("SHA256"),
        version_id: record.version_id.clone(),
        object_lock_mode: headers
            .lock
            .retention
            .map(|r| ObjectLockMode::from(r.mode.as_str().to_owned())),
        object_lock_retain_until_date: headers.lock.retention.map(|r| timestamp(r.retain_until_ms)),
        object_lock_legal_hold_status: headers
            .lock
            .legal_hold
            .then(|| ObjectLockLegalHoldStatus::from_static(ObjectLockLegalHoldStatus::ON)),
        checksum_type: with_sums
            .then(|| super::multipart_checksums::checksum_type(headers))
            .flatten(),
        ..Default::default()
    }
}

pub(super) async fn delete_object(
    s3: &StratusS3,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let deleted = delete_one(
        s3,
        &caller,
        (&input.bucket, &input.key, input.version_id.as_deref()),
        input.bypass_governance_retention.unwrap_or(false),
    )
    .await
    .map_err(s3_error)?;
    Ok(S3Response::new(DeleteObjectOutput {
        delete_marker: deleted.delete_marker.then_some(true),
        version_id: deleted.version_id,
        ..Default::default()
    }))
}

/// A delete of the current object (a delete marker where versioned) or, with a version id, of
/// that version for good.
async fn delete_one(
    s3: &StratusS3,
    caller: &stratus_identity::Principal,
    object: (&str, &str, Option<&str>),
    bypass_governance: bool,
) -> Result<stratus_store::Deleted, StoreError> {
    let (bucket, key, version_id) = object;
    match version_id {
        None => s3.store.delete_object(caller, bucket, key).await,
        Some(id) => {
            let mut deleted = s3
                .store
                .delete_object_version(
                    caller,
                    (bucket, key, &selector(Some(id))),
                    bypass_governance,
                )
                .await?;
            // S3 echoes the version the request named, `null` included.
            deleted.version_id = Some(id.to_owned());
            Ok(deleted)
        }
    }
}

/// S3 accepts at most this many keys in one DeleteObjects request.
const MAX_BATCH_DELETE: usize = 1000;

pub(super) async fn delete_objects(
    s3: &StratusS3,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    if input.delete.objects.len() > MAX_BATCH_DELETE {
        return s3_err(
            S3ErrorCode::MalformedXML,
            "a delete request may name at most 1000 keys",
        );
    }
    s3.store
        .authorize(&caller, &input.bucket, Action::Write)
        .await
        .map_err(s3_error)?;
    let quiet = input.delete.quiet.unwrap_or(false);
    let bypass = input.bypass_governance_retention.unwrap_or(false);
    let (mut deleted, mut errors) = (Vec::new(), Vec::new());
    for object in input.delete.objects {
        let target = (
            input.bucket.as_str(),
            object.key.as_str(),
            object.version_id.as_deref(),
        );
        match delete_one(s3, &caller, target, bypass).await {
            Ok(_) if quiet => {}
            Ok(done) => deleted.push(DeletedObject {
                key: Some(object.key),
                delete_marker: done.delete_marker.then_some(true),
                delete_marker_version_id: done
                    .delete_marker
                    .then(|| done.version_id.clone())
                    .flatten(),
                version_id: object
                    .version_id
                    .or(done.version_id.filter(|_| !done.delete_marker)),
            }),
            Err(err) => {
                let err = s3_error(err);
                errors.push(Error {
                    code: Some(err.code().as_str().to_owned()),
                    key: Some(object.key),
                    message: err.message().map(str::to_owned),
                    version_id: object.version_id,
                });
            }
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: Some(errors),
        ..Default::default()
    }))
}

/// The bucket, key and version id (if named) of a copy source.
pub(super) fn copy_source(source: &CopySource) -> S3Result<(String, String, Option<String>)> {
    match source {
        CopySource::Bucket {
            bucket,
            key,
            version_id,
        } => Ok((
            bucket.to_string(),
            key.to_string(),
            version_id.as_deref().map(str::to_owned),
        )),
        _ => s3_err(
            S3ErrorCode::NotImplemented,
            "access point copy sources are not supported",
        ),
    }
}

/// Copy-source preconditions: every failure is a 412 for copies, never a 304.
pub(super) fn check_copy_conditions(
    record: &ObjectRecord,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    check_read_conditions(
        record,
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    )
    .map_err(|err| {
        if *err.code() == S3ErrorCode::NotModified {
            S3Error::with_message(
                S3ErrorCode::PreconditionFailed,
                "at least one of the preconditions you specified did not hold",
            )
        } else {
            err
        }
    })
}

pub(super) async fn copy_object(
    s3: &StratusS3,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    check_key(&input.key)?;
    let (source_bucket, source_key, source_version) = copy_source(&input.copy_source)?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let directives = CopyDirectives {
        replace_metadata: replace,
        replace_tags: input
            .tagging_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == TaggingDirective::REPLACE),
    };
    if source_bucket == input.bucket
        && source_key == input.key
        && source_version.is_none()
        && !replace
    {
        return s3_err(
            S3ErrorCode::InvalidRequest,
            "this copy request is illegal because it is trying to copy an object to itself without changing the object's metadata",
        );
    }
    let mut headers = header_input!(input).into_headers();
    headers.acl = super::acl_grants::object_write_acl!(input, &caller.project);
    headers.tags = tags_from_header(input.tagging.as_deref())?;
    headers.lock = lock_from_headers(
        input.object_lock_mode.as_ref(),
        input.object_lock_retain_until_date.as_ref(),
        input.object_lock_legal_hold_status.as_ref(),
    )?;
    let write = ObjectWrite {
        bucket: input.bucket,
        key: input.key,
        headers,
        condition: WriteCondition::Always,
        kind: EventKind::Copy,
    };
    let source_selector = selector(source_version.as_deref());
    let record = s3
        .store
        .copy_object(
            &caller,
            (&source_bucket, &source_key, &source_selector),
            write,
            directives,
            |source: &ObjectRecord| {
                check_copy_conditions(
                    source,
                    input.copy_source_if_match.as_ref(),
                    input.copy_source_if_none_match.as_ref(),
                    input.copy_source_if_modified_since.as_ref(),
                    input.copy_source_if_unmodified_since.as_ref(),
                )
                .map_err(ReadError::S3)
            },
        )
        .await
        .map_err(S3Error::from)?;
    let result = CopyObjectResult {
        e_tag: Some(etag(&record.etag)),
        last_modified: Some(timestamp(record.last_modified_ms)),
        ..Default::default()
    };
    let expiration = s3.store.expiration_of(&record).await.map_err(s3_error)?;
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(result),
        copy_source_version_id: source_version,
        expiration,
        version_id: record.version_id,
        ..Default::default()
    }))
}
