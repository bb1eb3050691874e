//! Static website configuration: index and error documents, a redirect of every request, and
//! routing rules, validated as S3 validates them plus one rule of our own: a routing rule that
//! would redirect a request back to a key it matches again, on the same host, is refused at PUT
//! time (`InvalidRequest`), because a browser following it would loop until it gives up.
//!
//! The loop rule, exactly: a rule without `Redirect.HostName` (so it stays on this website) whose
//! condition prefix is P (empty without `KeyPrefixEquals`) loops when
//! - it replaces nothing (`Protocol`/`HttpRedirectCode` only): the same key comes back;
//! - `ReplaceKeyPrefixWith` starts with P: every redirected key matches P again;
//! - `ReplaceKeyWith` starts with P and the rule has no `HttpErrorCodeReturnedEquals` (with one,
//!   a fixed key is the usual fallback page and fires again only if that page is missing too).

use serde::{Deserialize, Serialize};
use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::BucketConfigKind;

use crate::{Store, StoreError, StoreResult};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectAll {
    pub host_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix_equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_error_code_returned_equals: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRedirect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_redirect_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_prefix_with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_with: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<RoutingCondition>,
    pub redirect: RoutingRedirect,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebsiteConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_all: Option<RedirectAll>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing_rules: Vec<RoutingRule>,
}

fn refuse(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidConfiguration {
        code,
        message: message.into(),
    }
}

fn check_protocol(protocol: Option<&String>) -> StoreResult<()> {
    match protocol.map(String::as_str) {
        None | Some("http" | "https") => Ok(()),
        Some(other) => Err(refuse(
            "InvalidArgument",
            format!("Invalid protocol, protocol can be http or https. Protocol: {other}"),
        )),
    }
}

impl RoutingRule {
    /// Whether the rule applies to `key` answered with `status` (`None`: before any lookup).
    #[must_use]
    pub fn matches(&self, key: &str, status: Option<u16>) -> bool {
        let condition = self.condition.clone().unwrap_or_default();
        let prefix_ok = condition
            .key_prefix_equals
            .as_deref()
            .is_none_or(|p| key.starts_with(p));
        let status_ok = match (&condition.http_error_code_returned_equals, status) {
            (None, None) => true,
            (Some(code), Some(status)) => code == &status.to_string(),
            _ => false,
        };
        prefix_ok && status_ok
    }

    /// The key a matching request is redirected to.
    #[must_use]
    pub fn redirected_key(&self, key: &str) -> String {
        if let Some(replacement) = &self.redirect.replace_key_with {
            return replacement.clone();
        }
        match &self.redirect.replace_key_prefix_with {
            Some(replacement) => {
                let prefix = self
                    .condition
                    .as_ref()
                    .and_then(|c| c.key_prefix_equals.as_deref())
                    .unwrap_or("");
                format!("{replacement}{}", key.strip_prefix(prefix).unwrap_or(key))
            }
            None => key.to_owned(),
        }
    }

    /// Whether following the rule can bring a browser back to it (see the module docs).
    #[must_use]
    pub fn loops(&self) -> bool {
        if self.redirect.host_name.is_some() {
            return false;
        }
        let condition = self.condition.clone().unwrap_or_default();
        let prefix = condition.key_prefix_equals.unwrap_or_default();
        match (
            &self.redirect.replace_key_with,
            &self.redirect.replace_key_prefix_with,
        ) {
            (Some(key), _) => {
                key.starts_with(&prefix) && condition.http_error_code_returned_equals.is_none()
            }
            (None, Some(replacement)) => replacement.starts_with(&prefix),
            (None, None) => true,
        }
    }

    fn validate(&self) -> StoreResult<()> {
        let redirect = &self.redirect;
        if redirect == &RoutingRedirect::default() {
            return Err(refuse(
                "InvalidRequest",
                "A Redirect must name at least one of HostName, HttpRedirectCode, Protocol, ReplaceKeyPrefixWith, ReplaceKeyWith.",
            ));
        }
        if redirect.replace_key_prefix_with.is_some() && redirect.replace_key_with.is_some() {
            return Err(refuse(
                "InvalidRequest",
                "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
            ));
        }
        if let Some(code) = &redirect.http_redirect_code
            && !matches!(code.as_str(), "301" | "302" | "303" | "307" | "308")
        {
            return Err(refuse(
                "InvalidRequest",
                format!(
                    "The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300."
                ),
            ));
        }
        check_protocol(redirect.protocol.as_ref())?;
        if let Some(code) = self
            .condition
            .as_ref()
            .and_then(|c| c.http_error_code_returned_equals.as_ref())
            && !code.parse::<u16>().is_ok_and(|c| (400..600).contains(&c))
        {
            return Err(refuse(
                "InvalidRequest",
                format!(
                    "The provided HTTP error code ({code}) is not valid. Valid codes are 4XX or 5XX."
                ),
            ));
        }
        if self.loops() {
            return Err(refuse(
                "InvalidRequest",
                "This routing rule redirects requests to a key it matches again on the same host, so browsers would loop; give it a HostName or a replacement outside its KeyPrefixEquals.",
            ));
        }
        Ok(())
    }
}

