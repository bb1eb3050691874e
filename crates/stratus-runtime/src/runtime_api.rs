//! The Lambda Runtime API (`/2018-06-01/runtime/...`) that one worker's runtime client polls.
//!
//! Each worker gets its own listener on 127.0.0.1, so a request's worker is known from the
//! connection it arrives on, without trusting anything the sandboxed code sends. This HTTP
//! server is internal to the runtime (workers are its only clients); the public edge is
//! `stratus-api`'s.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot};

/// Lambda's limit on a synchronous response.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// An invocation handed to the runtime client.
#[derive(Debug, Clone)]
pub struct Event {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_epoch_ms: u64,
    pub invoked_arn: String,
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Trace-Id`, which carries the event chain's depth.
    pub trace_id: String,
}

/// What the runtime client reported for an invocation.
#[derive(Debug)]
pub enum Reply {
    Response(Bytes),
    /// `Lambda-Runtime-Function-Error-Type` (if sent) and the error document.
    Error {
        error_type: Option<String>,
        body: Bytes,
    },
}

/// Shared between the worker that hands out events and the HTTP handlers.
#[derive(Debug)]
pub struct Channel {
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    pending: Mutex<Option<(String, oneshot::Sender<Reply>)>>,
    init_error: Mutex<Option<oneshot::Sender<Reply>>>,
    /// The worker's process: only connections its process tree opened are served.
    owner: std::sync::OnceLock<u32>,
    /// Signalled at every `next` call: the runtime is initialised and waiting.
    pub ready: Notify,
}

/// Who may use a worker's Runtime API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peers {
    /// Anyone who can connect: the listener lives in the worker's own network namespace, which
    /// nothing else can reach.
    Namespace,
    /// Only the worker's process tree: the listener is on the host's shared loopback.
    WorkerTree,
}

/// The worker's side: sends events, receives replies.
#[derive(Debug)]
pub struct Handle {
    pub address: SocketAddr,
    events: mpsc::Sender<Event>,
    channel: Arc<Channel>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Handle {
    /// Starts the API on a fresh port of the host's loopback, serving only connections opened
    /// by the worker's process tree (see `runtime_peer.rs`): the unsandboxed mode, where every
    /// process shares that loopback. `init_error` receives an init failure.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn start(init_error: oneshot::Sender<Reply>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::serve(listener, init_error, Peers::WorkerTree)
    }

    /// Serves the API on `listener`, accepting the connections `peers` says.
    ///
    /// # Errors
    /// The listener has no address.
    pub fn serve(
        listener: TcpListener,
        init_error: oneshot::Sender<Reply>,
        peers: Peers,
    ) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let (events, receiver) = mpsc::channel(1);
        let channel = Arc::new(Channel {
            events: tokio::sync::Mutex::new(receiver),
            pending: Mutex::new(None),
            init_error: Mutex::new(Some(init_error)),
            owner: std::sync::OnceLock::new(),
            ready: Notify::new(),
        });
        let server = tokio::spawn(serve(listener, address.port(), Arc::clone(&channel), peers));
        Ok(Self {
            address,
            events,
            channel,
            server,
        })
    }

    /// Names the worker's process once it is spawned; until then no connection is served.
    pub fn set_owner(&self, pid: u32) {
        let _ = self.channel.owner.set(pid);
    }

    #[must_use]
    pub fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    /// Queues `event` for the next `next` call and returns where its reply will arrive.
    ///
    /// # Errors
    /// The API stopped (the worker is gone).
    pub async fn dispatch(&self, event: Event) -> Result<oneshot::Receiver<Reply>, ()> {
        let (reply, receiver) = oneshot::channel();
        if let Ok(mut pending) = self.channel.pending.lock() {
            *pending = Some((event.request_id.clone(), reply));
        }
        self.events.send(event).await.map_err(|_| ())?;
        Ok(receiver)
    }
}

async fn serve(listener: TcpListener, api_port: u16, channel: Arc<Channel>, peers: Peers) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let channel = Arc::clone(&channel);
        tokio::spawn(async move {
            let owner = channel.owner.get().copied();
            let own = peers == Peers::Namespace
                || tokio::task::spawn_blocking(move || {
                    owner.is_some_and(|root| {
                        crate::runtime_peer::opened_by_tree(root, api_port, peer.port())
                    })
                })
                .await
                .unwrap_or(false);
            if !own {
                // Another process on the host's loopback (another function's, perhaps): it
                // must never see this worker's events or answer for it.
                tracing::warn!(%peer, "runtime api connection from outside the worker refused");
                return;
            }
            let service = service_fn(move |request| {
                let channel = Arc::clone(&channel);
                async move { Ok::<_, Infallible>(route(&channel, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn accepted() -> Response<Full<Bytes>> {
    respond(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn route(channel: &Channel, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return respond(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"unknown path","errorType":"InvalidRequest"}"#,
        );
    };
    match (request.method(), rest) {
        (&Method::GET, "invocation/next") => next(channel).await,
        (&Method::POST, "init/error") => {
            let (error_type, body) = match read_error(request).await {
                Ok(parts) => parts,
                Err(response) => return response,
            };
            let sender = channel
                .init_error
                .lock()
                .ok()
                .and_then(|mut slot| slot.take());
            if let Some(sender) = sender {
                let _ = sender.send(Reply::Error { error_type, body });
            }
            accepted()
        }
        (&Method::POST, tail) => {
            let Some((id, kind)) = tail
                .strip_prefix("invocation/")
                .and_then(|tail| tail.rsplit_once('/'))
            else {
                return respond(
                    StatusCode::NOT_FOUND,
                    r#"{"errorMessage":"unknown path","errorType":"InvalidRequest"}"#,
                );
            };
            let (id, kind) = (id.to_owned(), kind.to_owned());
            let reply = match kind.as_str() {
                "response" => match Limited::new(request.into_body(), MAX_RESPONSE_BYTES)
                    .collect()
                    .await
                {
                    Ok(body) => Reply::Response(body.to_bytes()),
                    Err(_) => Reply::Error {
                        error_type: Some("Function.ResponseSizeTooLarge".into()),
                        body: Bytes::from(format!(
                            r#"{{"errorMessage":"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).","errorType":"Function.ResponseSizeTooLarge"}}"#
                        )),
                    },
                },
                "error" => match read_error(request).await {
                    Ok((error_type, body)) => Reply::Error { error_type, body },
                    Err(response) => return response,
                },
                _ => {
                    return respond(
                        StatusCode::NOT_FOUND,
                        r#"{"errorMessage":"unknown path","errorType":"InvalidRequest"}"#,
                    );
                }
            };
            let waiting =
                channel
                    .pending
                    .lock()
                    .ok()
                    .and_then(|mut pending| match pending.take() {
                        Some((pending_id, sender)) if pending_id == id => Some(sender),
                        other => {
                            *pending = other;
                            None
                        }
                    });
            match waiting {
                Some(sender) => {
                    let _ = sender.send(reply);
                    accepted()
                }
                None => respond(
                    StatusCode::BAD_REQUEST,
                    r#"{"errorMessage":"no such invocation is in progress","errorType":"InvalidStateTransition"}"#,
                ),
            }
        }
        _ => respond(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"unknown path","errorType":"InvalidRequest"}"#,
        ),
    }
}

async fn read_error(
    request: Request<Incoming>,
) -> Result<(Option<String>, Bytes), Response<Full<Bytes>>> {
    let error_type = request
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match Limited::new(request.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(body) => Ok((error_type, body.to_bytes())),
        Err(_) => Err(respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"{"errorMessage":"error document too large","errorType":"RequestEntityTooLarge"}"#,
        )),
    }
}

async fn next(channel: &Channel) -> Response<Full<Bytes>> {
    channel.ready.notify_one();
    let event = channel.events.lock().await.recv().await;
    let Some(event) = event else {
        return respond(
            StatusCode::GONE,
            r#"{"errorMessage":"worker stopping","errorType":"Gone"}"#,
        );
    };
    let mut response = Response::new(Full::new(event.payload));
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put("lambda-runtime-aws-request-id", &event.request_id);
    put(
        "lambda-runtime-deadline-ms",
        &event.deadline_epoch_ms.to_string(),
    );
    put("lambda-runtime-invoked-function-arn", &event.invoked_arn);
    put("lambda-runtime-trace-id", &event.trace_id);
    put("content-type", "application/json");
    if let Some(context) = &event.client_context {
        put("lambda-runtime-client-context", context);
    }
    response
}
