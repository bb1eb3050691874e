//! The Lambda API through aws-sdk-lambda with Python functions: the lifecycle, invocations and
//! Lambda's failure contract, versions, reserved concurrency, and the typed errors the SDK must
//! recognise. `lambda_provided.rs` covers a `provided` runtime.

use std::io::Write as _;

use aws_sdk_lambda::operation::RequestId as _;
use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, LogType, Runtime};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::harness::TestServer;

/// Lambda requires a role ARN; Stratus records it but runs every function with its own key.
pub const ROLE: &str = "arn:aws:iam::000000000000:role/lambda";

/// A zip package built in memory from `(name, contents, unix mode)` entries.
pub fn zip_package(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, contents, mode) in files {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(contents).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// A CreateFunction call for `app.py` with handler `app.handler`; callers add settings and send.
fn python_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    source: &str,
) -> CreateFunctionFluentBuilder {
    let code = zip_package(&[("app.py", source.as_bytes(), 0o644)]);
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(ROLE)
        .handler("app.handler")
        .code(FunctionCode::builder().zip_file(Blob::new(code)).build())
}

async fn create_python(lambda: &aws_sdk_lambda::Client, name: &str, source: &str) {
    python_function(lambda, name, source)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

/// A synchronous invoke with the tail of the log.
pub async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    qualifier: Option<&str>,
    event: &Value,
) -> InvokeOutput {
    lambda
        .invoke()
        .function_name(name)
        .set_qualifier(qualifier.map(str::to_owned))
        .log_type(LogType::Tail)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("invoke {name}: {e:?}"))
}

pub fn payload(output: &InvokeOutput) -> Value {
    let bytes = output.payload().map(Blob::as_ref).unwrap_or_default();
    serde_json::from_slice(bytes).expect("payload is json")
}

pub fn tail_log(output: &InvokeOutput) -> String {
    let encoded = output.log_result().expect("log_result with LogType::Tail");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("log_result is base64");
    String::from_utf8(bytes).expect("log is utf-8")
}

#[tokio::test]
async fn create_describe_list_invoke_and_delete() {
    let server = TestServer::start();
    let lambda = server.lambda();
    let source = "def handler(event, context):\n    print('doubling', event['n'])\n    return {'double': event['n'] * 2}\n";
    let created = python_function(&lambda, "doubler", source)
        .memory_size(192)
        .timeout(7)
        .send()
        .await
        .expect("create");
    assert_eq!(created.runtime(), Some(&Runtime::Python312));
    assert_eq!(created.handler(), Some("app.handler"));
    assert_eq!(created.memory_size(), Some(192));
    assert_eq!(created.timeout(), Some(7));
    assert_eq!(created.version(), Some("$LATEST"));
    assert!(
        created
            .function_arn()
            .is_some_and(|arn| arn.ends_with(":function:doubler")),
        "{:?}",
        created.function_arn()
    );

    let got = lambda
        .get_function()
        .function_name("doubler")
        .send()
        .await
        .expect("get");
    let config = got.configuration().expect("configuration");
    assert_eq!(config.code_sha256(), created.code_sha256());
    assert!(got.code().and_then(|c| c.location()).is_some());
    let configuration = lambda
        .get_function_configuration()
        .function_name("doubler")
        .send()
        .await
        .expect("get configuration");
    assert_eq!(configuration.memory_size(), Some(192));
    let listed = lambda.list_functions().send().await.expect("list");
    let names: Vec<_> = listed
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    assert_eq!(names, ["doubler"]);

    let output = invoke(&lambda, "doubler", None, &json!({ "n": 21 })).await;
    assert_eq!(output.status_code(), 200);
    assert_eq!(output.function_error(), None);
    assert_eq!(output.executed_version(), Some("$LATEST"));
    assert_eq!(payload(&output), json!({ "double": 42 }));
    let request_id = output.request_id().expect("x-amzn-RequestId");
    let log = tail_log(&output);
    assert!(
        log.contains(&format!("START RequestId: {request_id}")),
        "{log}"
    );
    assert!(log.contains("doubling 21"), "{log}");
    assert!(
        log.contains(&format!("REPORT RequestId: {request_id}")),
        "{log}"
    );

    lambda
        .delete_function()
        .function_name("doubler")
        .send()
        .await
        .expect("delete");
    let gone = lambda
        .get_function()
        .function_name("doubler")
        .send()
        .await
        .expect_err("deleted function");
    assert!(gone.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn a_handler_exception_is_an_unhandled_function_error() {
    let server = TestServer::start();
    let lambda = server.lambda();
    let source = "def handler(event, context):\n    raise ValueError('bad input: ' + event['x'])\n";
    create_python(&lambda, "raiser", source).await;
    let output = invoke(&lambda, "raiser", None, &json!({ "x": "q" })).await;
    // A function error is still a successful API call: 200 with the error document.
    assert_eq!(output.status_code(), 200);
    assert_eq!(output.function_error(), Some("Unhandled"));
    let error = payload(&output);
    assert_eq!(error["errorType"], "ValueError");
    assert_eq!(error["errorMessage"], "bad input: q");
    let frames = error["stackTrace"].as_array().expect("stackTrace array");
    assert!(
        frames
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.contains("app.py"))),
        "{error}"
    );
}

