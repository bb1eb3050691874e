//! GET and HEAD with `?partNumber=N`: the bytes of one part of a multipart object, answered
//! 206 with the part's `Content-Range` and `x-amz-mp-parts-count`, and the whole object's ETag.
//! An object that was not uploaded in parts has one part, itself. A part beyond the last is
//! 416 InvalidPartNumber, as on AWS; asking for a part and a `Range` at once is 400.
//!
//! A multipart object's body keeps one segment per part (`StoredBody::Segments`), so a part's
//! offsets are the sums of the segment lengths before it.

use s3s::dto::Range;
use s3s::{S3Error, S3ErrorCode};
use stratus_meta::StoredBody;
use stratus_store::{ByteRange, ObjectRecord};

use super::objects::ReadError;

/// The byte range to read: the part's when `part_number` is given, else the `Range` header's
/// (through `by_range`, the handler's own resolution).
pub(super) fn range_for(
    part_number: Option<i32>,
    range: Option<&Range>,
    record: &ObjectRecord,
    by_range: impl FnOnce(Option<&Range>, u64) -> Result<Option<ByteRange>, ReadError>,
) -> Result<Option<ByteRange>, ReadError> {
    let Some(number) = part_number else {
        return by_range(range, record.size);
    };
    if range.is_some() {
        return Err(ReadError::S3(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter",
        )));
    }
    part_range(number, record).map_err(ReadError::S3)
}

/// The byte range of part `number` of `record`; `None` for the one part of an empty object.
fn part_range(number: i32, record: &ObjectRecord) -> Result<Option<ByteRange>, S3Error> {
    if number < 1 {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    let index = usize::try_from(number - 1).unwrap_or(usize::MAX);
    let lengths: Vec<u64> = match (&record.body, record.parts) {
        (StoredBody::Segments(segments), Some(_)) => segments.iter().map(|s| s.len).collect(),
        _ => vec![record.size],
    };
    let Some(&length) = lengths.get(index) else {
        return Err(not_satisfiable());
    };
    let start: u64 = lengths[..index].iter().sum();
    Ok((length > 0).then(|| ByteRange {
        start,
        end: start + length - 1,
    }))
}

fn not_satisfiable() -> S3Error {
    let mut error = S3Error::with_message(
        S3ErrorCode::Custom("InvalidPartNumber".into()),
        "The requested partnumber is not satisfiable",
    );
    error.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_meta::{ObjectHeaders, Segment};

    fn record(body: StoredBody, size: u64, parts: Option<u32>) -> ObjectRecord {
        ObjectRecord {
            bucket: "b".into(),
            key: "k".into(),
            size,
            etag: "e".into(),
            last_modified_ms: 0,
            headers: ObjectHeaders::default(),
            body,
            parts,
            version_id: None,
            delete_marker: false,
        }
    }

    fn segments(lengths: &[u64]) -> StoredBody {
        StoredBody::Segments(
            lengths
                .iter()
                .map(|&len| Segment {
                    blob: "x".into(),
                    len,
                })
                .collect(),
        )
    }

    #[test]
    fn parts_are_their_segments() {
        let object = record(segments(&[5, 5, 2]), 12, Some(3));
        let range = |n| part_range(n, &object).expect("a value").expect("a value");
        assert_eq!((range(1).start, range(1).end), (0, 4));
        assert_eq!((range(3).start, range(3).end), (10, 11));
        let past = part_range(4, &object).expect_err("an error");
        assert_eq!(
            past.status_code(),
            Some(http::StatusCode::RANGE_NOT_SATISFIABLE)
        );
        assert_eq!(past.code().as_str(), "InvalidPartNumber");
    }

    #[test]
    fn a_simple_object_is_its_one_part() {
        let object = record(StoredBody::Inline(b"body".to_vec()), 4, None);
        let whole = part_range(1, &object).expect("a value").expect("a value");
        assert_eq!((whole.start, whole.end), (0, 3));
        assert!(part_range(2, &object).is_err());
        assert_eq!(
            *part_range(0, &object).expect_err("an error").code(),
            S3ErrorCode::InvalidArgument
        );
        let empty = record(StoredBody::Inline(Vec::new()), 0, None);
        assert!(part_range(1, &empty).expect("a value").is_none());
    }
}
