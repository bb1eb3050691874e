//! `POST /v1/buckets/{bucket}/upload-form`: an S3 POST Object form ("presigned POST") signed
//! with the caller's own key, so a browser (the console, or any page a user builds) can upload
//! straight to the S3 endpoint without ever holding a secret. The form is what an AWS SDK's
//! `generate_presigned_post` makes: a base64 policy document and its SigV4 signature; the S3
//! POST handler checks both, so the form can do nothing the caller's key could not.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use base64::Engine as _;
use http::Method;
use serde_json::json;
use stratus_client::buckets::{UploadForm, UploadFormRequest};
use stratus_core::Action;
use time::OffsetDateTime;

use super::caller::Caller;
use super::problem::{ApiResult, Problem, parse_json};
use super::state::AppState;
use super::table::RouteTable;

/// A form is valid 15 minutes unless asked otherwise ...
const DEFAULT_EXPIRY_S: u64 = 900;
/// ... and at most seven days, the longest an AWS presigned request may live.
const MAX_EXPIRY_S: u64 = 7 * 24 * 3600;
/// S3's limit for one PUT or POST.
const MAX_SIZE: u64 = 5 * 1024 * 1024 * 1024;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(
        Method::POST,
        "/v1/buckets/{bucket}/upload-form",
        upload_form,
    )
}

/// A signed POST Object form for keys under `key_prefix`.
#[utoipa::path(post, path = "/v1/buckets/{bucket}/upload-form", tag = "buckets",
    params(("bucket" = String, Path)), request_body = UploadFormRequest,
    responses((status = 200, description = "The form's URL and fields", body = UploadForm)))]
pub(crate) async fn upload_form(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(bucket): Path<String>,
    body: Bytes,
) -> ApiResult<Json<UploadForm>> {
    let request: UploadFormRequest = if body.is_empty() {
        UploadFormRequest::default()
    } else {
        parse_json(&body, "invalid upload-form request")?
    };
    let expires_in = request.expires_in_s.unwrap_or(DEFAULT_EXPIRY_S);
    if !(1..=MAX_EXPIRY_S).contains(&expires_in) {
        return Err(Problem::invalid(format!(
            "expires_in_s must be 1 to {MAX_EXPIRY_S} (seven days)"
        )));
    }
    let max_size = request.max_size.unwrap_or(MAX_SIZE);
    if !(1..=MAX_SIZE).contains(&max_size) {
        return Err(Problem::invalid(format!(
            "max_size must be 1 to {MAX_SIZE} bytes"
        )));
    }
    // The form acts with the caller's key: it must be one that may write here.
    state
        .store
        .authorize(&caller, &bucket, Action::Write)
        .await?;
    let key = state
        .identity
        .lookup(&caller.access_key_id)
        .await
        .map_err(|e| Problem::internal(format!("key lookup failed: {e}")))?
        .ok_or_else(|| Problem::internal("the caller's key is gone"))?;
    let now = OffsetDateTime::now_utc();
    let expires = now + time::Duration::seconds(i64::try_from(expires_in).unwrap_or(i64::MAX));
    let form = FormSigner {
        access_key_id: &key.access_key_id,
        secret: &key.secret,
        region: state.store.region(),
    }
    .sign(&bucket, &request.key_prefix, max_size, now, expires);
    Ok(Json(UploadForm {
        url: format!("/{bucket}"),
        fields: form,
        key_prefix: request.key_prefix,
        expires_ms: i64::try_from(expires.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    }))
}

struct FormSigner<'a> {
    access_key_id: &'a str,
    secret: &'a str,
    region: &'a str,
}

impl FormSigner<'_> {
    /// The form's fields: the policy (bucket, key prefix, size range, any Content-Type, the
    /// 201 answer the console reads) and its SigV4 signature.
    fn sign(
        &self,
        bucket: &str,
        key_prefix: &str,
        max_size: u64,
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> BTreeMap<String, String> {
        let date = format!(
            "{:04}{:02}{:02}",
            now.year(),
            u8::from(now.month()),
            now.day()
        );
        let amz_date = format!(
            "{date}T{:02}{:02}{:02}Z",
            now.hour(),
            now.minute(),
            now.second()
        );
        let credential = format!(
            "{}/{date}/{}/s3/aws4_request",
            self.access_key_id, self.region
        );
        let expiration = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            expires.year(),
            u8::from(expires.month()),
            expires.day(),
            expires.hour(),
            expires.minute(),
            expires.second()
        );
        let policy = json!({
            "expiration": expiration,
            "conditions": [
                {"bucket": bucket},
                ["starts-with", "$key", key_prefix],
                ["starts-with", "$Content-Type", ""],
                {"success_action_status": "201"},
                ["content-length-range", 0, max_size],
                {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                {"x-amz-credential": credential},
                {"x-amz-date": amz_date},
            ],
        });
        let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
        let mut signing_key =
            crate::sigv4::hmac(format!("AWS4{}", self.secret).as_bytes(), date.as_bytes());
        for part in [self.region, "s3", "aws4_request"] {
            signing_key = crate::sigv4::hmac(&signing_key, part.as_bytes());
        }
        let signature = hex::encode(crate::sigv4::hmac(&signing_key, policy.as_bytes()));
        BTreeMap::from([
            ("key".to_owned(), format!("{key_prefix}${{filename}}")),
            ("policy".to_owned(), policy),
            ("success_action_status".to_owned(), "201".to_owned()),
            ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            ("x-amz-credential".to_owned(), credential),
            ("x-amz-date".to_owned(), amz_date),
            ("x-amz-signature".to_owned(), signature),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_policy_with_the_s3_signing_key() {
        let signer = FormSigner {
            access_key_id: "SKEXAMPLE",
            secret: "secret",
            region: "us-east-1",
        };
        let now = time::macros::datetime!(2026-12-07 21:05:09 UTC);
        let fields = signer.sign("b", "up/", 10, now, now + time::Duration::minutes(15));
        assert_eq!(fields["x-amz-date"], "20261207T210509Z");
        assert_eq!(
            fields["x-amz-credential"],
            "SKEXAMPLE/20261207/us-east-1/s3/aws4_request"
        );
        assert_eq!(fields["key"], "up/${filename}");
        let policy = base64::engine::general_purpose::STANDARD
            .decode(&fields["policy"])
            .expect("base64");
        let policy: serde_json::Value = serde_json::from_slice(&policy).expect("json");
        assert_eq!(policy["expiration"], "2026-12-07T21:20:09.000Z");
        assert_eq!(
            policy["conditions"][1],
            json!(["starts-with", "$key", "up/"])
        );
        // Another secret signs differently: the signature depends on the key.
        let other = FormSigner {
            secret: "other",
            ..signer
        };
        let forged = other.sign("b", "up/", 10, now, now + time::Duration::minutes(15));
        assert_ne!(fields["x-amz-signature"], forged["x-amz-signature"]);
        assert_eq!(fields["x-amz-signature"].len(), 64);
    }
}
