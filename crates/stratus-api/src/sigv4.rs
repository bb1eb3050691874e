//! AWS Signature Version 4 verification for the AWS protocols other than S3 (Lambda now; SQS,
//! SNS and Logs later). S3 is verified by s3s. Both the `Authorization` header form and the
//! presigned query form (`X-Amz-Signature=…`) are accepted.
//!
//! The whole body must be buffered: non-S3 clients sign its SHA-256 and send no
//! `x-amz-content-sha256`. The request must carry a `Host` header (HTTP/2 callers must copy
//! `:authority` into one), since every client signs it.

use std::fmt;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// AWS refuses requests whose time differs from its clock by more than this.
const MAX_SKEW_SECONDS: i64 = 15 * 60;
/// AWS caps `X-Amz-Expires` at a week.
const MAX_PRESIGN_SECONDS: i64 = 7 * 24 * 60 * 60;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The parts of a request that the signature covers.
pub(crate) struct SignedParts<'a> {
    pub method: &'a str,
    /// The path exactly as received (still percent-encoded).
    pub raw_path: &'a str,
    /// The query exactly as received, without the `?`.
    pub raw_query: &'a str,
    pub headers: &'a http::HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

/// A parsed `Authorization` header or presigned query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub access_key: String,
    /// `yyyymmdd` of the credential scope.
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lowercase, in the order the client gave them.
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `yyyymmddThhmmssZ`, from `x-amz-date`, the `Date` header or `X-Amz-Date`.
    pub amz_date: String,
    /// Presigned requests: their lifetime in seconds.
    pub expires: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SigV4Error {
    /// Neither an `Authorization` header nor `X-Amz-Algorithm` in the query.
    Missing,
    /// The signature's fields are incomplete or invalid.
    Malformed(String),
    /// The request time is more than 15 minutes from now, the presigned URL has expired, or
    /// the credential scope's date is not the request's.
    Expired(String),
    /// The signature does not match (wrong secret, or the request was changed).
    Mismatch,
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the request is not signed"),
            Self::Malformed(message) | Self::Expired(message) => f.write_str(message),
            Self::Mismatch => f.write_str("the request signature does not match"),
        }
    }
}

impl std::error::Error for SigV4Error {}

fn malformed(message: impl Into<String>) -> SigV4Error {
    SigV4Error::Malformed(message.into())
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads the signature from the `Authorization` header or else the presigned query.
pub(crate) fn parse(parts: &SignedParts<'_>) -> Result<Authorization, SigV4Error> {
    if let Some(value) = parts.headers.get(http::header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| malformed("the authorization header is not ascii"))?;
        return parse_header(value, parts.headers);
    }
    let get = |name: &str| query_param(parts.raw_query, name);
    let Some(algorithm) = get("X-Amz-Algorithm") else {
        return Err(SigV4Error::Missing);
    };
    if algorithm != ALGORITHM {
        return Err(malformed(format!("unsupported algorithm {algorithm:?}")));
    }
    let required = |name: &str| get(name).ok_or_else(|| malformed(format!("missing {name}")));
    let (access_key, date, region, service) = parse_credential(&required("X-Amz-Credential")?)?;
    let expires = required("X-Amz-Expires")?;
    let expires = match expires.parse::<i64>() {
        Ok(seconds @ 1..=MAX_PRESIGN_SECONDS) => seconds,
        _ => {
            return Err(malformed(format!(
                "X-Amz-Expires must be from 1 to {MAX_PRESIGN_SECONDS} seconds, not {expires:?}"
            )));
        }
    };
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: split_signed_headers(&required("X-Amz-SignedHeaders")?),
        signature: required("X-Amz-Signature")?,
        amz_date: required("X-Amz-Date")?,
        expires: Some(expires),
    })
}

