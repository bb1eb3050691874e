//! Event source mappings invoke functions through `stratus-runtime`: the adapter from the
//! messaging crate's `FunctionInvoker` trait to `Functions`.

use std::sync::Arc;

use async_trait::async_trait;
use stratus_core::arn::{account_id, function_ref};
use stratus_events::DeliveryError;
use stratus_events::mappings::{FunctionInvoker, InvokeOutcome};
use stratus_runtime::{Functions, RuntimeError};

pub(crate) struct RuntimeInvoker {
    pub functions: Arc<Functions>,
    pub region: String,
}

fn delivery_error(error: &RuntimeError) -> DeliveryError {
    match error {
        RuntimeError::NotFound(_) | RuntimeError::Invalid { .. } | RuntimeError::TooLarge(_) => {
            DeliveryError::Permanent(error.to_string())
        }
        _ => DeliveryError::Transient(error.to_string()),
    }
}

#[async_trait]
impl FunctionInvoker for RuntimeInvoker {
    async fn resolve_function(
        &self,
        project: &str,
        function: &str,
    ) -> Result<Option<(String, Option<String>)>, DeliveryError> {
        let (name, qualifier, account) = function_ref(function);
        if account.is_some_and(|a| a != account_id(project)) {
            return Ok(None);
        }
        let qualifier = qualifier.filter(|q| *q != "$LATEST");
        match self.functions.exists(project, name, qualifier).await {
            Ok(true) => Ok(Some((name.to_owned(), qualifier.map(str::to_owned)))),
            Ok(false) => Ok(None),
            Err(error) => Err(delivery_error(&error)),
        }
    }

    async fn invoke_sync(
        &self,
        project: &str,
        function: &str,
        qualifier: Option<&str>,
        payload: Vec<u8>,
        chain_depth: u32,
    ) -> Result<InvokeOutcome, DeliveryError> {
        let response = self
            .functions
            .invoke_for_mapping(project, function, qualifier, payload.into(), chain_depth)
            .await
            .map_err(|e| delivery_error(&e))?;
        Ok(InvokeOutcome {
            function_error: response.function_error.map(str::to_owned),
            payload: response.payload.to_vec(),
        })
    }

    fn function_arn(&self, project: &str, function: &str, qualifier: Option<&str>) -> String {
        stratus_runtime::function_arn(&self.region, project, function, qualifier)
    }
}
