//! One function per Lambda operation, routed by method and path.
#![expect(
    clippy::result_large_err,
    reason = "the error is the finished wire response, built once per failed request; boxing it only adds an allocation"
)]

use axum::body::Body;
use base64::Engine as _;
use bytes::Bytes;
use futures::TryStreamExt as _;
use http::{Method, Response, StatusCode};
use serde_json::{Value, json};
use stratus_core::FunctionConfig;
use stratus_runtime::{CodeUpdate, ConfigUpdate, NewFunction, RuntimeError};

use super::errors::{from_runtime, invalid, lambda_error};
use super::model::{self, CreateFunction, PutConcurrency, UpdateCode, UpdateConfiguration};
use super::{Call, LambdaApi, event_invoke_config, mappings, url_config};

type Reply = Result<Response<Body>, Response<Body>>;

pub(crate) async fn route(api: &LambdaApi, call: Call) -> Response<Body> {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let result = match (&call.method, segments.as_slice()) {
        (&Method::POST, [_, "functions"]) => create(api, &call).await,
        (&Method::GET, [_, "functions"]) => list(api, &call).await,
        (&Method::GET, [_, "functions", name]) => get(api, &call, name).await,
        (&Method::DELETE, [_, "functions", name]) => delete(api, &call, name).await,
        (&Method::GET, [_, "functions", name, "configuration"]) => {
            get_configuration(api, &call, name).await
        }
        (&Method::PUT, [_, "functions", name, "configuration"]) => {
            update_configuration(api, &call, name).await
        }
        (&Method::PUT, [_, "functions", name, "code"]) => update_code(api, &call, name).await,
        (&Method::POST, [_, "functions", name, "versions"]) => publish(api, &call, name).await,
        (&Method::GET, [_, "functions", name, "versions"]) => list_versions(api, &call, name).await,
        (&Method::PUT, [_, "functions", name, "concurrency"]) => {
            put_concurrency(api, &call, name).await
        }
        (&Method::GET, [_, "functions", name, "concurrency"]) => {
            get_concurrency(api, &call, name).await
        }
        (&Method::DELETE, [_, "functions", name, "concurrency"]) => {
            delete_concurrency(api, &call, name).await
        }
        (&Method::POST, [_, "functions", name, "url"]) => {
            url_config::create(api, &call, name).await
        }
        (&Method::GET, [_, "functions", name, "url"]) => url_config::get(api, &call, name).await,
        (&Method::PUT, [_, "functions", name, "url"]) => url_config::update(api, &call, name).await,
        (&Method::DELETE, [_, "functions", name, "url"]) => {
            url_config::delete(api, &call, name).await
        }
        (&Method::GET, [_, "functions", name, "urls"]) => url_config::list(api, &call, name).await,
        (&Method::PUT, [_, "functions", name, "event-invoke-config"]) => {
            event_invoke_config::put(api, &call, name).await
        }
        (&Method::POST, [_, "functions", name, "event-invoke-config"]) => {
            event_invoke_config::update(api, &call, name).await
        }
        (&Method::GET, [_, "functions", name, "event-invoke-config"]) => {
            event_invoke_config::get(api, &call, name).await
        }
        (&Method::DELETE, [_, "functions", name, "event-invoke-config"]) => {
            event_invoke_config::delete(api, &call, name).await
        }
        (&Method::GET, [_, "functions", name, "event-invoke-config", "list"]) => {
            event_invoke_config::list(api, &call, name).await
        }
        (&Method::POST, [_, "functions", name, "invocations"]) => {
            super::invoke::invoke(api, &call, name).await
        }
        (&Method::POST, [_, "event-source-mappings"]) => mappings::create(api, &call).await,
        (&Method::GET, [_, "event-source-mappings"]) => mappings::list(api, &call).await,
        (&Method::GET, [_, "event-source-mappings", uuid]) => mappings::get(api, &call, uuid).await,
        (&Method::PUT, [_, "event-source-mappings", uuid]) => {
            mappings::update(api, &call, uuid).await
        }
        (&Method::DELETE, [_, "event-source-mappings", uuid]) => {
            mappings::delete(api, &call, uuid).await
        }
        _ => Err(lambda_error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            &format!(
                "unknown operation {} /{}",
                call.method,
                call.segments.join("/")
            ),
        )),
    };
    result.unwrap_or_else(|response| response)
}

/// A name, `name:qualifier`, a partial ARN (`ACCOUNT:function:name`) or a full ARN.
///
/// Names are per project, so an ARN of another account (another project) names a function the
/// caller cannot have: ResourceNotFoundException, exactly as for a missing one, rather than the
/// caller's own function of the same name.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished Lambda error response, built once per refused request"
)]
pub(crate) fn function_ref<'a>(
    call: &Call,
    raw: &'a str,
    query_qualifier: Option<&'a str>,
) -> Result<(&'a str, Option<&'a str>), Response<Body>> {
    let (name, qualifier, account) = stratus_core::arn::function_ref(raw);
    if account.is_some_and(|account| account != stratus_core::arn::account_id(&call.caller.project))
    {
        return Err(lambda_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {raw}"),
        ));
    }
    Ok((name, query_qualifier.or(qualifier)))
}

pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-amzn-RequestId", stratus_runtime::request_id())
        .body(Body::from(value.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn parse_body<T: serde::de::DeserializeOwned>(call: &Call) -> Result<T, Response<Body>> {
    let body: &[u8] = if call.body.is_empty() {
        b"{}"
    } else {
        &call.body
    };
    serde_json::from_slice(body).map_err(|e| invalid(&format!("could not parse request body: {e}")))
}

fn runtime(error: &RuntimeError) -> Response<Body> {
    from_runtime(error)
}

/// The code package: inline base64 zip or an object of the caller's own store.
async fn code_bytes(
    api: &LambdaApi,
    call: &Call,
    zip_file: Option<&str>,
    bucket: Option<&str>,
    key: Option<&str>,
    image_uri: Option<&str>,
) -> Result<Vec<u8>, Response<Body>> {
    if image_uri.is_some() {
        return Err(invalid(
            "container images are not supported by this backend; use a zip package",
        ));
    }
    if let Some(zip) = zip_file {
        return base64::engine::general_purpose::STANDARD
            .decode(zip)
            .map_err(|e| invalid(&format!("ZipFile is not valid base64: {e}")));
    }
    let (Some(bucket), Some(key)) = (bucket, key) else {
        return Err(invalid("Code must have ZipFile, or S3Bucket and S3Key"));
    };
    let fetched = api
        .store
        .get_object(&call.caller, bucket, key, |_| {
            Ok::<_, stratus_store::StoreError>(None)
        })
        .await;
    let (_, _, body) = fetched.map_err(|e| {
        invalid(&format!(
            "Error occurred while GetObject. S3 Error Code: {e}. S3 Bucket: {bucket}, S3 Key: {key}"
        ))
    })?;
    let chunks: Vec<Bytes> = body.try_collect().await.map_err(|e| {
        lambda_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            &e.to_string(),
        )
    })?;
    Ok(chunks.concat())
}

fn volumes(configs: &[model::FileSystemConfig]) -> Result<Vec<String>, Response<Body>> {
    configs
        .iter()
        .map(|c| model::volume_of(c).map_err(|e| invalid(&e)))
        .collect()
}

async fn create(api: &LambdaApi, call: &Call) -> Reply {
    let request: CreateFunction = parse_body(call)?;
    if request.package_type.as_deref().is_some_and(|t| t != "Zip") {
        return Err(invalid(
            "PackageType Image is not supported by this backend; use Zip",
        ));
    }
    if !request.layers.is_empty() {
        return Err(invalid(
            "Layers are not supported; put dependencies in the package or requirements.txt",
        ));
    }
    let (Some(runtime_name), Some(handler)) =
        (request.runtime.as_deref(), request.handler.as_deref())
    else {
        return Err(invalid(
            "Runtime and Handler are required for Zip functions",
        ));
    };
    let mut config = FunctionConfig::new(runtime_name, handler);
    config.role = request.role.clone();
    config.memory_mb = request.memory_size.unwrap_or(config.memory_mb);
    config.timeout_s = request.timeout.unwrap_or(config.timeout_s);
    config.description = request.description.clone().unwrap_or_default();
    config.environment = request
        .environment
        .and_then(|e| e.variables)
        .unwrap_or_default();
    config.volumes = volumes(&request.file_system_configs)?;
    config.ephemeral_storage_mb = request.ephemeral_storage.map(|e| e.size);
    // Check the configuration before fetching code, so a bad request does no work.
    config
        .validate()
        .map_err(|e| invalid(&format!("{}: {}", e.field, e.message)))?;
    let code = &request.code;
    let zip = code_bytes(
        api,
        call,
        code.zip_file.as_deref(),
        code.s3_bucket.as_deref(),
        code.s3_key.as_deref(),
        code.image_uri.as_deref(),
    )
    .await?;
    let new = NewFunction {
        name: request.function_name,
        config,
        zip,
        publish: request.publish,
    };
    let view = api
        .functions
        .create(&call.caller, new)
        .await
        .map_err(|e| runtime(&e))?;
    Ok(json_response(
        StatusCode::CREATED,
        &model::configuration(&view, region(api)),
    ))
}

fn region(api: &LambdaApi) -> &str {
    &api.functions.config().region
}

async fn list(api: &LambdaApi, call: &Call) -> Reply {
    let limit = match call.query("MaxItems") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| invalid("MaxItems must be between 1 and 10000"))?,
        None => 50,
    };
    let marker = call.query("Marker").unwrap_or("");
    let mut views = api
        .functions
        .list(&call.caller, marker, limit + 1)
        .await
        .map_err(|e| runtime(&e))?;
    let next = (views.len() > limit).then(|| {
        views.truncate(limit);
        views
            .last()
            .map(|v| v.version.name.clone())
            .unwrap_or_default()
    });
    let functions: Vec<Value> = views
        .iter()
        .map(|v| model::configuration(v, region(api)))
        .collect();
    let mut body = json!({ "Functions": functions });
    if let Some(next) = next {
        body["NextMarker"] = json!(next);
    }
    Ok(json_response(StatusCode::OK, &body))
}

