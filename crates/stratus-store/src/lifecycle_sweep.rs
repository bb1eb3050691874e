//! The lifecycle sweeper: a background task that applies every enabled lifecycle rule of every
//! bucket, every interval. It keeps no state of its own: each pass reads the rules, the versions
//! and the uploads from the database, and each removal is one transaction through the same
//! repository calls a client's DELETE or AbortMultipartUpload makes (so events, quotas and blob
//! collection behave the same). A crash mid-pass loses nothing: what was not done yet is still
//! due, and the next pass (after a restart, the first one) does it.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use stratus_core::metrics::Metrics;
use stratus_core::{EventKind, Role};
use stratus_identity::Principal;
use stratus_meta::{
    BucketConfigKind, MetaError, ObjectVersionSummary, VersionCursor, VersionSelector,
};

use crate::lifecycle::{Candidate, DAY_MS, LifecycleRule, next_midnight, parse_rules};
use crate::versions::new_version_id;
use crate::{Store, StoreResult, now_ms};

/// Who lifecycle events name as their principal (AWS names the S3 service).
const LIFECYCLE_PRINCIPAL: &str = "s3.amazonaws.com";
/// Versions read per metadata query.
const BATCH: usize = 1000;

/// How long one lifecycle "day" is. Real days count from the next midnight UTC, as S3 counts
/// them; a shortened day (a test knob) counts from the instant itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleClock {
    pub day_ms: i64,
}

impl Default for LifecycleClock {
    fn default() -> Self {
        Self { day_ms: DAY_MS }
    }
}

