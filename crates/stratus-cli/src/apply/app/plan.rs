//! Desired state against current state: which buckets to create or remove, which functions to
//! deploy (and why) or delete. Pure functions of their inputs, so the rules are unit-tested.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use stratus_core::{AppFunction, AppResources, BucketTrigger, ScheduleTrigger, Trigger};

use super::manifest::{Manifest, Stage};
use super::state::{BucketState, Current};

/// What a deploy of one stage would send, in the shape `GET /v1/functions/NAME` shows.
pub(crate) struct Desired {
    pub(crate) code_sha256: String,
    pub(crate) config: Value,
    pub(crate) reserved_concurrency: Value,
    pub(crate) triggers: Vec<Trigger>,
}

impl Desired {
    pub(crate) fn of(stage: &Stage, python: Option<&str>) -> Self {
        let local = &stage.local;
        let dependencies = match (&local.requirements, python) {
            (Some(text), Some(tag)) if !stratus_server::normalise_requirements(text).is_empty() => {
                Some(stratus_server::environment_hash(text, tag))
            }
            _ => None,
        };
        Self {
            code_sha256: super::sha256_hex(&local.zip),
            config: local.config_json(dependencies.as_deref()),
            reserved_concurrency: json!(local.spec.reserved_concurrency),
            triggers: stage.triggers(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BucketAction {
    Create,
    /// Created by this application earlier and still declared.
    Keep,
    /// The project's bucket, not created by this application: used, never deleted by it.
    Use,
    /// Created by this application, no longer declared: deleted if empty.
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FunctionAction {
    Create,
    /// Why it changes: `code`, `config`, `triggers`, `url` (these deploy), `adopted` (an
    /// existing function the application takes over), `outputs` (only the record changes).
    Update(Vec<&'static str>),
    Keep,
    Remove,
}

impl FunctionAction {
    /// Whether the function must be deployed (not only recorded).
    pub(crate) fn deploys(&self) -> bool {
        match self {
            Self::Create => true,
            Self::Update(why) => why
                .iter()
                .any(|w| matches!(*w, "code" | "config" | "triggers" | "url")),
            Self::Keep | Self::Remove => false,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) buckets: Vec<(String, BucketAction)>,
    pub(crate) functions: Vec<(String, FunctionAction)>,
    /// The record the application has once the plan is carried out.
    pub(crate) resources: AppResources,
}

/// Triggers compared as sets: order in a list carries no meaning.
fn same_triggers(a: &[Trigger], b: &[Trigger]) -> bool {
    let key = |list: &[Trigger]| -> BTreeSet<String> {
        list.iter()
            .filter_map(|t| serde_json::to_string(t).ok())
            .collect()
    };
    key(a) == key(b)
}

/// The triggers `GET /v1/functions/NAME` shows: bucket triggers under `triggers`, schedules
/// (with their next fire time, which is not part of the declaration) under `schedules`.
fn shown_triggers(deployed: &Value) -> Option<Vec<Trigger>> {
    let buckets: Vec<BucketTrigger> =
        serde_json::from_value(deployed.get("triggers")?.clone()).ok()?;
    let mut shown: Vec<Trigger> = buckets.into_iter().map(Trigger::Bucket).collect();
    for schedule in deployed["schedules"].as_array().into_iter().flatten() {
        shown.push(Trigger::Schedule(ScheduleTrigger {
            schedule: schedule["schedule"].as_str()?.to_owned(),
            input: schedule.get("input").filter(|i| !i.is_null()).cloned(),
        }));
    }
    Some(shown)
}

fn function_action(
    stage: &Stage,
    desired: &Desired,
    current: &Current,
    recorded: Option<&AppFunction>,
) -> FunctionAction {
    let Some(deployed) = current.functions.get(stage.name()) else {
        return FunctionAction::Create;
    };
    let mut why = Vec::new();
    if deployed["code_sha256"].as_str() != Some(desired.code_sha256.as_str()) {
        why.push("code");
    }
    let config_differs = desired
        .config
        .as_object()
        .into_iter()
        .flatten()
        .any(|(field, value)| deployed[field.as_str()] != *value);
    if config_differs || deployed["reserved_concurrency"] != desired.reserved_concurrency {
        why.push("config");
    }
    // The server's view when it shows triggers; otherwise what this application last sent.
    let known = shown_triggers(deployed).or_else(|| recorded.map(|r| r.triggers.clone()));
    let triggers_differ = match &known {
        Some(known) => !same_triggers(known, &desired.triggers),
        None => !desired.triggers.is_empty(),
    };
    if triggers_differ {
        why.push("triggers");
    }
    if let Some(auth) = &stage.local.spec.url
        && current.urls.get(stage.name()) != Some(auth)
    {
        why.push("url");
    }
    match recorded {
        None => why.push("adopted"),
        Some(r) if r.outputs != stage.outputs => why.push("outputs"),
        Some(_) => {}
    }
    if why.is_empty() {
        FunctionAction::Keep
    } else {
        FunctionAction::Update(why)
    }
}

/// Compares; `desired` holds one entry per stage, in manifest order.
pub(crate) fn diff(manifest: &Manifest, desired: &[Desired], current: &Current) -> Plan {
    let mut plan = Plan::default();
    let recorded = &current.record;
    for bucket in &manifest.buckets {
        let state = current.buckets.get(bucket).copied();
        let action = match state {
            Some(BucketState::Ours) if recorded.buckets.contains(bucket) => BucketAction::Keep,
            Some(BucketState::Ours) => BucketAction::Use,
            _ => BucketAction::Create,
        };
        if action != BucketAction::Use {
            plan.resources.buckets.push(bucket.clone());
        }
        plan.buckets.push((bucket.clone(), action));
    }
    for bucket in &recorded.buckets {
        let still_there = current.buckets.get(bucket) == Some(&BucketState::Ours);
        if manifest.buckets.contains(bucket) || !still_there {
            continue;
        }
        // Dropped from `buckets:` but still an edge: deleting it would cut the edge, so the
        // application keeps it (it created it, so it still owns it).
        let used = manifest
            .stages
            .iter()
            .any(|s| s.buckets().any(|b| b == bucket));
        if used {
            plan.resources.buckets.push(bucket.clone());
            plan.buckets.push((bucket.clone(), BucketAction::Keep));
        } else {
            plan.buckets.push((bucket.clone(), BucketAction::Remove));
        }
    }
    for (stage, want) in manifest.stages.iter().zip(desired) {
        let action = function_action(stage, want, current, recorded.function(stage.name()));
        plan.functions.push((stage.name().to_owned(), action));
        plan.resources.functions.push(AppFunction {
            name: stage.name().to_owned(),
            triggers: want.triggers.clone(),
            outputs: stage.outputs.clone(),
        });
    }
    for function in &recorded.functions {
        let listed = manifest.stages.iter().any(|s| s.name() == function.name);
        if !listed && current.functions.contains_key(&function.name) {
            plan.functions
                .push((function.name.clone(), FunctionAction::Remove));
        }
    }
    plan
}

impl Plan {
    /// (to add, to change, to remove).
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for (_, action) in &self.buckets {
            match action {
                BucketAction::Create => counts.0 += 1,
                BucketAction::Remove => counts.2 += 1,
                BucketAction::Keep | BucketAction::Use => {}
            }
        }
        for (_, action) in &self.functions {
            match action {
                FunctionAction::Create => counts.0 += 1,
                FunctionAction::Update(_) => counts.1 += 1,
                FunctionAction::Remove => counts.2 += 1,
                FunctionAction::Keep => {}
            }
        }
        counts
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.counts() == (0, 0, 0)
    }

    /// `+ bucket scans`, `~ function ocr (code)`, `- function old`, `= bucket thumbs`.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, action) in &self.buckets {
            lines.push(match action {
                BucketAction::Create => format!("+ bucket {name}"),
                BucketAction::Keep => format!("= bucket {name}"),
                BucketAction::Use => {
                    format!("= bucket {name} (exists; not owned by the application)")
                }
                BucketAction::Remove => format!("- bucket {name} (if empty)"),
            });
        }
        for (name, action) in &self.functions {
            lines.push(match action {
                FunctionAction::Create => format!("+ function {name}"),
                FunctionAction::Update(why) => format!("~ function {name} ({})", why.join(", ")),
                FunctionAction::Keep => format!("= function {name}"),
                FunctionAction::Remove => format!("- function {name}"),
            });
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::app::manifest;

    fn setup() -> (tempfile::TempDir, Manifest) {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["aaa", "bbb"] {
            let f = dir.path().join(name);
            std::fs::create_dir_all(&f).expect("mkdir");
            std::fs::write(
                f.join("function.yaml"),
                format!("name: {name}\nruntime: python3.12\nhandler: main.handler\n"),
            )
            .expect("write");
            std::fs::write(f.join("main.py"), "def handler(e, c):\n    return 1\n").expect("write");
        }
        let text = "application: pipe\nbuckets: [src, mid]\nfunctions:\n  - {path: aaa, input: src, output: mid}\n  - {path: bbb, input: mid}\n";
        let file = dir.path().join("app.yaml");
        let manifest = manifest::load(&file, text).expect("valid");
        (dir, manifest)
    }

    /// The server state right after applying `manifest`.
    fn applied(manifest: &Manifest, desired: &[Desired]) -> Current {
        let mut current = Current::default();
        for bucket in &manifest.buckets {
            current.buckets.insert(bucket.clone(), BucketState::Ours);
        }
        for (stage, want) in manifest.stages.iter().zip(desired) {
            let mut summary = want.config.clone();
            summary["code_sha256"] = json!(want.code_sha256);
            summary["reserved_concurrency"] = want.reserved_concurrency.clone();
            current.functions.insert(stage.name().to_owned(), summary);
        }
        current.record = diff(manifest, desired, &Current::default()).resources;
        current
    }

    #[test]
    fn a_first_apply_creates_everything_and_a_second_changes_nothing() {
        let (_dir, manifest) = setup();
        let desired: Vec<Desired> = manifest
            .stages
            .iter()
            .map(|s| Desired::of(s, None))
            .collect();
        let first = diff(&manifest, &desired, &Current::default());
        assert_eq!(first.counts(), (4, 0, 0));
        assert_eq!(first.resources.buckets, ["src", "mid"]);
        let again = diff(&manifest, &desired, &applied(&manifest, &desired));
        assert!(again.is_empty(), "{:?}", again.lines());
        assert!(again.lines().contains(&"= function aaa".to_owned()));
    }

    #[test]
    fn changes_are_attributed_and_removals_listed() {
        let (_dir, manifest) = setup();
        let desired: Vec<Desired> = manifest
            .stages
            .iter()
            .map(|s| Desired::of(s, None))
            .collect();
        let mut current = applied(&manifest, &desired);
        current.functions.get_mut("aaa").expect("aaa")["code_sha256"] = json!("old");
        current.functions.get_mut("bbb").expect("bbb")["memory_mb"] = json!(256);
        current.record.functions.push(AppFunction {
            name: "gone".into(),
            triggers: Vec::new(),
            outputs: Vec::new(),
        });
        current.functions.insert("gone".into(), json!({}));
        current.record.buckets.push("old".into());
        current.buckets.insert("old".into(), BucketState::Ours);
        let plan = diff(&manifest, &desired, &current);
        assert_eq!(
            plan.lines(),
            [
                "= bucket src",
                "= bucket mid",
                "- bucket old (if empty)",
                "~ function aaa (code)",
                "~ function bbb (config)",
                "- function gone",
            ]
        );
        assert_eq!(plan.counts(), (0, 2, 2));
        assert_eq!(plan.resources.functions.len(), 2);
    }

    #[test]
    fn an_undeclared_bucket_still_on_an_edge_is_kept() {
        let (_dir, mut manifest) = setup();
        let desired: Vec<Desired> = manifest
            .stages
            .iter()
            .map(|s| Desired::of(s, None))
            .collect();
        let current = applied(&manifest, &desired);
        manifest.buckets.retain(|b| b != "mid");
        let plan = diff(&manifest, &desired, &current);
        assert!(plan.is_empty(), "{:?}", plan.lines());
        assert!(plan.resources.buckets.contains(&"mid".to_owned()));
    }

    #[test]
    fn the_servers_triggers_win_over_the_record() {
        let (_dir, manifest) = setup();
        let desired: Vec<Desired> = manifest
            .stages
            .iter()
            .map(|s| Desired::of(s, None))
            .collect();
        let mut current = applied(&manifest, &desired);
        // Someone redeployed `aaa` by hand without its trigger; the record still has it.
        current.functions.get_mut("aaa").expect("aaa")["triggers"] = json!([]);
        current.functions.get_mut("bbb").expect("bbb")["triggers"] =
            json!([{"bucket": "mid", "events": ["s3:ObjectCreated:*"]}]);
        current.functions.get_mut("bbb").expect("bbb")["schedules"] = json!([]);
        let plan = diff(&manifest, &desired, &current);
        assert_eq!(
            plan.functions[0].1,
            FunctionAction::Update(vec!["triggers"])
        );
        assert_eq!(plan.functions[1].1, FunctionAction::Keep);
    }

    #[test]
    fn existing_resources_are_used_or_adopted_not_owned_silently() {
        let (_dir, manifest) = setup();
        let desired: Vec<Desired> = manifest
            .stages
            .iter()
            .map(|s| Desired::of(s, None))
            .collect();
        let mut current = applied(&manifest, &desired);
        current.record = AppResources::default();
        let plan = diff(&manifest, &desired, &current);
        assert_eq!(plan.buckets[0].1, BucketAction::Use);
        assert!(plan.resources.buckets.is_empty());
        // Unknown triggers (no record, server shows none): deploy so the edges are certain.
        assert_eq!(
            plan.functions[0].1,
            FunctionAction::Update(vec!["triggers", "adopted"])
        );
        assert!(plan.functions[0].1.deploys());
    }
}
