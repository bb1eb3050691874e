//! Checksums of multipart uploads, as S3 defines them (the "Checking object integrity" guide):
//!
//! - CreateMultipartUpload names an algorithm (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`,
//!   `SHA256`) and a type: `COMPOSITE` (the default, except for CRC64NVME, which is only
//!   `FULL_OBJECT`) or `FULL_OBJECT` (CRC algorithms only).
//! - Every UploadPart carries that algorithm's checksum of the part, which is verified.
//! - A `COMPOSITE` object checksum is the algorithm applied to the concatenated binary part
//!   checksums, base64, then `-N` for N parts.
//! - A `FULL_OBJECT` checksum is the CRC of the whole object, obtained by combining the parts'
//!   CRCs with their lengths (`crc_fast::checksum_combine`, the crate s3s already hashes with;
//!   no byte is read again).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crc_fast::CrcAlgorithm;
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Sha1, Sha256};
use std::collections::BTreeMap;

use s3s::dto::{ChecksumAlgorithm, ChecksumType, CompletedPart, ListPartsOutput};
use s3s::{S3Error, S3ErrorCode, S3Result};
use stratus_identity::Principal;
use stratus_meta::{MultipartChecksum, ObjectHeaders, PartRecord};

use super::StratusS3;
use super::errors::{s3_err, s3_error};

pub(crate) const COMPOSITE: &str = "COMPOSITE";
pub(crate) const FULL_OBJECT: &str = "FULL_OBJECT";
const ALGORITHMS: [&str; 5] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

fn invalid_request(message: String) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidRequest, message)
}

/// What CreateMultipartUpload asked for; `None` without an algorithm.
pub(crate) fn requested(
    algorithm: Option<&ChecksumAlgorithm>,
    kind: Option<&ChecksumType>,
) -> S3Result<Option<MultipartChecksum>> {
    let Some(algorithm) = algorithm else {
        if kind.is_some() {
            return Err(invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
                    .into(),
            ));
        }
        return Ok(None);
    };
    let name = algorithm.as_str().to_ascii_uppercase();
    if !ALGORITHMS.contains(&name.as_str()) {
        return s3_err(
            S3ErrorCode::InvalidRequest,
            format!("Checksum algorithm {name} is not supported."),
        );
    }
    let is_crc = name.starts_with("CRC");
    let kind = match kind.map(|k| k.as_str().to_ascii_uppercase()) {
        None if name == "CRC64NVME" => FULL_OBJECT.to_owned(),
        None => COMPOSITE.to_owned(),
        Some(k) if k == FULL_OBJECT && is_crc => k,
        Some(k) if k == COMPOSITE && name != "CRC64NVME" => k,
        Some(k) if k == FULL_OBJECT || k == COMPOSITE => {
            return Err(invalid_request(format!(
                "The {k} checksum type cannot be used with the {} checksum algorithm.",
                name.to_ascii_lowercase()
            )));
        }
        Some(k) => {
            return Err(invalid_request(format!(
                "Value for x-amz-checksum-type header is invalid: {k}"
            )));
        }
    };
    Ok(Some(MultipartChecksum {
        algorithm: name,
        kind,
        parts: Vec::new(),
    }))
}

fn decode(value: &str, algorithm: &str) -> S3Result<Vec<u8>> {
    let bytes = BASE64.decode(value).ok();
    let expected = match algorithm {
        "CRC32" | "CRC32C" => 4,
        "CRC64NVME" => 8,
        "SHA1" => 20,
        _ => 32,
    };
    match bytes {
        Some(bytes) if bytes.len() == expected => Ok(bytes),
        _ => s3_err(
            S3ErrorCode::InvalidPart,
            format!("a part's {algorithm} checksum is not valid"),
        ),
    }
}

fn digest(algorithm: &str, data: &[u8]) -> Vec<u8> {
    match algorithm {
        "CRC32" => Crc32::checksum(data).to_vec(),
        "CRC32C" => Crc32c::checksum(data).to_vec(),
        "CRC64NVME" => Crc64Nvme::checksum(data).to_vec(),
        "SHA1" => Sha1::checksum(data).to_vec(),
        _ => Sha256::checksum(data).to_vec(),
    }
}

