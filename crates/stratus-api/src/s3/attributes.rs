//! GetObjectAttributes (`GET /bucket/key?attributes`): the attributes the
//! `x-amz-object-attributes` header names — `ETag`, `Checksum`, `ObjectParts`, `StorageClass`,
//! `ObjectSize` — without the body. `ObjectParts` pages with `x-amz-max-parts` and
//! `x-amz-part-number-marker` and is present only for multipart objects.
//!
//! Served as an s3s custom route, not through the `S3` trait: s3s 0.14.1 writes this
//! response's `<ETag>` in quotes, while AWS (and so boto3 callers and ceph/s3-tests) has it
//! bare (s3s issue #629). s3s has verified the signature before the route is called.

use std::fmt::Write as _;

use http::{HeaderMap, Method, Uri};
use s3s::route::S3Route;
use s3s::{Body, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_meta::StoredBody;
use stratus_store::ObjectRecord;

use super::StratusS3;
use super::errors::{s3_err, s3_error};

const ATTRIBUTES: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];
const DEFAULT_MAX_PARTS: u32 = 1000;

pub(crate) struct AttributesRoute {
    pub(crate) s3: StratusS3,
}

fn is_attributes_query(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split('=').next() == Some("attributes"))
    })
}

/// `(bucket, key)` of a path-style object path.
fn object_path(uri: &Uri) -> Option<(String, String)> {
    let decoded = percent_encoding::percent_decode_str(uri.path())
        .decode_utf8()
        .ok()?;
    match s3s::path::parse_path_style(&decoded).ok()? {
        s3s::path::S3Path::Object { bucket, key } => Some((bucket.into(), key.into())),
        _ => None,
    }
}

#[async_trait::async_trait]
impl S3Route for AttributesRoute {
    fn is_match(
        &self,
        method: &Method,
        uri: &Uri,
        _headers: &HeaderMap,
        _extensions: &mut http::Extensions,
    ) -> bool {
        method == Method::GET && is_attributes_query(uri) && object_path(uri).is_some()
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let caller = self.s3.caller(&req).await?;
        let Some((bucket, key)) = object_path(&req.uri) else {
            return s3_err(S3ErrorCode::InvalidRequest, "an object path is required");
        };
        super::expected_owner::check(&self.s3.store, Some(&bucket), &req.headers).await?;
        let wanted = requested_attributes(&req.headers)?;
        let pages = PartsPage::from_headers(&req.headers)?;
        let version_id = version_query(&req.uri);
        let record = self
            .s3
            .store
            .head_object_version(
                &caller,
                &bucket,
                &key,
                &super::versioning::selector(version_id.as_deref()),
            )
            .await
            .map_err(s3_error)?;
        let body = render(&record, &wanted, &pages);
        let mut response = S3Response::new(Body::from(body));
        response.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/xml"),
        );
        if let Ok(value) = http::HeaderValue::from_str(&last_modified(record.last_modified_ms)) {
            response.headers.insert(http::header::LAST_MODIFIED, value);
        }
        // The version the attributes describe, as GetObject names it.
        if let Some(value) = record
            .version_id
            .as_deref()
            .and_then(|v| http::HeaderValue::from_str(v).ok())
        {
            response.headers.insert("x-amz-version-id", value);
        }
        Ok(response)
    }
}

/// The `versionId` query parameter, percent-decoded.
fn version_query(uri: &Uri) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let value = pair.strip_prefix("versionId=")?;
        percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .ok()
            .map(|v| v.into_owned())
    })
}

fn last_modified(ms: i64) -> String {
    let mut buf = Vec::new();
    let _ = super::convert::timestamp(ms).format(s3s::dto::TimestampFormat::HttpDate, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

fn requested_attributes(headers: &HeaderMap) -> S3Result<Vec<&'static str>> {
    let mut wanted = Vec::new();
    for value in headers.get_all("x-amz-object-attributes") {
        let text = value.to_str().unwrap_or("");
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match ATTRIBUTES.iter().find(|a| **a == name) {
                Some(known) => wanted.push(*known),
                None => {
                    return s3_err(
                        S3ErrorCode::InvalidArgument,
                        "Invalid attribute name specified.",
                    );
                }
            }
        }
    }
    if wanted.is_empty() {
        return s3_err(
            S3ErrorCode::InvalidArgument,
            "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty",
        );
    }
    Ok(wanted)
}

struct PartsPage {
    max: u32,
    max_given: bool,
    marker: Option<u32>,
}

impl PartsPage {
    fn from_headers(headers: &HeaderMap) -> S3Result<Self> {
        let number = |name: &str, what: &str| -> S3Result<Option<u32>> {
            match headers.get(name) {
                None => Ok(None),
                Some(value) => value
                    .to_str()
                    .ok()
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .map(Some)
                    .ok_or_else(|| {
                        S3Error::with_message(
                            S3ErrorCode::InvalidArgument,
                            format!("{what} must be a non-negative integer"),
                        )
                    }),
            }
        };
        let max = number("x-amz-max-parts", "max-parts")?;
        Ok(Self {
            max: max.unwrap_or(DEFAULT_MAX_PARTS).min(DEFAULT_MAX_PARTS),
            max_given: max.is_some(),
            marker: number("x-amz-part-number-marker", "part-number-marker")?,
        })
    }
}

