//! POST Object: browser form uploads. s3s parses the form, verifies the signature of the policy
//! (SigV4 or V2) and the policy itself (expiration, every `eq`/`starts-with`/
//! `content-length-range` condition, every field covered), and answers by
//! `success_action_redirect`/`redirect` (303), `success_action_status` (200, 201 with
//! PostResponse XML, else 204). What is left is here: the `${filename}` in `key`, the form's
//! `acl` field (validated, and refused while the bucket blocks public ACLs), and the write
//! itself, through the same path as PutObject (durability, quotas, notifications). An anonymous
//! POST reaches this only when the bucket grants it (`public-read-write`), through the access
//! hook; the edge's rewrite of s3s's policy errors into AWS's is `crate::browser::post`.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_store::CannedAcl;

use super::StratusS3;
use super::errors::{s3_err, s3_error};
use crate::browser::post::FormPeek;

pub(super) async fn post_object(
    s3: &StratusS3,
    mut req: S3Request<PostObjectInput>,
) -> S3Result<S3Response<PostObjectOutput>> {
    let peeked = req
        .extensions
        .get::<FormPeek>()
        .map(FormPeek::fields)
        .unwrap_or_default();
    if let Some(policy) = peeked.policy.as_deref() {
        check_expiration_format(policy)?;
    }
    let acl_name = peeked
        .acl
        .or_else(|| req.input.acl.as_ref().map(|a| a.as_str().to_owned()));
    let acl = match acl_name.as_deref().map(str::parse::<CannedAcl>) {
        None => None,
        Some(Ok(acl)) => Some(acl),
        Some(Err(message)) => return s3_err(S3ErrorCode::InvalidArgument, message),
    };
    if let Some(acl) = acl {
        s3.store
            .check_object_write_acl(&req.input.bucket, Some(acl), &acl.into())
            .await
            .map_err(s3_error)?;
    }
    let key = match peeked.filename.as_deref() {
        Some(filename) => req.input.key.replace("${filename}", filename),
        None => req.input.key.clone(),
    };
    // The form's Content-Length is not the file's: the file's size is what was received.
    req.headers.remove(http::header::CONTENT_LENGTH);
    let input = &mut req.input;
    let mut put = PutObjectInput::builder();
    put.set_bucket(input.bucket.clone());
    put.set_key(key);
    put.set_body(input.body.take());
    put.set_content_type(input.content_type.take());
    put.set_content_encoding(input.content_encoding.take());
    put.set_content_disposition(input.content_disposition.take());
    put.set_content_language(input.content_language.take());
    put.set_cache_control(input.cache_control.take());
    put.set_expires(input.expires.take());
    put.set_metadata(input.metadata.take());
    put.set_acl(acl.map(|a| ObjectCannedACL::from(a.as_str().to_owned())));
    put.set_tagging(peeked.tagging.as_deref().map(tagging_query).transpose()?);
    let put = match put.build() {
        Ok(put) => put,
        Err(error) => return s3_err(S3ErrorCode::InvalidRequest, error.to_string()),
    };
    let written = super::objects::put_object(s3, req.map_input(|_| put)).await?;
    Ok(S3Response::new(PostObjectOutput {
        e_tag: written.output.e_tag,
        ..Default::default()
    }))
}

/// S3 reads a policy's `expiration` as ISO 8601 in UTC (`2030-01-01T12:00:00.000Z`); s3s's
/// RFC 3339 parse also takes a space for the `T` and any offset, which S3 refuses.
fn check_expiration_format(policy: &str) -> S3Result<()> {
    use base64::Engine as _;
    let Some(expiration) = base64::engine::general_purpose::STANDARD
        .decode(policy.trim())
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|doc| doc.get("expiration")?.as_str().map(str::to_owned))
    else {
        return Ok(()); // s3s has already refused a policy it could not read
    };
    if is_iso8601_utc(&expiration) {
        return Ok(());
    }
    s3_err(
        S3ErrorCode::InvalidPolicyDocument,
        format!("Invalid Policy: Invalid 'expiration' value: '{expiration}'"),
    )
}

/// `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z`.
fn is_iso8601_utc(value: &str) -> bool {
    let Some(rest) = value.strip_suffix('Z') else {
        return false;
    };
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, "0"));
    let shape = whole.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    shape
        && whole.len() == 19
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// The form's `tagging` field (a `<Tagging>` document, as S3's POST takes it) in the
/// `x-amz-tagging` form PutObject reads (`k=v&k2=v2`, URL-encoded); `MalformedXML` when it is
/// not a tag set.
fn tagging_query(xml: &str) -> S3Result<String> {
    use s3s::xml::Deserialize as _;
    let mut de = s3s::xml::Deserializer::new(xml.as_bytes());
    let Ok(tagging) = Tagging::deserialize(&mut de) else {
        return s3_err(
            S3ErrorCode::MalformedXML,
            "the tagging field is not a valid Tagging document",
        );
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    for tag in tagging.tag_set {
        query.append_pair(
            tag.key.as_deref().unwrap_or_default(),
            tag.value.as_deref().unwrap_or_default(),
        );
    }
    Ok(query.finish())
}

#[cfg(test)]
mod tests {
    use super::tagging_query;

    #[test]
    fn expirations_must_be_iso8601_utc() {
        use super::is_iso8601_utc;
        assert!(is_iso8601_utc("2030-01-01T12:00:00.000Z"));
        assert!(is_iso8601_utc("2030-01-01T12:00:00Z"));
        assert!(!is_iso8601_utc("2030-01-01 12:00:00.123456+00:00"));
        assert!(!is_iso8601_utc("2030-01-01T12:00:00+00:00"));
        assert!(!is_iso8601_utc("2030-01-01T12:00:00.Z"));
        assert!(!is_iso8601_utc("not a date"));
    }

    #[test]
    fn tagging_documents_become_tagging_queries() {
        let xml = "<Tagging><TagSet><Tag><Key>a b</Key><Value>1&amp;2</Value></Tag>\
                   <Tag><Key>k</Key><Value></Value></Tag></TagSet></Tagging>";
        assert_eq!(tagging_query(xml).expect("valid"), "a+b=1%262&k=");
        assert!(tagging_query("<Tags/>").is_err());
    }
}