impl WebsiteConfig {
    /// # Errors
    /// `InvalidArgument` or `InvalidRequest`, with S3's messages where S3 has them.
    pub fn validate(&self) -> StoreResult<()> {
        if let Some(all) = &self.redirect_all {
            if self.index_suffix.is_some()
                || self.error_key.is_some()
                || !self.routing_rules.is_empty()
            {
                return Err(refuse(
                    "InvalidRequest",
                    "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
                ));
            }
            if all.host_name.is_empty() {
                return Err(refuse(
                    "InvalidArgument",
                    "RedirectAllRequestsTo needs a HostName",
                ));
            }
            return check_protocol(all.protocol.as_ref());
        }
        match self.index_suffix.as_deref() {
            None => {
                return Err(refuse(
                    "InvalidArgument",
                    "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                ));
            }
            Some(suffix) if suffix.is_empty() || suffix.contains('/') => {
                return Err(refuse(
                    "InvalidArgument",
                    "The IndexDocument Suffix is not well formed",
                ));
            }
            Some(_) => {}
        }
        if self.error_key.as_deref() == Some("") {
            return Err(refuse(
                "InvalidArgument",
                "The ErrorDocument Key is not well formed",
            ));
        }
        if self.routing_rules.len() > 50 {
            return Err(refuse(
                "InvalidArgument",
                "A website configuration has at most 50 routing rules",
            ));
        }
        self.routing_rules
            .iter()
            .try_for_each(RoutingRule::validate)
    }
}

impl Store {
    /// Replaces (`Some`) or deletes the bucket's website configuration.
    ///
    /// # Errors
    /// `InvalidArgument`, `InvalidRequest`, `NoSuchBucket`, `AccessDenied`.
    pub async fn set_bucket_website(
        &self,
        caller: &Principal,
        bucket: &str,
        config: Option<WebsiteConfig>,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, Action::Write).await?;
        if let Some(config) = &config {
            config.validate()?;
        }
        let document = config
            .map(|c| serde_json::to_string(&c).map_err(stratus_meta::MetaError::from))
            .transpose()?;
        self.put_document(caller, bucket, BucketConfigKind::Website, document)
            .await
    }

    /// # Errors
    /// `NoSuchWebsiteConfiguration`, `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_website(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<WebsiteConfig> {
        let text = self
            .document(
                caller,
                bucket,
                BucketConfigKind::Website,
                "NoSuchWebsiteConfiguration",
            )
            .await?;
        Ok(serde_json::from_str(&text).map_err(stratus_meta::MetaError::from)?)
    }

    /// The website configuration for serving the website, whoever asks (a website is public by
    /// design; its objects are still served only where public access grants them).
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchConfiguration("NoSuchWebsiteConfiguration")`, metadata failures.
    pub async fn website_for_visitors(&self, bucket: &str) -> StoreResult<WebsiteConfig> {
        self.owner_of(bucket)
            .await?
            .ok_or(StoreError::NoSuchBucket)?;
        let text = self
            .stored_document(bucket, BucketConfigKind::Website)
            .await?
            .ok_or(StoreError::NoSuchConfiguration(
                "NoSuchWebsiteConfiguration",
            ))?;
        Ok(serde_json::from_str(&text).map_err(stratus_meta::MetaError::from)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: Option<&str>, error: Option<&str>, redirect: RoutingRedirect) -> RoutingRule {
        RoutingRule {
            condition: Some(RoutingCondition {
                key_prefix_equals: prefix.map(str::to_owned),
                http_error_code_returned_equals: error.map(str::to_owned),
            }),
            redirect,
        }
    }

    fn prefix_to(to: &str) -> RoutingRedirect {
        RoutingRedirect {
            replace_key_prefix_with: Some(to.to_owned()),
            ..RoutingRedirect::default()
        }
    }

    #[test]
    fn looping_rules_are_recognised() {
        assert!(rule(Some("docs/"), None, prefix_to("docs/")).loops());
        assert!(rule(Some("docs/"), None, prefix_to("docs/v2/")).loops());
        assert!(rule(None, None, prefix_to("x/")).loops());
        assert!(!rule(Some("docs/"), None, prefix_to("documents/")).loops());
        let mut elsewhere = prefix_to("docs/");
        elsewhere.host_name = Some("example.com".into());
        assert!(!rule(Some("docs/"), None, elsewhere).loops());
        let fallback = RoutingRedirect {
            replace_key_with: Some("404.html".into()),
            ..RoutingRedirect::default()
        };
        assert!(!rule(None, Some("404"), fallback.clone()).loops());
        assert!(rule(None, None, fallback).loops());
        let https = RoutingRedirect {
            protocol: Some("https".into()),
            ..RoutingRedirect::default()
        };
        assert!(rule(Some("a/"), None, https).loops());
    }

    #[test]
    fn rules_rewrite_keys_like_s3() {
        let r = rule(Some("docs/"), None, prefix_to("documents/"));
        assert!(r.matches("docs/a.html", None) && !r.matches("img/a", None));
        assert_eq!(r.redirected_key("docs/a.html"), "documents/a.html");
        let on_404 = rule(None, Some("404"), prefix_to("missing/"));
        assert!(on_404.matches("x", Some(404)) && !on_404.matches("x", None));
    }

    #[test]
    fn configurations_are_validated() {
        let good = WebsiteConfig {
            index_suffix: Some("index.html".into()),
            ..WebsiteConfig::default()
        };
        assert!(good.validate().is_ok());
        assert!(WebsiteConfig::default().validate().is_err());
        let both = WebsiteConfig {
            redirect_all: Some(RedirectAll {
                host_name: "example.com".into(),
                protocol: None,
            }),
            ..good.clone()
        };
        assert!(both.validate().is_err());
        let bad_code = WebsiteConfig {
            routing_rules: vec![rule(
                Some("a/"),
                None,
                RoutingRedirect {
                    http_redirect_code: Some("200".into()),
                    host_name: Some("x".into()),
                    ..RoutingRedirect::default()
                },
            )],
            ..good
        };
        assert!(bad_code.validate().is_err());
    }
}
