//! A small client for the native API.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Which server to talk to: flags, then `STRATUS_*` variables, then the data directory.
#[derive(clap::Args, Debug)]
pub(crate) struct Target {
    /// Server endpoint, e.g. http://127.0.0.1:4566.
    #[arg(long, env = "STRATUS_ENDPOINT", global = true)]
    endpoint: Option<String>,
    /// Bearer token for the native API.
    #[arg(long, env = "STRATUS_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Read endpoint and token from this data directory when not given otherwise.
    #[arg(
        long,
        env = "STRATUS_DATA_DIR",
        default_value = ".stratus",
        global = true
    )]
    data_dir: PathBuf,
}

pub(crate) struct NativeClient {
    endpoint: String,
    token: String,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl NativeClient {
    pub(crate) fn new(target: &Target) -> anyhow::Result<Self> {
        let endpoint = match &target.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => stratus_server::read_server_info(&target.data_dir)?.endpoint,
        };
        let token = match &target.token {
            Some(token) => token.clone(),
            None => stratus_server::read_credentials(&target.data_dir)?.token,
        };
        let http = Client::builder(TokioExecutor::new()).build_http();
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    /// Sends a request with a raw body; returns the status, headers and body as they came.
    pub(crate) async fn call_raw(
        &self,
        method: http::Method,
        path: &str,
        body: Bytes,
    ) -> anyhow::Result<(http::StatusCode, http::HeaderMap, Bytes)> {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        let response = self
            .http
            .request(request)
            .await
            .with_context(|| format!("cannot reach {}", self.endpoint))?;
        let (parts, body) = response.into_parts();
        Ok((
            parts.status,
            parts.headers,
            body.collect().await?.to_bytes(),
        ))
    }

    /// Sends a request; returns the JSON body of a success, or the problem's detail as an error.
    pub(crate) async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let payload = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(payload))?;
        let response = self
            .http
            .request(request)
            .await
            .with_context(|| format!("cannot reach {}", self.endpoint))?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let json: serde_json::Value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        if !status.is_success() {
            let detail = json
                .get("detail")
                .and_then(|d| d.as_str())
                .unwrap_or("request failed");
            bail!("{detail} ({status})");
        }
        Ok(json)
    }
}
