//! ListBuckets' filters and pages: `prefix`, `bucket-region`, `max-buckets` and
//! `continuation-token`. The token is opaque to clients; ours is the last name of the previous
//! page, base64url-encoded, so a page resumes after it even if buckets came or went meanwhile.
//! As on AWS, a token is returned only when more buckets follow.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use s3s::{S3ErrorCode, S3Result};

use super::errors::s3_err;

/// AWS's bounds for `max-buckets`.
const MAX_BUCKETS: i32 = 10_000;

pub(crate) struct PageRequest<'a> {
    pub prefix: Option<&'a str>,
    pub region: Option<&'a str>,
    pub token: Option<&'a str>,
    pub max: Option<i32>,
}

/// The names of one page out of `names` (sorted), and the token for the next page if any.
pub(crate) fn page(
    names: Vec<String>,
    our_region: &str,
    request: &PageRequest<'_>,
) -> S3Result<(Vec<String>, Option<String>)> {
    let max = match request.max {
        None => usize::MAX,
        Some(n) if (1..=MAX_BUCKETS).contains(&n) => usize::try_from(n).unwrap_or(usize::MAX),
        Some(_) => {
            return s3_err(
                S3ErrorCode::InvalidArgument,
                "Argument max-buckets must be an integer between 1 and 10000",
            );
        }
    };
    let after = match request.token {
        None => None,
        Some(token) => Some(decode_token(token)?),
    };
    if request.region.is_some_and(|r| r != our_region) {
        return Ok((Vec::new(), None));
    }
    let mut matching = names.into_iter().filter(|name| {
        request.prefix.is_none_or(|p| name.starts_with(p))
            && after.as_deref().is_none_or(|a| name.as_str() > a)
    });
    let page: Vec<String> = matching.by_ref().take(max).collect();
    let next = match (matching.next(), page.last()) {
        (Some(_), Some(last)) => Some(URL_SAFE_NO_PAD.encode(last)),
        _ => None,
    };
    Ok((page, next))
}

fn decode_token(token: &str) -> S3Result<String> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .map_or_else(
            || {
                s3_err(
                    S3ErrorCode::InvalidArgument,
                    "The continuation token provided is incorrect",
                )
            },
            Ok,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn request(max: Option<i32>, token: Option<&str>) -> PageRequest<'_> {
        PageRequest {
            prefix: None,
            region: None,
            token,
            max,
        }
    }

    #[test]
    fn pages_walk_every_name_once_and_only_a_full_page_with_more_has_a_token() {
        let all = names(&["a", "b", "c"]);
        let (first, token) =
            page(all.clone(), "us-east-1", &request(Some(2), None)).expect("a value");
        assert_eq!(first, ["a", "b"]);
        let token = token.expect("a value");
        let (second, none) =
            page(all.clone(), "us-east-1", &request(Some(2), Some(&token))).expect("a value");
        assert_eq!((second, none), (names(&["c"]), None));
        let (exact, none) =
            page(names(&["a"]), "us-east-1", &request(Some(1), None)).expect("a value");
        assert_eq!((exact, none), (names(&["a"]), None));
    }

    #[test]
    fn prefix_and_region_filter() {
        let all = names(&["ab", "b", "ac"]);
        let by_prefix = PageRequest {
            prefix: Some("a"),
            ..request(None, None)
        };
        assert_eq!(
            page(all.clone(), "r", &by_prefix).expect("a value").0,
            ["ab", "ac"]
        );
        let elsewhere = PageRequest {
            region: Some("eu-west-1"),
            ..request(None, None)
        };
        assert!(
            page(all, "us-east-1", &elsewhere)
                .expect("a value")
                .0
                .is_empty()
        );
    }

    #[test]
    fn bad_bounds_and_tokens_are_invalid_arguments() {
        for max in [0, -1, 10_001] {
            let err = page(Vec::new(), "r", &request(Some(max), None)).expect_err("an error");
            assert_eq!(*err.code(), S3ErrorCode::InvalidArgument);
        }
        let err = page(Vec::new(), "r", &request(None, Some("!!"))).expect_err("an error");
        assert_eq!(*err.code(), S3ErrorCode::InvalidArgument);
    }
}
