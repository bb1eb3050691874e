//! `stratus apply FILE`: make the server match a declarative document. The document's shape
//! says what it is; each kind has its own module, which validates the whole document before its
//! first change, so a bad file changes nothing.

pub(crate) mod app;
mod fdl;
mod oscar;

use std::fmt::Display;
use std::path::Path;

use anyhow::{Context as _, bail};

use crate::client::Target;

/// Where `apply` reports. Normally progress lines go to stdout; under `--json` they go to
/// stderr and stdout gets one JSON document at the end (what was planned and done), so a
/// script can parse stdout whatever the progress said.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    json: bool,
}

impl Progress {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    pub(crate) fn json(self) -> bool {
        self.json
    }

    pub(crate) fn line(self, text: impl Display) {
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }

    /// Prints the final document under `--json`; nothing otherwise.
    pub(crate) fn result(self, document: &impl serde::Serialize) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(document)?);
        }
        Ok(())
    }
}

/// The kinds of documents `apply` understands.
enum Kind {
    /// OSCAR's Functions Definition Language: `functions: oscar: [...]`.
    OscarFdl,
    /// An application manifest: `application: NAME` (docs/applications.md).
    Application,
}

/// Tells documents apart by their top-level keys.
fn kind(document: &serde_norway::Value) -> Option<Kind> {
    let top = document.as_mapping()?;
    if top.contains_key("application") {
        return Some(Kind::Application);
    }
    let functions = top.get("functions")?.as_mapping()?;
    functions.contains_key("oscar").then_some(Kind::OscarFdl)
}

pub(crate) async fn run(
    target: &Target,
    file: &Path,
    dry_run: bool,
    json: bool,
) -> anyhow::Result<()> {
    let progress = Progress::new(json);
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let document: serde_norway::Value = serde_norway::from_str(&text)
        .with_context(|| format!("{} is not valid YAML", file.display()))?;
    match kind(&document) {
        Some(Kind::Application) => app::apply(target, file, &text, dry_run, progress).await,
        Some(Kind::OscarFdl) if dry_run => {
            bail!("--dry-run is supported for application manifests only")
        }
        Some(Kind::OscarFdl) => oscar::apply(target, file, &text, progress).await,
        None => bail!(
            "{}: not a document stratus apply understands (an OSCAR FDL file starts with \
             `functions: oscar:`, an application manifest with `application:`)",
            file.display()
        ),
    }
}
