//! Lambda's `FunctionEventInvokeConfig`: per function and qualifier, how many times a failed
//! asynchronous invocation is retried, how old an event may grow before it is dropped, and where
//! the outcome is sent (a queue, a topic or a function of the same project).

use std::time::Duration;

use stratus_core::Action;
use stratus_core::arn::Arn;
use stratus_identity::Principal;
use stratus_meta::EventInvokeConfigRecord;

use crate::functions::{Functions, not_found, require};
use crate::{RuntimeError, RuntimeResult};

/// Lambda's bounds on `MaximumRetryAttempts`.
pub const MAX_RETRY_ATTEMPTS: u32 = 2;
/// Lambda's bounds on `MaximumEventAgeInSeconds`.
pub const MIN_EVENT_AGE_S: u32 = 60;
pub const MAX_EVENT_AGE_S: u32 = 21_600;

/// The settings a Put or Update names. In an update, `None` keeps the current value; a
/// destination of `Some("")` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventInvokeSettings {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_s: Option<u32>,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

/// What the dispatcher applies to one invocation: the stored settings with Lambda's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvokePolicy {
    pub retries: u32,
    pub max_age: Duration,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

impl InvokePolicy {
    pub(crate) fn new(config: Option<&EventInvokeConfigRecord>, defaults: (u32, Duration)) -> Self {
        let (default_retries, default_age) = defaults;
        Self {
            retries: config
                .and_then(|c| c.maximum_retry_attempts)
                .unwrap_or(default_retries),
            max_age: config
                .and_then(|c| c.maximum_event_age_s)
                .map_or(default_age, |s| Duration::from_secs(u64::from(s))),
            on_success: config.and_then(|c| c.on_success.clone()),
            on_failure: config.and_then(|c| c.on_failure.clone()),
        }
    }
}

fn invalid(field: &'static str, message: String) -> RuntimeError {
    RuntimeError::Invalid { field, message }
}

/// Checks the numeric bounds, and that each destination is a queue, topic or function ARN of
/// `project` (only those are reachable from a Stratus project).
fn validate(project: &str, settings: &EventInvokeSettings) -> RuntimeResult<()> {
    if let Some(retries) = settings.maximum_retry_attempts
        && retries > MAX_RETRY_ATTEMPTS
    {
        return Err(invalid(
            "MaximumRetryAttempts",
            format!("{retries} is not between 0 and {MAX_RETRY_ATTEMPTS}"),
        ));
    }
    if let Some(age) = settings.maximum_event_age_s
        && !(MIN_EVENT_AGE_S..=MAX_EVENT_AGE_S).contains(&age)
    {
        return Err(invalid(
            "MaximumEventAgeInSeconds",
            format!("{age} is not between {MIN_EVENT_AGE_S} and {MAX_EVENT_AGE_S}"),
        ));
    }
    for destination in [&settings.on_success, &settings.on_failure]
        .into_iter()
        .flatten()
        .filter(|d| !d.is_empty())
    {
        check_destination_arn(project, destination)?;
    }
    Ok(())
}

/// The service of a valid destination ARN: `sqs`, `sns` or `lambda`.
pub(crate) fn check_destination_arn<'a>(project: &str, arn: &'a str) -> RuntimeResult<Arn<'a>> {
    let field = "DestinationConfig";
    let parsed =
        Arn::parse(arn).ok_or_else(|| invalid(field, format!("{arn} is not a valid ARN")))?;
    if !matches!(parsed.service, "sqs" | "sns" | "lambda") {
        return Err(invalid(
            field,
            format!(
                "destination {arn}: the {} service is not supported here; use an SQS queue, an SNS topic or a Lambda function",
                parsed.service
            ),
        ));
    }
    if !parsed.in_project(project) {
        return Err(invalid(
            field,
            format!(
                "destination {arn} is not in this project's account ({})",
                stratus_core::arn::account_id(project)
            ),
        ));
    }
    if parsed.service == "lambda" && function_of(&parsed).is_none() {
        return Err(invalid(field, format!("{arn} is not a function ARN")));
    }
    Ok(parsed)
}

