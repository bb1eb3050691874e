//! SNS's XML responses: `<XResponse><XResult>...</XResult><ResponseMetadata>`.

use axum::body::Body;
use http::{Response, StatusCode};

pub(crate) const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

pub(crate) use crate::xml::escape;

pub(crate) fn request_id() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

pub(crate) fn response(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", request_id())
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// `<{action}Response>` with `result` inside `<{action}Result>` (omitted when None).
pub(crate) fn ok(action: &str, result: Option<&str>) -> Response<Body> {
    let inner = result.map_or(String::new(), |r| {
        format!("<{action}Result>{r}</{action}Result>")
    });
    response(
        StatusCode::OK,
        format!(
            "<{action}Response xmlns=\"{NAMESPACE}\">{inner}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            request_id()
        ),
    )
}

/// `<name>text</name>`, escaped.
pub(crate) fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// `<Attributes><entry><key>..</key><value>..</value></entry>...</Attributes>`.
pub(crate) fn entries<'a>(
    name: &str,
    pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> String {
    let inner: String = pairs
        .into_iter()
        .map(|(k, v)| {
            format!(
                "<entry>{}{}</entry>",
                element("key", k),
                element("value", v)
            )
        })
        .collect();
    format!("<{name}>{inner}</{name}>")
}
