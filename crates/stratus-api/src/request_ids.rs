//! Request ids on every AWS-protocol response, set at the edge so that no path (an s3s
//! signature error, a routing refusal, an operation's own answer) can leave one out.
//!
//! S3 names its id `x-amz-request-id`, with `x-amz-id-2` (the "host id"), and repeats both in
//! the `<Error>` document's `<RequestId>` and `<HostId>`; support tickets and SDK error messages
//! quote them. The JSON and query services (SQS, SNS, Lambda, Logs) name theirs
//! `x-amzn-RequestId`; those layers set it themselves, this only fills a gap.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderValue, Response};

/// S3's id: 16 upper-case hex digits, as AWS writes them.
fn s3_request_id() -> String {
    let random = stratus_runtime::request_id();
    random
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(16)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// S3's host id: opaque base64.
fn s3_host_id() -> String {
    BASE64.encode(stratus_runtime::request_id())
}

/// Adds the ids to an S3 response and, for an error document that lacks them, to its body.
pub(crate) fn stamp_s3(mut response: Response<s3s::Body>) -> Response<s3s::Body> {
    let request_id = s3_request_id();
    let host_id = s3_host_id();
    if response.status().is_client_error() || response.status().is_server_error() {
        let with_ids = response
            .body()
            .bytes()
            .and_then(|body| error_body_with_ids(&body, &request_id, &host_id));
        if let Some(body) = with_ids {
            let length = HeaderValue::from(body.len());
            *response.body_mut() = s3s::Body::from(body);
            if response
                .headers()
                .contains_key(http::header::CONTENT_LENGTH)
            {
                response
                    .headers_mut()
                    .insert(http::header::CONTENT_LENGTH, length);
            }
        }
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amz-request-id", value);
    }
    if let Ok(value) = HeaderValue::from_str(&host_id) {
        headers.insert("x-amz-id-2", value);
    }
    response
}

/// The `<Error>` document with `<RequestId>` and `<HostId>` added before `</Error>`, unless it
/// already names a request id; `None` for any other body (HEAD errors have none).
fn error_body_with_ids(body: &Bytes, request_id: &str, host_id: &str) -> Option<Bytes> {
    let text = std::str::from_utf8(body).ok()?;
    if text.contains("<RequestId>") {
        return None;
    }
    let end = text.rfind("</Error>")?;
    let mut out = String::with_capacity(text.len() + 120);
    out.push_str(&text[..end]);
    out.push_str("<RequestId>");
    out.push_str(request_id);
    out.push_str("</RequestId><HostId>");
    out.push_str(host_id);
    out.push_str("</HostId>");
    out.push_str(&text[end..]);
    Some(Bytes::from(out))
}

/// Gives a JSON- or query-protocol response an `x-amzn-RequestId` when its layer set none.
pub(crate) fn ensure_amzn_request_id<B>(mut response: Response<B>) -> Response<B> {
    if !response.headers().contains_key("x-amzn-requestid")
        && let Ok(value) = HeaderValue::from_str(&stratus_runtime::request_id())
    {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_go_before_the_end_of_an_error_document() {
        let body = Bytes::from_static(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>m</Message></Error>",
        );
        let out = error_body_with_ids(&body, "ABC", "HOST").expect("a value");
        assert_eq!(
            std::str::from_utf8(&out).expect("a value"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>m</Message><RequestId>ABC</RequestId><HostId>HOST</HostId></Error>"
        );
    }

    #[test]
    fn other_bodies_and_documents_with_an_id_are_left_alone() {
        assert!(error_body_with_ids(&Bytes::new(), "A", "H").is_none());
        let with_id = Bytes::from_static(b"<Error><RequestId>X</RequestId></Error>");
        assert!(error_body_with_ids(&with_id, "A", "H").is_none());
    }

    #[test]
    fn s3_ids_have_aws_shape() {
        let id = s3_request_id();
        assert_eq!(id.len(), 16);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }

    #[test]
    fn an_existing_amzn_id_is_kept() {
        let response = Response::builder()
            .header("x-amzn-RequestId", "kept")
            .body(())
            .expect("a value");
        let out = ensure_amzn_request_id(response);
        assert_eq!(out.headers()["x-amzn-requestid"], "kept");
        let out = ensure_amzn_request_id(Response::new(()));
        assert!(out.headers().contains_key("x-amzn-requestid"));
    }
}