/// `function:NAME[:QUALIFIER]` of a Lambda ARN.
pub(crate) fn function_of<'a>(arn: &Arn<'a>) -> Option<(&'a str, Option<&'a str>)> {
    let mut parts = arn.resource.split(':');
    let (kind, name, qualifier) = (parts.next()?, parts.next()?, parts.next());
    (kind == "function" && !name.is_empty() && parts.next().is_none()).then_some((name, qualifier))
}

fn merge(current: &mut EventInvokeConfigRecord, update: EventInvokeSettings) {
    let non_empty = |d: String| (!d.is_empty()).then_some(d);
    if let Some(v) = update.maximum_retry_attempts {
        current.maximum_retry_attempts = Some(v);
    }
    if let Some(v) = update.maximum_event_age_s {
        current.maximum_event_age_s = Some(v);
    }
    if let Some(v) = update.on_success {
        current.on_success = non_empty(v);
    }
    if let Some(v) = update.on_failure {
        current.on_failure = non_empty(v);
    }
}

impl Functions {
    /// Checks the caller, the function and the qualifier; returns the qualifier as stored.
    async fn event_config_target(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
        action: Action,
    ) -> RuntimeResult<String> {
        require(caller, action)?;
        let view = self.resolve(&caller.project, name, qualifier).await?;
        Ok(view.version.version)
    }

    /// A function destination must exist when it is configured (queues and topics are checked
    /// by their services once those are wired; until then a well-formed ARN is accepted).
    async fn check_function_destinations(
        &self,
        project: &str,
        settings: &EventInvokeSettings,
    ) -> RuntimeResult<()> {
        for destination in [&settings.on_success, &settings.on_failure]
            .into_iter()
            .flatten()
            .filter(|d| !d.is_empty())
        {
            let arn = check_destination_arn(project, destination)?;
            if let Some((function, qualifier)) = function_of(&arn)
                && let Err(RuntimeError::NotFound(_)) =
                    self.resolve(project, function, qualifier).await
            {
                return Err(invalid(
                    "DestinationConfig",
                    format!("destination function {destination} does not exist"),
                ));
            }
        }
        Ok(())
    }

    /// PutFunctionEventInvokeConfig: replaces the settings of one qualifier.
    ///
    /// # Errors
    /// NotFound, Forbidden, Invalid, storage failures.
    pub async fn put_event_invoke_config(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
        settings: EventInvokeSettings,
    ) -> RuntimeResult<EventInvokeConfigRecord> {
        self.write_event_invoke_config(caller, name, qualifier, settings, Write::Replace)
            .await
    }

    /// UpdateFunctionEventInvokeConfig: changes only the settings named; creates the
    /// configuration if there is none, as Lambda does.
    ///
    /// # Errors
    /// NotFound, Forbidden, Invalid, storage failures.
    pub async fn update_event_invoke_config(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
        settings: EventInvokeSettings,
    ) -> RuntimeResult<EventInvokeConfigRecord> {
        self.write_event_invoke_config(caller, name, qualifier, settings, Write::Merge)
            .await
    }

    /// Put and Update: the same checks, then `settings` over an empty configuration (Replace)
    /// or over the stored one (Merge).
    async fn write_event_invoke_config(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
        settings: EventInvokeSettings,
        write: Write,
    ) -> RuntimeResult<EventInvokeConfigRecord> {
        let qualifier = self
            .event_config_target(caller, name, qualifier, Action::Write)
            .await?;
        validate(&caller.project, &settings)?;
        self.check_function_destinations(&caller.project, &settings)
            .await?;
        let stored = match write {
            Write::Replace => None,
            Write::Merge => {
                self.meta
                    .get_event_invoke_config(&caller.project, name, &qualifier)
                    .await?
            }
        };
        let mut record = stored.unwrap_or_else(|| EventInvokeConfigRecord {
            project: caller.project.clone(),
            function: name.to_owned(),
            qualifier,
            maximum_retry_attempts: None,
            maximum_event_age_s: None,
            on_success: None,
            on_failure: None,
            last_modified_ms: 0,
        });
        merge(&mut record, settings);
        record.last_modified_ms = crate::now_ms();
        self.store_event_invoke_config(record).await
    }