#[tokio::test]
async fn updates_apply_to_the_next_invoke_while_a_published_version_keeps_its_code() {
    let server = TestServer::start();
    let lambda = server.lambda();
    let source = |generation: u32| {
        format!(
            "import os\ndef handler(event, context):\n    return {{'generation': {generation}, 'greeting': os.environ.get('GREETING'), 'memory': context.memory_limit_in_mb}}\n"
        )
    };
    python_function(&lambda, "evolving", &source(1))
        .environment(
            Environment::builder()
                .variables("GREETING", "hello")
                .build(),
        )
        .send()
        .await
        .expect("create");
    let published = lambda
        .publish_version()
        .function_name("evolving")
        .send()
        .await
        .expect("publish");
    assert_eq!(published.version(), Some("1"));

    let code = zip_package(&[("app.py", source(2).as_bytes(), 0o644)]);
    let updated = lambda
        .update_function_code()
        .function_name("evolving")
        .zip_file(Blob::new(code))
        .send()
        .await
        .expect("update code");
    assert_ne!(updated.code_sha256(), published.code_sha256());
    lambda
        .update_function_configuration()
        .function_name("evolving")
        .memory_size(256)
        .environment(
            Environment::builder()
                .variables("GREETING", "bonjour")
                .build(),
        )
        .send()
        .await
        .expect("update configuration");

    let latest = invoke(&lambda, "evolving", None, &json!({})).await;
    assert_eq!(latest.executed_version(), Some("$LATEST"));
    assert_eq!(
        payload(&latest),
        json!({ "generation": 2, "greeting": "bonjour", "memory": "256" })
    );
    let frozen = invoke(&lambda, "evolving", Some("1"), &json!({})).await;
    assert_eq!(frozen.executed_version(), Some("1"));
    assert_eq!(
        payload(&frozen),
        json!({ "generation": 1, "greeting": "hello", "memory": "128" })
    );
    let versions = lambda
        .list_versions_by_function()
        .function_name("evolving")
        .send()
        .await
        .expect("list versions");
    let names: Vec<_> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(names, ["$LATEST", "1"]);
}

#[tokio::test]
async fn zero_reserved_concurrency_throttles_until_removed() {
    let server = TestServer::start();
    let lambda = server.lambda();
    create_python(
        &lambda,
        "gated",
        "def handler(event, context):\n    return 'open'\n",
    )
    .await;
    let put = lambda
        .put_function_concurrency()
        .function_name("gated")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .expect("put concurrency");
    assert_eq!(put.reserved_concurrent_executions(), Some(0));
    let got = lambda
        .get_function_concurrency()
        .function_name("gated")
        .send()
        .await
        .expect("get concurrency");
    assert_eq!(got.reserved_concurrent_executions(), Some(0));
    let function = lambda
        .get_function()
        .function_name("gated")
        .send()
        .await
        .expect("get function");
    assert_eq!(
        function
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions()),
        Some(0)
    );

    let throttled = lambda
        .invoke()
        .function_name("gated")
        .send()
        .await
        .expect_err("no concurrency allowed");
    assert_eq!(
        throttled.raw_response().map(|r| r.status().as_u16()),
        Some(429)
    );
    let error = throttled.into_service_error();
    assert!(error.is_too_many_requests_exception(), "{error:?}");

    lambda
        .delete_function_concurrency()
        .function_name("gated")
        .send()
        .await
        .expect("delete concurrency");
    let cleared = lambda
        .get_function_concurrency()
        .function_name("gated")
        .send()
        .await
        .expect("get concurrency");
    assert_eq!(cleared.reserved_concurrent_executions(), None);
    let output = invoke(&lambda, "gated", None, &json!({})).await;
    assert_eq!(payload(&output), json!("open"));
}