/// The object checksum of `parts` (each part's base64 checksum and length, in order).
pub(crate) fn object_checksum(
    upload: &MultipartChecksum,
    parts: &[(String, u64)],
) -> S3Result<String> {
    let algorithm = upload.algorithm.as_str();
    if upload.kind == FULL_OBJECT {
        let crc = match algorithm {
            "CRC32" => CrcAlgorithm::Crc32IsoHdlc,
            "CRC32C" => CrcAlgorithm::Crc32Iscsi,
            _ => CrcAlgorithm::Crc64Nvme,
        };
        let mut combined: Option<u64> = None;
        for (value, length) in parts {
            let bytes = decode(value, algorithm)?;
            let part = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            combined = Some(match combined {
                None => part,
                Some(sum) => crc_fast::checksum_combine(crc, sum, part, *length),
            });
        }
        let combined = combined.unwrap_or_else(|| crc_fast::checksum(crc, b""));
        let bytes = combined.to_be_bytes();
        let width = if algorithm == "CRC64NVME" { 8 } else { 4 };
        return Ok(BASE64.encode(&bytes[8 - width..]));
    }
    let mut concatenated = Vec::new();
    for (value, _) in parts {
        concatenated.extend(decode(value, algorithm)?);
    }
    Ok(format!(
        "{}-{}",
        BASE64.encode(digest(algorithm, &concatenated)),
        parts.len()
    ))
}

/// The checksum field of a DTO (`CompletedPart`, `Part`, the outputs) for `algorithm`.
macro_rules! checksum_field {
    ($dto:expr, $algorithm:expr) => {
        match $algorithm {
            "CRC32" => &mut $dto.checksum_crc32,
            "CRC32C" => &mut $dto.checksum_crc32c,
            "CRC64NVME" => &mut $dto.checksum_crc64nvme,
            "SHA1" => &mut $dto.checksum_sha1,
            _ => &mut $dto.checksum_sha256,
        }
    };
}
pub(crate) use checksum_field;

/// A completed upload's checksum, for CompleteMultipartUpload's answer.
pub(crate) struct Completed {
    pub algorithm: String,
    pub kind: String,
    pub value: String,
}

/// Records the checksums UploadPart verified, so that completion can combine them.
pub(crate) async fn after_part(
    s3: &StratusS3,
    caller: &Principal,
    target: (&str, &str, &str),
    part: &PartRecord,
    sums: &BTreeMap<String, String>,
) -> S3Result<()> {
    if sums.is_empty() {
        return Ok(());
    }
    s3.store
        .record_part_checksums(caller, target, part, sums.clone())
        .await
        .map_err(s3_error)
}

/// Before CompleteMultipartUpload commits: for an upload created with a checksum algorithm,
/// computes the object checksum from the listed parts' recorded checksums, checks it against
/// the one the request declares (BadDigest) and the listed part checksums against the recorded
/// ones (InvalidPart), and stores it in the upload's headers for the object to take over.
/// Parts the store does not know are left for its own InvalidPart.
pub(crate) async fn before_complete(
    s3: &StratusS3,
    caller: &Principal,
    target: (&str, &str, &str),
    listed: &[CompletedPart],
    declared: &BTreeMap<&'static str, Option<String>>,
) -> S3Result<Option<Completed>> {
    let state = s3
        .store
        .upload_checksums(caller, target)
        .await
        .map_err(s3_error)?;
    let Some(mut wanted) = state.upload.headers.multipart_checksum.clone() else {
        return Ok(None);
    };
    let algorithm = wanted.algorithm.clone();
    let mut parts = Vec::with_capacity(listed.len());
    for listed_part in listed {
        let Some(number) = listed_part.part_number.and_then(|n| u32::try_from(n).ok()) else {
            return Ok(None);
        };
        let Some(stored) = state.parts.iter().find(|p| p.part_number == number) else {
            return Ok(None);
        };
        let Some(sum) = state
            .checksums
            .get(&number)
            .and_then(|sums| sums.get(&algorithm))
        else {
            return s3_err(
                S3ErrorCode::InvalidPart,
                format!(
                    "part {number} was uploaded without a {} checksum, which this upload requires",
                    algorithm.to_ascii_lowercase()
                ),
            );
        };
        parts.push((number, sum.clone(), stored.size));
    }
    let lengths: Vec<(String, u64)> = parts.iter().map(|(_, s, n)| (s.clone(), *n)).collect();
    let value = object_checksum(&wanted, &lengths)?;
    if let Some(Some(expected)) = declared.get(algorithm.as_str())
        && *expected != value
    {
        return s3_err(
            S3ErrorCode::BadDigest,
            format!("the {algorithm} you specified did not match the calculated checksum"),
        );
    }
    for (listed_part, (number, sum, _)) in listed.iter().zip(&parts) {
        let mut part = listed_part.clone();
        if let Some(given) = checksum_field!(part, algorithm.as_str()).as_deref()
            && given != sum
        {
            return s3_err(
                S3ErrorCode::InvalidPart,
                format!(
                    "the {algorithm} checksum of part {number} does not match the uploaded part"
                ),
            );
        }
    }
    wanted.parts = parts.into_iter().map(|(n, s, _)| (n, s)).collect();
    let mut headers = state.upload.headers;
    headers.checksums = BTreeMap::from([(algorithm.clone(), value.clone())]);
    let kind = wanted.kind.clone();
    headers.multipart_checksum = Some(wanted);
    s3.store
        .set_upload_headers(caller, target, headers)
        .await
        .map_err(s3_error)?;
    Ok(Some(Completed {
        algorithm,
        kind,
        value,
    }))
}

