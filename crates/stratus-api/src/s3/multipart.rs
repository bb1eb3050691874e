//! Multipart uploads.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_core::Action;
use stratus_store::{ByteRange, CompletedPart as StoreCompletedPart, StoreError};

use super::StratusS3;
use super::checksums::{declared_checksums, receive_body};
use super::convert::{etag, header_input, timestamp};
use super::errors::{s3_err, s3_error};
use super::objects::{ReadError, check_copy_conditions, check_key, copy_source};

pub(super) async fn create(
    s3: &StratusS3,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    check_key(&input.key)?;
    let checksum = super::multipart_checksums::requested(
        input.checksum_algorithm.as_ref(),
        input.checksum_type.as_ref(),
    )?;
    let mut headers = header_input!(input).into_headers();
    headers.acl = super::acl_grants::object_write_acl!(input, &caller.project);
    headers.multipart_checksum.clone_from(&checksum);
    headers.tags = super::versioning::tags_from_header(input.tagging.as_deref())?;
    headers.lock = super::versioning::lock_from_headers(
        input.object_lock_mode.as_ref(),
        input.object_lock_retain_until_date.as_ref(),
        input.object_lock_legal_hold_status.as_ref(),
    )?;
    let upload = s3
        .store
        .create_upload(&caller, &input.bucket, &input.key, headers)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload.upload_id),
        checksum_algorithm: checksum
            .as_ref()
            .map(|c| ChecksumAlgorithm::from(c.algorithm.clone())),
        checksum_type: checksum.map(|c| ChecksumType::from(c.kind)),
        ..Default::default()
    }))
}

fn part_number(n: i32) -> S3Result<u32> {
    u32::try_from(n).or_else(|_| {
        s3_err(
            S3ErrorCode::InvalidArgument,
            "part number must be an integer between 1 and 10000",
        )
    })
}

pub(super) async fn upload_part(
    s3: &StratusS3,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let number = part_number(input.part_number)?;
    s3.store
        .authorize(&caller, &input.bucket, Action::Write)
        .await
        .map_err(s3_error)?;
    let (staged, sums) = receive_body(
        &s3.store,
        &req.headers,
        req.trailing_headers.as_ref(),
        declared_checksums!(input),
        input.body,
        false,
    )
    .await?;
    let target = (
        input.bucket.as_str(),
        input.key.as_str(),
        input.upload_id.as_str(),
    );
    let part = s3
        .store
        .upload_part(&caller, target, number, staged)
        .await
        .map_err(s3_error)?;
    super::multipart_checksums::after_part(s3, &caller, target, &part, &sums).await?;
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(etag(&part.etag)),
        checksum_crc32: sums.get("CRC32").cloned(),
        checksum_crc32c: sums.get("CRC32C").cloned(),
        checksum_crc64nvme: sums.get("CRC64NVME").cloned(),
        checksum_sha1: sums.get("SHA1").cloned(),
        checksum_sha256: sums.get("SHA256").cloned(),
        ..Default::default()
    }))
}

/// Parses `x-amz-copy-source-range: bytes=first-last` against the source size.
fn copy_range(header: Option<&str>, size: u64) -> Result<Option<ByteRange>, ReadError> {
    let Some(header) = header else {
        return Ok(None);
    };
    let invalid = || {
        ReadError::S3(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "the x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        ))
    };
    let (first, last) = header
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(invalid)?;
    let (first, last): (u64, u64) = (
        first.parse().map_err(|_| invalid())?,
        last.parse().map_err(|_| invalid())?,
    );
    if first > last || last >= size {
        return Err(ReadError::S3(S3Error::with_message(
            S3ErrorCode::InvalidRange,
            "the requested range is not satisfiable",
        )));
    }
    Ok(Some(ByteRange {
        start: first,
        end: last,
    }))
}

pub(super) async fn upload_part_copy(
    s3: &StratusS3,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let caller = s3.caller(&req).await?;
    // A source in another project's bucket that grants this project GetObject is read as
    // that bucket's reader (`public.rs`); any other source as the caller.
    let reader = req
        .extensions
        .get::<super::public::CopySourcePrincipal>()
        .map_or_else(|| caller.clone(), |source| source.0.clone());
    let input = req.input;
    let number = part_number(input.part_number)?;
    let (source_bucket, source_key, source_version) = copy_source(&input.copy_source)?;
    let source_selector = super::versioning::selector(source_version.as_deref());
    s3.store
        .authorize(&caller, &input.bucket, Action::Write)
        .await
        .map_err(s3_error)?;
    let (_, _, body) = s3
        .store
        .get_object_version(
            &reader,
            (&source_bucket, &source_key, &source_selector),
            |record| {
                check_copy_conditions(
                    record,
                    input.copy_source_if_match.as_ref(),
                    input.copy_source_if_none_match.as_ref(),
                    input.copy_source_if_modified_since.as_ref(),
                    input.copy_source_if_unmodified_since.as_ref(),
                )
                .map_err(ReadError::S3)?;
                copy_range(input.copy_source_range.as_deref(), record.size)
            },
        )
        .await
        .map_err(S3Error::from)?;
    let staged = s3.store.stage(body, false).await.map_err(s3_error)?;
    let target = (
        input.bucket.as_str(),
        input.key.as_str(),
        input.upload_id.as_str(),
    );
    let part = s3
        .store
        .upload_part(&caller, target, number, staged)
        .await
        .map_err(s3_error)?;
    let result = CopyPartResult {
        e_tag: Some(etag(&part.etag)),
        last_modified: Some(timestamp(part.last_modified_ms)),
        ..Default::default()
    };
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(result),
        ..Default::default()
    }))
}

