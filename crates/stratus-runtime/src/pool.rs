//! Warm worker pools and the limits on them.
//!
//! One pool per function version *revision* (an update of `$LATEST` starts a new pool; the old
//! one drains). Reserved concurrency counts across all versions of a function, as on Lambda.
//! All workers together may be sized at most at the memory budget; a cold start that does not
//! fit evicts idle workers of other functions, least recently used first.
//! A project may also have quotas on its concurrent invocations and its workers' memory
//! ([`ProjectLimits`]); its memory limit is enforced like the global budget, evicting the
//! project's own idle workers of other functions first.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::worker::Worker;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub project: String,
    pub function: String,
    pub version: String,
    pub revision: String,
}

impl PoolKey {
    fn function_key(&self) -> (String, String) {
        (self.project.clone(), self.function.clone())
    }
}

#[derive(Default)]
struct Pool {
    /// Idle workers, most recently used last (reused first, so the others can cool down).
    idle: Vec<Worker>,
    busy: u32,
}

#[derive(Default)]
struct State {
    pools: HashMap<PoolKey, Pool>,
    busy_by_function: HashMap<(String, String), u32>,
    /// Memory of every live worker, idle or busy, plus reserved cold-start slots.
    memory_mb: u64,
    /// The same two figures per project, for the project quotas.
    busy_by_project: HashMap<String, u32>,
    memory_by_project: HashMap<String, u64>,
}

impl State {
    fn add_memory(&mut self, project: &str, mb: u64) {
        self.memory_mb += mb;
        *self
            .memory_by_project
            .entry(project.to_owned())
            .or_default() += mb;
    }

    fn free_memory(&mut self, project: &str, mb: u64) {
        self.memory_mb = self.memory_mb.saturating_sub(mb);
        if let Some(used) = self.memory_by_project.get_mut(project) {
            *used = used.saturating_sub(mb);
            if *used == 0 {
                self.memory_by_project.remove(project);
            }
        }
    }

    fn project_memory(&self, project: &str) -> u64 {
        self.memory_by_project.get(project).copied().unwrap_or(0)
    }
}

/// A project's quotas on running work; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProjectLimits {
    pub concurrent_invocations: Option<u64>,
    pub worker_memory_mb: Option<u64>,
}

/// What a project runs right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectLoad {
    pub concurrent_invocations: u64,
    pub worker_memory_mb: u64,
}

/// What `acquire` granted.
pub(crate) enum Slot {
    Warm(Box<Worker>),
    /// Memory and concurrency are reserved; the caller starts a worker.
    Cold,
}

pub(crate) struct Pools {
    state: Mutex<State>,
    /// Signalled whenever a slot frees up; asynchronous invocations wait on it.
    pub freed: Notify,
    budget_mb: u64,
}

/// Why no slot was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    Concurrency,
    Memory,
    /// The project's concurrent-invocation quota.
    ProjectConcurrency,
    /// The project's worker-memory quota.
    ProjectMemory,
}

