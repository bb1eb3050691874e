//! The crate graph obeys the invariants in ARCHITECTURE.md. Reads `cargo metadata`, so adding a
//! forbidden dependency fails this test, not a code review.

use std::collections::{BTreeMap, BTreeSet};

fn workspace_graph() -> BTreeMap<String, Vec<(String, Vec<String>, bool)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
            "--manifest-path",
            manifest,
        ])
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let mut graph = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let deps = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .map(|d| {
                let features = d["features"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect();
                let normal = d["kind"].is_null();
                (
                    d["name"].as_str().expect("name").to_owned(),
                    features,
                    normal,
                )
            })
            .collect();
        graph.insert(package["name"].as_str().expect("name").to_owned(), deps);
    }
    graph
}

/// Internal crates each crate may depend on: arrows point one way, core <- domain <- api <- server <- cli.
const ALLOWED: &[(&str, &[&str])] = &[
    ("stratus-core", &[]),
    ("stratus-meta", &["stratus-core"]),
    ("stratus-identity", &["stratus-core", "stratus-meta"]),
    (
        "stratus-store",
        &["stratus-core", "stratus-identity", "stratus-meta"],
    ),
    (
        "stratus-runtime",
        &["stratus-core", "stratus-identity", "stratus-meta"],
    ),
    (
        "stratus-events",
        &["stratus-core", "stratus-identity", "stratus-meta"],
    ),
    (
        "stratus-api",
        &[
            "stratus-client",
            "stratus-core",
            "stratus-cost",
            "stratus-events",
            "stratus-identity",
            "stratus-meta",
            "stratus-planner",
            "stratus-runtime",
            "stratus-store",
        ],
    ),
    (
        "stratus-server",
        &[
            "stratus-api",
            "stratus-core",
            "stratus-cost",
            "stratus-events",
            "stratus-identity",
            "stratus-meta",
            "stratus-runtime",
            "stratus-store",
        ],
    ),
    (
        "stratus-cli",
        &[
            "stratus-client",
            "stratus-core",
            "stratus-cost",
            "stratus-planner",
            "stratus-server",
        ],
    ),
    ("stratus-bench", &[]),
    ("stratus-planner", &[]),
    ("stratus-cost", &[]),
    // The native API's bodies, shared by the api crate (which serves them) and the CLI (which
    // reads them); it knows no HTTP, so the server pulls in no client.
    ("stratus-client", &["stratus-core"]),
    // A test fixture: a `provided` function built on the lambda_runtime crate.
    ("stratus-rust-bootstrap", &[]),
];

const DOMAIN: &[&str] = &[
    "stratus-core",
    "stratus-meta",
    "stratus-identity",
    "stratus-store",
    "stratus-events",
];
const WIRE: &[&str] = &[
    "axum",
    "hyper",
    "hyper-util",
    "s3s",
    "http",
    "http-body",
    "http-body-util",
    "tower",
    "quick-xml",
];

#[test]
fn crate_dependencies_point_one_way() {
    let graph = workspace_graph();
    let known: BTreeSet<&str> = ALLOWED.iter().map(|(name, _)| *name).collect();
    for (krate, deps) in &graph {
        assert!(
            known.contains(krate.as_str()),
            "{krate} is not described in the architecture test (and ARCHITECTURE.md)"
        );
        let allowed = ALLOWED
            .iter()
            .find(|(name, _)| name == krate)
            .map(|(_, a)| *a)
            .unwrap_or_default();
        for (dep, _, normal) in deps {
            if *normal && dep.starts_with("stratus-") {
                assert!(
                    allowed.contains(&dep.as_str()),
                    "{krate} must not depend on {dep}"
                );
            }
        }
    }
}

#[test]
fn only_the_api_crate_knows_http_and_wire_formats() {
    let graph = workspace_graph();
    for krate in DOMAIN {
        for (dep, _, normal) in &graph[*krate] {
            assert!(
                !(*normal && WIRE.contains(&dep.as_str())),
                "domain crate {krate} must not import {dep}"
            );
        }
    }
    // The runtime serves the Lambda Runtime API to its own workers over plain hyper; the
    // public protocols and their frameworks stay in the api crate.
    for (dep, _, normal) in &graph["stratus-runtime"] {
        assert!(
            !(*normal && ["axum", "s3s", "tower", "quick-xml"].contains(&dep.as_str())),
            "stratus-runtime must not import {dep}"
        );
    }
    let core_deps: Vec<_> = graph["stratus-core"]
        .iter()
        .filter(|(_, _, normal)| *normal)
        .map(|(d, _, _)| d.as_str())
        .collect();
    assert!(!core_deps.contains(&"tokio"), "stratus-core does no IO");
}

#[test]
fn only_the_cli_knows_argument_parsing_and_signals() {
    let graph = workspace_graph();
    for (krate, deps) in &graph {
        if krate == "stratus-cli" || krate == "stratus-bench" {
            continue;
        }
        for (dep, features, normal) in deps {
            assert!(!(*normal && dep == "clap"), "{krate} must not use clap");
            assert!(
                !(*normal && dep == "tokio" && features.iter().any(|f| f == "signal")),
                "{krate} must not handle signals"
            );
        }
    }
}
