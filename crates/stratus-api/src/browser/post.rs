//! The edge's part in POST Object (browser form uploads; the operation is `s3/post_object.rs`).
//! s3s parses the form but keeps neither the uploaded file's name (for `${filename}` in `key`)
//! nor the form's `acl` field (it reads `x-amz-acl`), so the edge taps the start of the body on
//! its way to s3s and the handler reads both from there. And s3s answers a failed policy
//! condition with 400 `InvalidPolicyDocument` and an expired policy with its own message, where
//! AWS answers 403 `AccessDenied` "Invalid according to Policy: ..."; the edge rewrites those.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt as _;

/// How much of a form is kept: the fields before the file, and the file part's headers.
const PEEK_LIMIT: usize = 256 * 1024;

/// The first bytes of a multipart form, as they streamed past.
#[derive(Clone, Debug)]
pub(crate) struct FormPeek {
    boundary: String,
    head: Arc<Mutex<Vec<u8>>>,
}

/// What the handler needs from the form that s3s does not keep.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PeekedFields {
    /// The file part's `filename`.
    pub(crate) filename: Option<String>,
    /// The `acl` field.
    pub(crate) acl: Option<String>,
    /// The `tagging` field: the object's tag set as a `<Tagging>` XML document.
    pub(crate) tagging: Option<String>,
    /// The `policy` field (base64 JSON), to check what s3s's parse lets through.
    pub(crate) policy: Option<String>,
    /// Whether the form has a `signature` (V2) or `x-amz-signature` (V4) field.
    pub(crate) signed: bool,
}

