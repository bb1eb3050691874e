//! `RouteTable`: builds a resource's axum router and, from the same calls, the list of its
//! `(method, path)` pairs, so the OpenAPI document can be checked against what is really served.

use axum::handler::Handler;
use axum::routing::{MethodFilter, on};
use http::Method;

pub(crate) struct RouteTable<S> {
    router: axum::Router<S>,
    routes: Vec<(Method, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub(crate) fn new() -> Self {
        Self {
            router: axum::Router::new(),
            routes: Vec::new(),
        }
    }

    /// Serves `method path` with `handler` (several methods of one path merge into one route).
    pub(crate) fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let filter = match method.as_str() {
            "GET" => MethodFilter::GET,
            "PUT" => MethodFilter::PUT,
            "POST" => MethodFilter::POST,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            other => unreachable!("no /v1 route takes {other}"),
        };
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push((method, path));
        self
    }

    pub(crate) fn routes(&self) -> &[(Method, &'static str)] {
        &self.routes
    }

    pub(crate) fn into_router(self) -> axum::Router<S> {
        self.router
    }

    /// This table's routes followed by `other`'s.
    pub(crate) fn merge(mut self, other: Self) -> Self {
        self.router = self.router.merge(other.router);
        self.routes.extend(other.routes);
        self
    }
}
