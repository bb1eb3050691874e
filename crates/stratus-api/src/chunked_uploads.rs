//! S3 uploads framed with plain `Transfer-Encoding: chunked` and no length. s3s needs the body
//! length to check the signed payload hash and refuses such a request with 411
//! MissingContentLength, as S3 itself does; ceph/s3-tests'
//! `test_object_write_with_chunked_transfer_encoding` (a botocore PUT with the header added)
//! expects it to be stored, as RGW does. The edge therefore reads such a body, up to
//! [`MAX_UNFRAMED_BYTES`], into memory, so that s3s sees a body of known length; a longer one
//! still gets S3's 411. `aws-chunked` uploads (which announce `x-amz-decoded-content-length`)
//! and bodies with a Content-Length are passed on untouched.

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt as _, Limited};

/// The most an upload without any length may carry.
pub(crate) const MAX_UNFRAMED_BYTES: usize = 64 * 1024 * 1024;

/// Whether `request` is an upload whose length nothing announces.
pub(crate) fn is_unframed_upload(method: &Method, headers: &HeaderMap) -> bool {
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
        });
    (method == Method::PUT || method == Method::POST)
        && chunked
        && !headers.contains_key(http::header::CONTENT_LENGTH)
        && !headers.contains_key("x-amz-decoded-content-length")
}

/// The request with its body read into memory, or S3's 411 when it is too long to hold.
pub(crate) async fn buffer<B>(request: Request<B>) -> Result<Request<s3s::Body>, s3s::S3Error>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = request.into_parts();
    match Limited::new(body, MAX_UNFRAMED_BYTES).collect().await {
        Ok(collected) => Ok(Request::from_parts(
            parts,
            s3s::Body::from(collected.to_bytes()),
        )),
        Err(error) => {
            tracing::debug!(%error, "unframed upload refused");
            Err(s3s::S3Error::with_message(
                s3s::S3ErrorCode::MissingContentLength,
                "You must provide the Content-Length HTTP header.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    v.parse().expect("a value"),
                )
            })
            .collect()
    }

    #[test]
    fn only_chunked_uploads_without_any_length_are_unframed() {
        let te = ("transfer-encoding", "chunked");
        assert!(is_unframed_upload(&Method::PUT, &headers(&[te])));
        assert!(!is_unframed_upload(&Method::GET, &headers(&[te])));
        assert!(!is_unframed_upload(
            &Method::PUT,
            &headers(&[te, ("x-amz-decoded-content-length", "3")])
        ));
        assert!(!is_unframed_upload(
            &Method::PUT,
            &headers(&[("content-length", "3")])
        ));
    }
}