impl Pools {
    pub fn new(budget_mb: u64) -> Self {
        Self {
            state: Mutex::new(State::default()),
            freed: Notify::new(),
            budget_mb,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves counts that are still the best we know.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A warm worker, or a reserved slot for a new one.
    pub fn acquire(
        &self,
        key: &PoolKey,
        memory_mb: u32,
        reserved: Option<u32>,
        project: ProjectLimits,
    ) -> Result<Slot, Denied> {
        let mut state = self.lock();
        let project_busy = state
            .busy_by_project
            .get(&key.project)
            .copied()
            .unwrap_or(0);
        if project
            .concurrent_invocations
            .is_some_and(|limit| u64::from(project_busy) >= limit)
        {
            return Err(Denied::ProjectConcurrency);
        }
        let busy = state
            .busy_by_function
            .get(&key.function_key())
            .copied()
            .unwrap_or(0);
        if reserved.is_some_and(|limit| busy >= limit) {
            return Err(Denied::Concurrency);
        }
        let mut dead_memory = 0u64;
        let warm = {
            let pool = state.pools.entry(key.clone()).or_default();
            let mut found = None;
            while let Some(mut worker) = pool.idle.pop() {
                if worker.is_alive() {
                    found = Some(worker);
                    break;
                }
                dead_memory += u64::from(worker.memory_mb);
            }
            found
        };
        state.free_memory(&key.project, dead_memory);
        let slot = match warm {
            Some(worker) => Slot::Warm(Box::new(worker)),
            None => {
                let need = u64::from(memory_mb);
                if let Some(limit) = project.worker_memory_mb {
                    let used = state.project_memory(&key.project);
                    if used + need > limit {
                        evict_idle(&mut state, key, Some(&key.project), used + need - limit);
                    }
                    if state.project_memory(&key.project) + need > limit {
                        return Err(Denied::ProjectMemory);
                    }
                }
                if state.memory_mb + need > self.budget_mb {
                    let excess = state.memory_mb + need - self.budget_mb;
                    evict_idle(&mut state, key, None, excess);
                }
                if state.memory_mb + need > self.budget_mb {
                    return Err(Denied::Memory);
                }
                state.add_memory(&key.project, need);
                Slot::Cold
            }
        };
        if let Some(pool) = state.pools.get_mut(key) {
            pool.busy += 1;
        }
        *state
            .busy_by_function
            .entry(key.function_key())
            .or_default() += 1;
        *state
            .busy_by_project
            .entry(key.project.clone())
            .or_default() += 1;
        Ok(slot)
    }

    /// Ends a use of a slot: a healthy worker goes back to the idle list; `None` frees the memory.
    pub fn release(&self, key: &PoolKey, worker: Option<Worker>, memory_mb: u32) {
        let dropped;
        {
            let mut state = self.lock();
            if let Some(busy) = state.busy_by_function.get_mut(&key.function_key()) {
                *busy = busy.saturating_sub(1);
            }
            if let Some(busy) = state.busy_by_project.get_mut(&key.project) {
                *busy = busy.saturating_sub(1);
            }
            match (state.pools.get_mut(key), worker) {
                (Some(pool), Some(worker)) => {
                    pool.busy = pool.busy.saturating_sub(1);
                    pool.idle.push(worker);
                    dropped = None;
                }
                (pool, worker) => {
                    if let Some(pool) = pool {
                        pool.busy = pool.busy.saturating_sub(1);
                    }
                    state.free_memory(&key.project, u64::from(memory_mb));
                    dropped = worker;
                }
            }
        }
        // Killing happens outside the lock.
        drop(dropped);
        self.freed.notify_waiters();
    }

    /// Adds a pre-warmed worker (min_instances) to a pool whose memory was reserved by `acquire`.
    pub fn add_idle(&self, key: &PoolKey, worker: Worker) {
        self.release(key, Some(worker), 0);
    }

    /// The invocations a project runs now and the memory of its live workers.
    pub fn project_load(&self, project: &str) -> ProjectLoad {
        let state = self.lock();
        ProjectLoad {
            concurrent_invocations: u64::from(
                state.busy_by_project.get(project).copied().unwrap_or(0),
            ),
            worker_memory_mb: state.project_memory(project),
        }
    }

    /// Whether the pool has an idle worker (which may have died since; `acquire` decides).
    pub fn has_idle(&self, key: &PoolKey) -> bool {
        self.lock()
            .pools
            .get(key)
            .is_some_and(|pool| !pool.idle.is_empty())
    }

    /// Live workers (idle + busy) of a pool.
    pub fn size(&self, key: &PoolKey) -> usize {
        self.lock()
            .pools
            .get(key)
            .map_or(0, |pool| pool.idle.len() + pool.busy as usize)
    }

    /// Stops idle workers unused for `keep_warm`, keeping `min_of(key)` per pool; drops pools
    /// that `retired` says are obsolete (deleted function, replaced revision).
    pub fn reap(
        &self,
        keep_warm: Duration,
        min_of: impl Fn(&PoolKey) -> usize,
        retired: impl Fn(&PoolKey) -> bool,
    ) {
        let mut stopped = Vec::new();
        {
            let mut state = self.lock();
            let now = Instant::now();
            let mut freed: Vec<(String, u64)> = Vec::new();
            for (key, pool) in &mut state.pools {
                let keep = if retired(key) { 0 } else { min_of(key) };
                // Oldest first: the idle list is ordered by last use.
                while pool.idle.len() + pool.busy as usize > keep && !pool.idle.is_empty() {
                    let expired =
                        retired(key) || now.duration_since(pool.idle[0].last_used) >= keep_warm;
                    if !expired {
                        break;
                    }
                    let worker = pool.idle.remove(0);
                    freed.push((key.project.clone(), u64::from(worker.memory_mb)));
                    stopped.push(worker);
                }
            }
            for (project, mb) in freed {
                state.free_memory(&project, mb);
            }
            state
                .pools
                .retain(|key, pool| pool.busy > 0 || !pool.idle.is_empty() || !retired(key));
        }
        if !stopped.is_empty() {
            tracing::debug!(count = stopped.len(), "stopping idle workers");
            drop(stopped);
            self.freed.notify_waiters();
        }
    }

    /// Stops every idle worker (shutdown).
    pub fn clear(&self) {
        let workers: Vec<Worker> = {
            let mut state = self.lock();
            let mut workers: Vec<(String, Worker)> = Vec::new();
            for (key, pool) in &mut state.pools {
                workers.extend(pool.idle.drain(..).map(|w| (key.project.clone(), w)));
            }
            for (project, worker) in &workers {
                state.free_memory(project, u64::from(worker.memory_mb));
            }
            workers.into_iter().map(|(_, w)| w).collect()
        };
        drop(workers);
    }
}

/// Frees at least `needed` MB by stopping idle workers of pools other than `except` (only of
/// `project`'s pools when given), least recently used first.
fn evict_idle(state: &mut State, except: &PoolKey, project: Option<&str>, needed: u64) {
    let mut candidates: Vec<(Instant, PoolKey)> = state
        .pools
        .iter()
        .filter(|(key, _)| *key != except)
        .filter(|(key, _)| project.is_none_or(|p| key.project == p))
        .flat_map(|(key, pool)| pool.idle.iter().map(move |w| (w.last_used, key.clone())))
        .collect();
    candidates.sort_by_key(|(used, _)| *used);
    let mut freed = 0u64;
    for (_, key) in candidates {
        if freed >= needed {
            break;
        }
        if let Some(pool) = state.pools.get_mut(&key)
            && !pool.idle.is_empty()
        {
            let worker = pool.idle.remove(0);
            let mb = u64::from(worker.memory_mb);
            freed += mb;
            state.free_memory(&key.project, mb);
        }
    }
}