impl LifecycleClock {
    /// When something that started at `start_ms` is `days` days old.
    #[must_use]
    pub fn due(self, start_ms: i64, days: i32) -> i64 {
        let span = i64::from(days).saturating_mul(self.day_ms);
        if self.day_ms == DAY_MS {
            next_midnight(start_ms).saturating_add(span)
        } else {
            start_ms.saturating_add(span)
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired_current: u64,
    pub expired_noncurrent: u64,
    pub delete_markers_removed: u64,
    pub uploads_aborted: u64,
    /// Versions a rule would have removed but Object Lock keeps.
    pub locked_skipped: u64,
}

impl SweepReport {
    fn record(&self, metrics: &Metrics) {
        for (action, n) in [
            ("expire-current", self.expired_current),
            ("expire-noncurrent", self.expired_noncurrent),
            ("remove-delete-marker", self.delete_markers_removed),
            ("abort-upload", self.uploads_aborted),
            ("skip-locked", self.locked_skipped),
        ] {
            if n > 0 {
                metrics.s3_lifecycle_actions.with(&[action]).add(n);
            }
        }
    }
}

fn selector_of(version: &ObjectVersionSummary) -> VersionSelector {
    version
        .version_id
        .clone()
        .map_or(VersionSelector::Null, VersionSelector::Id)
}

/// One bucket's pass: its enabled rules and the principal its events name.
struct BucketPass<'a> {
    bucket: &'a str,
    rules: Vec<LifecycleRule>,
    actor: Principal,
    now: i64,
    clock: LifecycleClock,
}

impl Store {
    /// Runs a pass every `interval` (the first right away) until `stop` completes.
    pub async fn run_lifecycle(
        self: Arc<Self>,
        interval: Duration,
        clock: LifecycleClock,
        metrics: Option<Arc<Metrics>>,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            match self.sweep_lifecycle(now_ms(), clock).await {
                Ok(report) => {
                    if let Some(metrics) = &metrics {
                        report.record(metrics);
                    }
                    if report != SweepReport::default() {
                        tracing::info!(?report, "lifecycle pass");
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "lifecycle pass failed; retrying next interval")
                }
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One pass over every bucket with a lifecycle configuration, as of `now`.
    ///
    /// # Errors
    /// Metadata failures listing the buckets; a failing bucket is logged and skipped.
    pub async fn sweep_lifecycle(
        &self,
        now: i64,
        clock: LifecycleClock,
    ) -> StoreResult<SweepReport> {
        let mut report = SweepReport::default();
        for (bucket, text) in self
            .meta
            .buckets_with_config(BucketConfigKind::Lifecycle)
            .await?
        {
            let rules: Vec<LifecycleRule> = parse_rules(&text)
                .into_iter()
                .filter(|rule| rule.enabled)
                .collect();
            if rules.is_empty() {
                continue;
            }
            let Some(record) = self.meta.get_bucket(&bucket).await? else {
                continue;
            };
            let pass = BucketPass {
                bucket: &bucket,
                rules,
                actor: Principal {
                    access_key_id: LIFECYCLE_PRINCIPAL.into(),
                    project: record.project,
                    role: Role::Admin,
                    chain_depth: 0,
                },
                now,
                clock,
            };
            if let Err(err) = self.sweep_bucket(&pass, &mut report).await {
                tracing::warn!(bucket, error = %err, "lifecycle pass of a bucket failed");
            }
        }
        Ok(report)
    }

    async fn sweep_bucket(
        &self,
        pass: &BucketPass<'_>,
        report: &mut SweepReport,
    ) -> StoreResult<()> {
        let mut after = VersionCursor::default();
        loop {
            let mut batch = self
                .meta
                .list_object_versions(pass.bucket, "", after.clone(), BATCH)
                .await?;
            let full = batch.len() >= BATCH;
            let Some(last_key) = batch.last().map(|v| v.key.clone()) else {
                break;
            };
            // A full batch may end inside a key: leave that key whole for the next batch, unless
            // it is the only key (then its first BATCH versions are all this pass sees).
            if full && batch.iter().any(|v| v.key != last_key) {
                batch.retain(|v| v.key != last_key);
            }
            let resume = batch.last().map(|v| v.key.clone()).unwrap_or(last_key);
            let mut start = 0;
            while start < batch.len() {
                let end = batch[start..]
                    .iter()
                    .position(|v| v.key != batch[start].key)
                    .map_or(batch.len(), |n| start + n);
                self.sweep_key(pass, &batch[start..end], report).await?;
                start = end;
            }
            if !full {
                break;
            }
            after = VersionCursor {
                key: resume.into_bytes(),
                version: None,
            };
        }
        self.abort_stale_uploads(pass, report).await
    }

    /// Whether `rule` selects `version`, reading its tags only when the filter names some.
    async fn selects(
        &self,
        pass: &BucketPass<'_>,
        rule: &LifecycleRule,
        version: &ObjectVersionSummary,
    ) -> StoreResult<bool> {
        let tags = if rule.needs_tags() && !version.delete_marker {
            self.meta
                .get_object_version(pass.bucket, &version.key, selector_of(version))
                .await?
                .map(|record| record.headers.tags)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(rule.matches(Candidate {
            key: &version.key,
            size: version.size,
            tags: &tags,
        }))
    }

    /// Applies the rules to one key's versions (newest first). A change to the current version
    /// ends the key's turn: the next pass sees the new state.
    async fn sweep_key(
        &self,
        pass: &BucketPass<'_>,
        versions: &[ObjectVersionSummary],
        report: &mut SweepReport,
    ) -> StoreResult<()> {
        let Some(current) = versions.first().filter(|v| v.is_latest) else {
            return Ok(());
        };
        let mut removed: HashSet<Option<String>> = HashSet::new();
        for rule in &pass.rules {
            if !current.key.starts_with(rule.key_prefix()) {
                continue;
            }
            if let Some(expiration) = &rule.expiration {
                let expires_at = match (expiration.days, expiration.date_ms) {
                    (Some(days), _) => Some(pass.clock.due(current.last_modified_ms, days)),
                    (None, Some(date)) => Some(date),
                    (None, None) => None,
                };
                if !current.delete_marker
                    && expires_at.is_some_and(|at| pass.now >= at)
                    && self.selects(pass, rule, current).await?
                {
                    if self.expire_current(pass, current).await? {
                        report.expired_current += 1;
                    }
                    return Ok(());
                }
                // A delete marker with no versions left behind it is an expired object
                // delete marker; a Days rule removes those too, as S3's does.
                let marker_rule = expiration.expired_object_delete_marker == Some(true)
                    || expires_at.is_some_and(|at| pass.now >= at);
                if current.delete_marker && versions.len() == 1 && marker_rule {
                    if self.remove_version(pass, current).await? {
                        report.delete_markers_removed += 1;
                    }
                    return Ok(());
                }
            }
            if let Some(noncurrent) = &rule.noncurrent_expiration {
                let keep =
                    usize::try_from(noncurrent.newer_noncurrent_versions.unwrap_or(0)).unwrap_or(0);
                let mut kept = 0;
                for (newer, version) in versions.iter().zip(versions.iter().skip(1)) {
                    if removed.contains(&version.version_id)
                        || !self.selects(pass, rule, version).await?
                    {
                        continue;
                    }
                    if kept < keep {
                        kept += 1;
                        continue;
                    }
                    // Noncurrent since the next newer version was written.
                    let due = pass
                        .clock
                        .due(newer.last_modified_ms, noncurrent.noncurrent_days);
                    if pass.now < due {
                        continue;
                    }
                    if self.remove_version(pass, version).await? {
                        report.expired_noncurrent += 1;
                        removed.insert(version.version_id.clone());
                    } else {
                        report.locked_skipped += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Expires a current version as a client's DELETE would: removed in an unversioned bucket,
    /// hidden by a delete marker in a versioned one. Only the version judged due is expired (a
    /// client's newer write since is left alone: `false`).
    async fn expire_current(
        &self,
        pass: &BucketPass<'_>,
        current: &ObjectVersionSummary,
    ) -> StoreResult<bool> {
        let event = self.pending_event(
            &pass.actor,
            EventKind::LifecycleExpirationDelete,
            (pass.bucket, &current.key, 0, ""),
        );
        let expected = (current.version_id.clone(), current.last_modified_ms);
        let Some(garbage) = self
            .meta
            .expire_current_if(pass.bucket, &current.key, expected, new_version_id(), event)
            .await?
        else {
            return Ok(false);
        };
        self.after_commit(garbage).await;
        Ok(true)
    }

    /// Removes one version for good; `false` when Object Lock keeps it.
    async fn remove_version(
        &self,
        pass: &BucketPass<'_>,
        version: &ObjectVersionSummary,
    ) -> StoreResult<bool> {
        let event = self.pending_event(
            &pass.actor,
            EventKind::LifecycleExpirationDelete,
            (pass.bucket, &version.key, 0, ""),
        );
        match self
            .meta
            .delete_object_version(
                pass.bucket,
                &version.key,
                selector_of(version),
                (now_ms(), false),
                event,
            )
            .await
        {
            Ok(garbage) => {
                self.after_commit(garbage).await;
                Ok(true)
            }
            Err(MetaError::ObjectLocked(_)) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    async fn abort_stale_uploads(
        &self,
        pass: &BucketPass<'_>,
        report: &mut SweepReport,
    ) -> StoreResult<()> {
        for rule in &pass.rules {
            let Some(days) = rule.abort_upload_days else {
                continue;
            };
            for upload in self
                .meta
                .list_uploads(pass.bucket, rule.key_prefix())
                .await?
            {
                if pass.now < pass.clock.due(upload.initiated_ms, days) {
                    continue;
                }
                match self.meta.abort_upload(&upload.upload_id).await {
                    Ok(garbage) => {
                        self.after_commit(garbage).await;
                        report.uploads_aborted += 1;
                    }
                    // Completed or aborted meanwhile (or by an earlier rule).
                    Err(MetaError::NotFound(_)) => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_days_count_from_the_next_midnight_test_days_from_the_instant() {
        let noon = 3 * DAY_MS + DAY_MS / 2;
        assert_eq!(LifecycleClock::default().due(noon, 1), 5 * DAY_MS);
        let fast = LifecycleClock { day_ms: 1000 };
        assert_eq!(fast.due(noon, 2), noon + 2000);
    }
}
