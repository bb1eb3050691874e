//! Verification of request-body integrity: `Content-MD5` and the flexible checksums
//! (`x-amz-checksum-*`) that current SDKs send, either as headers or as `aws-chunked` trailers.
//! Hashes are computed while the body streams to disk; a mismatch discards the staged body
//! before anything is committed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::TryStreamExt;
use http::HeaderMap;
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Sha1, Sha256};
use s3s::dto::StreamingBlob;
use s3s::{S3ErrorCode, S3Result, TrailingHeaders};
use stratus_store::{BodyStream, StagedBody, Store};

use super::errors::{s3_err, s3_error};

/// Checksum values a request declared in headers, by algorithm name.
#[derive(Default)]
pub(crate) struct Declared {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub content_md5: Option<String>,
}

/// The declared digests of an s3s upload input; PutObject and UploadPart name the fields alike.
macro_rules! declared_checksums {
    ($input:expr) => {
        $crate::s3::checksums::Declared {
            crc32: $input.checksum_crc32,
            crc32c: $input.checksum_crc32c,
            crc64nvme: $input.checksum_crc64nvme,
            sha1: $input.checksum_sha1,
            sha256: $input.checksum_sha256,
            content_md5: $input.content_md5,
        }
    };
}
pub(crate) use declared_checksums;

/// The body length the client announced: the decoded length for `aws-chunked` bodies.
pub(crate) fn announced_length(headers: &HeaderMap) -> Option<u64> {
    let header = headers
        .get("x-amz-decoded-content-length")
        .or_else(|| headers.get(http::header::CONTENT_LENGTH))?;
    header.to_str().ok()?.parse().ok()
}

/// Receives an upload body (step 1 of the durability protocol) and checks it: an announced size
/// over the limit is refused before reading, the received length must match the announced one,
/// and every declared digest must match. Returns the staged body and the verified checksums.
pub(crate) async fn receive_body(
    store: &Store,
    headers: &HeaderMap,
    trailers: Option<&TrailingHeaders>,
    declared: Declared,
    body: Option<StreamingBlob>,
    inline_allowed: bool,
) -> S3Result<(StagedBody, BTreeMap<String, String>)> {
    let announced = announced_length(headers);
    if announced.is_some_and(|n| n > crate::MAX_PUT_BYTES) {
        return s3_err(
            S3ErrorCode::EntityTooLarge,
            "your proposed upload exceeds the maximum allowed size",
        );
    }
    let check = BodyCheck::new(declared, headers)?;
    let staged = store
        .stage(check.wrap(body), inline_allowed)
        .await
        .map_err(s3_error)?;
    if announced.is_some_and(|n| n != staged.size()) {
        return s3_err(
            S3ErrorCode::IncompleteBody,
            "you did not provide the number of bytes specified by the Content-Length",
        );
    }
    let checksums = check.verify(&staged, trailers)?;
    Ok((staged, checksums))
}

const ALGORITHMS: [&str; 5] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

pub(crate) struct BodyCheck {
    hasher: Arc<Mutex<ChecksumHasher>>,
    declared: BTreeMap<&'static str, Option<String>>,
    content_md5: Option<[u8; 16]>,
}

impl BodyCheck {
    /// Decides what to hash: every algorithm given a header value, plus the one the
    /// `x-amz-trailer` header announces.
    pub(crate) fn new(declared: Declared, headers: &HeaderMap) -> S3Result<Self> {
        let content_md5 = match declared.content_md5.as_deref() {
            None => None,
            Some(text) => match BASE64
                .decode(text)
                .ok()
                .and_then(|raw| <[u8; 16]>::try_from(raw).ok())
            {
                Some(md5) => Some(md5),
                None => {
                    return s3_err(
                        S3ErrorCode::InvalidDigest,
                        "the Content-MD5 you specified is not valid",
                    );
                }
            },
        };
        let trailer = headers
            .get("x-amz-trailer")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.trim()
                    .trim_start_matches("x-amz-checksum-")
                    .to_ascii_uppercase()
            });
        let values = [
            declared.crc32,
            declared.crc32c,
            declared.crc64nvme,
            declared.sha1,
            declared.sha256,
        ];
        let mut selected = BTreeMap::new();
        for (name, value) in ALGORITHMS.into_iter().zip(values) {
            if value.is_some() || trailer.as_deref() == Some(name) {
                selected.insert(name, value);
            }
        }
        let mut hasher = ChecksumHasher::default();
        for name in selected.keys() {
            match *name {
                "CRC32" => hasher.crc32 = Some(Crc32::new()),
                "CRC32C" => hasher.crc32c = Some(Crc32c::new()),
                "CRC64NVME" => hasher.crc64nvme = Some(Crc64Nvme::new()),
                "SHA1" => hasher.sha1 = Some(Sha1::new()),
                _ => hasher.sha256 = Some(Sha256::new()),
            }
        }
        Ok(Self {
            hasher: Arc::new(Mutex::new(hasher)),
            declared: selected,
            content_md5,
        })
    }

    /// The body as a stream for the store, hashing every chunk on its way through.
    pub(crate) fn wrap(&self, body: Option<StreamingBlob>) -> BodyStream {
        let Some(body) = body else {
            return Box::pin(futures::stream::empty());
        };
        let hasher = Arc::clone(&self.hasher);
        let needs_hashing = !self.declared.is_empty();
        Box::pin(
            body.map_err(std::io::Error::other)
                .inspect_ok(move |chunk| {
                    if needs_hashing && let Ok(mut hasher) = hasher.lock() {
                        hasher.update(chunk);
                    }
                }),
        )
    }

    /// Compares what arrived with what was declared. Returns the verified checksums to store.
    pub(crate) fn verify(
        self,
        staged: &StagedBody,
        trailers: Option<&TrailingHeaders>,
    ) -> S3Result<BTreeMap<String, String>> {
        if self.content_md5.is_some_and(|md5| md5 != staged.md5()) {
            return s3_err(
                S3ErrorCode::BadDigest,
                "the Content-MD5 you specified did not match what we received",
            );
        }
        if self.declared.is_empty() {
            return Ok(BTreeMap::new());
        }
        let hasher = Arc::try_unwrap(self.hasher)
            .ok()
            .and_then(|m| m.into_inner().ok())
            .unwrap_or_default();
        let computed = hasher.finalize();
        let computed_values = [
            computed.checksum_crc32,
            computed.checksum_crc32c,
            computed.checksum_crc64nvme,
            computed.checksum_sha1,
            computed.checksum_sha256,
        ];
        let mut verified = BTreeMap::new();
        for (name, actual) in ALGORITHMS.into_iter().zip(computed_values) {
            let Some(declared) = self.declared.get(name) else {
                continue;
            };
            let header = format!("x-amz-checksum-{}", name.to_ascii_lowercase());
            let expected = declared.clone().or_else(|| {
                trailers.and_then(|t| {
                    t.read(|h| {
                        h.get(&header)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    })
                    .flatten()
                })
            });
            let (Some(expected), Some(actual)) = (expected, actual) else {
                continue;
            };
            if expected != actual {
                return s3_err(
                    S3ErrorCode::BadDigest,
                    format!("the {name} you specified did not match the calculated checksum"),
                );
            }
            verified.insert(name.to_owned(), actual);
        }
        Ok(verified)
    }
}
