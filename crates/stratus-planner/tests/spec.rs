//! The YAML application spec and the SPACE4AI JSON convert into each other exactly, on all 80
//! published instances; bad specs are refused with the field and where it is.

use stratus_planner::{Options, Spec, SpecError, System, solve, to_space4ai_json};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/space4ai/instances");
const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/planner/small-app.yaml"
);

fn instances() -> Vec<(String, System)> {
    let mut out = Vec::new();
    for kind in ["Light", "Strict"] {
        for n in [5, 7, 10, 15] {
            for k in 1..=10 {
                let rel = format!("{kind}/{n}-components/system_description{k}.json");
                let text = std::fs::read_to_string(format!("{DATA}/{rel}")).expect("readable");
                out.push((rel, System::parse(&text, None, None).expect("parses")));
            }
        }
    }
    out
}

#[test]
fn every_instance_round_trips_through_yaml_and_json() {
    for (rel, system) in instances() {
        let yaml = Spec::from_system(&system).to_yaml();
        let spec = Spec::from_yaml(&yaml).expect("own YAML parses");
        assert_eq!(spec.to_system().expect("valid"), system, "{rel} via YAML");
        assert_eq!(spec.to_yaml(), yaml, "{rel}: YAML output is deterministic");
        let json = to_space4ai_json(&system).to_string();
        assert_eq!(
            System::parse(&json, None, None).expect("own JSON parses"),
            system,
            "{rel} via JSON"
        );
    }
}

#[test]
fn the_example_spec_is_valid_and_solvable() {
    let text = std::fs::read_to_string(EXAMPLE).expect("example exists");
    let system = Spec::from_yaml(&text)
        .expect("parses")
        .to_system()
        .expect("valid");
    assert_eq!(system.components.len(), 2);
    let plan = solve(&system, &Options::default()).expect("feasible");
    assert!(plan.optimal);
    assert!(plan.evaluation.feasible());
}

fn error_of(yaml: &str) -> String {
    match Spec::from_yaml(yaml).and_then(|s| s.to_system()) {
        Ok(_) => panic!("accepted: {yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_specs_name_the_field_and_where() {
    let text = std::fs::read_to_string(EXAMPLE).expect("example exists");
    let typo = text.replace("max_response_time: 1.0", "max_respons_time: 1.0");
    assert!(
        error_of(&typo).contains("max_respons_time"),
        "{}",
        error_of(&typo)
    );

    let unknown = text.replace("{resource: fn-2g,", "{resource: fn-4g,");
    let e = error_of(&unknown);
    assert!(e.contains("fn-4g") && e.contains("classify"), "{e}");

    let no_warm = text.replace("warm: 0.3, cold: 1.2", "demand: 0.3");
    let e = error_of(&no_warm);
    assert!(e.contains("warm") && e.contains("classify-all"), "{e}");

    let bad_successor = text.replace("component: classify\n", "component: clasify\n");
    let e = error_of(&bad_successor);
    assert!(e.contains("clasify") && e.contains("detect"), "{e}");

    assert!(matches!(
        Spec::from_yaml("lambda: [1"),
        Err(SpecError::Yaml(_))
    ));
}
