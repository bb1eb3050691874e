//! Dependency environments: the packages of a `requirements.txt`, installed once per server and
//! shared by every function that names the same requirements.
//!
//! `envs/HASH/` holds `python/` (what pip installed, mounted read-only at `/opt/python`),
//! `requirements.txt` and `env.json`. The hash covers the normalised requirements and the
//! interpreter they were installed for, so equal requirements share one directory and a new
//! interpreter gets new environments. A build happens in `envs/.HASH.RANDOM.build/`; only a
//! finished, fsynced build is renamed to `envs/HASH/`, so a directory named by a hash is always
//! complete and a crash leaves nothing but a dot-directory that start-up removes.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Bumped when the layout or the hash input changes, so old environments are not reused.
const HASH_DOMAIN: &str = "stratus-environment-v1";
const INFO_FILE: &str = "env.json";

/// Normalises requirements text so that formatting does not change the hash: continuation
/// lines are joined, comments (pip's rule: `#` at the start or after whitespace) and blank
/// lines dropped, runs of whitespace collapsed to one space. Order is kept: for pip options it
/// can matter.
#[must_use]
pub fn normalise_requirements(text: &str) -> String {
    let mut logical = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                logical.push(std::mem::take(&mut pending));
            }
        }
    }
    logical.push(pending);
    let mut out = String::new();
    for line in logical {
        let words: Vec<&str> = strip_comment(&line).split_whitespace().collect();
        if !words.is_empty() {
            out.push_str(&words.join(" "));
            out.push('\n');
        }
    }
    out
}

fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let start = bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()))
        .map_or(line.len(), |(i, _)| i);
    &line[..start]
}

/// The environment hash of `requirements` installed for the interpreter `python_tag`.
#[must_use]
pub fn environment_hash(requirements: &str, python_tag: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{HASH_DOMAIN}\n{python_tag}\n").as_bytes());
    hasher.update(normalise_requirements(requirements).as_bytes());
    hex::encode(hasher.finalize())
}