fn parse_header(value: &str, headers: &http::HeaderMap) -> Result<Authorization, SigV4Error> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(' '))
        .ok_or_else(|| malformed("the authorization header must use AWS4-HMAC-SHA256"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for field in rest.split(',') {
        match field.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    fn require<'a>(field: Option<&'a str>, name: &str) -> Result<&'a str, SigV4Error> {
        field.ok_or_else(|| malformed(format!("the authorization header requires {name}")))
    }
    let (access_key, date, region, service) = parse_credential(require(credential, "Credential")?)?;
    let amz_date = match header(headers, "x-amz-date") {
        Some(amz_date) => amz_date.to_owned(),
        None => header(headers, "date")
            .and_then(http_date_to_amz_date)
            .ok_or_else(|| malformed("the request requires an x-amz-date or date header"))?,
    };
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: split_signed_headers(require(signed, "SignedHeaders")?),
        signature: require(signature, "Signature")?.to_owned(),
        amz_date,
        expires: None,
    })
}

fn parse_credential(credential: &str) -> Result<(String, String, String, String), SigV4Error> {
    match credential.split('/').collect::<Vec<_>>().as_slice() {
        [key, date, region, service, "aws4_request"]
            if !key.is_empty() && !region.is_empty() && !service.is_empty() =>
        {
            Ok((
                key.to_string(),
                date.to_string(),
                region.to_string(),
                service.to_string(),
            ))
        }
        _ => Err(malformed(format!(
            "credential {credential:?} is not KEY/DATE/REGION/SERVICE/aws4_request"
        ))),
    }
}

fn split_signed_headers(text: &str) -> Vec<String> {
    text.split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Checks the request time against `now` and the signature against `secret`.
pub(crate) fn verify(
    parts: &SignedParts<'_>,
    auth: &Authorization,
    secret: &str,
    now: time::OffsetDateTime,
) -> Result<(), SigV4Error> {
    check_time(auth, now)?;
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(malformed("the host header must be signed"));
    }
    let body_hash = hex::encode(Sha256::digest(parts.body));
    // A declared hash must be the body's, or a valid signature would cover a different body.
    let payloads = match (header(parts.headers, "x-amz-content-sha256"), auth.expires) {
        (Some(declared), _) if declared == UNSIGNED_PAYLOAD || declared == body_hash => {
            vec![declared]
        }
        (Some(_), _) => return Err(SigV4Error::Mismatch),
        // botocore presigns non-S3 requests with the body's hash, other SDKs unsigned.
        (None, Some(_)) => vec![UNSIGNED_PAYLOAD, body_hash.as_str()],
        (None, None) => vec![body_hash.as_str()],
    };
    // SDKs normalise the path like RFC 3986 (and drop empty segments) and encode it once more
    // for these services; clients configured for S3-style signing (`s3v4`) sign the path as
    // sent. Both prove possession of the key, so both are accepted.
    let mut uris = vec![encode(normalize_path(parts.raw_path).as_bytes(), false)];
    let as_sent = if parts.raw_path.is_empty() {
        "/"
    } else {
        parts.raw_path
    };
    if !uris.iter().any(|uri| uri == as_sent) {
        uris.push(as_sent.to_owned());
    }
    let query = canonical_query(parts.raw_query, auth.expires.is_some());
    let headers = canonical_headers(parts.headers, &auth.signed_headers)?;
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    for part in [&auth.region, &auth.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    for uri in &uris {
        for payload in &payloads {
            let mut canonical = format!("{}\n{uri}\n{query}\n", parts.method).into_bytes();
            canonical.extend_from_slice(&headers);
            canonical.extend_from_slice(
                format!("\n{}\n{payload}", auth.signed_headers.join(";")).as_bytes(),
            );
            let string_to_sign = format!(
                "{ALGORITHM}\n{}\n{scope}\n{}",
                auth.amz_date,
                hex::encode(Sha256::digest(&canonical))
            );
            let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
            if stratus_core::secret::eq(auth.signature.as_bytes(), expected.as_bytes()) {
                return Ok(());
            }
        }
    }
    Err(SigV4Error::Mismatch)
}

fn check_time(auth: &Authorization, now: time::OffsetDateTime) -> Result<(), SigV4Error> {
    let request_time = parse_amz_date(&auth.amz_date)?;
    if auth.amz_date.get(..8) != Some(auth.date.as_str()) {
        return Err(SigV4Error::Expired(format!(
            "date in credential scope does not match the request date: {:?} != {:?}",
            auth.date, auth.amz_date
        )));
    }
    let age = (now - request_time).whole_seconds();
    if age < -MAX_SKEW_SECONDS {
        return Err(SigV4Error::Expired(format!(
            "signature not yet current: {} is more than 15 minutes after the server's time",
            auth.amz_date
        )));
    }
    match auth.expires {
        Some(expires) if age > expires => Err(SigV4Error::Expired(format!(
            "the presigned request expired {} seconds after {}",
            expires, auth.amz_date
        ))),
        None if age > MAX_SKEW_SECONDS => Err(SigV4Error::Expired(format!(
            "signature expired: {} is more than 15 minutes before the server's time",
            auth.amz_date
        ))),
        _ => Ok(()),
    }
}

/// Removes empty, `.` and `..` segments the way botocore and aws-sdk-rust do before signing
/// (AWS asks for RFC 3986 normalisation); nothing else is changed.
fn normalize_path(path: &str) -> String {
    let mut segments = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let trailing = if path.ends_with('/') && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    format!("/{}{trailing}", segments.join("/"))
}

/// Decodes each key and value, re-encodes them canonically, and sorts them. A `+` is a literal
/// plus (SDKs send spaces as `%20`). Presigned requests leave out their own signature.
fn canonical_query(raw: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let recode = |s: &str| {
                encode(
                    &percent_encoding::percent_decode_str(s).collect::<Vec<_>>(),
                    true,
                )
            };
            (recode(k), recode(v))
        })
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .collect();
    pairs.sort();
    let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("&")
}

