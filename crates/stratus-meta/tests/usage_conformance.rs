//! Conformance suite for [`UsageRepository`]: the checks take `&dyn UsageRepository` so every
//! backend runs the same functions; only the `#[tokio::test]` wrappers are per backend.

mod common;

use std::sync::Arc;

use common::put_sized;
use stratus_meta::{
    BucketRecord, HOUR_MS, InvocationTotals, ObjectRepository, RequestTotals, SqliteMeta,
    UsageDeltas, UsageRepository,
};

fn deltas(project: &str, function: &str, hour_ms: i64, requests: u64, mb_ms: u64) -> UsageDeltas {
    let mut deltas = UsageDeltas::default();
    deltas.invocations.insert(
        (project.into(), function.into(), hour_ms),
        InvocationTotals {
            requests,
            mb_ms,
            duration_ms: 1.5,
            errors: 1,
        },
    );
    deltas.requests.insert(
        (project.into(), hour_ms),
        RequestTotals {
            writes: requests,
            reads: 2 * requests,
        },
    );
    deltas
}

async fn flushes_add_to_the_stored_hours(repo: &dyn UsageRepository) {
    let hour = 10 * HOUR_MS;
    repo.add_usage(deltas("a", "f", hour, 2, 512))
        .await
        .expect("add");
    repo.add_usage(deltas("a", "f", hour, 3, 256))
        .await
        .expect("add again");
    repo.add_usage(deltas("a", "f", hour + HOUR_MS, 1, 1))
        .await
        .expect("next hour");
    repo.add_usage(deltas("b", "f", hour, 7, 7))
        .await
        .expect("other project");
    let rows = repo
        .usage_rows(Some("a"), hour, hour + HOUR_MS)
        .await
        .expect("rows");
    assert_eq!(rows.functions.len(), 1, "{rows:?}");
    let totals = rows.functions[0].totals;
    assert_eq!((totals.requests, totals.mb_ms, totals.errors), (5, 768, 2));
    assert!((totals.duration_ms - 3.0).abs() < 1e-9);
    assert_eq!(rows.s3.len(), 1);
    assert_eq!(
        rows.s3[0].requests,
        RequestTotals {
            writes: 5,
            reads: 10
        }
    );
    let everyone = repo.usage_rows(None, 0, i64::MAX).await.expect("all");
    assert_eq!(everyone.functions.len(), 3);
    assert_eq!(everyone.s3.len(), 3);
    let before = repo.usage_rows(None, 0, hour).await.expect("before");
    assert!(before.functions.is_empty() && before.s3.is_empty());
}

async fn storage_samples_credit_bytes_times_hours(
    objects: &dyn ObjectRepository,
    usage: &dyn UsageRepository,
) {
    for (name, project) in [("sa", "s"), ("sb", "s"), ("tc", "t")] {
        objects
            .create_bucket(BucketRecord {
                name: name.into(),
                project: project.into(),
                created_ms: 1,
                notifications: Vec::new(),
                versioning: Default::default(),
                object_lock: None,
            })
            .await
            .expect("bucket");
    }
    put_sized(objects, "sa", "one", 100).await.expect("put");
    put_sized(objects, "sb", "two", 50).await.expect("put");
    put_sized(objects, "tc", "three", 7).await.expect("put");
    let stored = usage.stored_bytes().await.expect("stored");
    assert_eq!(stored, vec![("s".to_owned(), 150), ("t".to_owned(), 7)]);
    let start = 1000 * HOUR_MS;
    // The first sample only sets the clock; the next credits the half hour since.
    let first = usage
        .add_storage_sample(start, HOUR_MS, stored.clone())
        .await;
    assert_eq!(first.expect("first"), 0.0);
    let half = usage
        .add_storage_sample(start + HOUR_MS / 2, HOUR_MS, stored.clone())
        .await
        .expect("second");
    assert!((half - 0.5).abs() < 1e-12);
    // A long gap (server down) is clamped to one interval.
    let clamped = usage
        .add_storage_sample(start + 10 * HOUR_MS, HOUR_MS, stored)
        .await
        .expect("third");
    assert!((clamped - 1.0).abs() < 1e-12);
    let rows = usage
        .usage_rows(Some("s"), start, i64::MAX)
        .await
        .expect("rows");
    let byte_hours: f64 = rows.s3.iter().map(|row| row.byte_hours).sum();
    assert!((byte_hours - 150.0 * 1.5).abs() < 1e-9, "{rows:?}");
}

fn sqlite() -> (tempfile::TempDir, Arc<SqliteMeta>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("open");
    (dir, Arc::new(meta))
}

#[tokio::test]
async fn sqlite_usage_repository_conforms() {
    let (_dir, meta) = sqlite();
    flushes_add_to_the_stored_hours(meta.as_ref()).await;
    storage_samples_credit_bytes_times_hours(meta.as_ref(), meta.as_ref()).await;
}
