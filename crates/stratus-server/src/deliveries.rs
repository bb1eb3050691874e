//! Deliveries the composition root implements because it sees both sides: SNS `lambda`
//! subscriptions queue asynchronous invocations in `stratus-runtime`; `sqs` ones wait for the
//! queue service (a placeholder refuses them until it is wired).

use std::sync::Arc;

use async_trait::async_trait;
use stratus_events::{Arn, DeliveryError, FunctionDelivery, QueueDelivery, QueueMessage, Role};
use stratus_identity::Principal;
use stratus_meta::{FunctionRepository, InvocationRecord, SqliteMeta};
use stratus_runtime::Functions;

/// Queues function invocations whose id is the delivery id, so a repeated delivery queues
/// nothing new.
pub(crate) struct FunctionInvocations {
    pub meta: Arc<SqliteMeta>,
    pub functions: Arc<Functions>,
}

#[async_trait]
impl FunctionDelivery for FunctionInvocations {
    async fn invoke_async(
        &self,
        project: &str,
        function_arn: &str,
        delivery_id: &str,
        payload: Vec<u8>,
        chain_depth: u32,
    ) -> Result<(), DeliveryError> {
        let transient = |e: &dyn std::fmt::Display| DeliveryError::Transient(e.to_string());
        let arn = Arn::parse(function_arn)
            .filter(|a| a.service == "lambda" && a.in_project(project))
            .ok_or_else(|| {
                DeliveryError::Permanent(format!(
                    "{function_arn} is not a function of this project"
                ))
            })?;
        let mut parts = arn.resource.splitn(3, ':');
        let (_, name, qualifier) = (parts.next(), parts.next().unwrap_or(""), parts.next());
        if self
            .meta
            .get_invocation(delivery_id)
            .await
            .map_err(|e| transient(&e))?
            .is_some()
        {
            return Ok(());
        }
        // The subscription's owner stands behind the invocation, as the publisher's project.
        let system = Principal {
            access_key_id: "sns.amazonaws.com".into(),
            project: project.to_owned(),
            role: Role::Member,
            chain_depth,
        };
        let view = match self.functions.get(&system, name, qualifier).await {
            Ok(view) => view,
            Err(stratus_runtime::RuntimeError::NotFound(why)) => {
                return Err(DeliveryError::Permanent(why));
            }
            Err(other) => return Err(transient(&other)),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let function = (
            project,
            view.version.name.as_str(),
            view.version.version.as_str(),
        );
        self.meta
            .put_invocation(InvocationRecord::queued(
                delivery_id.to_owned(),
                function,
                payload,
                now,
                chain_depth,
            ))
            .await
            .map_err(|e| transient(&e))?;
        self.functions.dispatch_waker().notify_one();
        Ok(())
    }
}

/// Refuses queue deliveries until the queue service is wired in.
pub(crate) struct NoQueues;

#[async_trait]
impl QueueDelivery for NoQueues {
    async fn deliver_to_queue(
        &self,
        _project: &str,
        _queue_arn: &str,
        _delivery_id: &str,
        _message: QueueMessage,
    ) -> Result<(), DeliveryError> {
        Err(DeliveryError::Permanent("queues not available".into()))
    }
}
