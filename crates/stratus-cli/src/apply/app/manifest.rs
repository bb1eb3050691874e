//! The application manifest: its YAML shape, strict parsing (unknown fields are errors with the
//! file, line and field), and the checks that need only the local disk. Everything here runs
//! before the server is asked anything, let alone changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use stratus_core::{AppName, BucketName, BucketTrigger, Trigger};

use crate::functions::LocalFunction;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    application: String,
    /// Buckets the application creates (if missing) and owns.
    #[serde(default)]
    buckets: Vec<String>,
    #[serde(default)]
    functions: Vec<FunctionEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionEntry {
    /// A directory holding `function.yaml`, relative to the manifest.
    path: PathBuf,
    /// Uploads to these buckets invoke the function: a bucket name, a bucket trigger
    /// (`{bucket, prefix, suffix, events}`), or a list of either.
    #[serde(default)]
    input: OneOrMany<Input>,
    /// Buckets the function writes to: declared for the graph (cycle check, printout) only.
    #[serde(default)]
    output: OneOrMany<String>,
}

/// One value or a list of them, so the common single edge needs no brackets.
#[derive(Debug)]
struct OneOrMany<T>(Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bucket, or a list of them")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                T::deserialize(StrDeserializer::new(text)).map(|one| OneOrMany(vec![one]))
            }
            // Delegating keeps the inner type's own errors (unknown field, its position).
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|one| OneOrMany(vec![one]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany)
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `input: scans` is shorthand for `input: {bucket: scans}`.
#[derive(Debug)]
struct Input(BucketTrigger);

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Input;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bucket name or {bucket, prefix, suffix, events}")
            }
            fn visit_str<E: de::Error>(self, bucket: &str) -> Result<Input, E> {
                Ok(Input(BucketTrigger {
                    bucket: bucket.to_owned(),
                    prefix: None,
                    suffix: None,
                    events: vec!["s3:ObjectCreated:*".to_owned()],
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Input, A::Error> {
                BucketTrigger::deserialize(MapAccessDeserializer::new(map)).map(Input)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A validated manifest, with every function's directory read and zipped.
pub(crate) struct Manifest {
    pub(crate) name: AppName,
    pub(crate) buckets: Vec<String>,
    pub(crate) stages: Vec<Stage>,
    /// SHA-256 of the file, recorded with the application.
    pub(crate) digest: String,
}

/// One function of the application and its edges.
pub(crate) struct Stage {
    /// The directory, as the manifest wrote it (for messages).
    pub(crate) path: String,
    pub(crate) local: LocalFunction,
    pub(crate) inputs: Vec<BucketTrigger>,
    pub(crate) outputs: Vec<String>,
}

impl Stage {
    pub(crate) fn name(&self) -> &str {
        &self.local.spec.name
    }

    /// What the deploy sends: the manifest's inputs replace the bucket triggers of
    /// `function.yaml` (the manifest owns the edges); its schedules are kept.
    pub(crate) fn triggers(&self) -> Vec<Trigger> {
        let schedules = self
            .local
            .spec
            .triggers
            .iter()
            .filter(|t| matches!(t, Trigger::Schedule(_)))
            .cloned();
        self.inputs
            .iter()
            .cloned()
            .map(Trigger::Bucket)
            .chain(schedules)
            .collect()
    }

    /// Buckets named by an edge.
    pub(crate) fn buckets(&self) -> impl Iterator<Item = &str> {
        self.inputs
            .iter()
            .map(|t| t.bucket.as_str())
            .chain(self.outputs.iter().map(String::as_str))
    }
}

/// Turns a YAML error into `FILE:LINE:COLUMN: field path: message`.
fn yaml_error(file: &Path, error: &serde_norway::Error) -> anyhow::Error {
    let message = error.to_string();
    match error.location() {
        Some(at) => {
            let suffix = format!(" at line {} column {}", at.line(), at.column());
            let message = message.strip_suffix(&suffix).unwrap_or(&message);
            anyhow::anyhow!(
                "{}:{}:{}: {message}",
                file.display(),
                at.line(),
                at.column()
            )
        }
        None => anyhow::anyhow!("{}: {message}", file.display()),
    }
}

/// Parses `text` (read from `file`) and checks everything that needs no server: names, the
/// function directories, duplicates and cycles. Notes (replaced triggers) go to stderr.
pub(crate) fn load(file: &Path, text: &str) -> anyhow::Result<Manifest> {
    let raw: ManifestFile = serde_norway::from_str(text).map_err(|e| yaml_error(file, &e))?;
    let at = |what: String| format!("{}: {what}", file.display());
    let name = AppName::parse(&raw.application).map_err(|e| anyhow::anyhow!(at(e.0)))?;
    let mut declared = BTreeSet::new();
    for bucket in &raw.buckets {
        BucketName::parse(bucket).map_err(|e| anyhow::anyhow!(at(format!("buckets: {e}"))))?;
        if !declared.insert(bucket.as_str()) {
            bail!(at(format!("buckets: {bucket} is listed twice")));
        }
    }
    let base = file.parent().unwrap_or(Path::new("."));
    let mut stages: Vec<Stage> = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (index, entry) in raw.functions.into_iter().enumerate() {
        let path = entry.path.display().to_string();
        let here = |what: String| at(format!("functions[{index}] ({path}): {what}"));
        let dir = base.join(&entry.path);
        if !dir.is_dir() {
            bail!(here(format!("{} is not a directory", dir.display())));
        }
        if !dir.join("function.yaml").is_file() {
            bail!(here(format!("{} has no function.yaml", dir.display())));
        }
        let local = crate::functions::load(&dir).with_context(|| here("cannot load".into()))?;
        let function = local.spec.name.clone();
        if let Some(first) = seen.insert(function.clone(), path.clone()) {
            bail!(here(format!(
                "function {function} is listed twice (also at {first})"
            )));
        }
        for input in &entry.input.0 {
            BucketName::parse(&input.0.bucket)
                .map_err(|e| anyhow::anyhow!(here(format!("input: {e}"))))?;
            input
                .0
                .validate()
                .map_err(|e| anyhow::anyhow!(here(format!("input: {e}"))))?;
        }
        for output in &entry.output.0 {
            BucketName::parse(output).map_err(|e| anyhow::anyhow!(here(format!("output: {e}"))))?;
        }
        if local
            .spec
            .triggers
            .iter()
            .any(|t| matches!(t, Trigger::Bucket(_)))
        {
            eprintln!(
                "note: the bucket triggers in {path}/function.yaml are replaced by the manifest's input"
            );
        }
        stages.push(Stage {
            path,
            local,
            inputs: entry.input.0.into_iter().map(|i| i.0).collect(),
            outputs: entry.output.0,
        });
    }
    if let Some(cycle) = super::graph::find_cycle(&stages) {
        bail!(at(format!(
            "the functions form a cycle: {cycle}; an upload would invoke them forever. \
             Write to a bucket that does not feed back into the chain"
        )));
    }
    Ok(Manifest {
        name,
        buckets: raw.buckets,
        stages,
        digest: super::sha256_hex(text.as_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, relative: &str, text: &str) {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn function(dir: &Path, name: &str) {
        write(
            dir,
            &format!("{name}/function.yaml"),
            &format!("name: {name}\nruntime: python3.12\nhandler: main.handler\n"),
        );
        write(
            dir,
            &format!("{name}/main.py"),
            "def handler(e, c):\n    return e\n",
        );
    }

    fn parse(dir: &Path, text: &str) -> anyhow::Result<Manifest> {
        let file = dir.join("app.yaml");
        write(dir, "app.yaml", text);
        load(&file, text)
    }

    #[test]
    fn inputs_take_a_name_a_trigger_or_a_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        function(dir.path(), "a");
        function(dir.path(), "b");
        let manifest = parse(
            dir.path(),
            "application: pipe\nbuckets: [src, mid, out]\nfunctions:\n  - path: ./a\n    input: {bucket: src, suffix: .png}\n    output: mid\n  - path: b\n    input: [mid, {bucket: src, prefix: raw/}]\n    output: [out]\n",
        )
        .expect("valid");
        assert_eq!(manifest.name.as_str(), "pipe");
        let a = &manifest.stages[0];
        assert_eq!(a.name(), "a");
        assert_eq!(a.inputs[0].suffix.as_deref(), Some(".png"));
        assert_eq!(a.outputs, ["mid"]);
        let b = &manifest.stages[1];
        assert_eq!(b.inputs.len(), 2);
        assert_eq!(b.inputs[0].events, ["s3:ObjectCreated:*"]);
        assert_eq!(b.inputs[1].prefix.as_deref(), Some("raw/"));
        assert_eq!(b.triggers().len(), 2);
    }

    #[test]
    fn unknown_fields_name_the_file_line_and_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        function(dir.path(), "a");
        let error = parse(
            dir.path(),
            "application: pipe\nfunctions:\n  - path: a\n    input: {bucket: src, sufix: .png}\n",
        )
        .err()
        .expect("refused")
        .to_string();
        assert!(error.contains("app.yaml:4:"), "{error}");
        assert!(error.contains("sufix"), "{error}");
        let error = parse(dir.path(), "application: pipe\nbucket: [x]\n")
            .err()
            .expect("refused")
            .to_string();
        assert!(
            error.contains("app.yaml:2:") && error.contains("bucket"),
            "{error}"
        );
    }

    #[test]
    fn missing_directories_duplicates_and_cycles_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        function(dir.path(), "a");
        function(dir.path(), "b");
        let missing = parse(dir.path(), "application: p\nfunctions: [{path: nope}]\n");
        assert!(
            missing
                .err()
                .expect("refused")
                .to_string()
                .contains("not a directory")
        );
        let twice = parse(
            dir.path(),
            "application: p\nfunctions: [{path: a}, {path: ./a}]\n",
        );
        assert!(
            twice
                .err()
                .expect("refused")
                .to_string()
                .contains("listed twice")
        );
        let cycle = parse(
            dir.path(),
            "application: p\nfunctions:\n  - {path: a, input: xx1, output: xx2}\n  - {path: b, input: xx2, output: xx1}\n",
        );
        let message = cycle.err().expect("refused").to_string();
        assert!(message.contains("cycle"), "{message}");
        assert!(
            message.contains("function a") && message.contains("bucket xx2"),
            "{message}"
        );
    }
}
