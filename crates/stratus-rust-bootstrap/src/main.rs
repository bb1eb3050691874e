//! A `provided` runtime function written with the `lambda_runtime` crate, as a Lambda user would
//! write one. The e2e tests deploy this binary to prove that Stratus's Runtime API serves a
//! third-party runtime client, not only our own Python one.
//!
//! The event chooses the behaviour: `{"fail": "msg"}` returns an error, `{"sleep_ms": N}` waits
//! first, and everything else is echoed with what the function knows about its invocation.
//!
//! A test fixture, not part of the product: built only when named with `-p`, as
//! `scripts/test.sh` does. Files: `main.rs` only.

use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// A failure the event asked for. Its own type so that the `errorType` Lambda reports is a
/// stable name the tests can assert, not the Rust type path the crate would derive.
#[derive(Debug)]
struct RequestedFailure(String);

impl From<RequestedFailure> for Diagnostic {
    fn from(failure: RequestedFailure) -> Self {
        Self {
            error_type: "RequestedFailure".into(),
            error_message: failure.0,
        }
    }
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, RequestedFailure> {
    let LambdaEvent { payload, context } = event;
    if let Some(message) = payload.get("fail") {
        let message = message
            .as_str()
            .map_or_else(|| message.to_string(), str::to_owned);
        return Err(RequestedFailure(message));
    }
    if let Some(millis) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    // Read from the environment rather than the crate's parsed config: the point is to check
    // what the platform gives the process.
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    Ok(json!({
        "echo": payload,
        "request_id": context.request_id,
        "function": env("AWS_LAMBDA_FUNCTION_NAME"),
        "memory": env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
    }))
}

// One invocation at a time per process, so one thread is enough and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(handle)).await
}