#[tokio::test]
async fn timeouts_and_import_errors_follow_lambdas_failure_contract() {
    let server = TestServer::start();
    let lambda = server.lambda();
    python_function(
        &lambda,
        "sleeper",
        "import time\ndef handler(event, context):\n    time.sleep(3)\n    return 'late'\n",
    )
    .timeout(1)
    .send()
    .await
    .expect("create sleeper");
    create_python(
        &lambda,
        "broken",
        "import not_installed_anywhere\ndef handler(event, context):\n    return 1\n",
    )
    .await;

    let timed_out = invoke(&lambda, "sleeper", None, &json!({})).await;
    assert_eq!(timed_out.function_error(), Some("Unhandled"));
    let error = payload(&timed_out);
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Task timed out after 1.00 seconds")),
        "{error}"
    );

    let broken = invoke(&lambda, "broken", None, &json!({})).await;
    assert_eq!(broken.function_error(), Some("Unhandled"));
    let error = payload(&broken);
    assert_eq!(error["errorType"], "Runtime.ImportModuleError");
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("not_installed_anywhere")),
        "{error}"
    );
}

#[tokio::test]
async fn dry_run_and_event_invocations_answer_204_and_202() {
    let server = TestServer::start();
    let lambda = server.lambda();
    create_python(
        &lambda,
        "quiet",
        "def handler(event, context):\n    return None\n",
    )
    .await;
    for (kind, expected) in [(InvocationType::DryRun, 204), (InvocationType::Event, 202)] {
        let output = lambda
            .invoke()
            .function_name("quiet")
            .invocation_type(kind.clone())
            .payload(Blob::new("{}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
        assert_eq!(output.status_code(), expected, "{kind:?}");
        assert_eq!(output.function_error(), None, "{kind:?}");
    }
}

#[tokio::test]
async fn a_payload_over_6_mb_is_request_too_large() {
    let server = TestServer::start();
    let lambda = server.lambda();
    create_python(
        &lambda,
        "small",
        "def handler(event, context):\n    return len(event)\n",
    )
    .await;
    // A JSON string one byte over Lambda's 6 MB (6,291,456 bytes) synchronous limit.
    let oversized = format!("\"{}\"", "a".repeat(6 * 1024 * 1024 - 1));
    let result = lambda
        .invoke()
        .function_name("small")
        .payload(Blob::new(oversized))
        .send()
        .await;
    let error = result.expect_err("oversized payload");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(413));
    let error = error.into_service_error();
    assert!(error.is_request_too_large_exception(), "{error:?}");
}

#[tokio::test]
async fn api_errors_are_the_typed_exceptions_the_sdk_knows() {
    let server = TestServer::start();
    let lambda = server.lambda();
    let missing = lambda
        .get_function()
        .function_name("nowhere")
        .send()
        .await
        .expect_err("unknown function");
    assert!(
        missing
            .into_service_error()
            .is_resource_not_found_exception()
    );
    let missing = lambda
        .invoke()
        .function_name("nowhere")
        .send()
        .await
        .expect_err("unknown function");
    assert!(
        missing
            .into_service_error()
            .is_resource_not_found_exception()
    );

    let source = "def handler(event, context):\n    return 1\n";
    let bad_runtime = python_function(&lambda, "odd", source)
        .runtime(Runtime::from("cobol85"))
        .send()
        .await
        .expect_err("unsupported runtime");
    assert!(
        bad_runtime
            .into_service_error()
            .is_invalid_parameter_value_exception()
    );
    let bad_memory = python_function(&lambda, "odd", source)
        .memory_size(64)
        .send()
        .await
        .expect_err("memory below 128 MB");
    assert!(
        bad_memory
            .into_service_error()
            .is_invalid_parameter_value_exception()
    );

    create_python(&lambda, "twice", source).await;
    let duplicate = python_function(&lambda, "twice", source)
        .send()
        .await
        .expect_err("same name twice");
    assert!(
        duplicate
            .into_service_error()
            .is_resource_conflict_exception()
    );
}
