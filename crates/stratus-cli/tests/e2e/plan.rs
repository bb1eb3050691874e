//! `stratus plan` as a user runs it: the published SPACE4AI instances, exit codes, the JSON
//! summary, the reference-format solution file, re-planning and determinism.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/space4ai")).join(rel)
}

fn plan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratus"))
        .arg("plan")
        .args(args)
        .output()
        .expect("stratus runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

const SMALL: &str = "instances/Light/5-components/system_description1.json";

#[test]
fn solves_a_published_instance_to_proven_optimality() {
    let path = data(SMALL);
    let out = plan(&[path.to_str().expect("utf-8"), "--lambda", "1.8", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = json_of(&out);
    let cost = v["total_cost"].as_f64().expect("cost");
    assert_eq!(v["optimal"], true);
    assert!((v["lower_bound"].as_f64().expect("bound") - cost).abs() <= 1e-9 * cost);
    // The reference heuristic's best over six runs; the optimum cannot be above it.
    let refs: Value = serde_json::from_str(
        &std::fs::read_to_string(data("reference_costs.json")).expect("reference costs"),
    )
    .expect("json");
    let best = refs["Light/5-components/system_description1.json"]["best_known"]
        .as_f64()
        .expect("best known");
    assert!(cost <= best + 5e-5, "cost {cost} above best known {best}");
    assert!(v["seconds"].as_f64().expect("seconds") >= 0.0);
    assert_eq!(v["components"].as_object().expect("components").len(), 5);
}

#[test]
fn the_table_is_deterministic_and_the_solution_file_reads_back() {
    let path = data("instances/Strict/7-components/system_description3.json");
    let dir = tempfile::tempdir().expect("tempdir");
    let out_file = dir.path().join("solution.json");
    let args = [
        path.to_str().expect("utf-8"),
        "--out",
        out_file.to_str().expect("utf-8"),
    ];
    let first = plan(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let written = std::fs::read(&out_file).expect("solution written");
    let second = plan(&args);
    assert_eq!(first.stdout, second.stdout, "same input, same table");
    assert_eq!(written, std::fs::read(&out_file).expect("rewritten"));
    assert!(text(&first.stdout).contains("proven optimal"));
    // The written solution is a valid current solution: re-planning at the same λ keeps it.
    let sol: Value = serde_json::from_slice(&written).expect("json");
    let cost = sol["total_cost"].as_f64().expect("total_cost");
    let again = plan(&[
        path.to_str().expect("utf-8"),
        "--runtime",
        "--current",
        out_file.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let v = json_of(&again);
    assert!(v["total_cost"].as_f64().expect("cost") <= cost + 1e-9);
}

#[test]
fn replanning_keeps_the_edge_and_adapts_to_less_load() {
    let path = data("instances/Light/10-components/system_description4.json");
    let dir = tempfile::tempdir().expect("tempdir");
    let current = dir.path().join("current.json");
    let p = path.to_str().expect("utf-8");
    let c = current.to_str().expect("utf-8");
    let design = plan(&[p, "--lambda", "1.8", "--out", c, "--json"]);
    assert!(design.status.success(), "{}", text(&design.stderr));
    let before = json_of(&design);
    let quieter = plan(&[p, "--lambda", "1.5", "--runtime", "--current", c, "--json"]);
    assert!(quieter.status.success(), "{}", text(&quieter.stderr));
    let after = json_of(&quieter);
    // Every partition that ran on the edge still runs on the same device.
    for (name, comp) in before["components"].as_object().expect("components") {
        for (h, part) in comp["partitions"]
            .as_array()
            .expect("partitions")
            .iter()
            .enumerate()
        {
            if part["kind"] == "edge" {
                assert_eq!(after["components"][name]["deployment"], comp["deployment"]);
                assert_eq!(
                    after["components"][name]["partitions"][h]["resource"], part["resource"],
                    "{name} moved off its edge device"
                );
            }
        }
    }
    assert_eq!(after["lambda"], 1.5);
}

#[test]
fn an_infeasible_instance_exits_2_naming_the_binding_constraint() {
    let text_in = std::fs::read_to_string(data(SMALL)).expect("instance");
    let mut v: Value = serde_json::from_str(&text_in).expect("json");
    let local = v["LocalConstraints"]
        .as_object_mut()
        .expect("local constraints");
    let name = local.keys().next().expect("one local constraint").clone();
    local[&name]["local_res_time"] = Value::from(1e-6);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tight.json");
    std::fs::write(&file, v.to_string()).expect("write");
    let out = plan(&[file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("local constraint of {name}")),
        "{err}"
    );
}

#[test]
fn a_malformed_instance_exits_1_naming_field_and_component() {
    let text_in = std::fs::read_to_string(data(SMALL)).expect("instance");
    let mut v: Value = serde_json::from_str(&text_in).expect("json");
    let perf = v["Performance"]["c2"]["h1"]
        .as_object_mut()
        .expect("performance");
    let first = perf.keys().next().expect("a resource").clone();
    perf[&first]
        .as_object_mut()
        .expect("entry")
        .remove("demand");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("broken.json");
    std::fs::write(&file, v.to_string()).expect("write");
    let out = plan(&[file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("`demand`") && err.contains("c2"), "{err}");

    std::fs::write(&file, "{ not json").expect("write");
    let out = plan(&[file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("invalid JSON"));
}

#[test]
fn a_yaml_spec_converts_both_ways_and_plans_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json_in = data("instances/Strict/5-components/system_description4.json");
    let yaml = dir.path().join("app.yaml");
    let json_back = dir.path().join("back.json");
    let j = json_in.to_str().expect("utf-8");
    let y = yaml.to_str().expect("utf-8");
    assert!(plan(&[j, "--convert", y]).status.success());
    assert!(
        plan(&[y, "--convert", json_back.to_str().expect("utf-8")])
            .status
            .success()
    );
    let from_json = json_of(&plan(&[j, "--lambda", "1.8", "--json"]));
    let from_yaml = json_of(&plan(&[y, "--lambda", "1.8", "--json"]));
    let from_back = json_of(&plan(&[
        json_back.to_str().expect("utf-8"),
        "--lambda",
        "1.8",
        "--json",
    ]));
    assert_eq!(from_json["total_cost"], from_yaml["total_cost"]);
    assert_eq!(from_json["components"], from_yaml["components"]);
    assert_eq!(from_json["components"], from_back["components"]);

    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/planner/small-app.yaml"
    );
    let out = plan(&[example]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("proven optimal"));
}

#[test]
fn the_benchmark_compares_with_the_reference_costs() {
    let dir = data("instances/Strict/5-components");
    let out = plan(&["--bench", dir.to_str().expect("utf-8"), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = json_of(&out);
    let rows = v["instances"].as_array().expect("instances");
    assert_eq!(rows.len(), 10);
    for r in rows {
        assert_eq!(r["optimal"], true, "{r}");
        let (cost, best) = (r["total_cost"].as_f64(), r["best_known"].as_f64());
        let (cost, best) = (cost.expect("cost"), best.expect("reference found"));
        assert!(cost <= best + 5e-5, "{r}");
        assert!(r["replan_seconds"].as_f64().is_some());
    }
    assert_eq!(v["by_size"]["5"]["proven_optimal"], 10);
}
