//! A `provided.al2023` function whose `bootstrap` is the Rust `lambda_runtime` crate
//! (`crates/stratus-rust-bootstrap`): proof that the Runtime API serves a third-party runtime
//! client, through aws-sdk-lambda.

use std::path::PathBuf;

use aws_sdk_lambda::operation::RequestId as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use serde_json::json;

use crate::harness::TestServer;
use crate::lambda::{ROLE, invoke, payload, tail_log, zip_package};

/// The bootstrap built beside the stratus binary under test. Building it here would add minutes
/// to every test run, so the build step (scripts/test.sh) builds it with the server.
fn bootstrap_binary() -> PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_stratus")).with_file_name("bootstrap");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p stratus-rust-bootstrap` first (scripts/test.sh does)",
        path.display()
    );
    path
}

fn report_line(log: &str) -> &str {
    log.lines()
        .find(|line| line.starts_with("REPORT RequestId:"))
        .unwrap_or_else(|| panic!("no REPORT line in {log}"))
}

#[tokio::test]
async fn a_lambda_runtime_bootstrap_serves_warm_invocations_and_errors() {
    let binary = std::fs::read(bootstrap_binary()).expect("read bootstrap");
    let server = TestServer::start();
    let lambda = server.lambda();
    // Lambda execs `bootstrap` directly, so the zip entry must carry the executable bits.
    let code = zip_package(&[("bootstrap", &binary, 0o755)]);
    lambda
        .create_function()
        .function_name("rusty")
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .handler("bootstrap")
        .memory_size(256)
        .timeout(1)
        .code(FunctionCode::builder().zip_file(Blob::new(code)).build())
        .send()
        .await
        .expect("create provided function");

    let event = json!({ "hello": "world", "n": [1, 2] });
    let cold = invoke(&lambda, "rusty", None, &event).await;
    assert_eq!(cold.status_code(), 200);
    assert_eq!(cold.function_error(), None, "{:?}", cold.payload());
    let request_id = cold.request_id().expect("x-amzn-RequestId").to_owned();
    assert_eq!(
        payload(&cold),
        json!({ "echo": event, "request_id": request_id, "function": "rusty", "memory": "256" })
    );
    let log = tail_log(&cold);
    assert!(
        log.contains(&format!("START RequestId: {request_id}")),
        "{log}"
    );
    assert!(report_line(&log).contains("Init Duration"), "{log}");

    let warm = invoke(&lambda, "rusty", None, &json!({ "again": true })).await;
    let warm_id = warm.request_id().expect("x-amzn-RequestId");
    assert_ne!(warm_id, request_id);
    assert_eq!(payload(&warm)["request_id"], warm_id);
    let log = tail_log(&warm);
    assert!(
        !report_line(&log).contains("Init Duration"),
        "the second call reuses the warm worker: {log}"
    );

    let failed = invoke(&lambda, "rusty", None, &json!({ "fail": "kaput" })).await;
    assert_eq!(failed.status_code(), 200);
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let error = payload(&failed);
    assert_eq!(error["errorType"], "RequestedFailure", "{error}");
    assert_eq!(error["errorMessage"], "kaput", "{error}");

    // A handler error is reported through /error; the runtime loop keeps going in the same process.
    let after = invoke(&lambda, "rusty", None, &json!({ "ok": 1 })).await;
    assert_eq!(after.function_error(), None);
    assert_eq!(payload(&after)["echo"], json!({ "ok": 1 }));
    assert!(!report_line(&tail_log(&after)).contains("Init Duration"));

    // Past the timeout the platform kills the process, so the next call starts a new one.
    let slow = invoke(&lambda, "rusty", None, &json!({ "sleep_ms": 3000 })).await;
    assert_eq!(slow.function_error(), Some("Unhandled"));
    let error = payload(&slow);
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Task timed out after 1.00 seconds")),
        "{error}"
    );
    let restarted = invoke(&lambda, "rusty", None, &json!({})).await;
    assert_eq!(restarted.function_error(), None);
    assert!(report_line(&tail_log(&restarted)).contains("Init Duration"));
}
