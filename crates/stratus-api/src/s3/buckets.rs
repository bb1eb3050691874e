//! Bucket operations and notification configuration.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_core::{BucketName, NotificationRule, NotificationTarget};
use stratus_events::mappings::QueueSource as _;

use super::StratusS3;
use super::convert::timestamp;
use super::errors::{s3_err, s3_error};

pub(super) async fn create_bucket(
    s3: &StratusS3,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let caller = s3.caller(&req).await?;
    let name = match BucketName::parse(&req.input.bucket) {
        Ok(name) => name,
        Err(e) => return s3_err(S3ErrorCode::InvalidBucketName, e.0),
    };
    let object_lock = req.input.object_lock_enabled_for_bucket.unwrap_or(false);
    let input = &req.input;
    // Validated before the bucket exists, so a refused ACL or ownership creates nothing.
    let acl = super::acl_grants::requested(
        input.acl.as_ref().map(BucketCannedACL::as_str),
        &super::acl_grants::grant_headers!(input, input.grant_write.as_deref()),
        None,
        &caller.project,
    )?
    .map(|(_, acl)| acl);
    if let Some(acl) = &acl {
        super::acl_grants::check_grantees(&s3.identity, acl).await?;
    }
    let ownership = match input.object_ownership.as_ref() {
        Some(o) => Some(
            o.as_str()
                .parse::<stratus_store::ObjectOwnership>()
                .map_err(s3_error)?,
        ),
        None => None,
    };
    if ownership == Some(stratus_store::ObjectOwnership::BucketOwnerEnforced)
        && acl.as_ref().is_some_and(|a| a.stored().is_some())
    {
        return Err(super::errors::coded(
            "InvalidBucketAclWithObjectOwnership",
            http::StatusCode::BAD_REQUEST,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting".into(),
        ));
    }
    match s3
        .store
        .create_bucket_with_lock(&caller, &name, object_lock)
        .await
    {
        Ok(()) => {}
        // For legacy compatibility, S3 in us-east-1 answers 200 to re-creating a bucket one
        // owns, and resets its ACL (to the request's, private by default).
        Err(stratus_store::StoreError::BucketAlreadyOwnedByYou)
            if s3.store.region() == "us-east-1" =>
        {
            let reset = acl.unwrap_or_else(|| stratus_store::CannedAcl::Private.into());
            let current = s3
                .store
                .bucket_acl(&caller, name.as_str())
                .await
                .map_err(s3_error)?;
            if reset.stored() != current.stored() {
                s3.store
                    .set_bucket_acl(&caller, name.as_str(), reset)
                    .await
                    .map_err(s3_error)?;
            }
            return Ok(S3Response::new(CreateBucketOutput {
                location: Some(format!("/{name}")),
            }));
        }
        Err(err) => return Err(s3_error(err)),
    }
    if let Some(ownership) = ownership {
        s3.store
            .set_ownership_controls(&caller, name.as_str(), Some(ownership))
            .await
            .map_err(s3_error)?;
    }
    if let Some(acl) = acl.filter(|a| a.stored().is_some()) {
        s3.store
            .set_bucket_acl(&caller, name.as_str(), acl)
            .await
            .map_err(s3_error)?;
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{name}")),
    }))
}

pub(super) async fn head_bucket(
    s3: &StratusS3,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .head_bucket(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(s3.store.region().to_owned()),
        ..Default::default()
    }))
}

pub(super) async fn list_buckets(
    s3: &StratusS3,
    req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let request = super::bucket_pages::PageRequest {
        prefix: input.prefix.as_deref(),
        region: input.bucket_region.as_deref(),
        token: input.continuation_token.as_deref(),
        max: input.max_buckets,
    };
    let mut buckets = s3.store.list_buckets(&caller).await.map_err(s3_error)?;
    let names = buckets.iter().map(|b| b.name.clone()).collect();
    let (page, continuation_token) = super::bucket_pages::page(names, s3.store.region(), &request)?;
    let page: std::collections::HashSet<String> = page.into_iter().collect();
    buckets.retain(|b| page.contains(&b.name));
    let buckets = buckets
        .into_iter()
        .map(|b| Bucket {
            name: Some(b.name),
            creation_date: Some(timestamp(b.created_ms)),
            bucket_region: Some(s3.store.region().to_owned()),
        })
        .collect();
    let owner = super::access_config::project_owner(&caller.project);
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(owner),
        continuation_token,
        prefix: req.input.prefix.clone(),
    }))
}

