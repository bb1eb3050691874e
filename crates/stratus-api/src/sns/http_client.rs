//! POSTs to HTTP subscribers (hyper-util's pooled client). `https` endpoints are verified
//! against the system's roots plus the operator's CA file (`crate::tls_client_config`); a
//! certificate that does not verify fails the attempt, it is never sent in the clear.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use stratus_events::{DeliveryError, HttpDelivery};

/// How long one POST may take before it counts as failed (and is retried).
const TIMEOUT: Duration = Duration::from_secs(15);

/// [`HttpDelivery`] over hyper.
#[derive(Debug, Clone)]
pub struct HyperHttpDelivery {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HyperHttpDelivery {
    /// A client for `http` and `https` endpoints; `tls` says what HTTPS trusts.
    #[must_use]
    pub fn with_tls(tls: rustls::ClientConfig) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }
}

#[async_trait]
impl HttpDelivery for HyperHttpDelivery {
    async fn post(
        &self,
        url: &str,
        headers: BTreeMap<String, String>,
        body: Vec<u8>,
    ) -> Result<u16, DeliveryError> {
        let mut request = http::Request::post(url);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| DeliveryError::Permanent(format!("invalid endpoint {url}: {e}")))?;
        match tokio::time::timeout(TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response.status().as_u16()),
            // The source chain carries the reason (e.g. the certificate did not verify).
            Ok(Err(error)) => Err(DeliveryError::Transient(error_chain(&error))),
            Err(_) => Err(DeliveryError::Transient(
                "the endpoint did not answer in time".into(),
            )),
        }
    }
}

/// An error and its sources, `: `-separated (hyper's own message alone says only "client error").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
