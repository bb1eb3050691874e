//! SNS `lambda` subscriptions queue asynchronous invocations in `stratus-runtime`: the adapter
//! from the messaging crate's `FunctionDelivery` to `Functions::queue_event`, whose
//! insert-or-ignore by delivery id makes a repeated delivery queue nothing new.

use std::sync::Arc;

use async_trait::async_trait;
use stratus_core::arn::Arn;
use stratus_events::{DeliveryError, FunctionDelivery};
use stratus_runtime::{Functions, RuntimeError};

pub(crate) struct FunctionInvocations {
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
        let in_project = Arn::parse(function_arn)
            .is_some_and(|arn| arn.service == "lambda" && arn.in_project(project));
        if !in_project {
            return Err(DeliveryError::Permanent(format!(
                "{function_arn} is not a function of this project"
            )));
        }
        match self
            .functions
            .queue_event(project, function_arn, delivery_id, payload, chain_depth)
            .await
        {
            Ok(_) => Ok(()),
            Err(RuntimeError::NotFound(why)) => Err(DeliveryError::Permanent(why)),
            Err(other) => Err(DeliveryError::Transient(other.to_string())),
        }
    }
}
