//! CORS configuration: rules validated as S3 validates them, and the rule matching a browser's
//! request (preflight or actual), as S3 evaluates them: the first rule whose origins, methods and
//! headers all match wins.

use serde::{Deserialize, Serialize};
use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::BucketConfigKind;

use crate::{Store, StoreError, StoreResult};

/// The methods a CORS rule may allow.
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];
/// S3 keeps at most this many rules per bucket.
const MAX_RULES: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
}

fn invalid(message: String) -> StoreError {
    StoreError::InvalidConfiguration {
        code: "InvalidRequest",
        message,
    }
}

/// Checks rules as S3 does.
///
/// # Errors
/// `InvalidRequest` (an unsupported method, an origin or header with two wildcards), or
/// `MalformedXML` (no rules, too many, a rule without origins or methods).
pub fn validate_cors(rules: &[CorsRule]) -> StoreResult<()> {
    let malformed = |message: &str| StoreError::InvalidConfiguration {
        code: "MalformedXML",
        message: message.to_owned(),
    };
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(malformed("a CORS configuration has 1 to 100 rules"));
    }
    for rule in rules {
        if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
            return Err(malformed(
                "every CORSRule needs an AllowedOrigin and an AllowedMethod",
            ));
        }
        if let Some(method) = rule
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(invalid(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {method}"
            )));
        }
        if let Some(origin) = rule
            .allowed_origins
            .iter()
            .find(|o| o.matches('*').count() > 1)
        {
            return Err(invalid(format!(
                "AllowedOrigin \"{origin}\" can not have more than one wildcard."
            )));
        }
        if let Some(header) = rule
            .allowed_headers
            .iter()
            .find(|h| h.matches('*').count() > 1)
        {
            return Err(invalid(format!(
                "AllowedHeader \"{header}\" can not have more than one wildcard."
            )));
        }
    }
    Ok(())
}

/// A pattern with at most one `*`, matched case-insensitively when `fold`.
fn wildcard(pattern: &str, value: &str, fold: bool) -> bool {
    let (pattern, value) = if fold {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len()
                && value.starts_with(head)
                && value.ends_with(tail)
        }
    }
}

impl CorsRule {
    /// Whether this rule lets `origin` make a `method` request sending `headers`.
    #[must_use]
    pub fn allows(&self, origin: &str, method: &str, headers: &[String]) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| wildcard(o, origin, false))
            && self.allowed_methods.iter().any(|m| m == method)
            && headers.iter().all(|h| {
                self.allowed_headers
                    .iter()
                    .any(|allowed| wildcard(allowed, h, true))
            })
    }

    /// Whether the rule allows every origin (`*`), answered as `Access-Control-Allow-Origin: *`.
    #[must_use]
    pub fn any_origin(&self) -> bool {
        self.allowed_origins.iter().any(|o| o == "*")
    }
}

/// The first rule allowing the request, as S3 picks it.
#[must_use]
pub fn matching_rule<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'a CorsRule> {
    rules
        .iter()
        .find(|rule| rule.allows(origin, method, headers))
}

impl Store {
    /// Replaces (`Some`) or deletes the bucket's CORS rules.
    ///
    /// # Errors
    /// `InvalidRequest`, `MalformedXML`, `NoSuchBucket`, `AccessDenied`.
    pub async fn set_bucket_cors(
        &self,
        caller: &Principal,
        bucket: &str,
        rules: Option<Vec<CorsRule>>,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, Action::Write).await?;
        if let Some(rules) = &rules {
            validate_cors(rules)?;
        }
        let document = rules
            .map(|r| serde_json::to_string(&r).map_err(stratus_meta::MetaError::from))
            .transpose()?;
        self.put_document(caller, bucket, BucketConfigKind::Cors, document)
            .await
    }

    /// # Errors
    /// `NoSuchCORSConfiguration`, `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_cors(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<Vec<CorsRule>> {
        let text = self
            .document(
                caller,
                bucket,
                BucketConfigKind::Cors,
                "NoSuchCORSConfiguration",
            )
            .await?;
        Ok(serde_json::from_str(&text).map_err(stratus_meta::MetaError::from)?)
    }

    /// A bucket's CORS rules for answering browsers, whoever asks: S3 evaluates them before any
    /// authorization (a preflight carries no credentials). `None` when the bucket has none or
    /// does not exist.
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn cors_rules(&self, bucket: &str) -> StoreResult<Option<Vec<CorsRule>>> {
        if self.owner_of(bucket).await?.is_none() {
            return Ok(None);
        }
        match self.stored_document(bucket, BucketConfigKind::Cors).await? {
            Some(text) => Ok(Some(
                serde_json::from_str(&text).map_err(stratus_meta::MetaError::from)?,
            )),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule {
            allowed_origins: origins.iter().map(|s| (*s).to_owned()).collect(),
            allowed_methods: methods.iter().map(|s| (*s).to_owned()).collect(),
            allowed_headers: headers.iter().map(|s| (*s).to_owned()).collect(),
            ..CorsRule::default()
        }
    }

    #[test]
    fn rules_are_validated_like_s3() {
        assert!(validate_cors(&[rule(&["*"], &["GET"], &[])]).is_ok());
        assert!(validate_cors(&[rule(&["*"], &["PATCH"], &[])]).is_err());
        assert!(validate_cors(&[rule(&["http://*.a.*"], &["GET"], &[])]).is_err());
        assert!(validate_cors(&[]).is_err());
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = [
            rule(&["http://*.example.com"], &["PUT"], &["x-amz-*"]),
            rule(&["*"], &["GET"], &[]),
        ];
        let put = matching_rule(
            &rules,
            "http://www.example.com",
            "PUT",
            &["X-Amz-Date".into()],
        );
        assert_eq!(put, Some(&rules[0]));
        assert!(matching_rule(&rules, "http://evil.com", "PUT", &[]).is_none());
        assert!(
            matching_rule(
                &rules,
                "http://www.example.com",
                "PUT",
                &["content-type".into()]
            )
            .is_none()
        );
        assert_eq!(
            matching_rule(&rules, "http://x", "GET", &[]),
            Some(&rules[1])
        );
        assert!(wildcard("http://*.a", "http://b.a", false));
        assert!(!wildcard("http://*.a", "http://b.c", false));
    }
}
