//! Bucket lifecycle configuration: rules validated as S3 validates them, stored as one JSON
//! document (`BucketConfigKind::Lifecycle`), the filter a rule applies to, and the expiry date
//! S3 announces in `x-amz-expiration`. The sweeper that executes the rules is
//! `lifecycle_sweep.rs`.
//!
//! Transitions are validated and stored but never executed: Stratus has one storage class, so
//! there is nowhere to move an object to. Accepting them (rather than refusing) keeps
//! configurations written for AWS (Terraform modules, CDK defaults) working unchanged.

use serde::{Deserialize, Serialize};
use stratus_identity::Principal;
use stratus_meta::{BucketConfigKind, ObjectRecord};

use crate::{Store, StoreError, StoreResult};

/// S3 keeps at most this many rules per bucket.
const MAX_RULES: usize = 1000;
/// The longest rule ID S3 accepts.
const MAX_ID: usize = 255;
/// The most noncurrent versions a rule may keep (`NewerNoncurrentVersions`).
const MAX_NEWER_NONCURRENT: i32 = 100;
/// The storage classes a transition may name.
const TRANSITION_CLASSES: [&str; 6] = [
    "GLACIER",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];
/// One day, in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// One lifecycle rule, shaped as S3's XML so a GET returns what was PUT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// Generated when the request has none, as S3 does.
    pub id: String,
    pub enabled: bool,
    /// The legacy top-level `Prefix` (V1 rules); a rule has it or `filter`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<RuleFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<Expiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    /// `AbortIncompleteMultipartUpload`'s `DaysAfterInitiation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_upload_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noncurrent_transitions: Vec<NoncurrentTransition>,
}

/// `Filter`: at most one of its fields (several conditions go in `and`); all empty is the
/// empty filter, which matches every object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub and: Option<AndFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<i64>,
}

/// `Filter/And`: every condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AndFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<i64>,
}

/// `Expiration`: exactly one of its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    /// Midnight UTC, in Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    pub noncurrent_days: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_ms: Option<i64>,
    pub storage_class: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentTransition {
    pub noncurrent_days: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<i32>,
    pub storage_class: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidConfiguration {
        code,
        message: message.into(),
    }
}

fn malformed(message: &str) -> StoreError {
    refuse("MalformedXML", message)
}

fn check_midnight(date_ms: i64, what: &str) -> StoreResult<()> {
    if date_ms.rem_euclid(DAY_MS) == 0 {
        Ok(())
    } else {
        Err(refuse(
            "InvalidArgument",
            format!("'Date' must be at midnight GMT ({what})"),
        ))
    }
}

fn check_filter(filter: &RuleFilter) -> StoreResult<()> {
    let set = [
        filter.prefix.is_some(),
        filter.tag.is_some(),
        filter.and.is_some(),
        filter.size_greater_than.is_some(),
        filter.size_less_than.is_some(),
    ];
    if set.iter().filter(|s| **s).count() > 1 {
        return Err(malformed(
            "a Filter holds one condition; combine several in And",
        ));
    }
    let tags: Vec<(String, String)> = match (&filter.tag, &filter.and) {
        (Some(tag), _) => vec![tag.clone()],
        (None, Some(and)) => and.tags.clone(),
        (None, None) => Vec::new(),
    };
    crate::validate_tags(&tags, crate::TagOwner::Bucket)?;
    let (gt, lt) = match &filter.and {
        Some(and) => (and.size_greater_than, and.size_less_than),
        None => (filter.size_greater_than, filter.size_less_than),
    };
    if gt.is_some_and(|n| n < 0) || lt.is_some_and(|n| n <= 0) {
        return Err(refuse(
            "InvalidArgument",
            "ObjectSizeGreaterThan must be at least 0 and ObjectSizeLessThan greater than 0",
        ));
    }
    if let (Some(gt), Some(lt)) = (gt, lt)
        && gt >= lt
    {
        return Err(refuse(
            "InvalidArgument",
            "ObjectSizeGreaterThan must be less than ObjectSizeLessThan",
        ));
    }
    Ok(())
}

