//! Function code packages, stored by content: `functions/code/SHA256.zip` is the durable copy
//! (written before the metadata row that names it), `functions/code/SHA256/` its unpacked tree,
//! which workers mount read-only. Versions with the same code share one tree.

use std::collections::HashSet;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::RuntimeError;

/// Lambda's limit on unzipped code.
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct CodeStore {
    root: PathBuf,
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub sha256: String,
    pub size: u64,
}

impl CodeStore {
    /// # Errors
    /// The directory cannot be created.
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        let root = data_dir.join("functions").join("code");
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The unpacked code of `sha256`, unpacking it again if a crash lost the tree.
    ///
    /// # Errors
    /// The package is missing or cannot be unpacked.
    pub fn task_dir(&self, sha256: &str) -> Result<PathBuf, RuntimeError> {
        let dir = self.root.join(sha256);
        if !dir.is_dir() {
            let zip = std::fs::read(self.root.join(format!("{sha256}.zip")))?;
            self.unpack(sha256, &zip)?;
        }
        Ok(dir)
    }

    /// The zip file itself (GetFunction's code location serves it).
    #[must_use]
    pub fn package_path(&self, sha256: &str) -> PathBuf {
        self.root.join(format!("{sha256}.zip"))
    }

    /// Validates and stores a zip package durably, then unpacks it. Runs blocking IO: call it
    /// from a blocking thread.
    ///
    /// # Errors
    /// [`RuntimeError::Invalid`] for something that is not a usable zip; IO failures.
    pub fn put(&self, zip: &[u8]) -> Result<StoredCode, RuntimeError> {
        let sha256 = hex::encode(Sha256::digest(zip));
        let size = zip.len() as u64;
        check_package(zip)?;
        let final_path = self.package_path(&sha256);
        if !final_path.exists() {
            let tmp = self
                .root
                .join(format!(".{sha256}.{}.tmp", std::process::id()));
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(zip)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &final_path)?;
            std::fs::File::open(&self.root)?.sync_all()?;
        }
        if !self.root.join(&sha256).is_dir() {
            self.unpack(&sha256, zip)?;
        }
        Ok(StoredCode { sha256, size })
    }

    fn unpack(&self, sha256: &str, zip: &[u8]) -> Result<(), RuntimeError> {
        let staging = self
            .root
            .join(format!(".{sha256}.{}.unpack", rand::random::<u64>()));
        let mut archive = zip::ZipArchive::new(io::Cursor::new(zip)).map_err(invalid_zip)?;
        // zip's extract refuses entries that escape the directory and keeps unix modes, so a
        // `bootstrap` stays executable.
        archive.extract(&staging).map_err(invalid_zip)?;
        readable_by_workers(&staging)?;
        match std::fs::rename(&staging, self.root.join(sha256)) {
            Ok(()) => Ok(()),
            // Another request unpacked the same code first.
            Err(_) if self.root.join(sha256).is_dir() => {
                let _ = std::fs::remove_dir_all(&staging);
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Removes packages no version references, and leftovers of interrupted writes.
    pub fn collect(&self, in_use: &HashSet<String>) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let hash = name.strip_suffix(".zip").unwrap_or(&name);
            if !name.starts_with('.') && in_use.contains(hash) && entry.path().is_dir() {
                // Trees unpacked before workers ran unprivileged may hold owner-only files.
                let _ = readable_by_workers(&entry.path());
            }
            if name.starts_with('.') || !in_use.contains(hash) {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

/// Makes an unpacked tree readable (and keeps executables executable) for the unprivileged uid
/// workers run as: zips made by Python's `zipfile` carry mode 0600. The tree is mounted
/// read-only into its own project's workers only, so reading is all this grants.
fn readable_by_workers(dir: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            readable_by_workers(&path)?;
        } else if kind.is_file() {
            let mode = entry.metadata()?.permissions().mode();
            let wanted = if mode & 0o111 == 0 { 0o644 } else { 0o755 };
            if mode & 0o777 != wanted {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(wanted))?;
            }
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
}

fn invalid_zip(error: zip::result::ZipError) -> RuntimeError {
    RuntimeError::Invalid {
        field: "ZipFile",
        message: format!("could not unzip the uploaded file: {error}"),
    }
}

/// Refuses packages that are not zips, are empty, escape their directory or unzip too large.
fn check_package(zip: &[u8]) -> Result<(), RuntimeError> {
    let mut archive = zip::ZipArchive::new(io::Cursor::new(zip)).map_err(invalid_zip)?;
    if archive.is_empty() {
        return Err(RuntimeError::Invalid {
            field: "ZipFile",
            message: "the zip file is empty".into(),
        });
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(invalid_zip)?;
        if entry.enclosed_name().is_none() {
            return Err(RuntimeError::Invalid {
                field: "ZipFile",
                message: format!("entry {:?} escapes the code directory", entry.name()),
            });
        }
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err(RuntimeError::TooLarge(format!(
            "unzipped size {total} bytes exceeds {MAX_UNZIPPED_BYTES}"
        )));
    }
    Ok(())
}