/// For a read of one part (`partNumber`) of an object uploaded with a checksum: that part's
/// checksum and the object's checksum type, which S3 returns without ChecksumMode.
pub(crate) fn add_part_checksum(
    output: &mut s3s::dto::HeadObjectOutput,
    headers: &ObjectHeaders,
    part_number: Option<i32>,
) {
    let (Some(number), Some(upload)) = (part_number, headers.multipart_checksum.as_ref()) else {
        return;
    };
    let index = usize::try_from(number).ok().and_then(|n| n.checked_sub(1));
    let Some((_, sum)) = index.and_then(|i| upload.parts.get(i)) else {
        return;
    };
    *checksum_field!(output, upload.algorithm.as_str()) = Some(sum.clone());
    output.checksum_type = Some(ChecksumType::from(upload.kind.clone()));
}

/// `x-amz-checksum-type` of an object with checksums: its multipart type, else FULL_OBJECT.
pub(crate) fn checksum_type(headers: &ObjectHeaders) -> Option<ChecksumType> {
    if headers.checksums.is_empty() {
        return None;
    }
    let kind = headers
        .multipart_checksum
        .as_ref()
        .map_or(FULL_OBJECT, |m| m.kind.as_str());
    Some(ChecksumType::from(kind.to_owned()))
}