fn check_expiration(expiration: &Expiration) -> StoreResult<()> {
    let kinds = [
        expiration.days.is_some(),
        expiration.date_ms.is_some(),
        expiration.expired_object_delete_marker.is_some(),
    ];
    match kinds.iter().filter(|k| **k).count() {
        0 => {
            return Err(malformed(
                "an Expiration needs Days, Date or ExpiredObjectDeleteMarker",
            ));
        }
        1 => {}
        _ => {
            return Err(malformed(
                "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy",
            ));
        }
    }
    if expiration.days.is_some_and(|d| d <= 0) {
        return Err(refuse(
            "InvalidArgument",
            "'Days' for Expiration action must be a positive integer",
        ));
    }
    if let Some(date) = expiration.date_ms {
        check_midnight(date, "Expiration")?;
    }
    Ok(())
}

fn check_transitions(rule: &LifecycleRule) -> StoreResult<()> {
    for t in &rule.transitions {
        if t.days.is_some() == t.date_ms.is_some() {
            return Err(malformed("a Transition needs either Days or Date"));
        }
        check_class(&t.storage_class)?;
        if let Some(days) = t.days {
            check_transition_days(days, &t.storage_class, "Transition")?;
        }
        if let Some(date) = t.date_ms {
            check_midnight(date, "Transition")?;
        }
    }
    for t in &rule.noncurrent_transitions {
        check_class(&t.storage_class)?;
        check_transition_days(
            t.noncurrent_days,
            &t.storage_class,
            "NoncurrentVersionTransition",
        )?;
        check_newer(t.newer_noncurrent_versions)?;
    }
    Ok(())
}

fn check_class(class: &str) -> StoreResult<()> {
    if TRANSITION_CLASSES.contains(&class) {
        Ok(())
    } else {
        Err(malformed("a transition names an unknown StorageClass"))
    }
}

fn check_transition_days(days: i32, class: &str, action: &str) -> StoreResult<()> {
    if days < 0 {
        return Err(refuse(
            "InvalidArgument",
            format!("'Days' for {action} action must be a nonnegative integer"),
        ));
    }
    if matches!(class, "STANDARD_IA" | "ONEZONE_IA") && days < 30 {
        return Err(refuse(
            "InvalidArgument",
            format!(
                "'Days' in {action} action must be greater than or equal to 30 for storageClass '{class}'"
            ),
        ));
    }
    Ok(())
}

fn check_newer(newer: Option<i32>) -> StoreResult<()> {
    if newer.is_some_and(|n| !(1..=MAX_NEWER_NONCURRENT).contains(&n)) {
        return Err(refuse(
            "InvalidArgument",
            "NewerNoncurrentVersions must be between 1 and 100",
        ));
    }
    Ok(())
}

fn check_rule(rule: &LifecycleRule) -> StoreResult<()> {
    if rule.id.chars().count() > MAX_ID {
        return Err(refuse(
            "InvalidArgument",
            "ID length should not exceed allowed limit of 255",
        ));
    }
    match (&rule.prefix, &rule.filter) {
        (Some(_), Some(_)) => {
            return Err(malformed("a rule has Filter or Prefix, not both"));
        }
        (None, None) => return Err(malformed("a rule needs a Filter or a Prefix")),
        (None, Some(filter)) => check_filter(filter)?,
        (Some(_), None) => {}
    }
    if rule.expiration.is_none()
        && rule.noncurrent_expiration.is_none()
        && rule.abort_upload_days.is_none()
        && rule.transitions.is_empty()
        && rule.noncurrent_transitions.is_empty()
    {
        return Err(refuse(
            "InvalidRequest",
            "At least one action needs to be specified in a rule",
        ));
    }
    if let Some(expiration) = &rule.expiration {
        check_expiration(expiration)?;
        if expiration.expired_object_delete_marker.is_some() && rule.has_tag_or_size_filter() {
            return Err(refuse(
                "InvalidRequest",
                "ExpiredObjectDeleteMarker cannot be specified with object tags or size filters",
            ));
        }
    }
    if let Some(noncurrent) = &rule.noncurrent_expiration {
        if noncurrent.noncurrent_days <= 0 {
            return Err(refuse(
                "InvalidArgument",
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
            ));
        }
        check_newer(noncurrent.newer_noncurrent_versions)?;
    }
    if let Some(days) = rule.abort_upload_days {
        if days <= 0 {
            return Err(refuse(
                "InvalidArgument",
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
            ));
        }
        if rule.has_tag_or_size_filter() {
            return Err(refuse(
                "InvalidRequest",
                "AbortIncompleteMultipartUpload cannot be specified with object tags or size filters",
            ));
        }
    }
    check_transitions(rule)
}