/// A multipart object's parts: (number, size, checksum). Numbers come from the recorded part
/// checksums when the upload had an algorithm, else they are 1 to N.
fn parts_of(record: &ObjectRecord) -> Vec<(u32, u64, Option<String>)> {
    let StoredBody::Segments(segments) = &record.body else {
        return Vec::new();
    };
    let recorded = record
        .headers
        .multipart_checksum
        .as_ref()
        .map(|m| m.parts.as_slice())
        .unwrap_or_default();
    segments
        .iter()
        .enumerate()
        .map(|(i, segment)| match recorded.get(i) {
            Some((number, sum)) if recorded.len() == segments.len() => {
                (*number, segment.len, Some(sum.clone()))
            }
            _ => (u32::try_from(i + 1).unwrap_or(u32::MAX), segment.len, None),
        })
        .collect()
}

fn render(record: &ObjectRecord, wanted: &[&str], page: &PartsPage) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><GetObjectAttributesResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    let sums = &record.headers.checksums;
    let algorithm_of = |name: &str| format!("Checksum{name}");
    if wanted.contains(&"ETag") {
        let _ = write!(xml, "<ETag>{}</ETag>", record.etag);
    }
    if wanted.contains(&"Checksum") && !sums.is_empty() {
        xml.push_str("<Checksum>");
        for (name, value) in sums {
            let tag = algorithm_of(name);
            let _ = write!(xml, "<{tag}>{value}</{tag}>");
        }
        let kind = record
            .headers
            .multipart_checksum
            .as_ref()
            .map_or("FULL_OBJECT", |m| m.kind.as_str());
        let _ = write!(xml, "<ChecksumType>{kind}</ChecksumType></Checksum>");
    }
    let parts = if record.parts.is_some() {
        parts_of(record)
    } else {
        Vec::new()
    };
    if wanted.contains(&"ObjectParts") && !parts.is_empty() {
        let algorithm = record
            .headers
            .multipart_checksum
            .as_ref()
            .map(|m| algorithm_of(&m.algorithm));
        let after = page.marker.unwrap_or(0);
        let mut rest = parts.iter().filter(|(n, _, _)| *n > after);
        let shown: Vec<_> = rest.by_ref().take(page.max as usize).collect();
        let truncated = rest.next().is_some();
        xml.push_str("<ObjectParts>");
        let _ = write!(xml, "<IsTruncated>{truncated}</IsTruncated>");
        if page.max_given {
            let _ = write!(xml, "<MaxParts>{}</MaxParts>", page.max);
        }
        if let (true, Some(last)) = (truncated, shown.last()) {
            let _ = write!(
                xml,
                "<NextPartNumberMarker>{}</NextPartNumberMarker>",
                last.0
            );
        }
        if let Some(marker) = page.marker {
            let _ = write!(xml, "<PartNumberMarker>{marker}</PartNumberMarker>");
        }
        for (number, size, sum) in shown {
            let _ = write!(
                xml,
                "<Part><PartNumber>{number}</PartNumber><Size>{size}</Size>"
            );
            if let (Some(tag), Some(sum)) = (&algorithm, sum) {
                let _ = write!(xml, "<{tag}>{sum}</{tag}>");
            }
            xml.push_str("</Part>");
        }
        let _ = write!(
            xml,
            "<PartsCount>{}</PartsCount></ObjectParts>",
            parts.len()
        );
    }
    if wanted.contains(&"StorageClass") {
        xml.push_str("<StorageClass>STANDARD</StorageClass>");
    }
    if wanted.contains(&"ObjectSize") {
        let _ = write!(xml, "<ObjectSize>{}</ObjectSize>", record.size);
    }
    xml.push_str("</GetObjectAttributesResponse>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("a value"));
        }
        map
    }

    #[test]
    fn the_attributes_header_is_required_and_checked() {
        assert_eq!(
            requested_attributes(&headers(&[("x-amz-object-attributes", "ETag, ObjectSize")]))
                .expect("a value"),
            ["ETag", "ObjectSize"]
        );
        for bad in [
            headers(&[]),
            headers(&[("x-amz-object-attributes", "ETag,Colour")]),
        ] {
            assert_eq!(
                *requested_attributes(&bad).expect_err("an error").code(),
                S3ErrorCode::InvalidArgument
            );
        }
    }

    #[test]
    fn only_the_attributes_query_on_an_object_matches() {
        let uri = |s: &str| s.parse::<Uri>().expect("a value");
        assert!(is_attributes_query(&uri("/b/k?attributes")));
        assert!(is_attributes_query(&uri("/b/k?versionId=1&attributes=")));
        assert!(!is_attributes_query(&uri("/b/k?attributesx")));
        assert_eq!(
            object_path(&uri("/bkt/a%20b?attributes")),
            Some(("bkt".into(), "a b".into()))
        );
        assert_eq!(object_path(&uri("/bkt?attributes")), None);
    }
}
