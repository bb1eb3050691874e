//! SNS's XML responses: `<XResponse><XResult>...</XResult><ResponseMetadata>`.

use axum::body::Body;
use http::{Response, StatusCode};

pub(crate) const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

pub(crate) use crate::xml::escape;

/// An XML response; its `x-amzn-RequestId` header and the `<RequestId>` that `body` writes
/// carry the same fresh request id (a random UUID, as SNS's are).
pub(crate) fn response(status: StatusCode, body: impl FnOnce(&str) -> String) -> Response<Body> {
    let request_id = stratus_runtime::request_id();
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", &request_id)
        .body(Body::from(body(&request_id)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// `<{action}Response>` with `result` inside `<{action}Result>` (omitted when None).
pub(crate) fn ok(action: &str, result: Option<&str>) -> Response<Body> {
    let inner = result.map_or(String::new(), |r| {
        format!("<{action}Result>{r}</{action}Result>")
    });
    response(StatusCode::OK, |request_id| {
        format!(
            "<{action}Response xmlns=\"{NAMESPACE}\">{inner}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
        )
    })
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