/// Checks a configuration as S3 does: 1 to 1000 rules, unique IDs of at most 255 characters,
/// one filter form per rule, positive day counts, dates at midnight UTC.
///
/// # Errors
/// `MalformedXML`, `InvalidArgument`, `InvalidRequest`, `InvalidTag`.
pub fn validate_lifecycle(rules: &[LifecycleRule]) -> StoreResult<()> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(malformed("a lifecycle configuration has 1 to 1000 rules"));
    }
    let mut ids = std::collections::HashSet::new();
    for rule in rules {
        check_rule(rule)?;
        if !ids.insert(rule.id.as_str()) {
            return Err(refuse(
                "InvalidArgument",
                "Rule ID must be unique. Found same ID for more than one rule",
            ));
        }
    }
    Ok(())
}

/// What a filter looks at in one object version.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub key: &'a str,
    pub size: u64,
    pub tags: &'a [(String, String)],
}

impl LifecycleRule {
    /// The key prefix every object the rule applies to starts with (`""`: every key).
    #[must_use]
    pub fn key_prefix(&self) -> &str {
        let filter = self.filter.as_ref();
        self.prefix
            .as_deref()
            .or_else(|| filter.and_then(|f| f.prefix.as_deref()))
            .or_else(|| {
                filter
                    .and_then(|f| f.and.as_ref())
                    .and_then(|a| a.prefix.as_deref())
            })
            .unwrap_or("")
    }

    fn required_tags(&self) -> Vec<&(String, String)> {
        match &self.filter {
            Some(RuleFilter { tag: Some(tag), .. }) => vec![tag],
            Some(RuleFilter { and: Some(and), .. }) => and.tags.iter().collect(),
            _ => Vec::new(),
        }
    }

    fn size_bounds(&self) -> (Option<i64>, Option<i64>) {
        match &self.filter {
            Some(RuleFilter { and: Some(and), .. }) => (and.size_greater_than, and.size_less_than),
            Some(filter) => (filter.size_greater_than, filter.size_less_than),
            None => (None, None),
        }
    }

    /// Whether the filter names tags (so a match needs the version's tags).
    #[must_use]
    pub fn needs_tags(&self) -> bool {
        !self.required_tags().is_empty()
    }

    fn has_tag_or_size_filter(&self) -> bool {
        let (gt, lt) = self.size_bounds();
        self.needs_tags() || gt.is_some() || lt.is_some()
    }

    /// Whether the rule's filter selects this object version.
    #[must_use]
    pub fn matches(&self, object: Candidate<'_>) -> bool {
        let size = i64::try_from(object.size).unwrap_or(i64::MAX);
        let (gt, lt) = self.size_bounds();
        object.key.starts_with(self.key_prefix())
            && self
                .required_tags()
                .iter()
                .all(|wanted| object.tags.iter().any(|tag| tag == *wanted))
            && gt.is_none_or(|gt| size > gt)
            && lt.is_none_or(|lt| size < lt)
    }
}

/// The first midnight UTC at or after `ms` (S3 counts lifecycle days from there).
#[must_use]
pub fn next_midnight(ms: i64) -> i64 {
    let rem = ms.rem_euclid(DAY_MS);
    if rem == 0 { ms } else { ms - rem + DAY_MS }
}

/// When a current version expires under `expiration`, as S3 announces it: `Date`, or the
/// version's last modification rounded up to the next midnight UTC plus `Days`.
#[must_use]
pub fn announced_expiry(expiration: &Expiration, last_modified_ms: i64) -> Option<i64> {
    match (expiration.days, expiration.date_ms) {
        (_, Some(date)) => Some(date),
        (Some(days), None) => Some(next_midnight(last_modified_ms) + i64::from(days) * DAY_MS),
        (None, None) => None,
    }
}