    async fn store_event_invoke_config(
        &self,
        record: EventInvokeConfigRecord,
    ) -> RuntimeResult<EventInvokeConfigRecord> {
        match self.meta.put_event_invoke_config(record.clone()).await {
            Ok(()) => Ok(record),
            // Deleted between the check and the write.
            Err(stratus_meta::MetaError::NotFound(_)) => Err(not_found(&record.function, None)),
            Err(error) => Err(error.into()),
        }
    }

    /// GetFunctionEventInvokeConfig.
    ///
    /// # Errors
    /// NotFound (also when the function has no configuration), Forbidden, storage failures.
    pub async fn event_invoke_config(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
    ) -> RuntimeResult<EventInvokeConfigRecord> {
        let qualifier = self
            .event_config_target(caller, name, qualifier, Action::Read)
            .await?;
        self.meta
            .get_event_invoke_config(&caller.project, name, &qualifier)
            .await?
            .ok_or_else(|| no_config(&caller.project, name, &qualifier, &self.config.region))
    }

    /// ListFunctionEventInvokeConfigs: every qualifier's configuration.
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn event_invoke_configs(
        &self,
        caller: &Principal,
        name: &str,
    ) -> RuntimeResult<Vec<EventInvokeConfigRecord>> {
        self.event_config_target(caller, name, None, Action::Read)
            .await?;
        Ok(self
            .meta
            .list_event_invoke_configs(&caller.project, name)
            .await?)
    }

    /// DeleteFunctionEventInvokeConfig.
    ///
    /// # Errors
    /// NotFound (also when there is no configuration), Forbidden, storage failures.
    pub async fn delete_event_invoke_config(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
    ) -> RuntimeResult<()> {
        let qualifier = self
            .event_config_target(caller, name, qualifier, Action::Write)
            .await?;
        let deleted = self
            .meta
            .delete_event_invoke_config(&caller.project, name, &qualifier)
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(no_config(
                &caller.project,
                name,
                &qualifier,
                &self.config.region,
            ))
        }
    }

    /// The policy for an invocation of `qualifier`: its stored settings with the server's
    /// defaults. A storage failure falls back to the defaults (logged): the invocation still runs.
    pub(crate) async fn invoke_policy(
        &self,
        project: &str,
        function: &str,
        qualifier: &str,
    ) -> InvokePolicy {
        let stored = match self
            .meta
            .get_event_invoke_config(project, function, qualifier)
            .await
        {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(%error, function, "cannot read the event invoke config; using defaults");
                None
            }
        };
        InvokePolicy::new(
            stored.as_ref(),
            (self.config.async_retries, self.config.max_event_age),
        )
    }

    /// Queues an asynchronous invocation for an event from inside the platform (a destination
    /// record, a message): the id is chosen by the sender, so a redelivery queues nothing new.
    /// Wakes the dispatcher. Returns whether it was newly queued.
    ///
    /// # Errors
    /// NotFound (no such function in `project`), storage failures.
    pub async fn queue_event(
        &self,
        project: &str,
        function_arn_or_name: &str,
        id: &str,
        payload: Vec<u8>,
        chain_depth: u32,
    ) -> RuntimeResult<bool> {
        let (name, qualifier) = match Arn::parse(function_arn_or_name) {
            // Deliveries resolve names in their owner's project: an ARN of another account
            // names another project's function, which does not exist from here.
            Some(arn) if !arn.in_project(project) => {
                return Err(not_found(function_arn_or_name, None));
            }
            Some(arn) => function_of(&arn).ok_or_else(|| not_found(function_arn_or_name, None))?,
            None => (function_arn_or_name, None),
        };
        let view = self.resolve(project, name, qualifier).await?;
        let record = stratus_meta::InvocationRecord::queued(
            id.to_owned(),
            (project, &view.version.name, &view.version.version),
            payload,
            crate::now_ms(),
            chain_depth,
        );
        let inserted = self.meta.queue_invocation_once(record).await?;
        self.dispatcher.wake.notify_one();
        Ok(inserted)
    }
}

/// How Put and Update apply their settings.
#[derive(Clone, Copy)]
enum Write {
    Replace,
    Merge,
}