async fn get(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let view = api
        .functions
        .get(&call.caller, name, qualifier)
        .await
        .map_err(|e| runtime(&e))?;
    let endpoint = &api.functions.config().endpoint;
    let location = crate::code_location::location(
        &api.identity,
        endpoint,
        &view.function,
        &view.version.version,
    )
    .await;
    let mut body = json!({
        "Configuration": model::configuration(&view, region(api)),
        "Code": { "RepositoryType": "S3", "Location": location },
        "Tags": {},
    });
    if let Some(reserved) = view.function.reserved_concurrency {
        body["Concurrency"] = json!({ "ReservedConcurrentExecutions": reserved });
    }
    Ok(json_response(StatusCode::OK, &body))
}

async fn get_configuration(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let view = api
        .functions
        .get(&call.caller, name, qualifier)
        .await
        .map_err(|e| runtime(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &model::configuration(&view, region(api)),
    ))
}

async fn delete(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    if qualifier.is_some() {
        return Err(invalid(
            "deleting a single version is not supported; delete the function",
        ));
    }
    crate::triggers::delete_function(&api.store, &api.functions, &call.caller, name)
        .await
        .map_err(|e| runtime(&e))?;
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default())
}

async fn update_configuration(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let request: UpdateConfiguration = parse_body(call)?;
    if request.layers.as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(invalid("Layers are not supported"));
    }
    let update = ConfigUpdate {
        runtime: request.runtime,
        handler: request.handler,
        memory_mb: request.memory_size,
        timeout_s: request.timeout,
        environment: request.environment.map(|e| e.variables.unwrap_or_default()),
        description: request.description,
        min_instances: None,
        volumes: request
            .file_system_configs
            .as_deref()
            .map(volumes)
            .transpose()?,
        role: request.role,
        dependencies: None,
        ephemeral_storage_mb: request.ephemeral_storage.map(|e| e.size),
        revision_id: request.revision_id,
    };
    let view = api
        .functions
        .update_config(&call.caller, name, update)
        .await
        .map_err(|e| runtime(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &model::configuration(&view, region(api)),
    ))
}

async fn update_code(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let request: UpdateCode = parse_body(call)?;
    // Resolve first: an unknown function is a 404 even with a bad package.
    api.functions
        .get(&call.caller, name, None)
        .await
        .map_err(|e| runtime(&e))?;
    let zip = code_bytes(
        api,
        call,
        request.zip_file.as_deref(),
        request.s3_bucket.as_deref(),
        request.s3_key.as_deref(),
        request.image_uri.as_deref(),
    )
    .await?;
    let update = CodeUpdate {
        zip,
        publish: request.publish,
        revision_id: request.revision_id,
    };
    let view = api
        .functions
        .update_code(&call.caller, name, update)
        .await
        .map_err(|e| runtime(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &model::configuration(&view, region(api)),
    ))
}

async fn publish(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let view = api
        .functions
        .publish(&call.caller, name)
        .await
        .map_err(|e| runtime(&e))?;
    Ok(json_response(
        StatusCode::CREATED,
        &model::configuration(&view, region(api)),
    ))
}

async fn list_versions(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let views = api
        .functions
        .versions(&call.caller, name)
        .await
        .map_err(|e| runtime(&e))?;
    let versions: Vec<Value> = views
        .iter()
        .map(|v| model::configuration(v, region(api)))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "Versions": versions }),
    ))
}

async fn put_concurrency(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let request: PutConcurrency = parse_body(call)?;
    let reserved = u32::try_from(request.reserved_concurrent_executions)
        .map_err(|_| invalid("ReservedConcurrentExecutions must be between 0 and 1000"))?;
    api.functions
        .set_concurrency(&call.caller, name, Some(reserved))
        .await
        .map_err(|e| runtime(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "ReservedConcurrentExecutions": reserved }),
    ))
}

async fn get_concurrency(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let view = api
        .functions
        .get(&call.caller, name, None)
        .await
        .map_err(|e| runtime(&e))?;
    let body = match view.function.reserved_concurrency {
        Some(reserved) => json!({ "ReservedConcurrentExecutions": reserved }),
        None => json!({}),
    };
    Ok(json_response(StatusCode::OK, &body))
}

async fn delete_concurrency(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    api.functions
        .set_concurrency(&call.caller, name, None)
        .await
        .map_err(|e| runtime(&e))?;
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default())
}
