//! How much work each measurement does: every level stops at whichever limit it reaches first.

use std::time::Duration;

use bytes::Bytes;
use rand::Rng as _;

/// Size of the small objects: below Stratus's 32 KiB inline threshold, so they go to SQLite.
pub const SMALL_SIZE: usize = 4 * 1024;
/// Size of the large objects: big enough that per-request overhead disappears.
pub const LARGE_SIZE: usize = 64 * 1024 * 1024;
/// Client concurrency levels for the small-object figures.
pub const CONCURRENCY: [usize; 2] = [1, 16];

/// Limits for one small-object level (one figure).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_time: Duration,
    pub max_ops: u64,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    pub small: Limits,
    /// Untimed requests per worker before each small level, so connections are open and the
    /// server's caches are warm when the clock starts.
    pub warmup_per_worker: u64,
    /// Repetitions of each 64 MiB transfer; the median is reported.
    pub large_reps: usize,
    /// Stop repeating 64 MiB transfers after this long (at least one always runs).
    pub large_max_time: Duration,
}

impl Plan {
    pub fn full() -> Self {
        Self {
            quick: false,
            small: Limits {
                max_time: Duration::from_secs(5),
                max_ops: 20_000,
            },
            warmup_per_worker: 8,
            large_reps: 5,
            large_max_time: Duration::from_secs(60),
        }
    }

    /// About a fifth of the full run.
    pub fn quick() -> Self {
        Self {
            quick: true,
            small: Limits {
                max_time: Duration::from_secs(1),
                max_ops: 4_000,
            },
            warmup_per_worker: 2,
            large_reps: 1,
            large_max_time: Duration::from_secs(12),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "each 4 KiB level runs for at most {} s or {} requests; 64 MiB: {} repetition(s), median reported",
            self.small.max_time.as_secs(),
            self.small.max_ops,
            self.large_reps
        )
    }
}

/// The bytes every target writes. Random, so that nothing along the way can compress or
/// deduplicate them away.
pub fn random_bytes(len: usize) -> Bytes {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    Bytes::from(bytes)
}