/// ListParts' part checksums, as recorded when each part arrived.
pub(crate) async fn fill_list_parts(
    s3: &StratusS3,
    caller: &Principal,
    target: (&str, &str, &str),
    output: &mut ListPartsOutput,
) -> S3Result<()> {
    let state = s3
        .store
        .upload_checksums(caller, target)
        .await
        .map_err(s3_error)?;
    if let Some(wanted) = &state.upload.headers.multipart_checksum {
        output.checksum_algorithm = Some(ChecksumAlgorithm::from(wanted.algorithm.clone()));
        output.checksum_type = Some(ChecksumType::from(wanted.kind.clone()));
    }
    for part in output.parts.iter_mut().flatten() {
        let number = part.part_number.and_then(|n| u32::try_from(n).ok());
        let Some(sums) = number.and_then(|n| state.checksums.get(&n)) else {
            continue;
        };
        for (name, value) in sums {
            *checksum_field!(part, name.as_str()) = Some(value.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        BASE64.encode(bytes)
    }

    fn upload(algorithm: &str, kind: &str) -> MultipartChecksum {
        MultipartChecksum {
            algorithm: algorithm.into(),
            kind: kind.into(),
            parts: Vec::new(),
        }
    }

    #[test]
    fn full_object_crcs_equal_the_crc_of_the_whole_body() {
        let (a, b, c) = (
            b"hello ".as_slice(),
            b"multipart".as_slice(),
            b" world".as_slice(),
        );
        let whole = [a, b, c].concat();
        for algorithm in ["CRC32", "CRC32C", "CRC64NVME"] {
            let parts: Vec<(String, u64)> = [a, b, c]
                .iter()
                .map(|p| (b64(&digest(algorithm, p)), p.len() as u64))
                .collect();
            let combined =
                object_checksum(&upload(algorithm, FULL_OBJECT), &parts).expect("a value");
            assert_eq!(combined, b64(&digest(algorithm, &whole)), "{algorithm}");
        }
    }

    #[test]
    fn composite_checksums_hash_the_part_checksums() {
        // s3-tests' test_multipart_checksum_sha256: one 1024-byte part of 'A'.
        let part = "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0=".to_owned();
        let sum = object_checksum(&upload("SHA256", COMPOSITE), &[(part, 1024)]).expect("a value");
        assert_eq!(sum, "Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-1");
    }

    #[test]
    fn ceph_s3_tests_vectors_combine() {
        // s3-tests' multipart_checksum_3parts_helper: three 5 MiB parts of 'A', 'B' and 'C'.
        const PART: u64 = 5 * 1024 * 1024;
        for (algorithm, kind, parts, object) in [
            (
                "CRC64NVME",
                FULL_OBJECT,
                ["L/E4WYn8v98=", "xW1l19VobYM=", "cK5MnNaWrW4="],
                "i+6LR0y3eFo=",
            ),
            (
                "CRC32",
                FULL_OBJECT,
                ["JRTCyQ==", "QoZTGg==", "YAgjqw=="],
                "WgDhBQ==",
            ),
            (
                "CRC32C",
                FULL_OBJECT,
                ["MDaLrw==", "TH4EZg==", "Z7mBIQ=="],
                "xU+Krw==",
            ),
            (
                "SHA1",
                COMPOSITE,
                [
                    "iIaTCGbm+vdVjNqIMF2S0T7ibMk=",
                    "LS/TJ32bAVKEwRu+sE3X7awh/lk=",
                    "6DDwovUaHwrKNXDMzOGbuvj9kxI=",
                ],
                "sizjvY4eud3MrcHdZM3cQ/ol39o=-3",
            ),
            (
                "SHA256",
                COMPOSITE,
                [
                    "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=",
                    "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=",
                    "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow=",
                ],
                "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3",
            ),
        ] {
            let parts: Vec<(String, u64)> = parts.iter().map(|p| ((*p).to_owned(), PART)).collect();
            let sum = object_checksum(&upload(algorithm, kind), &parts).expect("a checksum");
            assert_eq!(sum, object, "{algorithm}");
        }
    }

    #[test]
    fn types_follow_the_algorithm() {
        let alg = |s: &str| ChecksumAlgorithm::from(s.to_owned());
        let kind = |s: &str| ChecksumType::from(s.to_owned());
        assert_eq!(
            requested(Some(&alg("CRC32")), None)
                .expect("a value")
                .expect("a value")
                .kind,
            COMPOSITE
        );
        assert_eq!(
            requested(Some(&alg("CRC64NVME")), None)
                .expect("a value")
                .expect("a value")
                .kind,
            FULL_OBJECT
        );
        assert_eq!(
            requested(Some(&alg("CRC32C")), Some(&kind("FULL_OBJECT")))
                .expect("a value")
                .expect("a value")
                .kind,
            FULL_OBJECT
        );
        for (a, k) in [
            ("SHA256", "FULL_OBJECT"),
            ("CRC64NVME", "COMPOSITE"),
            ("CRC32", "OTHER"),
        ] {
            let err = requested(Some(&alg(a)), Some(&kind(k))).expect_err("an error");
            assert_eq!(*err.code(), S3ErrorCode::InvalidRequest, "{a} {k}");
        }
        assert!(requested(None, Some(&kind("COMPOSITE"))).is_err());
        assert!(requested(None, None).expect("a value").is_none());
    }

    #[test]
    fn malformed_part_checksums_are_invalid_parts() {
        let err = object_checksum(&upload("CRC32", COMPOSITE), &[("!!".into(), 1)])
            .expect_err("an error");
        assert_eq!(*err.code(), S3ErrorCode::InvalidPart);
    }
}
