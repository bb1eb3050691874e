//! Desired state against current state: which buckets to create or remove, which functions to
//! deploy (and why) or delete. Pure functions of their inputs, so the rules are unit-tested.

use std::collections::BTreeSet;

use stratus_client::functions::FunctionDetails;
use stratus_core::{AppFunction, AppResources, FunctionConfig, ScheduleTrigger, Trigger};

use super::manifest::{Manifest, Stage};
use super::state::{BucketState, Current};

/// What a deploy of one stage would send, in the shape `GET /v1/functions/NAME` shows.
pub(crate) struct Desired {
    pub(crate) code_sha256: String,
    pub(crate) config: FunctionConfig,
    pub(crate) reserved_concurrency: Option<u32>,
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
            config: local.config(dependencies.as_deref()),
            reserved_concurrency: local.spec.reserved_concurrency,
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

/// One line of the plan as `apply --json` shows it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Change {
    /// `bucket` or `function`.
    pub(crate) resource: &'static str,
    pub(crate) name: String,
    /// `create`, `update`, `keep`, `use` (a bucket the application uses but does not own) or
    /// `remove`.
    pub(crate) action: &'static str,
    /// Why a function is updated: `code`, `config`, `triggers`, `url`, `adopted`, `outputs`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) reasons: Vec<&'static str>,
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
fn shown_triggers(deployed: &FunctionDetails) -> Vec<Trigger> {
    let buckets = deployed.triggers.iter().cloned().map(Trigger::Bucket);
    let schedules = deployed.schedules.iter().map(|schedule| {
        Trigger::Schedule(ScheduleTrigger {
            schedule: schedule.schedule.clone(),
            input: schedule.input.clone().filter(|i| !i.is_null()),
        })
    });
    buckets.chain(schedules).collect()
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
    let shown = &deployed.summary;
    if shown.code_sha256 != desired.code_sha256 {
        why.push("code");
    }
    if !shown.shows(&desired.config) || shown.reserved_concurrency != desired.reserved_concurrency {
        why.push("config");
    }
    if !same_triggers(&shown_triggers(deployed), &desired.triggers) {
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

    /// Every bucket and function with its action, in the order `lines` prints them.
    pub(crate) fn changes(&self) -> Vec<Change> {
        let buckets = self.buckets.iter().map(|(name, action)| Change {
            resource: "bucket",
            name: name.clone(),
            action: match action {
                BucketAction::Create => "create",
                BucketAction::Keep => "keep",
                BucketAction::Use => "use",
                BucketAction::Remove => "remove",
            },
            reasons: Vec::new(),
        });
        let functions = self.functions.iter().map(|(name, action)| {
            let (action, reasons) = match action {
                FunctionAction::Create => ("create", Vec::new()),
                FunctionAction::Update(why) => ("update", why.clone()),
                FunctionAction::Keep => ("keep", Vec::new()),
                FunctionAction::Remove => ("remove", Vec::new()),
            };
            Change {
                resource: "function",
                name: name.clone(),
                action,
                reasons,
            }
        });
        buckets.chain(functions).collect()
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
    use stratus_client::functions::{FunctionSummary, Schedule};
    use stratus_core::BucketTrigger;

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

    /// What `GET /v1/functions/NAME` shows right after `want` was deployed.
    fn deployed(name: &str, want: &Desired) -> FunctionDetails {
        let config = &want.config;
        let mut details = FunctionDetails {
            summary: FunctionSummary {
                name: name.to_owned(),
                version: "$LATEST".into(),
                runtime: config.runtime.clone(),
                handler: config.handler.clone(),
                memory_mb: config.memory_mb,
                timeout_s: config.timeout_s,
                min_instances: config.min_instances,
                reserved_concurrency: want.reserved_concurrency,
                description: config.description.clone(),
                environment: config.environment.clone(),
                volumes: config.volumes.clone(),
                dependencies: config.dependencies.clone(),
                code_sha256: want.code_sha256.clone(),
                code_size: 1,
                last_modified_ms: 0,
                revision_id: "r".into(),
            },
            versions: None,
            triggers: Vec::new(),
            schedules: Vec::new(),
        };
        for trigger in &want.triggers {
            match trigger {
                Trigger::Bucket(bucket) => details.triggers.push(bucket.clone()),
                Trigger::Schedule(schedule) => details.schedules.push(Schedule {
                    schedule: schedule.schedule.clone(),
                    input: schedule.input.clone(),
                    rule_arn: String::new(),
                    next_fire: None,
                    next_fire_ms: None,
                }),
            }
        }
        details
    }

    /// The server state right after applying `manifest`.
    fn applied(manifest: &Manifest, desired: &[Desired]) -> Current {
        let mut current = Current::default();
        for bucket in &manifest.buckets {
            current.buckets.insert(bucket.clone(), BucketState::Ours);
        }
        for (stage, want) in manifest.stages.iter().zip(desired) {
            let name = stage.name().to_owned();
            current
                .functions
                .insert(name.clone(), deployed(&name, want));
        }
        current.record = diff(manifest, desired, &Current::default()).resources;
        current
    }

    fn function<'a>(current: &'a mut Current, name: &str) -> &'a mut FunctionDetails {
        current.functions.get_mut(name).expect("deployed")
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
        function(&mut current, "aaa").summary.code_sha256 = "old".into();
        function(&mut current, "bbb").summary.memory_mb = 256;
        current.record.functions.push(AppFunction {
            name: "gone".into(),
            triggers: Vec::new(),
            outputs: Vec::new(),
        });
        current
            .functions
            .insert("gone".into(), deployed("gone", &desired[0]));
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
        function(&mut current, "aaa").triggers.clear();
        function(&mut current, "bbb").triggers = vec![BucketTrigger {
            bucket: "mid".into(),
            prefix: None,
            suffix: None,
            events: vec!["s3:ObjectCreated:*".into()],
        }];
        function(&mut current, "bbb").schedules.clear();
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
        function(&mut current, "aaa").triggers.clear();
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
