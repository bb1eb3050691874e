//! The edge as seen from inside a worker's network namespace: the runtime binds a listener
//! there (see `stratus_runtime::netns`) and this serves it exactly as the main listener is
//! served (TLS included), so `AWS_ENDPOINT_URL` works unchanged for functions while nothing
//! else of the host is reachable from them.

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use stratus_api::Edge;

use crate::Connection;

pub(crate) struct WorkerEdge {
    pub(crate) edge: Edge,
    /// The edge's TLS acceptor, when it serves HTTPS: functions get the same `https://` URL.
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
}

impl stratus_runtime::netns::EdgeGateway for WorkerEdge {
    fn serve(
        &self,
        listener: tokio::net::TcpListener,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let edge = self.edge.clone();
        let tls = self.tls.clone();
        Box::pin(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            // Connections live in this set, so dropping the future (the worker stopped) ends them.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, peer)) => {
                            let connection = Connection {
                                builder: builder.clone(),
                                watcher: None,
                                edge: edge.clone(),
                                peer,
                            };
                            connections.spawn(connection.accept(stream, tls.clone()));
                        }
                        Err(error) => tracing::debug!(%error, "worker edge accept failed"),
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        })
    }
}
