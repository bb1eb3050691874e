use super::*;

const FDL: &str = "\
functions:
  oscar:
  - oscar-test:
      name: upper
      memory: 1Gi
      cpu: '1.0'
      image: grycap/alpine
      script: upper.sh
      log_level: CRITICAL
      input:
      - storage_provider: minio.default
        path: docs/in
        suffix: [.txt, .TXT, x.txt]
      output:
      - storage_provider: minio
        path: docs-out/upper
        suffix: .txt
      environment:
        variables:
          MODE: loud
          COUNT: 3
";

fn planned(fdl: &str) -> anyhow::Result<Plan> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("upper.sh"),
        "tr a-z A-Z < $INPUT_FILE_PATH\n",
    )?;
    let file = dir.path().join("fdl.yaml");
    plan(&file, fdl)
}

fn error(fdl: &str) -> String {
    format!("{:#}", planned(fdl).err().expect("an error"))
}

#[test]
fn a_service_becomes_a_function_with_triggers() {
    let plan = planned(FDL).expect("a plan");
    let [service] = &plan.services[..] else {
        panic!("one service")
    };
    assert_eq!(service.name, "upper");
    assert_eq!(service.config.handler, HANDLER);
    assert_eq!(service.config.memory_mb, 1024);
    let env = &service.config.environment;
    assert_eq!(env["MODE"], "loud");
    assert_eq!(env["COUNT"], "3");
    assert_eq!(env["STRATUS_OSCAR_CPU"], "1.0");
    assert_eq!(env["STRATUS_OSCAR_LOG_LEVEL"], "CRITICAL");
    let outputs: Value = serde_json::from_str(&env["STRATUS_OSCAR_OUTPUTS"]).expect("JSON");
    assert_eq!(
        outputs,
        json!([{ "path": "docs-out/upper", "prefix": [], "suffix": [".txt"] }])
    );
    // `x.txt` is covered by `.txt`, so it would only make uploads run twice.
    let suffixes: Vec<_> = service.triggers.iter().map(|t| t.suffix.clone()).collect();
    assert_eq!(suffixes, [Some(".TXT".into()), Some(".txt".into())]);
    assert!(
        service
            .triggers
            .iter()
            .all(|t| t.bucket == "docs" && t.prefix.as_deref() == Some("in/"))
    );
    assert_eq!(
        plan.buckets.keys().collect::<Vec<_>>(),
        ["docs", "docs-out"]
    );
    assert!(plan.warnings.iter().any(|w| w.contains("image")));
}

#[test]
fn the_package_is_reproducible() {
    let a = planned(FDL).expect("a plan");
    let b = planned(FDL).expect("a plan");
    assert_eq!(a.services[0].zip, b.services[0].zip);
}

#[test]
fn mistakes_name_their_field_and_line() {
    let typo = error(&FDL.replace("log_level", "log_levle"));
    assert!(
        typo.contains("log_levle") && typo.contains("line 9"),
        "{typo}"
    );
    let memory = error(&FDL.replace("1Gi", "1GB"));
    assert!(
        memory.contains("memory") && memory.contains("line 5"),
        "{memory}"
    );
    let provider = error(&FDL.replace("minio.default", "onedata.space"));
    assert!(
        provider.contains("onedata.space") && provider.contains("line 11"),
        "{provider}"
    );
    let unsupported = error(&FDL.replace("log_level: CRITICAL", "expose: {api_port: 80}"));
    assert!(
        unsupported.contains("expose") && unsupported.contains("not supported"),
        "{unsupported}"
    );
    let path = error(&FDL.replace("docs-out/upper", "Docs_Out/upper"));
    assert!(
        path.contains("Docs_Out") && path.contains("line 16"),
        "{path}"
    );
}

#[test]
fn scripts_and_reserved_variables_are_checked() {
    let missing = error(&FDL.replace("upper.sh", "nope.sh"));
    assert!(
        missing.contains("functions.oscar[0].oscar-test.script")
            && missing.contains("nope.sh")
            && missing.contains("line 8"),
        "{missing}"
    );
    let reserved = error(&FDL.replace("MODE: loud", "STRATUS_OSCAR_OUTPUTS: x"));
    assert!(reserved.contains("environment"), "{reserved}");
    let lambda = error(&FDL.replace("MODE: loud", "AWS_LAMBDA_FUNCTION_NAME: x"));
    assert!(lambda.contains("environment"), "{lambda}");
    let twice = FDL.replace(
        "functions:\n  oscar:\n",
        "functions:\n  oscar:\n  - other:\n      name: upper\n      script: upper.sh\n",
    );
    assert!(error(&twice).contains("defined twice"));
}

#[test]
fn minimal_drops_covered_entries() {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        minimal(&strings(&["a", "ab", "b"]), |a, b| a.starts_with(b)),
        strings(&["a", "b"])
    );
    assert_eq!(minimal(&[], |a, b| a.starts_with(b)), strings(&[""]));
    assert_eq!(
        minimal(&strings(&["x", ""]), |a, b| a.starts_with(b)),
        strings(&[""])
    );
}
