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
