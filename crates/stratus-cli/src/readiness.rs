//! Telling a supervisor the server is ready, once the edge accepts connections and every
//! file clients read is written: `--ready-file PATH` and systemd's `NOTIFY_SOCKET`.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// The directory the ready file goes into (its temporary file is made beside it).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Refuses a ready file whose directory does not exist before anything starts, rather than
/// after the server has written its files.
pub(crate) fn check_ready_file_place(path: &Path) -> anyhow::Result<()> {
    let directory = directory_of(path);
    if !directory.is_dir() {
        anyhow::bail!(
            "the directory of --ready-file {} does not exist",
            path.display()
        );
    }
    Ok(())
}

/// Writes `contents` to `path` atomically (a temporary file beside it, then a rename), so a
/// watcher that sees the file sees all of it.
pub(crate) fn write_ready_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    let directory = directory_of(path);
    let mut file = tempfile::NamedTempFile::new_in(directory)
        .with_context(|| format!("cannot write the ready file in {}", directory.display()))?;
    file.write_all(contents.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path)
        .with_context(|| format!("cannot write the ready file {}", path.display()))?;
    Ok(())
}

/// Sends `READY=1` (and the endpoint as status) when started by systemd with `Type=notify`;
/// does nothing without `NOTIFY_SOCKET`.
pub(crate) fn notify_systemd(endpoint: &str) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    let status = format!("serving on {endpoint}");
    // The variable stays set: removing it races with threads reading the environment, and
    // workers start from a cleared environment anyway (sandbox.rs).
    if let Err(error) = sd_notify::notify(
        false,
        &[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::Status(&status),
        ],
    ) {
        tracing::warn!(%error, "cannot notify systemd that the server is ready");
    }
}
