//! The API Gateway v2 ("2.0") payload format that Lambda function URLs use: an HTTP request
//! becomes an event, and the function's result becomes an HTTP response.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

/// What the edge knows about one HTTP request to a URL.
pub(crate) struct HttpRequest<'a> {
    pub method: &'a str,
    /// The path after `/fn/NAME`, always starting with `/`.
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub source_ip: String,
    pub request_id: &'a str,
    pub url_name: &'a str,
    pub account_id: &'a str,
    pub now: time::OffsetDateTime,
}

/// Bodies of these types travel as text; everything else is base64, as API Gateway does.
fn is_text(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
                | "application/graphql"
        )
}

/// `Tue, 26/Nov/2026:08:00:00 +0000` style, as API Gateway writes `requestContext.time`.
fn gateway_time(now: time::OffsetDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        now.day(),
        MONTHS[usize::from(u8::from(now.month())) - 1],
        now.year(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Builds the event: headers lower-cased with repeated values joined by commas, cookies split
/// out, query parameters decoded, the body as text or base64.
pub(crate) fn request_event(request: &HttpRequest<'_>) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in crate::form_pairs(request.raw_query.as_bytes()) {
        match query.entry(key) {
            Entry::Occupied(mut joined) => {
                joined.get_mut().push(',');
                joined.get_mut().push_str(&value);
            }
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
        }
    }
    let content_type = headers.get("content-type").map_or("", String::as_str);
    let text_body = is_text(content_type)
        .then(|| std::str::from_utf8(request.body).ok())
        .flatten();
    let (body, is_base64) = match text_body {
        Some(text) => (text.to_owned(), false),
        None => (
            base64::engine::general_purpose::STANDARD.encode(request.body),
            true,
        ),
    };
    let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
    let domain = headers.get("host").cloned().unwrap_or_default();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": request.account_id,
            "apiId": request.url_name,
            "domainName": domain,
            "domainPrefix": request.url_name,
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": request.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": gateway_time(request.now),
            "timeEpoch": request.now.unix_timestamp_nanos() / 1_000_000,
        },
        "isBase64Encoded": is_base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = json!(query);
    }
    if !request.body.is_empty() {
        event["body"] = Value::String(body);
    }
    event
}

/// The HTTP response a function's result stands for.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// Why a result cannot be turned into a response (the caller answers 502, as Lambda does).
#[derive(Debug)]
pub(crate) struct BadResult(pub String);

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), BadResult> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| BadResult(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| BadResult(format!("invalid value for header {name}")))?;
    Ok((name, value))
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Lambda's rule: a JSON object with `statusCode` describes the response; any other valid JSON
/// is the body of a 200 `application/json` response.
pub(crate) fn response_from_result(payload: &[u8]) -> Result<HttpResponse, BadResult> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| BadResult(format!("the function returned invalid JSON: {e}")))?;
    let Some(object) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        return Ok(HttpResponse {
            status: StatusCode::OK,
            headers: vec![header_pair("content-type", "application/json")?],
            body: Bytes::copy_from_slice(payload),
        });
    };
    shaped_response(object)
}

fn shaped_response(object: &Map<String, Value>) -> Result<HttpResponse, BadResult> {
    let status = object
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| BadResult("statusCode must be an HTTP status number".into()))?;
    let mut headers = Vec::new();
    if let Some(map) = object.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            headers.push(header_pair(name, &scalar_text(value))?);
        }
    }
    if let Some(map) = object.get("multiValueHeaders").and_then(Value::as_object) {
        for (name, values) in map {
            for value in values.as_array().into_iter().flatten() {
                headers.push(header_pair(name, &scalar_text(value))?);
            }
        }
    }
    for cookie in object
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        headers.push(header_pair("set-cookie", &scalar_text(cookie))?);
    }
    let body = match object.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(body) => {
            let text = scalar_text(body);
            if object.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map(Bytes::from)
                    .map_err(|_| {
                        BadResult("isBase64Encoded is true but body is not base64".into())
                    })?
            } else {
                Bytes::from(text)
            }
        }
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a HeaderMap, body: &'a Bytes, query: &'a str) -> HttpRequest<'a> {
        HttpRequest {
            method: "POST",
            raw_path: "/a/b",
            raw_query: query,
            headers,
            body,
            source_ip: "127.0.0.1".into(),
            request_id: "rid",
            url_name: "f",
            account_id: "123456789012",
            now: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn text_bodies_stay_text_and_binary_bodies_are_base64() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        headers.append("x-many", HeaderValue::from_static("1"));
        headers.append("x-many", HeaderValue::from_static("2"));
        headers.insert("cookie", HeaderValue::from_static("a=1; b=2"));
        let body = Bytes::from_static(b"{\"k\":1}");
        let event = request_event(&request(&headers, &body, "x=1&x=2&y=hello+world"));
        assert_eq!(event["body"], "{\"k\":1}");
        assert_eq!(event["isBase64Encoded"], false);
        assert_eq!(event["headers"]["x-many"], "1,2");
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["queryStringParameters"]["x"], "1,2");
        assert_eq!(event["queryStringParameters"]["y"], "hello world");
        assert_eq!(
            event["requestContext"]["time"],
            "01/Jan/1970:00:00:00 +0000"
        );

        let mut binary = HeaderMap::new();
        binary.insert("content-type", HeaderValue::from_static("image/png"));
        let body = Bytes::from_static(&[0x89, b'P', b'N', b'G']);
        let event = request_event(&request(&binary, &body, ""));
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "iVBORw==");
        assert!(event.get("queryStringParameters").is_none());
    }

    #[test]
    fn results_map_to_responses_by_lambdas_rules() {
        let plain = response_from_result(br#"{"label":"cat"}"#).expect("plain");
        assert_eq!(plain.status, StatusCode::OK);
        assert_eq!(plain.body, Bytes::from_static(br#"{"label":"cat"}"#));

        let shaped = response_from_result(
            br#"{"statusCode":201,"headers":{"x-a":"b"},"cookies":["s=1"],"body":"aGk=","isBase64Encoded":true}"#,
        )
        .expect("shaped");
        assert_eq!(shaped.status, StatusCode::CREATED);
        assert_eq!(shaped.body, Bytes::from_static(b"hi"));
        assert!(
            shaped
                .headers
                .iter()
                .any(|(n, v)| n == "set-cookie" && v == "s=1")
        );

        assert!(response_from_result(br#"{"statusCode":"nope"}"#).is_err());
        assert!(response_from_result(b"not json").is_err());
    }
}
