//! A function's bucket triggers (`triggers:` in function.yaml, or an application's edges) are
//! notification rules on the project's buckets whose ids mark them as the function's own, so a
//! deploy can replace exactly them and leave rules made through S3's
//! PutBucketNotificationConfiguration alone. Delivery is the store's and the dispatcher's.

use stratus_core::{BucketTrigger, NotificationRule, NotificationTarget, Trigger};
use stratus_identity::Principal;
use stratus_runtime::Functions;
use stratus_store::{Store, StoreError};

/// The id prefix of the rules a function's `triggers:` created.
pub(crate) fn owner(function: &str) -> String {
    format!("stratus:function:{function}:")
}

/// Checks every bucket trigger before anything changes: known events, a bucket of the caller's.
///
/// # Errors
/// A message naming the trigger's bucket and what is wrong with it.
pub(crate) async fn check(
    store: &Store,
    caller: &Principal,
    triggers: &[Trigger],
) -> Result<(), String> {
    for trigger in bucket_triggers(triggers) {
        trigger.validate()?;
        store
            .head_bucket(caller, &trigger.bucket)
            .await
            .map_err(|error| match error {
                StoreError::NoSuchBucket => format!(
                    "trigger on bucket {:?}: the bucket does not exist (create it first)",
                    trigger.bucket
                ),
                other => format!("trigger on bucket {:?}: {other}", trigger.bucket),
            })?;
    }
    Ok(())
}

/// Makes `function`'s bucket triggers exactly `triggers` (an empty list removes them all).
///
/// # Errors
/// The store's, for a bucket that vanished since [`check`].
pub(crate) async fn replace(
    store: &Store,
    functions: &Functions,
    caller: &Principal,
    function: &str,
    triggers: &[Trigger],
) -> Result<(), StoreError> {
    let owner = owner(function);
    let arn =
        stratus_runtime::function_arn(&functions.config().region, &caller.project, function, None);
    let rules = bucket_triggers(triggers)
        .enumerate()
        .map(|(index, trigger)| {
            let rule = NotificationRule {
                id: format!("{owner}{index}"),
                target: NotificationTarget::Lambda(arn.clone()),
                events: trigger.events.clone(),
                prefix: trigger.prefix.clone(),
                suffix: trigger.suffix.clone(),
            };
            (trigger.bucket.clone(), rule)
        })
        .collect();
    store.replace_owned_rules(caller, &owner, rules).await
}

/// Deletes a function and then its bucket triggers, whichever API asked. Failing to remove the
/// triggers leaves rules whose events dead-letter ("function unavailable"), as a dangling
/// LambdaFunctionArn would on AWS, so it is logged rather than returned.
///
/// # Errors
/// The function service's (NotFound, Forbidden, ...); the triggers are then left alone.
pub(crate) async fn delete_function(
    store: &Store,
    functions: &Functions,
    caller: &Principal,
    function: &str,
) -> Result<(), stratus_runtime::RuntimeError> {
    functions.delete(caller, function).await?;
    if let Err(error) = replace(store, functions, caller, function, &[]).await {
        tracing::error!(%error, function, "cannot remove a deleted function's bucket triggers");
    }
    Ok(())
}

/// The bucket triggers `function` declared, as they are stored.
///
/// # Errors
/// The store's.
pub(crate) async fn of(
    store: &Store,
    caller: &Principal,
    function: &str,
) -> Result<Vec<BucketTrigger>, StoreError> {
    let rules = store.owned_rules(caller, &owner(function)).await?;
    Ok(rules
        .into_iter()
        .map(|(bucket, rule)| BucketTrigger {
            bucket,
            prefix: rule.prefix,
            suffix: rule.suffix,
            events: rule.events,
        })
        .collect())
}

fn bucket_triggers(triggers: &[Trigger]) -> impl Iterator<Item = &BucketTrigger> {
    triggers.iter().filter_map(|t| match t {
        Trigger::Bucket(bucket) => Some(bucket),
        Trigger::Schedule(_) => None,
    })
}
