//! Put/Get/DeleteBucketWebsite: s3s's DTOs to and from the store's `WebsiteConfig`. Serving
//! the website is `crate::browser::website`'s.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use stratus_store::{
    RedirectAll, RoutingCondition, RoutingRedirect, RoutingRule as StoreRule, WebsiteConfig,
};

use super::StratusS3;
use super::errors::s3_error;

fn to_store(config: WebsiteConfiguration) -> WebsiteConfig {
    WebsiteConfig {
        index_suffix: config.index_document.map(|i| i.suffix),
        error_key: config.error_document.map(|e| e.key),
        redirect_all: config.redirect_all_requests_to.map(|r| RedirectAll {
            host_name: r.host_name,
            protocol: r.protocol.map(|p| p.as_str().to_owned()),
        }),
        routing_rules: config
            .routing_rules
            .unwrap_or_default()
            .into_iter()
            .map(|rule| StoreRule {
                condition: rule.condition.map(|c| RoutingCondition {
                    key_prefix_equals: c.key_prefix_equals,
                    http_error_code_returned_equals: c.http_error_code_returned_equals,
                }),
                redirect: RoutingRedirect {
                    host_name: rule.redirect.host_name,
                    http_redirect_code: rule.redirect.http_redirect_code,
                    protocol: rule.redirect.protocol.map(|p| p.as_str().to_owned()),
                    replace_key_prefix_with: rule.redirect.replace_key_prefix_with,
                    replace_key_with: rule.redirect.replace_key_with,
                },
            })
            .collect(),
    }
}

fn to_dto(config: WebsiteConfig) -> GetBucketWebsiteOutput {
    let rules: Vec<RoutingRule> = config
        .routing_rules
        .into_iter()
        .map(|rule| RoutingRule {
            condition: rule.condition.map(|c| Condition {
                key_prefix_equals: c.key_prefix_equals,
                http_error_code_returned_equals: c.http_error_code_returned_equals,
            }),
            redirect: Redirect {
                host_name: rule.redirect.host_name,
                http_redirect_code: rule.redirect.http_redirect_code,
                protocol: rule.redirect.protocol.map(Protocol::from),
                replace_key_prefix_with: rule.redirect.replace_key_prefix_with,
                replace_key_with: rule.redirect.replace_key_with,
            },
        })
        .collect();
    GetBucketWebsiteOutput {
        index_document: config.index_suffix.map(|suffix| IndexDocument { suffix }),
        error_document: config.error_key.map(|key| ErrorDocument { key }),
        redirect_all_requests_to: config.redirect_all.map(|r| RedirectAllRequestsTo {
            host_name: r.host_name,
            protocol: r.protocol.map(Protocol::from),
        }),
        routing_rules: (!rules.is_empty()).then_some(rules),
    }
}

pub(super) async fn put_bucket_website(
    s3: &StratusS3,
    req: S3Request<PutBucketWebsiteInput>,
) -> S3Result<S3Response<PutBucketWebsiteOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    s3.store
        .set_bucket_website(
            &caller,
            &input.bucket,
            Some(to_store(input.website_configuration)),
        )
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutBucketWebsiteOutput::default()))
}

pub(super) async fn get_bucket_website(
    s3: &StratusS3,
    req: S3Request<GetBucketWebsiteInput>,
) -> S3Result<S3Response<GetBucketWebsiteOutput>> {
    let caller = s3.caller(&req).await?;
    let config = s3
        .store
        .bucket_website(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(to_dto(config)))
}

pub(super) async fn delete_bucket_website(
    s3: &StratusS3,
    req: S3Request<DeleteBucketWebsiteInput>,
) -> S3Result<S3Response<DeleteBucketWebsiteOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .set_bucket_website(&caller, &req.input.bucket, None)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeleteBucketWebsiteOutput::default()))
}
