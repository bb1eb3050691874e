//! The native REST API under `/v1/`, authenticated with a bearer token or a console session.
//! Errors are RFC 9457 problem documents (`application/problem+json`, see [`problem`]).
//!
//! This module only assembles the router: each resource lives in its own file and imports the
//! shared pieces ([`problem`], [`caller`], [`state`], [`table`]), never this module.

pub(crate) mod apps;
pub(crate) mod bucket_settings;
pub(crate) mod buckets;
pub(crate) mod caller;
pub(crate) mod cost;
pub(crate) mod cost_compare;
pub(crate) mod environments;
pub(crate) mod events;
pub(crate) mod functions;
pub(crate) mod health;
pub(crate) mod keys;
pub(crate) mod messaging;
pub(crate) mod openapi;
pub(crate) mod plan;
pub(crate) mod problem;
pub(crate) mod projects;
pub(crate) mod state;
pub(crate) mod table;
pub(crate) mod upload_form;
pub(crate) mod urls;

use http::Method;

pub(crate) use caller::bearer_caller;
pub(crate) use problem::{Problem, identity_problem, problem, runtime_problem};
pub(crate) use state::AppState;
use table::RouteTable;

/// The routes served with the shared [`AppState`].
fn app_table() -> RouteTable<AppState> {
    RouteTable::new()
        .merge(health::table())
        .merge(keys::table())
        .merge(events::table())
        .merge(functions::table())
        .merge(urls::table())
        .merge(crate::code_location::table())
        .merge(environments::table())
        .merge(apps::table())
        .merge(buckets::table())
        .merge(bucket_settings::table())
        .merge(upload_form::table())
        .merge(cost::table())
        .merge(cost_compare::table())
        .merge(openapi::table())
}

pub(crate) fn router(state: AppState) -> axum::Router {
    app_table()
        .into_router()
        .fallback(|| async { Problem::not_found("no such endpoint") })
        .with_state(state)
}

/// Every `(method, path)` the native API serves, whichever router (and state) serves it; the
/// OpenAPI document must describe exactly these.
#[must_use]
#[cfg_attr(not(test), expect(dead_code, reason = "read by the OpenAPI test"))]
pub fn routes() -> Vec<(Method, &'static str)> {
    let mut all = app_table().routes().to_vec();
    all.extend_from_slice(messaging::table().routes());
    all.extend_from_slice(plan::table().routes());
    all.extend_from_slice(projects::table().routes());
    all
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn every_route_is_under_v1_and_served_once() {
        let routes = super::routes();
        let unique: BTreeSet<_> = routes.iter().map(|(m, p)| (m.as_str(), *p)).collect();
        assert_eq!(unique.len(), routes.len(), "a route is registered twice");
        assert!(routes.iter().all(|(_, path)| path.starts_with("/v1/")));
        assert!(unique.contains(&("GET", "/v1/buckets")));
        assert!(unique.contains(&("PUT", "/v1/projects/{project}/quota")));
    }
}
