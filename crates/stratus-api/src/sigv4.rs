//! AWS Signature Version 4 verification for the AWS protocols other than S3 (Lambda now; SQS,
//! SNS and Logs later). S3 is verified by s3s. The whole body must be buffered: non-S3 clients
//! sign its SHA-256 (they send no `x-amz-content-sha256`).

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// AWS refuses requests whose time differs from its clock by more than this.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The parts of a request that the signature covers.
pub(crate) struct SignedParts<'a> {
    pub method: &'a str,
    /// The path exactly as received (still percent-encoded).
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a http::HeaderMap,
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
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `yyyymmddThhmmssZ`.
    pub amz_date: String,
    /// Presigned requests: lifetime in seconds, and their payload is unsigned.
    pub expires: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SigV4Error {
    Missing,
    Malformed(String),
    Expired(String),
    Mismatch,
}

fn malformed(message: impl Into<String>) -> SigV4Error {
    SigV4Error::Malformed(message.into())
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads the signature from the `Authorization` header or the presigned query.
pub(crate) fn parse(parts: &SignedParts<'_>) -> Result<Authorization, SigV4Error> {
    if let Some(value) = header(parts.headers, "authorization") {
        return parse_header(value, parts.headers);
    }
    let query = decoded_query(parts.raw_query);
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if get("X-Amz-Algorithm").is_none() {
        return Err(SigV4Error::Missing);
    }
    if get("X-Amz-Algorithm").as_deref() != Some("AWS4-HMAC-SHA256") {
        return Err(malformed("unsupported X-Amz-Algorithm"));
    }
    let credential =
        get("X-Amz-Credential").ok_or_else(|| malformed("missing X-Amz-Credential"))?;
    let (access_key, date, region, service) = parse_credential(&credential)?;
    let expires = get("X-Amz-Expires")
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| malformed("missing or invalid X-Amz-Expires"))?;
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: split_signed_headers(&get("X-Amz-SignedHeaders").unwrap_or_default()),
        signature: get("X-Amz-Signature").ok_or_else(|| malformed("missing X-Amz-Signature"))?,
        amz_date: get("X-Amz-Date").ok_or_else(|| malformed("missing X-Amz-Date"))?,
        expires: Some(expires),
    })
}

fn parse_header(value: &str, headers: &http::HeaderMap) -> Result<Authorization, SigV4Error> {
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or_else(|| malformed("Authorization header must use AWS4-HMAC-SHA256"))?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for field in rest.split(',') {
        let field = field.trim();
        if let Some(v) = field.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = field.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = field.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential
        .ok_or_else(|| malformed("Authorization header requires 'Credential' parameter"))?;
    let signed = signed
        .ok_or_else(|| malformed("Authorization header requires 'SignedHeaders' parameter"))?;
    let signature = signature
        .ok_or_else(|| malformed("Authorization header requires 'Signature' parameter"))?;
    let (access_key, date, region, service) = parse_credential(credential)?;
    let amz_date = header(headers, "x-amz-date").ok_or_else(|| {
        malformed("Authorization header requires existence of the 'X-Amz-Date' header")
    })?;
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: split_signed_headers(signed),
        signature: signature.to_owned(),
        amz_date: amz_date.to_owned(),
        expires: None,
    })
}