/// Whether `text` can name an environment (and is therefore safe as a file name).
#[must_use]
pub fn is_environment_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What is known about a built environment (`env.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvInfo {
    pub hash: String,
    pub python: String,
    pub size_bytes: u64,
    pub created_ms: i64,
    pub build_seconds: f64,
}

/// The `envs/` directory and who is building what in it.
#[derive(Debug)]
pub struct EnvStore {
    root: PathBuf,
    /// One lock per hash being built: a second build of the same requirements waits for the
    /// first and then finds it done.
    building: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl EnvStore {
    /// # Errors
    /// The directory cannot be created.
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        let root = data_dir.join("envs");
        std::fs::create_dir_all(&root)?;
        Ok(Self {
            root,
            building: Mutex::default(),
        })
    }

    /// The installed packages of `hash` (the directory shown at `/opt/python`).
    #[must_use]
    pub fn python_dir(&self, hash: &str) -> PathBuf {
        self.root.join(hash).join("python")
    }

    /// A built environment; `None` when there is none (its `env.json` is written before the
    /// rename that makes it visible, so its presence proves the build finished).
    #[must_use]
    pub fn info(&self, hash: &str) -> Option<EnvInfo> {
        if !is_environment_hash(hash) {
            return None;
        }
        let text = std::fs::read(self.root.join(hash).join(INFO_FILE)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Every built environment.
    #[must_use]
    pub fn list(&self) -> Vec<EnvInfo> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut infos: Vec<EnvInfo> = entries
            .flatten()
            .filter_map(|e| self.info(&e.file_name().to_string_lossy()))
            .collect();
        infos.sort_by(|a, b| a.hash.cmp(&b.hash));
        infos
    }

    /// Removes interrupted builds and environments no function version names (start-up only:
    /// a build may be running otherwise).
    pub fn collect(&self, in_use: &HashSet<String>) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !in_use.contains(&name) || self.info(&name).is_none() {
                tracing::info!(environment = %name, "removing unused dependency environment");
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// The lock that serialises builds of `hash`.
    pub(crate) fn build_lock(&self, hash: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(building.entry(hash.to_owned()).or_default())
    }

    /// Forgets `hash`'s lock once no build holds or waits for it.
    pub(crate) fn release_lock(&self, hash: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        drop(lock);
        if building
            .get(hash)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            building.remove(hash);
        }
    }

    /// A fresh build directory for `hash` holding `work/requirements.txt`, an empty `python/`
    /// for pip's `--target` and `work/tmp/` for its temporary files (on disk, not in memory:
    /// wheels can be hundreds of megabytes).
    ///
    /// # Errors
    /// IO failures.
    pub(crate) fn stage(&self, hash: &str, requirements: &str) -> io::Result<Staging> {
        let dir = self
            .root
            .join(format!(".{hash}.{:016x}.build", rand::random::<u64>()));
        let staging = Staging {
            dir,
            root: self.root.clone(),
            hash: hash.to_owned(),
            committed: false,
        };
        std::fs::create_dir_all(staging.python_dir())?;
        std::fs::create_dir_all(staging.work_dir().join("tmp"))?;
        std::fs::write(
            staging.work_dir().join("requirements.txt"),
            normalise_requirements(requirements),
        )?;
        Ok(staging)
    }
}

/// An environment being built; removed when dropped uncommitted (a failed build leaves
/// nothing behind).
#[derive(Debug)]
pub(crate) struct Staging {
    dir: PathBuf,
    root: PathBuf,
    hash: String,
    committed: bool,
}

impl Staging {
    pub(crate) fn python_dir(&self) -> PathBuf {
        self.dir.join("python")
    }

    pub(crate) fn work_dir(&self) -> PathBuf {
        self.dir.join("work")
    }

    /// Makes the build durable and visible: fsyncs every installed file and directory, writes
    /// `env.json`, renames the directory to its hash and fsyncs `envs/`. Blocking IO.
    ///
    /// # Errors
    /// IO failures; the staging directory is then removed.
    pub(crate) fn commit(mut self, python: &str, build_seconds: f64) -> io::Result<EnvInfo> {
        // What was installed stays beside it, for operators; pip's scratch space goes.
        std::fs::rename(
            self.work_dir().join("requirements.txt"),
            self.dir.join("requirements.txt"),
        )?;
        std::fs::remove_dir_all(self.work_dir())?;
        std::fs::File::open(self.dir.join("requirements.txt"))?.sync_all()?;
        let size_bytes = sync_tree(&self.python_dir())?;
        let info = EnvInfo {
            hash: self.hash.clone(),
            python: python.to_owned(),
            size_bytes,
            created_ms: crate::now_ms(),
            build_seconds,
        };
        let mut file = std::fs::File::create(self.dir.join(INFO_FILE))?;
        file.write_all(&serde_json::to_vec_pretty(&info).map_err(io::Error::other)?)?;
        file.sync_all()?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        std::fs::rename(&self.dir, self.root.join(&self.hash))?;
        self.committed = true;
        std::fs::File::open(&self.root)?.sync_all()?;
        Ok(info)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Fsyncs every regular file and directory under `dir` (not following symlinks); returns the
/// total size of the regular files.
fn sync_tree(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += sync_tree(&entry.path())?;
        } else if kind.is_file() {
            let file = std::fs::File::open(entry.path())?;
            file.sync_all()?;
            total += file.metadata()?.len();
        }
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "python3.11-x86_64";

    #[test]
    fn formatting_does_not_change_the_hash() {
        let plain = "numpy==2.1.0\nrequests>=2.31\n";
        let noisy = "# pinned for the OCR model\n\n  numpy==2.1.0   # fast\n\t\nrequests>=2.31  \n";
        assert_eq!(normalise_requirements(noisy), plain);
        assert_eq!(environment_hash(plain, TAG), environment_hash(noisy, TAG));
        let continued = "numpy==2.1.0 \\\n  ; python_version >= '3.9'\n";
        assert_eq!(
            normalise_requirements(continued),
            "numpy==2.1.0 ; python_version >= '3.9'\n"
        );
    }

    #[test]
    fn contents_and_interpreter_change_the_hash() {
        let a = environment_hash("numpy==2.1.0\n", TAG);
        assert_ne!(a, environment_hash("numpy==2.1.1\n", TAG));
        assert_ne!(a, environment_hash("numpy==2.1.0\n", "python3.12-x86_64"));
        assert!(is_environment_hash(&a));
    }

    #[test]
    fn a_hash_inside_a_url_is_not_a_comment() {
        let line = "pkg @ https://example.org/pkg-1.0.tar.gz#sha256=abc";
        assert_eq!(normalise_requirements(line), format!("{line}\n"));
    }

    #[test]
    fn only_hashes_name_environments() {
        assert!(!is_environment_hash("../../etc"));
        assert!(!is_environment_hash(&"A".repeat(64)));
        assert!(!is_environment_hash(&"a".repeat(63)));
    }

    #[test]
    fn a_commit_makes_the_environment_visible_and_a_drop_leaves_nothing() {
        let data = tempfile::tempdir().expect("tempdir");
        let store = EnvStore::open(data.path()).expect("open");
        let hash = environment_hash("tinydep==1.0\n", TAG);

        let failed = store.stage(&hash, "tinydep==1.0\n").expect("stage");
        std::fs::write(failed.python_dir().join("half.py"), "x = 1").expect("write");
        assert_eq!(store.info(&hash), None, "a build in progress is invisible");
        drop(failed);
        assert_eq!(
            std::fs::read_dir(data.path().join("envs"))
                .expect("ls")
                .count(),
            0
        );

        let staging = store
            .stage(&hash, "# comment\ntinydep==1.0\n")
            .expect("stage");
        std::fs::create_dir_all(staging.python_dir().join("tinydep")).expect("mkdir");
        std::fs::write(
            staging.python_dir().join("tinydep/__init__.py"),
            "VALUE = 42\n",
        )
        .expect("write");
        let info = staging.commit(TAG, 1.5).expect("commit");
        assert_eq!(info.size_bytes, 11);
        assert_eq!(store.info(&hash), Some(info.clone()));
        assert_eq!(store.list(), vec![info]);
        assert!(
            store
                .python_dir(&hash)
                .join("tinydep/__init__.py")
                .is_file()
        );
        let names: Vec<String> = std::fs::read_dir(data.path().join("envs"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![hash.clone()], "no staging directory is left");
        let kept = std::fs::read_to_string(
            data.path()
                .join("envs")
                .join(&hash)
                .join("requirements.txt"),
        )
        .expect("requirements kept");
        assert_eq!(kept, "tinydep==1.0\n");
    }

    #[test]
    fn collection_keeps_only_environments_in_use() {
        let data = tempfile::tempdir().expect("tempdir");
        let store = EnvStore::open(data.path()).expect("open");
        let used = environment_hash("a\n", TAG);
        let unused = environment_hash("b\n", TAG);
        for hash in [&used, &unused] {
            store
                .stage(hash, "x\n")
                .expect("stage")
                .commit(TAG, 0.0)
                .expect("commit");
        }
        let interrupted = store.stage(&used, "x\n").expect("stage");
        std::mem::forget(interrupted); // as if the server died mid-build
        store.collect(&HashSet::from([used.clone()]));
        assert!(store.info(&used).is_some());
        assert!(store.info(&unused).is_none());
        assert_eq!(
            std::fs::read_dir(data.path().join("envs"))
                .expect("ls")
                .count(),
            1
        );
    }

    #[test]
    fn locks_are_forgotten_when_unused() {
        let data = tempfile::tempdir().expect("tempdir");
        let store = EnvStore::open(data.path()).expect("open");
        let first = store.build_lock("h");
        let second = store.build_lock("h");
        assert!(Arc::ptr_eq(&first, &second), "one lock per hash");
        store.release_lock("h", first);
        assert_eq!(
            store.building.lock().expect("map").len(),
            1,
            "still waited on"
        );
        store.release_lock("h", second);
        assert!(store.building.lock().expect("map").is_empty());
    }
}
