//! Starting and stopping a real server, and clients for it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::ProvideErrorMetadata;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub struct TestServer {
    child: Option<Child>,
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    pub endpoint: String,
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
}

fn ini_field(text: &str, name: &str) -> String {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| panic!("credentials file lacks {name}"))
}

/// An AWS SDK client of crate `$sdk` for `$server` with the operator's key and retries off
/// (every SDK crate has the same builder, but no common trait to write this once as a function).
macro_rules! operator_client {
    ($server:expr, $sdk:ident) => {{
        use $sdk::config;
        let config = $sdk::Config::builder()
            .behavior_version(config::BehaviorVersion::latest())
            .region(config::Region::new("us-east-1"))
            .endpoint_url(&$server.endpoint)
            .credentials_provider(config::Credentials::new(
                &$server.access_key_id,
                &$server.secret,
                None,
                None,
                "e2e",
            ))
            .retry_config(config::retry::RetryConfig::disabled())
            .build();
        $sdk::Client::from_conf(config)
    }};
}

impl TestServer {
    pub fn start() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().to_owned();
        let mut server = Self::start_in(&dir);
        server._temp = Some(temp);
        server
    }

    /// Starts a server on an existing data directory (for restart tests).
    pub fn start_in(dir: &Path) -> Self {
        let _ = std::fs::remove_file(dir.join("server.json"));
        let child = Command::new(env!("CARGO_BIN_EXE_stratus"))
            .args([
                "server",
                "--listen",
                "127.0.0.1:0",
                "--drain-seconds",
                "5",
                "--data-dir",
            ])
            .arg(dir)
            .env("STRATUS_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn stratus server");
        let deadline = Instant::now() + Duration::from_secs(30);
        let info = loop {
            let text = std::fs::read_to_string(dir.join("server.json")).unwrap_or_default();
            if let Ok(info) = serde_json::from_str::<serde_json::Value>(&text) {
                break info;
            }
            assert!(
                Instant::now() < deadline,
                "server did not write server.json in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let credentials =
            std::fs::read_to_string(dir.join("credentials")).expect("credentials file");
        Self {
            child: Some(child),
            dir: dir.to_owned(),
            _temp: None,
            endpoint: info["endpoint"].as_str().expect("endpoint").to_owned(),
            access_key_id: ini_field(&credentials, "aws_access_key_id"),
            secret: ini_field(&credentials, "aws_secret_access_key"),
            token: ini_field(&credentials, "stratus_token"),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status success.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        child.wait().map(|s| s.success()).unwrap_or(false)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.s3_with(&self.access_key_id, &self.secret)
    }

    pub fn s3_with(&self, access_key_id: &str, secret: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(access_key_id, secret, None, None, "e2e"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A Lambda client with the operator's key. Retries are off so that a test sees the
    /// server's first answer (a throttle, a timeout) instead of the SDK's retried outcome.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        operator_client!(self, aws_sdk_lambda)
    }

    /// An SQS client with the operator's key; retries off, as for [`Self::lambda`].
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        operator_client!(self, aws_sdk_sqs)
    }

    /// An SNS client with the operator's key; retries off, as for [`Self::lambda`].
    pub fn sns(&self) -> aws_sdk_sns::Client {
        operator_client!(self, aws_sdk_sns)
    }

    /// Runs the stratus CLI against this server with the operator token unless `token` is given.
    pub fn cli(&self, args: &[&str], token: Option<&str>) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_stratus"))
            .args(args)
            .env("STRATUS_ENDPOINT", &self.endpoint)
            .env("STRATUS_TOKEN", token.unwrap_or(&self.token))
            .env("STRATUS_LOG", "warn")
            .output()
            .expect("run stratus cli")
    }

    /// Creates a key through the CLI and returns (access key id, secret, bearer token).
    pub fn create_key(&self, project: &str, role: &str) -> (String, String, String) {
        let out = self.cli(
            &[
                "keys",
                "create",
                "--project",
                project,
                "--role",
                role,
                "--json",
            ],
            None,
        );
        assert!(
            out.status.success(),
            "keys create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let key: serde_json::Value = serde_json::from_slice(&out.stdout).expect("key json");
        let id = key["access_key_id"].as_str().expect("id").to_owned();
        let secret = key["secret_access_key"]
            .as_str()
            .expect("secret")
            .to_owned();
        let token = format!("{id}.{secret}");
        (id, secret, token)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A plain HTTP request; returns status, headers and body.
pub async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, http::HeaderMap, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).expect("request"))
        .await
        .expect("http request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

/// The S3 error code of a failed SDK call.
pub fn code<E: ProvideErrorMetadata, R>(
    result: Result<impl Sized, aws_sdk_s3::error::SdkError<E, R>>,
) -> String {
    match result {
        Ok(_) => "(succeeded)".to_owned(),
        Err(err) => err.code().unwrap_or("(no code)").to_owned(),
    }
}

/// Deterministic pseudo-random bytes, so expected contents can be regenerated.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u8
        })
        .collect()
}

/// The HTTP status of a failed SDK call (HEAD errors carry no body, hence no code).
pub fn status<E, R: HasStatus>(
    result: Result<impl Sized, aws_sdk_s3::error::SdkError<E, R>>,
) -> u16 {
    match result {
        Ok(_) => 200,
        Err(err) => err.raw_response().map_or(0, HasStatus::status_code),
    }
}

pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}
