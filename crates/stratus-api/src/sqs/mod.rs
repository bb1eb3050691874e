//! The SQS API, signed with SigV4 for `sqs`, in both of its protocols: AWS JSON 1.0
//! (`X-Amz-Target: AmazonSQS.Op`, what current SDKs send) and the older query protocol
//! (form-encoded `Action=Op`, XML answers). Both parse into one input shape and run the same
//! operation functions (`ops.rs`); errors become SQS codes only in `errors.rs`.

mod errors;
mod input;
mod ops;
mod query;

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use serde_json::Value;
use stratus_events::Queues;
use stratus_identity::Identity;

use errors::SqsError;
use input::Input;

/// The largest request body read: a 1 MiB batch, base64-encoded binary attributes and framing.
const MAX_BODY: usize = 4 * 1024 * 1024;
const JSON_TYPE: &str = "application/x-amz-json-1.0";

#[derive(Clone)]
pub(crate) struct SqsApi {
    pub queues: Arc<Queues>,
    pub identity: Arc<Identity>,
}

/// Which protocol a request speaks, and so how to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Json,
    Query,
}

impl SqsApi {
    pub(crate) async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let target = header(&parts.headers, "x-amz-target")
            .and_then(|t| t.strip_prefix("AmazonSQS."))
            .map(str::to_owned);
        let protocol = if target.is_some() {
            Protocol::Json
        } else {
            Protocol::Query
        };
        let operation = target.clone().unwrap_or_default();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                let error = SqsError::invalid("request body is too large");
                return error_response(protocol, &error);
            }
        };
        let caller = match crate::aws_auth::verify_request(&self.identity, &parts, &body).await {
            Ok(caller) => caller,
            Err((code, message)) => {
                return error_response(protocol, &SqsError::auth(code, message));
            }
        };
        let base_url = format!(
            "http://{}",
            header(&parts.headers, "host").unwrap_or("localhost")
        );
        let (operation, value) = match protocol {
            Protocol::Json => match parse_json(&body) {
                Ok(value) => (operation, value),
                Err(error) => return error_response(protocol, &error),
            },
            Protocol::Query => {
                match query_input(parts.uri.path(), parts.uri.query().unwrap_or(""), &body) {
                    Ok(parsed) => parsed,
                    Err(error) => return error_response(protocol, &error),
                }
            }
        };
        let input = Input {
            value: &value,
            project: &caller.project,
            base_url: &base_url,
            trace_header: header(&parts.headers, "x-amzn-trace-id"),
        };
        let context = ops::Context {
            queues: &self.queues,
            caller: &caller,
            input: &input,
        };
        match ops::dispatch(&context, &operation).await {
            Ok(output) => success_response(protocol, &operation, &output),
            Err(error) => error_response(protocol, &error),
        }
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn parse_json(body: &[u8]) -> Result<Value, SqsError> {
    if body.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_slice(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(SqsError::new(
            "SerializationException",
            "SerializationException",
            "the request body is not a JSON object",
        )),
    }
}

/// Parameters from the URL query and the form body; a queue URL path stands for `QueueUrl`.
fn query_input(raw_path: &str, raw_query: &str, body: &[u8]) -> Result<(String, Value), SqsError> {
    let mut params: Vec<(String, String)> = crate::form_pairs(raw_query.as_bytes())
        .chain(crate::form_pairs(body))
        .filter(|(k, _)| !k.starts_with("X-Amz-"))
        .collect();
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| SqsError::missing("Action"))?;
    params.retain(|(k, _)| k != "Action" && k != "Version");
    let segments = raw_path.split('/').filter(|s| !s.is_empty()).count();
    if segments == 2 && !params.iter().any(|(k, _)| k == "QueueUrl") {
        params.push(("QueueUrl".into(), raw_path.to_owned()));
    }
    Ok((action, query::to_input(&params)))
}

fn request_id() -> String {
    stratus_runtime::request_id()
}

fn success_response(protocol: Protocol, operation: &str, output: &Value) -> Response<Body> {
    let id = request_id();
    let (content_type, body) = match protocol {
        Protocol::Json => (JSON_TYPE, output.to_string()),
        Protocol::Query => ("text/xml", query::response_xml(operation, output, &id)),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("x-amzn-RequestId", id)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn error_response(protocol: Protocol, error: &SqsError) -> Response<Body> {
    let id = request_id();
    let fault = if error.sender_fault {
        "Sender"
    } else {
        "Receiver"
    };
    let builder = Response::builder()
        .status(error.status)
        .header("x-amzn-RequestId", &id);
    let response = match protocol {
        Protocol::Json => {
            let body = serde_json::json!({
                "__type": format!("com.amazonaws.sqs#{}", error.shape),
                "message": error.message,
            });
            builder
                .header(http::header::CONTENT_TYPE, JSON_TYPE)
                .header("x-amzn-query-error", format!("{};{fault}", error.code))
                .body(Body::from(body.to_string()))
        }
        Protocol::Query => builder
            .header(http::header::CONTENT_TYPE, "text/xml")
            .body(Body::from(query::error_xml(error, &id))),
    };
    response.unwrap_or_else(|_| Response::new(Body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Query and body are one parameter list: the first `Action` names the operation, `+` is a
    /// space and `%2B` a plus, repeated list members all arrive, `X-Amz-*` presigning
    /// parameters are not input, and a queue URL's path stands for `QueueUrl`.
    #[test]
    fn query_protocol_input_from_query_and_form_body() {
        let (action, input) = query_input(
            "/000000000000/jobs",
            "Action=SendMessage&X-Amz-Date=20260101T000000Z",
            b"Action=DeleteQueue&MessageBody=1+1%3D2%2B0%25&MessageAttribute.1.Name=k\
              &MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=%zz",
        )
        .expect("parsed");
        assert_eq!(action, "SendMessage");
        assert_eq!(input["MessageBody"], "1 1=2+0%");
        assert_eq!(input["QueueUrl"], "/000000000000/jobs");
        assert_eq!(input["MessageAttributes"]["k"]["StringValue"], "%zz");
        assert!(input.get("X-Amz-Date").is_none() && input.get("Action").is_none());

        let (_, input) = query_input(
            "/",
            "",
            b"Action=ReceiveMessage&AttributeName.1=All&AttributeName.2=SentTimestamp",
        )
        .expect("parsed");
        assert_eq!(
            input["AttributeNames"],
            serde_json::json!(["All", "SentTimestamp"])
        );
        assert!(input.get("QueueUrl").is_none());

        let missing = query_input("/", "Version=2012-11-05", b"").expect_err("no Action");
        assert_eq!(missing.code, "MissingParameter");
    }
}