fn disposition_param(headers: &str, name: &str) -> Option<String> {
    let line = headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    let marker = format!("{name}=\"");
    let start = line.find(&marker)? + marker.len();
    let rest = &line[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl FormPeek {
    pub(crate) fn fields(&self) -> PeekedFields {
        let head = self.head.lock().map(|h| h.clone()).unwrap_or_default();
        parse_fields(&head, &self.boundary)
    }
}

fn parse_fields(head: &[u8], boundary: &str) -> PeekedFields {
    let text = String::from_utf8_lossy(head);
    let delimiter = format!("--{boundary}");
    let mut fields = PeekedFields::default();
    for part in text.split(delimiter.as_str()).skip(1) {
        let Some((headers, value)) = part.split_once("\r\n\r\n") else {
            break;
        };
        let Some(name) = disposition_param(headers, "name") else {
            continue;
        };
        if name.eq_ignore_ascii_case("file") {
            fields.filename = disposition_param(headers, "filename");
            break;
        }
        if name.eq_ignore_ascii_case("acl") {
            fields.acl = Some(value.trim_end_matches("\r\n").to_owned());
        }
        if name.eq_ignore_ascii_case("tagging") {
            fields.tagging = Some(value.trim_end_matches("\r\n").to_owned());
        }
        if name.eq_ignore_ascii_case("signature") || name.eq_ignore_ascii_case("x-amz-signature") {
            fields.signed = true;
        }
        if name.eq_ignore_ascii_case("policy") {
            fields.policy = Some(value.trim_end_matches("\r\n").to_owned());
        }
    }
    fields
}

/// A body that copies its first [`PEEK_LIMIT`] bytes into a [`FormPeek`].
struct Tapped<B> {
    inner: B,
    head: Arc<Mutex<Vec<u8>>>,
}

impl<B> http_body::Body for Tapped<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
            && let Ok(mut head) = self.head.lock()
            && head.len() < PEEK_LIMIT
        {
            let take = data.len().min(PEEK_LIMIT - head.len());
            head.extend_from_slice(&data[..take]);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The boundary of a `POST` with a `multipart/form-data` body: a browser form upload.
fn form_boundary<B>(request: &Request<B>) -> Option<String> {
    if request.method() != http::Method::POST {
        return None;
    }
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let mut params = content_type.split(';').map(str::trim);
    if !params
        .next()
        .is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data"))
    {
        return None;
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
}

/// Prepares a request for s3s: a form upload's body is tapped (and the tap put in the
/// extensions, which s3s hands to the handler). Returns the tap of a form upload.
pub(crate) fn tap(
    request: Request<hyper::body::Incoming>,
) -> (Request<s3s::Body>, Option<FormPeek>) {
    match form_boundary(&request) {
        Some(boundary) => {
            let head = Arc::new(Mutex::new(Vec::new()));
            let (mut parts, body) = request.into_parts();
            let peek = FormPeek {
                boundary,
                head: Arc::clone(&head),
            };
            parts.extensions.insert(peek.clone());
            let body = s3s::Body::http_body(Tapped { inner: body, head });
            (Request::from_parts(parts, body), Some(peek))
        }
        None => (request.map(s3s::Body::http_body), None),
    }
}

/// s3s answers a form upload with the `key` field as sent; the stored key has `${filename}`
/// replaced, so the PostResponse (201) and the redirect (303) are made to name it. And AWS's
/// PostResponse quotes the ETag, as every other ETag, where s3s does not.
pub(crate) async fn name_the_stored_key(
    response: Response<Body>,
    peek: &FormPeek,
) -> Response<Body> {
    let filename = peek
        .fields()
        .filename
        .unwrap_or_else(|| "${filename}".to_owned());
    match response.status() {
        StatusCode::CREATED => {
            let (mut parts, body) = response.into_parts();
            let Ok(collected) = body.collect().await else {
                return Response::from_parts(parts, Body::empty());
            };
            let mut text = String::from_utf8_lossy(&collected.to_bytes())
                .replace("${filename}", &crate::xml::escape(&filename));
            if let Some(etag) = xml_text(&text, "ETag").filter(|e| !e.starts_with('"')) {
                let quoted = format!("<ETag>\"{etag}\"</ETag>");
                text = text.replace(&format!("<ETag>{etag}</ETag>"), &quoted);
            }
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(text))
        }
        StatusCode::SEE_OTHER => {
            let mut response = response;
            let encoded: String = form_urlencoded::byte_serialize(filename.as_bytes()).collect();
            if let Some(location) = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| quote_etag_param(&l.replace("%24%7Bfilename%7D", &encoded)))
                && let Ok(value) = http::HeaderValue::from_str(&location)
            {
                response.headers_mut().insert(http::header::LOCATION, value);
            }
            response
        }
        _ => response,
    }
}

/// `etag=HEX` becomes `etag=%22HEX%22`, as AWS's redirect after a form upload has it.
fn quote_etag_param(location: &str) -> String {
    match location.rsplit_once("etag=") {
        Some((head, etag)) if !etag.starts_with("%22") && !etag.contains('&') => {
            format!("{head}etag=%22{etag}%22")
        }
        _ => location.to_owned(),
    }
}

fn xml_text<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(&body[start..end])
}

/// The text of an XML element (the five predefined entities; s3s writes no others).
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Rewrites s3s's answers to a refused policy into AWS's.
pub(crate) async fn rewrite_policy_error(
    response: Response<Body>,
    form: &FormPeek,
) -> Response<Body> {
    if !matches!(
        response.status(),
        StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN
    ) {
        return response;
    }
    // s3s takes a form without a signature for an anonymous one (and still checks its
    // policy); a policy is only ever sent signed, so S3 answers that a field is missing.
    let fields = form.fields();
    if fields.policy.is_some() && !fields.signed {
        return super::xml_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Bucket POST must contain a field named 'Signature' (or 'X-Amz-Signature') when it carries a policy",
            "",
        );
    }
    let (parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = collected.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let code = xml_text(&text, "Code").unwrap_or_default();
    // The text as s3s escaped it; `xml_error` escapes it again.
    let message = &unescape(xml_text(&text, "Message").unwrap_or_default());
    let rewritten = match code {
        "InvalidPolicyDocument"
            if message.starts_with("Policy condition")
                || message.starts_with("Bucket in form field") =>
        {
            Some(format!(
                "Invalid according to Policy: Policy Condition failed: {message}"
            ))
        }
        "AccessDenied" if message == "Request has expired" => {
            Some("Invalid according to Policy: Policy expired.".to_owned())
        }
        "AccessDenied" if message.starts_with("Each form field") => Some(format!(
            "Invalid according to Policy: Extra input fields: {message}"
        )),
        _ => None,
    };
    match rewritten {
        Some(message) => super::xml_error(StatusCode::FORBIDDEN, "AccessDenied", &message, ""),
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_unescaped_once() {
        assert_eq!(unescape("&apos;a&apos; &amp;lt; &lt;b&gt;"), "'a' &lt; <b>");
    }

    #[test]
    fn the_file_name_and_acl_are_read_from_the_form_head() {
        let form = "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"acl\"\r\n\r\npublic-read\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\u{1}\u{2}";
        assert_eq!(
            parse_fields(form.as_bytes(), "XyZ"),
            PeekedFields {
                filename: Some("photo.jpg".into()),
                acl: Some("public-read".into()),
                tagging: None,
                policy: None,
                signed: false,
            }
        );
        let tagged = "--XyZ\r\nContent-Disposition: form-data; name=\"tagging\"\r\n\r\n<Tagging><TagSet/></Tagging>\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx";
        assert_eq!(
            parse_fields(tagged.as_bytes(), "XyZ").tagging.as_deref(),
            Some("<Tagging><TagSet/></Tagging>")
        );
        assert_eq!(parse_fields(b"", "XyZ"), PeekedFields::default());
    }
}
