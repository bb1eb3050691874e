//! POSTs to HTTP subscribers (hyper-util's pooled client). Plain `http` only: `https`
//! endpoints would need a TLS stack and root certificates, which this build does not carry, so
//! they fail permanently with a clear reason.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use stratus_events::{DeliveryError, HttpDelivery};

/// How long one POST may take before it counts as failed (and is retried).
const TIMEOUT: Duration = Duration::from_secs(15);

/// [`HttpDelivery`] over hyper.
#[derive(Debug, Clone)]
pub struct HyperHttpDelivery {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for HyperHttpDelivery {
    fn default() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
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
        if url.starts_with("https://") {
            return Err(DeliveryError::Permanent(
                "https endpoints need TLS, not supported".into(),
            ));
        }
        let mut request = http::Request::post(url);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| DeliveryError::Permanent(format!("invalid endpoint {url}: {e}")))?;
        match tokio::time::timeout(TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response.status().as_u16()),
            Ok(Err(error)) => Err(DeliveryError::Transient(error.to_string())),
            Err(_) => Err(DeliveryError::Transient(
                "the endpoint did not answer in time".into(),
            )),
        }
    }
}