pub(super) async fn delete_bucket(
    s3: &StratusS3,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .delete_bucket(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeleteBucketOutput::default()))
}

pub(super) async fn get_bucket_location(
    s3: &StratusS3,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .head_bucket(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    // S3 reports us-east-1 as an empty location constraint.
    let region = s3.store.region();
    let location =
        (region != "us-east-1").then(|| BucketLocationConstraint::from(region.to_owned()));
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: location,
    }))
}

fn filter_bounds(
    filter: Option<&NotificationConfigurationFilter>,
) -> S3Result<(Option<String>, Option<String>)> {
    let (mut prefix, mut suffix) = (None, None);
    let rules = filter
        .and_then(|f| f.key.as_ref())
        .and_then(|k| k.filter_rules.as_ref());
    for rule in rules.into_iter().flatten() {
        let name = rule
            .name
            .as_ref()
            .map(|n| n.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        let slot = match name.as_str() {
            "prefix" => &mut prefix,
            "suffix" => &mut suffix,
            _ => {
                return s3_err(
                    S3ErrorCode::InvalidArgument,
                    format!("filter rule name must be prefix or suffix, not {name:?}"),
                );
            }
        };
        if slot.is_some() {
            return s3_err(
                S3ErrorCode::InvalidArgument,
                format!("cannot specify more than one {name} rule in a filter"),
            );
        }
        *slot = Some(rule.value.clone().unwrap_or_default());
    }
    Ok((prefix, suffix))
}

fn to_filter(rule: &NotificationRule) -> Option<NotificationConfigurationFilter> {
    let named = |name: &'static str, value: &Option<String>| {
        value.as_ref().map(|v| FilterRule {
            name: Some(FilterRuleName::from_static(name)),
            value: Some(v.clone()),
        })
    };
    let rules: Vec<FilterRule> = [
        named(FilterRuleName::PREFIX, &rule.prefix),
        named(FilterRuleName::SUFFIX, &rule.suffix),
    ]
    .into_iter()
    .flatten()
    .collect();
    if rules.is_empty() {
        return None;
    }
    Some(NotificationConfigurationFilter {
        key: Some(S3KeyFilter {
            filter_rules: Some(rules),
        }),
    })
}

fn to_rule(
    id: Option<String>,
    target: NotificationTarget,
    events: &[Event],
    filter: Option<&NotificationConfigurationFilter>,
    index: usize,
) -> S3Result<NotificationRule> {
    if events.is_empty() {
        return s3_err(
            S3ErrorCode::InvalidArgument,
            "a notification configuration must name at least one event",
        );
    }
    let (prefix, suffix) = filter_bounds(filter)?;
    Ok(NotificationRule {
        id: id.unwrap_or_else(|| format!("notification-{index}")),
        target,
        events: events.iter().map(|e| String::from(e.clone())).collect(),
        prefix,
        suffix,
    })
}

pub(super) async fn put_notification(
    s3: &StratusS3,
    req: S3Request<PutBucketNotificationConfigurationInput>,
) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    let config = req.input.notification_configuration;
    let lambdas = config
        .lambda_function_configurations
        .iter()
        .flatten()
        .map(|c| {
            let target = NotificationTarget::Lambda(c.lambda_function_arn.clone());
            (&c.id, target, &c.events, &c.filter)
        });
    let queues = config.queue_configurations.iter().flatten().map(|c| {
        let target = NotificationTarget::Queue(c.queue_arn.clone());
        (&c.id, target, &c.events, &c.filter)
    });
    let topics = config.topic_configurations.iter().flatten().map(|c| {
        let target = NotificationTarget::Topic(c.topic_arn.clone());
        (&c.id, target, &c.events, &c.filter)
    });
    let rules = lambdas
        .chain(queues)
        .chain(topics)
        .enumerate()
        .map(|(index, (id, target, events, filter))| {
            to_rule(id.clone(), target, events, filter.as_ref(), index)
        })
        .collect::<S3Result<Vec<_>>>()?;
    // The bucket is checked first, so a missing one is NoSuchBucket whatever its rules name.
    s3.store
        .head_bucket(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    check_destinations(s3, &caller, &rules).await?;
    s3.store
        .set_notifications(&caller, &req.input.bucket, rules)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(
        PutBucketNotificationConfigurationOutput::default(),
    ))
}