/// The stored rules of a configuration document (unreadable text reads as no rules).
pub(crate) fn parse_rules(text: &str) -> Vec<LifecycleRule> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The `x-amz-expiration` value for the current version `record` under `rules`: the earliest
/// expiry among the enabled rules with a Days or Date expiration that select it.
#[must_use]
pub fn expiration_header(rules: &[LifecycleRule], record: &ObjectRecord) -> Option<String> {
    let candidate = Candidate {
        key: &record.key,
        size: record.size,
        tags: &record.headers.tags,
    };
    let (at, id) = rules
        .iter()
        .filter(|rule| rule.enabled && rule.matches(candidate))
        .filter_map(|rule| {
            let expiry = announced_expiry(rule.expiration.as_ref()?, record.last_modified_ms)?;
            Some((expiry, rule.id.as_str()))
        })
        .min_by_key(|(at, _)| *at)?;
    let when = time::OffsetDateTime::from_unix_timestamp(at / 1000).ok()?;
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    Some(format!(
        "expiry-date=\"{}\", rule-id=\"{}\"",
        when.format(&format).ok()?,
        id
    ))
}

impl Store {
    /// Replaces (`Some`, after validation) or deletes the bucket's lifecycle configuration.
    ///
    /// # Errors
    /// `MalformedXML`, `InvalidArgument`, `InvalidRequest`, `NoSuchBucket`, `AccessDenied`.
    pub async fn set_bucket_lifecycle(
        &self,
        caller: &Principal,
        bucket: &str,
        rules: Option<Vec<LifecycleRule>>,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, stratus_core::Action::Write)
            .await?;
        let document = match rules {
            Some(rules) => {
                validate_lifecycle(&rules)?;
                Some(serde_json::to_string(&rules).map_err(stratus_meta::MetaError::from)?)
            }
            None => None,
        };
        self.put_document(caller, bucket, BucketConfigKind::Lifecycle, document)
            .await
    }

    /// # Errors
    /// `NoSuchLifecycleConfiguration`, `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_lifecycle(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<Vec<LifecycleRule>> {
        let text = self
            .document(
                caller,
                bucket,
                BucketConfigKind::Lifecycle,
                "NoSuchLifecycleConfiguration",
            )
            .await?;
        Ok(parse_rules(&text))
    }

    /// The `x-amz-expiration` header for a current version the caller has just read or
    /// written (`None`: no rule expires it).
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn expiration_of(&self, record: &ObjectRecord) -> StoreResult<Option<String>> {
        let Some(text) = self
            .stored_document(&record.bucket, BucketConfigKind::Lifecycle)
            .await?
        else {
            return Ok(None);
        };
        Ok(expiration_header(&parse_rules(&text), record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> LifecycleRule {
        LifecycleRule {
            id: id.into(),
            enabled: true,
            prefix: Some("logs/".into()),
            expiration: Some(Expiration {
                days: Some(1),
                ..Expiration::default()
            }),
            ..LifecycleRule::default()
        }
    }

    fn code(err: StoreError) -> &'static str {
        match err {
            StoreError::InvalidConfiguration { code, .. } => code,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn days_count_from_the_next_midnight() {
        let noon = 10 * DAY_MS + DAY_MS / 2;
        let exp = Expiration {
            days: Some(2),
            ..Expiration::default()
        };
        assert_eq!(announced_expiry(&exp, noon), Some(13 * DAY_MS));
        assert_eq!(announced_expiry(&exp, 10 * DAY_MS), Some(12 * DAY_MS));
    }

    #[test]
    fn ids_must_be_unique_and_short() {
        assert_eq!(
            code(validate_lifecycle(&[rule("a"), rule("a")]).expect_err("duplicate ids")),
            "InvalidArgument"
        );
        assert_eq!(
            code(validate_lifecycle(&[rule(&"x".repeat(256))]).expect_err("long id")),
            "InvalidArgument"
        );
        assert!(validate_lifecycle(&[rule("a"), rule("b")]).is_ok());
    }

    #[test]
    fn filters_select_by_prefix_tags_and_size() {
        let mut r = rule("a");
        r.prefix = None;
        r.filter = Some(RuleFilter {
            and: Some(AndFilter {
                prefix: Some("p/".into()),
                tags: vec![("k".into(), "v".into())],
                size_greater_than: Some(10),
                size_less_than: None,
            }),
            ..RuleFilter::default()
        });
        let tags = vec![("k".to_owned(), "v".to_owned())];
        let hit = Candidate {
            key: "p/x",
            size: 11,
            tags: &tags,
        };
        assert!(r.matches(hit));
        assert!(!r.matches(Candidate { size: 10, ..hit }));
        assert!(!r.matches(Candidate { key: "q/x", ..hit }));
        assert!(!r.matches(Candidate { tags: &[], ..hit }));
    }
}