fn no_config(project: &str, name: &str, qualifier: &str, region: &str) -> RuntimeError {
    let arn = crate::function_arn(region, project, name, Some(qualifier));
    RuntimeError::NotFound(format!(
        "The function {arn} doesn't have an EventInvokeConfig"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::LATEST;

    fn settings(
        retries: Option<u32>,
        age: Option<u32>,
        failure: Option<&str>,
    ) -> EventInvokeSettings {
        EventInvokeSettings {
            maximum_retry_attempts: retries,
            maximum_event_age_s: age,
            on_success: None,
            on_failure: failure.map(str::to_owned),
        }
    }

    #[test]
    fn bounds_follow_lambda() {
        assert!(validate("p", &settings(Some(0), Some(60), None)).is_ok());
        assert!(validate("p", &settings(Some(2), Some(21_600), None)).is_ok());
        assert!(validate("p", &settings(Some(3), None, None)).is_err());
        assert!(validate("p", &settings(None, Some(59), None)).is_err());
        assert!(validate("p", &settings(None, Some(21_601), None)).is_err());
    }

    #[test]
    fn destinations_must_be_queues_topics_or_functions_of_the_project() {
        let queue = stratus_core::arn::queue_arn("p", "q");
        let topic = stratus_core::arn::topic_arn("p", "t");
        let function = crate::function_arn("us-east-1", "p", "f", None);
        for ok in [&queue, &topic, &function] {
            assert!(
                validate("p", &settings(None, None, Some(ok))).is_ok(),
                "{ok}"
            );
        }
        // Another project's queue, an EventBridge bus, an S3 bucket, a non-ARN.
        let foreign = stratus_core::arn::queue_arn("other", "q");
        let account = stratus_core::arn::account_id("p");
        let bus = format!("arn:aws:events:us-east-1:{account}:event-bus/default");
        let bucket = "arn:aws:s3:::bucket".to_owned();
        for bad in [&foreign, &bus, &bucket, &"queue".to_owned()] {
            let error =
                validate("p", &settings(None, None, Some(bad))).expect_err("must be refused");
            assert!(matches!(error, RuntimeError::Invalid { .. }), "{bad}");
        }
        let layer = format!("arn:aws:lambda:us-east-1:{account}:layer:l:1");
        assert!(validate("p", &settings(None, None, Some(&layer))).is_err());
    }

    #[test]
    fn update_merges_and_empty_destination_removes() {
        let mut record = EventInvokeConfigRecord {
            project: "p".into(),
            function: "f".into(),
            qualifier: LATEST.into(),
            maximum_retry_attempts: Some(1),
            maximum_event_age_s: Some(100),
            on_success: Some("s".into()),
            on_failure: Some("f".into()),
            last_modified_ms: 0,
        };
        merge(
            &mut record,
            EventInvokeSettings {
                maximum_retry_attempts: Some(0),
                on_success: Some(String::new()),
                ..EventInvokeSettings::default()
            },
        );
        assert_eq!(record.maximum_retry_attempts, Some(0));
        assert_eq!(record.maximum_event_age_s, Some(100));
        assert_eq!(record.on_success, None);
        assert_eq!(record.on_failure.as_deref(), Some("f"));
    }

    #[test]
    fn policy_defaults_apply_to_unset_fields() {
        let defaults = (2, Duration::from_secs(21_600));
        let policy = InvokePolicy::new(None, defaults);
        assert_eq!(policy.retries, 2);
        assert_eq!(policy.max_age, Duration::from_secs(21_600));
        let record = EventInvokeConfigRecord {
            project: "p".into(),
            function: "f".into(),
            qualifier: LATEST.into(),
            maximum_retry_attempts: Some(0),
            maximum_event_age_s: None,
            on_success: None,
            on_failure: Some("arn".into()),
            last_modified_ms: 0,
        };
        let policy = InvokePolicy::new(Some(&record), defaults);
        assert_eq!(policy.retries, 0);
        assert_eq!(policy.max_age, Duration::from_secs(21_600));
        assert_eq!(policy.on_failure.as_deref(), Some("arn"));
    }
}
