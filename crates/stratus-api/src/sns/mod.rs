//! The SNS API (query protocol: form POSTs with `Action=...`, XML answers), signed with SigV4
//! for `sns`; plus the unsigned `GET /?Action=ConfirmSubscription&TopicArn=..&Token=..` an HTTP
//! subscriber follows from its SubscriptionConfirmation (the token is the credential, as in
//! AWS). `HttpDelivery` for subscribers lives in `http_client.rs`.

mod errors;
mod http_client;
mod ops;
mod query;
mod xml;

use std::sync::Arc;

use axum::body::Body;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use stratus_events::Topics;
use stratus_identity::Identity;

pub use http_client::HyperHttpDelivery;

use errors::SnsError;
use query::Params;

/// Largest request read: a 256 KiB message, form-encoded (up to 3x), with room for attributes.
const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub(crate) struct SnsApi {
    pub topics: Arc<Topics>,
    pub identity: Arc<Identity>,
}

/// Whether an unsigned request is one of the links SNS hands subscribers: the SubscribeURL of a
/// confirmation or the UnsubscribeURL of a notification.
pub(crate) fn is_confirmation_link<B>(request: &Request<B>) -> bool {
    request.method() == http::Method::GET
        && request.uri().path() == "/"
        && request.uri().query().is_some_and(|q| {
            crate::form_pairs(q.as_bytes()).any(|(name, value)| {
                name == "Action" && (value == "ConfirmSubscription" || value == "Unsubscribe")
            })
        })
}

impl SnsApi {
    pub(crate) async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        match self.serve(request).await {
            Ok(response) => response,
            Err(error) => error.response(),
        }
    }

    async fn serve(&self, request: Request<Incoming>) -> Result<Response<Body>, SnsError> {
        let (parts, body) = request.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|_| SnsError::invalid("Invalid parameter: request too large"))?
            .to_bytes();
        let raw_query = parts.uri.query().unwrap_or("").to_owned();
        let mut caller = crate::aws_auth::verify_request(&self.identity, &parts, &body)
            .await
            .map_err(|(code, message)| {
                SnsError::new(StatusCode::FORBIDDEN, auth_code(code), message)
            })?;
        caller.chain_depth = crate::chain_depth(&parts.headers);
        let mut params = Params::parse(raw_query.as_bytes());
        params.extend(Params::parse(&body));
        let context = ops::Context {
            topics: &self.topics,
            caller: &caller,
            params: &params,
        };
        ops::dispatch(&context).await
    }

    /// The unsigned confirmation link.
    pub(crate) async fn handle_confirmation_link(
        &self,
        request: Request<Incoming>,
    ) -> Response<Body> {
        let params = Params::parse(request.uri().query().unwrap_or("").as_bytes());
        if params.get("Action") == Some("Unsubscribe") {
            return self.handle_unsubscribe_link(&params).await;
        }
        let outcome = async {
            let topic = params.required("TopicArn")?;
            let token = params.required("Token")?;
            let arn = self.topics.confirm_subscription(None, topic, token).await?;
            Ok::<_, SnsError>(xml::ok(
                "ConfirmSubscription",
                Some(&xml::element("SubscriptionArn", &arn)),
            ))
        };
        outcome.await.unwrap_or_else(|error| error.response())
    }

    /// The unsigned UnsubscribeURL: the subscription ARN (random, known only to the subscriber)
    /// is the credential, as on AWS.
    async fn handle_unsubscribe_link(&self, params: &Params) -> Response<Body> {
        let outcome = async {
            let arn = params.required("SubscriptionArn")?;
            self.topics.unsubscribe_by_link(arn).await?;
            Ok::<_, SnsError>(xml::ok("Unsubscribe", None))
        };
        outcome.await.unwrap_or_else(|error| error.response())
    }
}

/// SNS names for signature failures (its model's codes, not the JSON services').
fn auth_code(code: &'static str) -> &'static str {
    match code {
        "UnrecognizedClientException" => "InvalidClientTokenId",
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "IncompleteSignatureException" => "IncompleteSignature",
        other => other,
    }
}
