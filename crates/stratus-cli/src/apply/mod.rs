//! `stratus apply FILE`: creates or updates what a document declares. The document's shape says
//! what it is: one starting with `application:` is an application manifest (`app.rs`).

pub(crate) mod app;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::client::Target;

pub(crate) async fn run(target: &Target, file: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let document: serde_norway::Value =
        serde_norway::from_str(&text).with_context(|| format!("invalid {}", file.display()))?;
    if document.get("application").is_some() {
        return app::apply(target, file, &text, dry_run).await;
    }
    bail!(
        "{}: not a document stratus apply knows (an application manifest starts with `application: NAME`; see docs/applications.md)",
        file.display()
    )
}
