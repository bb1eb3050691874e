//! Request checks s3s leaves out, made before s3s sees a request.
//!
//! * A SigV4 presigned URL's `X-Amz-Expires` must lie in 0..=604800 (seven days, S3's longest
//!   validity), and a URL past its expiry is refused. s3s reads the value as an unsigned number
//!   (a negative one is a 400 parse error there, a huge one is accepted); S3 refuses both
//!   with 403 AccessDenied, and an expired URL with 403 "Request has expired".
//! * SigV2 signs a bucket-level request's resource as `/bucket/` (botocore and S3 do), while a
//!   path-style request's path is `/bucket`; s3s signs the path as sent, so the path gets its
//!   trailing slash before verification (a bucket request either way).

use http::Request;
use s3s::{S3Error, S3ErrorCode};

/// S3's longest presigned URL validity, in seconds.
const MAX_EXPIRES_SECS: i64 = 7 * 24 * 60 * 60;

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// `X-Amz-Date`'s basic ISO 8601 form, `YYYYMMDDTHHMMSSZ`, as Unix seconds.
fn amz_date_secs(value: &str) -> Option<i64> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| value.get(range)?.parse::<u16>().ok();
    let month = time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::from(num(0..4)?),
        month,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let time = time::Time::from_hms(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
    )
    .ok()?;
    Some(date.with_time(time).assume_utc().unix_timestamp())
}

fn denied(message: &str) -> Option<S3Error> {
    Some(S3Error::with_message(
        S3ErrorCode::AccessDenied,
        message.to_owned(),
    ))
}

/// Why a SigV4 presigned URL is refused for its validity, if it is.
pub(crate) fn expiry_refusal(uri: &http::Uri) -> Option<S3Error> {
    let query = uri.query()?;
    query_value(query, "X-Amz-Algorithm")?;
    let expires = query_value(query, "X-Amz-Expires")?;
    let Ok(expires) = expires.parse::<i64>() else {
        return None; // not a number: s3s's own parse error answers it
    };
    if expires < 0 {
        return denied("X-Amz-Expires must be non-negative");
    }
    if expires > MAX_EXPIRES_SECS {
        return denied("X-Amz-Expires must be less than a week (in seconds) that is; 604800");
    }
    let signed_at = query_value(query, "X-Amz-Date").and_then(amz_date_secs)?;
    if signed_at.saturating_add(expires) < time::OffsetDateTime::now_utc().unix_timestamp() {
        return denied("Request has expired");
    }
    None
}

/// Whether a request is signed with SigV2 (an `AWS key:signature` header or a V2 query).
fn is_sigv2<B>(request: &Request<B>) -> bool {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS "));
    let query = request.uri().query().is_some_and(|q| {
        query_value(q, "AWSAccessKeyId").is_some() && query_value(q, "Signature").is_some()
    });
    header || query
}

/// Gives a path-style SigV2 bucket request (`/bucket`) the path its signature covers
/// (`/bucket/`). Only for path-style requests: under a bucket host, `/name` is a key.
pub(crate) fn sigv2_bucket_path<B>(request: &mut Request<B>) {
    let path = request.uri().path();
    let bucket_only = path.len() > 1 && !path[1..].contains('/');
    if !bucket_only || !is_sigv2(request) {
        return;
    }
    let rewritten = match request.uri().query() {
        Some(query) => format!("{path}/?{query}"),
        None => format!("{path}/"),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = rewritten.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse_as_utc_seconds() {
        assert_eq!(amz_date_secs("19700101T000010Z"), Some(10));
        assert_eq!(amz_date_secs("20130524T000000Z"), Some(1_369_353_600));
        assert_eq!(amz_date_secs("20130524T000000"), None);
        assert_eq!(amz_date_secs("2013052XT000000Z"), None);
    }

    fn presigned(expires: &str, date: &str) -> http::Uri {
        format!("/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-Expires={expires}&X-Amz-Signature=x")
            .parse()
            .expect("uri")
    }

    #[test]
    fn expiry_bounds_are_s3s() {
        let now = time::OffsetDateTime::now_utc();
        let date = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        assert!(expiry_refusal(&presigned("3600", &date)).is_none());
        assert!(expiry_refusal(&presigned("604800", &date)).is_none());
        assert!(expiry_refusal(&presigned("604801", &date)).is_some());
        assert!(expiry_refusal(&presigned("-1", &date)).is_some());
        assert!(expiry_refusal(&presigned("60", "20130524T000000Z")).is_some());
        assert!(expiry_refusal(&"/b/k?versionId=3".parse().expect("uri")).is_none());
    }

    #[test]
    fn only_path_style_sigv2_bucket_requests_get_a_slash() {
        let signed = |uri: &str, auth: &str| {
            let mut request = Request::builder()
                .uri(uri)
                .header("authorization", auth)
                .body(())
                .expect("request");
            sigv2_bucket_path(&mut request);
            request.uri().to_string()
        };
        assert_eq!(signed("/bucket", "AWS AKID:sig"), "/bucket/");
        assert_eq!(signed("/bucket?acl", "AWS AKID:sig"), "/bucket/?acl");
        assert_eq!(signed("/bucket/key", "AWS AKID:sig"), "/bucket/key");
        assert_eq!(signed("/", "AWS AKID:sig"), "/");
        assert_eq!(
            signed("/bucket", "AWS4-HMAC-SHA256 Credential=x"),
            "/bucket"
        );
    }
}