fn query_param(raw: &str, name: &str) -> Option<String> {
    raw.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// `name:value\n` for each signed header: values trimmed, runs of whitespace collapsed to one
/// space, repeated headers joined by `,`.
fn canonical_headers(headers: &http::HeaderMap, signed: &[String]) -> Result<Vec<u8>, SigV4Error> {
    let mut out = Vec::new();
    for name in signed {
        let values = headers.get_all(name.as_str());
        if values.iter().next().is_none() {
            return Err(malformed(format!(
                "signed header {name:?} is not in the request"
            )));
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let words = value
                .as_bytes()
                .split(u8::is_ascii_whitespace)
                .filter(|w| !w.is_empty());
            for (j, word) in words.enumerate() {
                if j > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(word);
            }
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// URI-encodes every byte but the unreserved ones (and `/` unless `encode_slash`).
fn encode(bytes: &[u8], encode_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved || (byte == b'/' && !encode_slash) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn parse_amz_date(text: &str) -> Result<time::OffsetDateTime, SigV4Error> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, format)
        .map(time::PrimitiveDateTime::assume_utc)
        .map_err(|_| malformed(format!("invalid request date {text:?}")))
}

/// `Tue, 24 Nov 2026 03:11:04 GMT` (RFC 1123) → `20261124T031104Z`.
fn http_date_to_amz_date(text: &str) -> Option<String> {
    let rfc1123 = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let amz = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed = time::PrimitiveDateTime::parse(text.trim(), rfc1123).ok()?;
    parsed.format(amz).ok()
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                http::HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn at(amz_date: &str) -> time::OffsetDateTime {
        parse_amz_date(amz_date).expect("date")
    }

    fn check(parts: &SignedParts<'_>, secret: &str, now: &str) -> Result<(), SigV4Error> {
        verify(parts, &parse(parts)?, secret, at(now))
    }

    fn is_expired(result: Result<(), SigV4Error>) -> bool {
        matches!(result, Err(SigV4Error::Expired(_)))
    }

    fn is_malformed(result: Result<(), SigV4Error>) -> bool {
        matches!(result, Err(SigV4Error::Malformed(_)))
    }

    const IAM_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const IAM_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    fn iam_headers(content_type: &str) -> http::HeaderMap {
        headers(&[
            ("host", "iam.amazonaws.com"),
            ("content-type", content_type),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", IAM_AUTH),
        ])
    }

    /// AWS's published example (IAM ListUsers, "Create a signed AWS API request").
    #[test]
    fn aws_documentation_example_verifies() {
        let h = iam_headers("application/x-www-form-urlencoded; charset=utf-8");
        let parts = SignedParts {
            method: "GET",
            raw_path: "/",
            raw_query: "Action=ListUsers&Version=2010-05-08",
            headers: &h,
            body: b"",
        };
        let now = "20150830T123700Z";
        let auth = parse(&parts).expect("parse");
        assert_eq!(
            (auth.access_key.as_str(), auth.service.as_str()),
            ("AKIDEXAMPLE", "iam")
        );
        assert_eq!(check(&parts, IAM_SECRET, now), Ok(()));
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
        assert_eq!(check(&parts, secret, now), Err(SigV4Error::Mismatch));
        let query = SignedParts {
            raw_query: "Action=ListUsers&Version=2010-05-09",
            ..parts
        };
        assert_eq!(check(&query, IAM_SECRET, now), Err(SigV4Error::Mismatch));
        let body = SignedParts {
            body: b"x",
            ..parts
        };
        assert_eq!(check(&body, IAM_SECRET, now), Err(SigV4Error::Mismatch));
        let h2 = iam_headers("application/x-www-form-urlencoded; charset=utf-9");
        let header = SignedParts {
            headers: &h2,
            ..parts
        };
        assert_eq!(check(&header, IAM_SECRET, now), Err(SigV4Error::Mismatch));
        assert!(is_expired(check(&parts, IAM_SECRET, "20150830T125200Z")));
        assert_eq!(check(&parts, IAM_SECRET, "20150830T125000Z"), Ok(()));
    }

    /// Requests botocore signed (`SigV4Auth`, and `SigV4QueryAuth` for the presigned one;
    /// credentials `AKIDEXAMPLE`/`SECRETEXAMPLE`, clock patched to 2026-11-24T03:11:04Z),
    /// pasted as literal data: the `Invoke` ARN's colons double-encoded; a path botocore
    /// normalises (`//`, `./`), a query with a space and a slash and a header value with runs
    /// of spaces; a presigned URL, for which botocore signs the (empty) body's hash; and
    /// `Invoke` signed S3-style (`S3SigV4Auth`, as with `signature_version="s3v4"`): the path
    /// as sent, and an `x-amz-content-sha256` header.
    #[test]
    fn botocore_signed_requests_verify() {
        const SCOPE: &str =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/lambda/aws4_request";
        let invoke_auth = format!(
            "{SCOPE}, SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, Signature=0b15243d748e73804e178621867f6f3bf149b650fe972b2fa230d03ebaaee416"
        );
        let list_auth = format!(
            "{SCOPE}, SignedHeaders=host;x-amz-date;x-custom, Signature=3a9f2fef8c0214565d2c285262f2811b76f5b68a934fc862fb3c6fc96dd82b11"
        );
        let s3v4_auth = format!(
            "{SCOPE}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=b63a86294d4ea3488375e7c7131b736558b297eb411ff3e7183e74cbc149df17"
        );
        let body_hash = "f9d86028c6e0d64e225186f96acb69338b2c59764df79162107f5c4bb34d1310";
        let amz_date = ("x-amz-date", "20261124T031104Z");
        let fixtures: [(&str, &str, &str, http::HeaderMap, &[u8]); 4] = [
            (
                "POST",
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations",
                "Qualifier=%24LATEST",
                headers(&[
                    ("content-type", "application/json"),
                    ("x-amz-invocation-type", "RequestResponse"),
                    amz_date,
                    ("authorization", &invoke_auth),
                ]),
                br#"{"a": 1}"#,
            ),
            (
                "POST",
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations",
                "Qualifier=%24LATEST",
                headers(&[
                    ("x-amz-content-sha256", body_hash),
                    amz_date,
                    ("authorization", &s3v4_auth),
                ]),
                br#"{"a": 1}"#,
            ),
            (
                "GET",
                "/2015-03-31//functions/./my-fn/",
                "Marker=a%20b%2Fc&MaxItems=5",
                headers(&[
                    ("x-custom", "a   b  c"),
                    amz_date,
                    ("authorization", &list_auth),
                ]),
                b"",
            ),
            (
                "GET",
                "/2015-03-31/functions/my-fn/invocations",
                "Qualifier=a%20b%2Fc&z=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Date=20261124T031104Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=b02c9d33fc1fc6b5c295f027a4156ca54667b187750307fe60c9b8499ed82a04",
                headers(&[]),
                b"",
            ),
        ];
        let secret = |secret: &'static str| move |p: &SignedParts<'_>, now| check(p, secret, now);
        let (good, bad) = (secret("SECRETEXAMPLE"), secret("SECRETEXAMPLE2"));
        let now = "20261124T031500Z";
        for (method, raw_path, raw_query, mut h, body) in fixtures {
            h.insert("host", http::HeaderValue::from_static("127.0.0.1:4566"));
            let parts = SignedParts {
                method,
                raw_path,
                raw_query,
                headers: &h,
                body,
            };
            assert_eq!(good(&parts, now), Ok(()), "{raw_path}");
            assert_eq!(bad(&parts, now), Err(SigV4Error::Mismatch));
            assert!(is_expired(good(&parts, "20261124T033000Z")));
            let query = format!("{raw_query}&x=1");
            let changed = SignedParts {
                raw_query: &query,
                ..parts
            };
            assert_eq!(good(&changed, now), Err(SigV4Error::Mismatch));
            if raw_query.contains("X-Amz-Expires=300") {
                // Presigned URLs live for X-Amz-Expires seconds, at most a week.
                assert!(is_expired(good(&parts, "20261124T031605Z")));
                let query = raw_query.replace("X-Amz-Expires=300", "X-Amz-Expires=604801");
                assert!(is_malformed(good(
                    &SignedParts {
                        raw_query: &query,
                        ..parts
                    },
                    now
                )));
            } else {
                let body = [body, b" "].concat();
                let changed = SignedParts {
                    body: &body,
                    ..parts
                };
                assert_eq!(good(&changed, now), Err(SigV4Error::Mismatch));
            }
        }
    }

    const BODY: &[u8] = br#"{"k":"v"}"#;
    const HTTP_DATE: &str = "Tue, 24 Nov 2026 10:00:00 GMT";

    /// Signs a Lambda call independently of the verifier's canonicalisation (the canonical
    /// URI, query and header lines are written out by hand), then verifies it at `now`.
    /// Without `x_amz_date` the request carries only a `Date` header.
    fn signed_call(
        signed: &str,
        scope_date: &str,
        x_amz_date: bool,
        body: &[u8],
        now: &str,
    ) -> Result<(), SigV4Error> {
        let uri = "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A1%253Afunction%253Af/invocations";
        let query = "Marker=a%20b%2Fc&Qualifier=%24LATEST&empty=";
        let mut lines = String::new();
        for name in signed.split(';') {
            let value = match name {
                "date" => HTTP_DATE,
                "host" => "localhost",
                "x-amz-date" => "20261124T100000Z",
                "x-multi" => "a,b c",
                _ => "",
            };
            lines.push_str(&format!("{name}:{value}\n"));
        }
        let body_hash = hex::encode(Sha256::digest(BODY));
        let request = format!("POST\n{uri}\n{query}\n{lines}\n{signed}\n{body_hash}");
        let scope = format!("{scope_date}/us-east-1/lambda/aws4_request");
        let request_hash = hex::encode(Sha256::digest(request.as_bytes()));
        let to_sign = format!("AWS4-HMAC-SHA256\n20261124T100000Z\n{scope}\n{request_hash}");
        let mut key = hmac(b"AWS4secret", scope_date.as_bytes());
        for part in ["us-east-1", "lambda", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKID/{scope}, SignedHeaders={signed}, Signature={signature}"
        );
        let date = if x_amz_date {
            ("x-amz-date", "20261124T100000Z")
        } else {
            ("date", HTTP_DATE)
        };
        let h = headers(&[
            ("host", "localhost"),
            ("x-multi", "a"),
            ("x-multi", "  b   c "),
            date,
            ("authorization", &auth),
        ]);
        let parts = SignedParts {
            method: "POST",
            raw_path: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations",
            raw_query: "Qualifier=%24LATEST&Marker=a%20b%2fc&empty",
            headers: &h,
            body,
        };
        check(&parts, "secret", now)
    }

    #[test]
    fn round_trip_with_test_signer() {
        let signed = "host;x-amz-date;x-multi";
        let call =
            |scope: &str, body: &[u8], now: &str| signed_call(signed, scope, true, body, now);
        assert_eq!(call("20261124", BODY, "20261124T100000Z"), Ok(()));
        assert_eq!(call("20261124", BODY, "20261124T101400Z"), Ok(()));
        assert_eq!(
            call("20261124", b"{}", "20261124T100000Z"),
            Err(SigV4Error::Mismatch)
        );
        // 20 minutes late or early, or a credential scope of another day.
        assert!(is_expired(call("20261124", BODY, "20261124T102000Z")));
        assert!(is_expired(call("20261124", BODY, "20261124T094000Z")));
        assert!(is_expired(call("20261123", BODY, "20261124T100000Z")));
        // The `Date` header stands in for `x-amz-date`.
        let dated = signed_call(
            "date;host;x-multi",
            "20261124",
            false,
            BODY,
            "20261124T100500Z",
        );
        assert_eq!(dated, Ok(()));
        // Host must be signed; every signed header must be present.
        let no_host = signed_call(
            "x-amz-date;x-multi",
            "20261124",
            true,
            BODY,
            "20261124T100000Z",
        );
        assert!(is_malformed(no_host));
        let absent = signed_call("host;x-absent", "20261124", true, BODY, "20261124T100000Z");
        assert!(is_malformed(absent));
    }

    #[test]
    fn unsigned_declared_payload_hash_and_missing_signature() {
        let empty = headers(&[]);
        let parts = SignedParts {
            method: "GET",
            raw_path: "",
            raw_query: "a=1",
            headers: &empty,
            body: b"",
        };
        assert_eq!(parse(&parts), Err(SigV4Error::Missing));
        for bad in [
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=K/20261124/us-east-1/aws4_request, SignedHeaders=host, Signature=00",
            "AWS AKID:c2ln",
        ] {
            let h = headers(&[("x-amz-date", "20261124T100000Z"), ("authorization", bad)]);
            let parts = SignedParts {
                headers: &h,
                ..parts
            };
            assert!(
                matches!(parse(&parts), Err(SigV4Error::Malformed(_))),
                "{bad}"
            );
        }
        // A declared x-amz-content-sha256 that is not the body's hash is refused outright.
        let h = headers(&[
            ("host", "h"),
            ("x-amz-date", "20261124T100000Z"),
            ("x-amz-content-sha256", &"0".repeat(64)),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=K/20261124/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
            ),
        ]);
        let declared = SignedParts {
            headers: &h,
            ..parts
        };
        assert_eq!(
            check(&declared, "s", "20261124T100000Z"),
            Err(SigV4Error::Mismatch)
        );
    }

    #[test]
    fn paths_normalise_like_the_sdks() {
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("/a//b/./c/../d/"), "/a/b/d/");
        assert_eq!(normalize_path("/a/.."), "/");
        assert_eq!(encode("/a b/%3A".as_bytes(), false), "/a%20b/%253A");
        assert_eq!(
            canonical_query("b=2&a=%2f+&a=1&X-Amz-Signature=x", true),
            "a=%2F%2B&a=1&b=2"
        );
    }
}