pub(super) async fn complete(
    s3: &StratusS3,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let listed = input
        .multipart_upload
        .and_then(|m| m.parts)
        .unwrap_or_default();
    let declared = std::collections::BTreeMap::from([
        ("CRC32", input.checksum_crc32.clone()),
        ("CRC32C", input.checksum_crc32c.clone()),
        ("CRC64NVME", input.checksum_crc64nvme.clone()),
        ("SHA1", input.checksum_sha1.clone()),
        ("SHA256", input.checksum_sha256.clone()),
    ]);
    let target = (
        input.bucket.as_str(),
        input.key.as_str(),
        input.upload_id.as_str(),
    );
    // A retry of a completed upload finds no upload; the store answers it from the object.
    let checksum =
        match super::multipart_checksums::before_complete(s3, &caller, target, &listed, &declared)
            .await
        {
            Err(err) if *err.code() == S3ErrorCode::NoSuchUpload => None,
            other => other?,
        };
    let mut parts = Vec::new();
    for part in listed {
        let (Some(number), Some(tag)) = (part.part_number, part.e_tag) else {
            return s3_err(
                S3ErrorCode::MalformedXML,
                "every part needs a PartNumber and an ETag",
            );
        };
        parts.push(StoreCompletedPart {
            part_number: part_number(number)?,
            etag: tag.value().to_owned(),
        });
    }
    let record = s3
        .store
        .complete_upload(
            &caller,
            &input.bucket,
            &input.key,
            &input.upload_id,
            &parts,
            super::objects::write_condition(input.if_match.as_ref(), input.if_none_match.as_ref()),
        )
        .await
        .map_err(|err| match err {
            StoreError::InvalidArgument(message) => {
                S3Error::with_message(S3ErrorCode::MalformedXML, message)
            }
            other => s3_error(other),
        })?;
    let mut output = CompleteMultipartUploadOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        e_tag: Some(etag(&record.etag)),
        location: Some(format!("/{}/{}", input.bucket, input.key)),
        version_id: record.version_id.clone(),
        expiration: s3.store.expiration_of(&record).await.map_err(s3_error)?,
        ..Default::default()
    };
    if let Some(sum) = checksum {
        *super::multipart_checksums::checksum_field!(output, sum.algorithm.as_str()) =
            Some(sum.value);
        output.checksum_type = Some(ChecksumType::from(sum.kind));
    } else if let Some((algorithm, value)) = record.headers.checksums.iter().next() {
        // A replayed completion: the checksum the first completion stored.
        *super::multipart_checksums::checksum_field!(output, algorithm.as_str()) =
            Some(value.clone());
        output.checksum_type = super::multipart_checksums::checksum_type(&record.headers);
    }
    Ok(S3Response::new(output))
}

pub(super) async fn abort(
    s3: &StratusS3,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    s3.store
        .abort_upload(&caller, &input.bucket, &input.key, &input.upload_id)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

const DEFAULT_MAX_PARTS: usize = 1000;

pub(super) async fn list_parts(
    s3: &StratusS3,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let (_, parts) = s3
        .store
        .list_parts(&caller, &input.bucket, &input.key, &input.upload_id)
        .await
        .map_err(s3_error)?;
    let marker = input.part_number_marker.unwrap_or(0);
    let max = input
        .max_parts
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(DEFAULT_MAX_PARTS)
        .min(DEFAULT_MAX_PARTS);
    let remaining: Vec<_> = parts
        .into_iter()
        .filter(|p| i64::from(p.part_number) > i64::from(marker))
        .collect();
    let truncated = remaining.len() > max;
    let page: Vec<Part> = remaining
        .into_iter()
        .take(max)
        .map(|p| Part {
            part_number: i32::try_from(p.part_number).ok(),
            e_tag: Some(etag(&p.etag)),
            size: i64::try_from(p.size).ok(),
            last_modified: Some(timestamp(p.last_modified_ms)),
            ..Default::default()
        })
        .collect();
    let mut output = ListPartsOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(input.upload_id.clone()),
        is_truncated: Some(truncated),
        next_part_number_marker: if truncated {
            page.last().and_then(|p| p.part_number)
        } else {
            None
        },
        max_parts: i32::try_from(max).ok(),
        parts: Some(page),
        initiator: Some(initiator_of(&caller.project)),
        owner: Some(super::access_config::project_owner(&caller.project)),
        ..Default::default()
    };
    let target = (
        input.bucket.as_str(),
        input.key.as_str(),
        input.upload_id.as_str(),
    );
    super::multipart_checksums::fill_list_parts(s3, &caller, target, &mut output).await?;
    Ok(S3Response::new(output))
}

pub(super) async fn list_uploads(
    s3: &StratusS3,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let prefix = input.prefix.clone().unwrap_or_default();
    let uploads = s3
        .store
        .list_uploads(&caller, &input.bucket, &prefix)
        .await
        .map_err(s3_error)?;
    let uploads = uploads
        .into_iter()
        .map(|u| MultipartUpload {
            key: Some(u.key),
            upload_id: Some(u.upload_id),
            initiated: Some(timestamp(u.initiated_ms)),
            initiator: Some(initiator_of(&caller.project)),
            owner: Some(super::access_config::project_owner(&caller.project)),
            ..Default::default()
        })
        .collect();
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: input.prefix,
        is_truncated: Some(false),
        uploads: Some(uploads),
        ..Default::default()
    }))
}

/// Every upload (and the object it becomes) belongs to the bucket's project, whoever started
/// it: that project is the Initiator and Owner S3 listings name.
fn initiator_of(project: &str) -> Initiator {
    Initiator {
        display_name: Some(project.to_owned()),
        id: Some(project.to_owned()),
    }
}
