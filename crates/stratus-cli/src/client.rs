//! A small client for the native API.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
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
    /// A PEM file of CAs that HTTPS endpoints are verified against besides the system's roots
    /// [default: $AWS_CA_BUNDLE, else the data directory's own CA].
    #[arg(long, env = "STRATUS_CA_BUNDLE", global = true)]
    ca_bundle: Option<PathBuf>,
}

impl Target {
    /// `--ca-bundle`, else `AWS_CA_BUNDLE` as the AWS tools read it (what `stratus env` exports).
    pub(crate) fn ca_bundle(&self) -> Option<PathBuf> {
        self.ca_bundle.clone().or_else(|| {
            std::env::var_os("AWS_CA_BUNDLE")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        })
    }
}

/// A connector for `http` and `https` URLs; HTTPS verifies against the system's roots plus
/// `ca` (never falls back to plain http).
pub(crate) fn https_connector(ca: Option<&Path>) -> anyhow::Result<HttpsConnector<HttpConnector>> {
    let tls = stratus_server::tls_client_config(ca).map_err(|why| anyhow::anyhow!("{why}"))?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

pub(crate) struct NativeClient {
    endpoint: String,
    token: String,
    /// The extra CA HTTPS trusts, for other clients of the same server (`stratus profile`).
    ca_bundle: Option<PathBuf>,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl NativeClient {
    pub(crate) fn new(target: &Target) -> anyhow::Result<Self> {
        let mut ca_bundle = target.ca_bundle();
        let endpoint = match &target.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => {
                let info = stratus_server::read_server_info(&target.data_dir).map_err(|error| {
                    crate::exit::mark(
                        error,
                        crate::exit::Failure::Unreachable,
                        "no server endpoint: start one with `stratus server` or give --endpoint",
                    )
                })?;
                ca_bundle = ca_bundle.or(info.ca_file);
                info.endpoint
            }
        };
        let token = match &target.token {
            Some(token) => token.clone(),
            None => stratus_server::read_credentials(&target.data_dir)?.token,
        };
        let http =
            Client::builder(TokioExecutor::new()).build(https_connector(ca_bundle.as_deref())?);
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            token,
            ca_bundle,
            http,
        })
    }

    /// The server's base URL, without a trailing slash.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The extra CA file this client trusts.
    pub(crate) fn ca_bundle(&self) -> Option<&Path> {
        self.ca_bundle.as_deref()
    }

    /// The bearer token requests carry.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    pub(crate) async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Bytes,
        content_type: &str,
    ) -> anyhow::Result<http::Response<hyper::body::Incoming>> {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Full::new(body))?;
        self.http.request(request).await.map_err(|error| {
            // hyper's own message is only "client error": the cause (refused, certificate not
            // trusted) is further down the chain.
            let mut reason = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                reason = format!("{reason}: {cause}");
                source = cause.source();
            }
            crate::exit::mark(
                anyhow::anyhow!("{reason}"),
                crate::exit::Failure::Unreachable,
                format!("cannot reach {}", self.endpoint),
            )
        })
    }

    /// Sends a request with a raw body; returns the status, headers and body as they came.
    pub(crate) async fn call_raw(
        &self,
        method: http::Method,
        path: &str,
        body: Bytes,
    ) -> anyhow::Result<(http::StatusCode, http::HeaderMap, Bytes)> {
        let response = self.send(method, path, body, "application/json").await?;
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
        let response = self.send(method, path, payload, "application/json").await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(crate::exit::ApiError {
                status,
                detail: problem_detail(&bytes),
            }
            .into());
        }
        Ok(if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        })
    }

    /// A typed call: `body` (a `stratus-client` request type) as JSON, the answer read as `T`
    /// (its response type), so a field the server renames fails to compile here.
    pub(crate) async fn request<T: serde::de::DeserializeOwned>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&(impl serde::Serialize + Sync)>,
    ) -> anyhow::Result<T> {
        let body = body.map(serde_json::to_value).transpose()?;
        let answer = self.call(method, path, body).await?;
        serde_json::from_value(answer)
            .with_context(|| format!("unexpected answer to {path} from {}", self.endpoint))
    }

    /// `GET path`, read as `T`.
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> anyhow::Result<T> {
        self.request(http::Method::GET, path, None::<&()>).await
    }

    /// Sends a text body and hands each line of the answer to `on_line` as it arrives (for
    /// long-running calls that report progress); a problem document becomes the error.
    pub(crate) async fn stream_lines(
        &self,
        method: http::Method,
        path: &str,
        body: Bytes,
        mut on_line: impl FnMut(&str) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let response = self
            .send(method, path, body, "text/plain; charset=utf-8")
            .await?;
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let bytes = body.collect().await?.to_bytes();
            return Err(crate::exit::ApiError {
                status,
                detail: problem_detail(&bytes),
            }
            .into());
        }
        let mut pending = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.context("the connection broke")?.into_data() else {
                continue;
            };
            pending.extend_from_slice(&data);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                on_line(String::from_utf8_lossy(&line).trim_end())?;
            }
        }
        if !pending.is_empty() {
            on_line(String::from_utf8_lossy(&pending).trim_end())?;
        }
        Ok(())
    }
}

/// A time the API gives in milliseconds since the epoch, as RFC 3339 (UTC) for people.
pub(crate) fn shown_time(ms: i64) -> String {
    stratus_core::clock::at_ms(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| ms.to_string())
}

/// The `detail` of a problem document, or a generic message.
pub(crate) fn problem_detail(body: &[u8]) -> String {
    serde_json::from_slice::<stratus_client::ProblemDocument>(body)
        .map(|problem| problem.detail)
        .unwrap_or_else(|_| "request failed".to_owned())
}