/// S3 validates destinations when a configuration is put: a function that does not exist (in
/// the bucket's project, the only place its events can go) is refused with S3's message.
async fn check_destinations(
    s3: &StratusS3,
    caller: &stratus_identity::Principal,
    rules: &[NotificationRule],
) -> S3Result<()> {
    for rule in rules {
        let (arn, service) = match &rule.target {
            NotificationTarget::Lambda(arn) => (arn, "lambda"),
            NotificationTarget::Queue(arn) => (arn, "sqs"),
            NotificationTarget::Topic(arn) => (arn, "sns"),
        };
        if service != "lambda" {
            check_messaging_destination(s3, caller, arn, service).await?;
            continue;
        }
        let unable = || {
            s3_err(
                S3ErrorCode::InvalidArgument,
                format!("Unable to validate the following destination configurations: {arn}"),
            )
        };
        let Some((name, qualifier)) = rule.target.lambda_function() else {
            return unable();
        };
        match s3.functions.get(caller, name, qualifier).await {
            Ok(_) => {}
            Err(stratus_runtime::RuntimeError::NotFound(_)) => return unable(),
            Err(error) => {
                tracing::error!(%error, "cannot check a notification destination");
                return s3_err(S3ErrorCode::InternalError, "cannot check the destination");
            }
        }
    }
    Ok(())
}

/// A queue or topic destination must be an ARN of that service in the bucket's project (the
/// caller's: the bucket was checked first) and must exist.
async fn check_messaging_destination(
    s3: &StratusS3,
    caller: &stratus_identity::Principal,
    arn: &str,
    service: &str,
) -> S3Result<()> {
    let well_formed = stratus_core::arn::Arn::parse(arn)
        .is_some_and(|parsed| parsed.service == service && parsed.in_project(&caller.project));
    let exists = well_formed
        && if service == "sqs" {
            s3.queues.source_queue(&caller.project, arn).await.is_ok()
        } else {
            s3.topics.topic_attributes(caller, arn).await.is_ok()
        };
    if exists {
        Ok(())
    } else {
        s3_err(
            S3ErrorCode::InvalidArgument,
            format!("Unable to validate the following destination configurations: {arn}"),
        )
    }
}

pub(super) async fn get_notification(
    s3: &StratusS3,
    req: S3Request<GetBucketNotificationConfigurationInput>,
) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
    let caller = s3.caller(&req).await?;
    let rules = s3
        .store
        .notifications(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    let mut output = GetBucketNotificationConfigurationOutput::default();
    for rule in &rules {
        let events: Vec<Event> = rule.events.iter().cloned().map(Event::from).collect();
        let (id, filter) = (Some(rule.id.clone()), to_filter(rule));
        match &rule.target {
            NotificationTarget::Lambda(arn) => output
                .lambda_function_configurations
                .get_or_insert_with(Vec::new)
                .push(LambdaFunctionConfiguration {
                    events,
                    filter,
                    id,
                    lambda_function_arn: arn.clone(),
                }),
            NotificationTarget::Queue(arn) => output
                .queue_configurations
                .get_or_insert_with(Vec::new)
                .push(QueueConfiguration {
                    events,
                    filter,
                    id,
                    queue_arn: arn.clone(),
                }),
            NotificationTarget::Topic(arn) => output
                .topic_configurations
                .get_or_insert_with(Vec::new)
                .push(TopicConfiguration {
                    events,
                    filter,
                    id,
                    topic_arn: arn.clone(),
                }),
        }
    }
    Ok(S3Response::new(output))
}
