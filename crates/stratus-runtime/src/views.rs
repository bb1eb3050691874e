//! A cache of resolved function versions. Every invocation resolves its function and version;
//! reading both rows (and again for the reserved concurrency) was a tenth of a warm invocation's
//! server time. Every change to functions goes through this process's `Functions`, which
//! invalidates the whole cache after committing (changes are rare; invocations are not).
//!
//! A generation counter closes the race between a resolve that read old rows and a change that
//! committed after that read: the resolve only caches when no change happened in between. With
//! several server processes on one database (the Kubernetes backend), changes made elsewhere
//! would need a notification to invalidate; this cache is for the single-process server.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::functions::FunctionView;

type Key = (String, String, String);

#[derive(Debug, Default)]
pub(crate) struct ViewCache {
    inner: Mutex<(u64, HashMap<Key, FunctionView>)>,
}

/// How many versions are cached before the cache starts over (bounds memory, not correctness).
const CAPACITY: usize = 4096;

impl ViewCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<Key, FunctionView>)> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The generation to pass to [`ViewCache::insert`] after reading from the database.
    pub fn generation(&self) -> u64 {
        self.lock().0
    }

    pub fn get(&self, project: &str, name: &str, version: &str) -> Option<FunctionView> {
        self.lock()
            .1
            .get(&(project.to_owned(), name.to_owned(), version.to_owned()))
            .cloned()
    }

    /// Caches a view read at `generation`, unless something changed since.
    pub fn insert(&self, generation: u64, view: &FunctionView) {
        let mut inner = self.lock();
        if inner.0 != generation {
            return;
        }
        if inner.1.len() >= CAPACITY {
            inner.1.clear();
        }
        let key = (
            view.version.project.clone(),
            view.version.name.clone(),
            view.version.version.clone(),
        );
        inner.1.insert(key, view.clone());
    }

    /// Forgets everything; call after a change commits.
    pub fn invalidate(&self) {
        let mut inner = self.lock();
        inner.0 += 1;
        inner.1.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_meta::{FunctionRecord, VersionRecord};

    fn view(name: &str) -> FunctionView {
        FunctionView {
            function: FunctionRecord {
                project: "p".into(),
                name: name.into(),
                reserved_concurrency: None,
                created_ms: 0,
                execution_key: "k".into(),
            },
            version: VersionRecord {
                project: "p".into(),
                name: name.into(),
                version: "$LATEST".into(),
                config: stratus_core::FunctionConfig::new("python3.11", "app.handler"),
                code_sha256: String::new(),
                code_size: 0,
                last_modified_ms: 0,
                revision_id: "r".into(),
            },
        }
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_cached() {
        let cache = ViewCache::default();
        let before = cache.generation();
        cache.invalidate(); // a change committed after the read began
        cache.insert(before, &view("f"));
        assert!(cache.get("p", "f", "$LATEST").is_none());

        let now = cache.generation();
        cache.insert(now, &view("f"));
        assert_eq!(
            cache.get("p", "f", "$LATEST").map(|v| v.function.name),
            Some("f".into())
        );
        cache.invalidate();
        assert!(cache.get("p", "f", "$LATEST").is_none());
    }
}