fn parse_credential(credential: &str) -> Result<(String, String, String, String), SigV4Error> {
    match credential.split('/').collect::<Vec<_>>().as_slice() {
        [key, date, region, service, "aws4_request"] if !key.is_empty() => Ok((
            (*key).to_owned(),
            (*date).to_owned(),
            (*region).to_owned(),
            (*service).to_owned(),
        )),
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

/// Checks the signature with `secret` and the request time against `now`.
pub(crate) fn verify(
    parts: &SignedParts<'_>,
    auth: &Authorization,
    secret: &str,
    now: time::OffsetDateTime,
) -> Result<(), SigV4Error> {
    let request_time = parse_amz_date(&auth.amz_date)?;
    if !auth.amz_date.starts_with(&auth.date) {
        return Err(SigV4Error::Expired(format!(
            "credential date {} does not match request date {}",
            auth.date, auth.amz_date
        )));
    }
    let skew = (now - request_time).whole_seconds();
    match auth.expires {
        Some(expires) if skew > expires || skew < -MAX_SKEW_SECONDS => {
            return Err(SigV4Error::Expired(
                "the presigned request has expired".into(),
            ));
        }
        None if skew.abs() > MAX_SKEW_SECONDS => {
            return Err(SigV4Error::Expired(format!(
                "Signature expired: {} is now earlier or later than 15 minutes from the server's time",
                auth.amz_date
            )));
        }
        _ => {}
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(malformed("the host header must be signed"));
    }
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    for part in [
        auth.region.as_bytes(),
        auth.service.as_bytes(),
        b"aws4_request",
    ] {
        key = hmac(&key, part);
    }
    // AWS SDKs encode the path twice for these services; clients configured for S3-style
    // signing (`s3v4`) encode it once. Both prove possession of the key, so both are accepted.
    let encodings: &[bool] = if parts.raw_path.contains('%') {
        &[true, false]
    } else {
        &[true]
    };
    for &double in encodings {
        let canonical = canonical_request(parts, auth, double)?;
        let scope = format!(
            "{}/{}/{}/aws4_request",
            auth.date, auth.region, auth.service
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
            auth.amz_date,
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
            return Ok(());
        }
    }
    Err(SigV4Error::Mismatch)
}

fn canonical_request(
    parts: &SignedParts<'_>,
    auth: &Authorization,
    double_encode_path: bool,
) -> Result<String, SigV4Error> {
    let path = if parts.raw_path.is_empty() {
        "/"
    } else {
        parts.raw_path
    };
    let canonical_uri = if double_encode_path {
        encode(path, false)
    } else {
        path.to_owned()
    };
    let mut query: Vec<(String, String)> = decoded_query(parts.raw_query)
        .into_iter()
        .filter(|(k, _)| auth.expires.is_none() || k != "X-Amz-Signature")
        .map(|(k, v)| (encode(&k, true), encode(&v, true)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = parts
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() {
            return Err(malformed(format!(
                "signed header {name:?} is not in the request"
            )));
        }
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload = match (header(parts.headers, "x-amz-content-sha256"), auth.expires) {
        (Some(declared), _) => declared.to_owned(),
        (None, Some(_)) => "UNSIGNED-PAYLOAD".to_owned(),
        (None, None) => hex::encode(Sha256::digest(parts.body)),
    };
    Ok(format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{headers}\n{}\n{payload}",
        parts.method,
        auth.signed_headers.join(";")
    ))
}

fn decoded_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// URI-encodes every byte but the unreserved ones (and `/` in paths).
fn encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved || (byte == b'/' && !encode_slash) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_amz_date(text: &str) -> Result<time::OffsetDateTime, SigV4Error> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, format)
        .map(time::PrimitiveDateTime::assume_utc)
        .map_err(|_| malformed(format!("invalid X-Amz-Date {text:?}")))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

    /// AWS's published example (IAM ListUsers, "Create a signed AWS API request").
    #[test]
    fn aws_documentation_example_verifies() {
        let h = headers(&[
            ("host", "iam.amazonaws.com"),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        ]);
        let parts = SignedParts {
            method: "GET",
            raw_path: "/",
            raw_query: "Action=ListUsers&Version=2010-05-08",
            headers: &h,
            body: b"",
        };
        let now = parse_amz_date("20150830T123700Z").expect("date");
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let auth = parse(&parts).expect("parse");
        assert_eq!(auth.access_key, "AKIDEXAMPLE");
        assert_eq!(verify(&parts, &auth, secret, now), Ok(()));
        assert_eq!(
            verify(&parts, &auth, "wrong", now),
            Err(SigV4Error::Mismatch)
        );
        let changed = SignedParts {
            raw_query: "Action=ListUsers&Version=2010-05-09",
            ..parts
        };
        assert_eq!(
            verify(&changed, &auth, secret, now),
            Err(SigV4Error::Mismatch)
        );
        let body = SignedParts {
            body: b"x",
            ..parts
        };
        assert_eq!(verify(&body, &auth, secret, now), Err(SigV4Error::Mismatch));
        let late = parse_amz_date("20150830T130000Z").expect("date");
        assert!(matches!(
            verify(&parts, &auth, secret, late),
            Err(SigV4Error::Expired(_))
        ));
    }

    /// A request botocore signed (fixture generated once with botocore's `SigV4Auth`): the
    /// path's ARN colons are double-encoded in the canonical request, the query and JSON body
    /// are signed.
    #[test]
    fn botocore_lambda_request_verifies() {
        let h = headers(&[
            ("host", "127.0.0.1:4566"),
            ("x-amz-date", "20261124T031104Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=8bdced78f4adb1b8f1b39fdc648a4c8fbb4597c69824e4a5640b77baffc0f13f",
            ),
        ]);
        let parts = SignedParts {
            method: "POST",
            raw_path: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations",
            raw_query: "Qualifier=%24LATEST",
            headers: &h,
            body: br#"{"a": 1}"#,
        };
        let auth = parse(&parts).expect("parse");
        let now = parse_amz_date("20261124T031500Z").expect("date");
        assert_eq!(verify(&parts, &auth, "SECRETEXAMPLE", now), Ok(()));
        let other_body = SignedParts {
            body: br#"{"a": 2}"#,
            ..parts
        };
        assert_eq!(
            verify(&other_body, &auth, "SECRETEXAMPLE", now),
            Err(SigV4Error::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_signatures_are_named() {
        let empty = headers(&[]);
        let parts = SignedParts {
            method: "GET",
            raw_path: "/",
            raw_query: "",
            headers: &empty,
            body: b"",
        };
        assert_eq!(parse(&parts), Err(SigV4Error::Missing));
        let h = headers(&[
            ("x-amz-date", "20261124T100000Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=K/20261124/us-east-1/lambda/aws4_request, SignedHeaders=x-amz-date, Signature=00",
            ),
        ]);
        let parts = SignedParts {
            headers: &h,
            ..parts
        };
        let auth = parse(&parts).expect("parse");
        let now = parse_amz_date("20261124T100000Z").expect("date");
        assert!(matches!(
            verify(&parts, &auth, "s", now),
            Err(SigV4Error::Malformed(_))
        ));
    }
}
