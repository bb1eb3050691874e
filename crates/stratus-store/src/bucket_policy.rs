//! Bucket policies. A policy is validated, kept as sent, and evaluated for every request from
//! outside the bucket's project (`public_access.rs`), and for the owner's own requests as far as
//! an explicit `Deny` goes (never for the policy operations themselves, so an owner cannot lock
//! itself out — AWS's root-user exception).
//!
//! What is evaluated: `Effect`; `Principal` / `NotPrincipal` as `*`, `{"AWS": "*"}`, or projects
//! by canonical id (`PROJECT`, `arn:aws:iam::PROJECT:root`, `arn:aws:iam::PROJECT:user/...`,
//! `{"CanonicalUser": PROJECT}`); `Action` / `NotAction` (IAM wildcards, case-insensitive);
//! `Resource` / `NotResource`; and `Condition` with the string, numeric, `Bool` and `Null`
//! operators, each also as `...IfExists`. The request context (`PolicyRequest::context`) holds
//! the keys the S3 layer fills in (`s3:x-amz-acl`, `s3:x-amz-grant-*`, `s3:x-amz-copy-source`,
//! `s3:x-amz-metadata-directive`, `s3:prefix`, `s3:delimiter`, `s3:max-keys`,
//! `s3:RequestObjectTag/<k>`, `aws:Referer`) and `s3:ExistingObjectTag/<k>` from the stored
//! object. A key that is not in the context is absent, as AWS treats it: a positive operator
//! does not match it, a negated one (`StringNotEquals`, ...) does, `...IfExists` does. So a
//! condition on a key Stratus does not know (or an operator it accepts but does not evaluate:
//! IP, date and ARN operators) never makes an `Allow` grant anything it would not without it.
//!
//! A `Resource` must be able to refer to the bucket the policy is attached to (its bucket part,
//! wildcards allowed, must match the bucket's name), else the policy is `MalformedPolicy`.

use std::collections::HashMap;

use serde_json::Value;

/// What an outsider's request asks for, as a policy sees it.
#[derive(Debug, Clone, Default)]
pub struct PolicyRequest {
    /// The IAM action, e.g. `s3:GetObject`.
    pub action: String,
    /// Condition keys (lower-case) and their values.
    pub context: HashMap<String, Vec<String>>,
}

impl PolicyRequest {
    #[must_use]
    pub fn new(action: &str) -> Self {
        Self {
            action: action.to_owned(),
            context: HashMap::new(),
        }
    }

    /// Adds a condition key's value (keys are case-insensitive, as in IAM).
    pub fn with(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.context
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
        self
    }
}

/// Whom a statement names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principals {
    Everyone,
    Projects(Vec<String>),
}

impl Principals {
    fn matches(&self, requester: Option<&str>) -> bool {
        match self {
            Self::Everyone => true,
            Self::Projects(ids) => requester.is_some_and(|r| ids.iter().any(|id| id == r)),
        }
    }
}

/// A condition operator, its key and values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    operator: String,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

const OPERATORS: [&str; 24] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "Bool",
    "Null",
    // Accepted, never matching (no IP, date or ARN keys in Stratus's request context).
    "IpAddress",
    "NotIpAddress",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "ArnEquals",
    "ArnLike",
];

impl Condition {
    fn negated(&self) -> bool {
        self.operator.contains("Not")
    }

    fn holds(&self, context: &HashMap<String, Vec<String>>) -> bool {
        let present = context.get(&self.key.to_ascii_lowercase());
        // IP, date and ARN operators are accepted but never hold (not even negated ones): no
        // statement grants or denies through a key Stratus does not evaluate.
        if OPERATORS[14..].contains(&self.operator.as_str()) {
            return false;
        }
        if self.operator == "Null" {
            let wants_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return present.is_none() == wants_absent;
        }
        let Some(actual) = present else {
            return self.if_exists || self.negated();
        };
        let any = |test: &dyn Fn(&str, &str) -> bool| {
            actual
                .iter()
                .any(|a| self.values.iter().any(|v| test(a, v)))
        };
        let number = |text: &str| text.parse::<f64>().ok();
        let numeric = |test: fn(f64, f64) -> bool| {
            any(&|a, v| matches!((number(a), number(v)), (Some(a), Some(v)) if test(a, v)))
        };
        match self.operator.as_str() {
            "StringEquals" => any(&|a, v| a == v),
            "StringNotEquals" => !any(&|a, v| a == v),
            "StringEqualsIgnoreCase" => any(&|a, v| a.eq_ignore_ascii_case(v)),
            "StringNotEqualsIgnoreCase" => !any(&|a, v| a.eq_ignore_ascii_case(v)),
            "StringLike" => any(&|a, v| glob(v, a)),
            "StringNotLike" => !any(&|a, v| glob(v, a)),
            "NumericEquals" => numeric(|a, v| (a - v).abs() < f64::EPSILON),
            "NumericNotEquals" => !numeric(|a, v| (a - v).abs() < f64::EPSILON),
            "NumericLessThan" => numeric(|a, v| a < v),
            "NumericLessThanEquals" => numeric(|a, v| a <= v),
            "NumericGreaterThan" => numeric(|a, v| a > v),
            "NumericGreaterThanEquals" => numeric(|a, v| a >= v),
            "Bool" => any(&|a, v| a.eq_ignore_ascii_case(v)),
            _ => false,
        }
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    /// `NotPrincipal`: everyone but these.
    not_principal: bool,
    principals: Principals,
    /// `NotAction`: every action but these.
    not_action: bool,
    actions: Vec<String>,
    /// `NotResource`: every resource but these.
    not_resource: bool,
    resources: Vec<String>,
    conditions: Vec<Condition>,
}

impl Statement {
    fn applies(&self, requester: Option<&str>, request: &PolicyRequest, resource: &str) -> bool {
        let named = self.principals.matches(requester);
        let action = request.action.to_ascii_lowercase();
        let acts = self
            .actions
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), &action));
        let covers = self.resources.iter().any(|r| glob(r, resource));
        named != self.not_principal
            && acts != self.not_action
            && covers != self.not_resource
            && self.conditions.iter().all(|c| c.holds(&request.context))
    }
}

/// A validated policy: its text as sent and its statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPolicy {
    pub text: String,
    statements: Vec<Statement>,
    /// Whether any statement allows everyone without a condition: AWS's notion of a public
    /// policy (GetBucketPolicyStatus, BlockPublicPolicy).
    public: bool,
}

/// The outcome of a policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVerdict {
    Allow,
    Deny,
    /// No statement applies.
    Silent,
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// A principal element: `*`, `{"AWS": ...}` or `{"CanonicalUser": ...}`.
fn principals(value: &Value) -> Result<Principals, String> {
    let bad = || "Invalid principal in policy".to_owned();
    let ids = match value {
        Value::String(s) if s == "*" => return Ok(Principals::Everyone),
        Value::Object(map) => {
            let mut ids = Vec::new();
            for (kind, v) in map {
                if !matches!(kind.as_str(), "AWS" | "CanonicalUser") {
                    return Err(bad());
                }
                ids.extend(strings(v).ok_or_else(bad)?);
            }
            ids
        }
        _ => return Err(bad()),
    };
    if ids.iter().any(|id| id == "*") {
        return Ok(Principals::Everyone);
    }
    let projects = ids
        .iter()
        .map(|id| match id.strip_prefix("arn:aws:iam::") {
            Some(rest) => rest.split(':').next().unwrap_or_default().to_owned(),
            None => id.clone(),
        })
        .collect::<Vec<_>>();
    if projects.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(Principals::Projects(projects))
}

fn conditions(value: &Value) -> Result<Vec<Condition>, String> {
    let map = value.as_object().ok_or("Condition must be a JSON object")?;
    let mut out = Vec::new();
    for (operator, keys) in map {
        let (base, if_exists) = match operator.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (operator.as_str(), false),
        };
        if !OPERATORS.contains(&base) {
            return Err(format!("Invalid Condition type : {operator}"));
        }
        let keys = keys
            .as_object()
            .ok_or("Each Condition operator must map keys to values")?;
        for (key, values) in keys {
            let values = match values {
                Value::Bool(b) => vec![b.to_string()],
                Value::Number(n) => vec![n.to_string()],
                other => strings(other).ok_or("Condition values must be strings")?,
            };
            out.push(Condition {
                operator: base.to_owned(),
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

/// Whether a resource pattern can refer to `bucket` or an object in it.
fn refers_to(resource: &str, bucket: &str) -> bool {
    let Some(rest) = resource.strip_prefix("arn:aws:s3:::") else {
        return false;
    };
    let bucket_part = rest.split('/').next().unwrap_or_default();
    glob(bucket_part, bucket)
}

/// `*` matches any run of characters, `?` any one, as IAM's wildcards do.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl BucketPolicy {
    /// Validates `text` as a policy for `bucket`.
    ///
    /// # Errors
    /// A message for S3's `MalformedPolicy`.
    pub fn parse(bucket: &str, text: &str) -> Result<Self, String> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| format!("Policies must be valid JSON: {e}"))?;
        let doc = doc
            .as_object()
            .ok_or("Policies must be valid JSON and the first byte must be '{'")?;
        if let Some(version) = doc.get("Version")
            && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
        {
            return Err("The policy must contain a valid version string".into());
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.clone(),
            Some(item @ Value::Object(_)) => vec![item.clone()],
            _ => return Err("Missing required field Statement".into()),
        };
        let mut policy = Self {
            text: text.to_owned(),
            statements: Vec::new(),
            public: false,
        };
        for statement in &statements {
            let statement = statement
                .as_object()
                .ok_or("Each Statement must be a JSON object")?;
            let allow = match statement.get("Effect").and_then(Value::as_str) {
                Some("Allow") => true,
                Some("Deny") => false,
                _ => return Err("Missing required field Effect (Allow or Deny)".into()),
            };
            let (not_principal, principals) =
                match (statement.get("Principal"), statement.get("NotPrincipal")) {
                    (Some(p), None) => (false, principals(p)?),
                    // AWS accepts NotPrincipal only to deny: an Allow for "everyone but" is
                    // refused, as ceph/s3-tests expect.
                    (None, Some(p)) if !allow => (true, principals(p)?),
                    (None, Some(_)) => {
                        return Err("NotPrincipal is only supported with Effect Deny".into());
                    }
                    _ => return Err("Missing required field Principal".into()),
                };
            let (not_action, actions) = match (statement.get("Action"), statement.get("NotAction"))
            {
                (Some(a), None) => (
                    false,
                    strings(a).ok_or("Action must be a string or a list of strings")?,
                ),
                (None, Some(a)) => (
                    true,
                    strings(a).ok_or("NotAction must be a string or a list of strings")?,
                ),
                _ => return Err("Missing required field Action".into()),
            };
            if let Some(bad) = actions
                .iter()
                .find(|a| *a != "*" && !a.to_ascii_lowercase().starts_with("s3:"))
            {
                return Err(format!("Policy has invalid action {bad:?}"));
            }
            let (not_resource, resources) =
                match (statement.get("Resource"), statement.get("NotResource")) {
                    (Some(r), None) => (
                        false,
                        strings(r).ok_or("Resource must be a string or a list of strings")?,
                    ),
                    (None, Some(r)) => (
                        true,
                        strings(r).ok_or("NotResource must be a string or a list of strings")?,
                    ),
                    _ => return Err("Missing required field Resource".into()),
                };
            if resources.iter().any(|r| !refers_to(r, bucket)) {
                return Err("Policy has invalid resource".into());
            }
            let conditions = match statement.get("Condition") {
                Some(c) => conditions(c)?,
                None => Vec::new(),
            };
            if allow
                && principals == Principals::Everyone
                && !not_principal
                && conditions.is_empty()
            {
                policy.public = true;
            }
            policy.statements.push(Statement {
                allow,
                not_principal,
                principals,
                not_action,
                actions,
                not_resource,
                resources,
                conditions,
            });
        }
        Ok(policy)
    }

    /// Whether the policy grants anything to everyone (AWS's "public" policy).
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// What the policy says about `request` by `requester` (its project; `None`: anonymous)
    /// on `bucket` (and `key` for object actions): a matching `Deny` wins over any `Allow`.
    #[must_use]
    pub fn evaluate(
        &self,
        requester: Option<&str>,
        request: &PolicyRequest,
        bucket: &str,
        key: Option<&str>,
    ) -> PolicyVerdict {
        let resource = match key {
            Some(key) => format!("arn:aws:s3:::{bucket}/{key}"),
            None => format!("arn:aws:s3:::{bucket}"),
        };
        let mut verdict = PolicyVerdict::Silent;
        for statement in &self.statements {
            if statement.applies(requester, request, &resource) {
                if !statement.allow {
                    return PolicyVerdict::Deny;
                }
                verdict = PolicyVerdict::Allow;
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/pub/*"},{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/pub/secret*"}]}"#;

    fn get() -> PolicyRequest {
        PolicyRequest::new("s3:GetObject")
    }

    #[test]
    fn statements_for_everyone_deny_first() {
        let policy = BucketPolicy::parse("b", PUBLIC_READ).expect("valid");
        assert!(policy.is_public());
        let eval = |key| policy.evaluate(None, &get(), "b", Some(key));
        assert_eq!(eval("pub/a.txt"), PolicyVerdict::Allow);
        assert_eq!(eval("pub/secret.txt"), PolicyVerdict::Deny);
        assert_eq!(eval("private/a"), PolicyVerdict::Silent);
        let list = PolicyRequest::new("s3:ListBucket");
        assert_eq!(
            policy.evaluate(None, &list, "b", None),
            PolicyVerdict::Silent
        );
    }

    #[test]
    fn malformed_policies_are_refused() {
        for bad in [
            "not json",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Version":"1999","Statement":[]}"#,
            r#"{"Statement":[{"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::b/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEqualz":{"s3:prefix":"a"}}}]}"#,
        ] {
            assert!(BucketPolicy::parse("b", bad).is_err(), "{bad}");
        }
        let any_bucket = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":["arn:aws:s3:::*","arn:aws:s3:::*/*"]}]}"#;
        assert!(BucketPolicy::parse("b", any_bucket).is_ok());
    }

    #[test]
    fn named_projects_and_not_principal() {
        let text = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::alt:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"},{"Effect":"Deny","NotPrincipal":{"AWS":["alt"]},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        let policy = BucketPolicy::parse("b", text).expect("valid");
        assert!(!policy.is_public());
        let put = PolicyRequest::new("s3:PutObject");
        assert_eq!(
            policy.evaluate(Some("alt"), &get(), "b", Some("k")),
            PolicyVerdict::Allow
        );
        assert_eq!(
            policy.evaluate(Some("alt"), &put, "b", Some("k")),
            PolicyVerdict::Allow
        );
        assert_eq!(
            policy.evaluate(Some("other"), &get(), "b", Some("k")),
            PolicyVerdict::Silent
        );
        assert_eq!(
            policy.evaluate(Some("other"), &put, "b", Some("k")),
            PolicyVerdict::Deny
        );
        assert_eq!(
            policy.evaluate(None, &put, "b", Some("k")),
            PolicyVerdict::Deny
        );
    }

    #[test]
    fn conditions_match_like_iam() {
        let text = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/security":"public"}}},{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"public/*"},"NumericLessThanEquals":{"s3:max-keys":"10"}}},{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEquals":{"s3:x-amz-acl":"private"}}}]}"#;
        let policy = BucketPolicy::parse("b", text).expect("valid");
        assert!(!policy.is_public());
        let mut tagged = get();
        tagged.with("s3:ExistingObjectTag/security", "public");
        assert_eq!(
            policy.evaluate(None, &tagged, "b", Some("k")),
            PolicyVerdict::Allow
        );
        let mut other = get();
        other.with("s3:ExistingObjectTag/security", "private");
        assert_eq!(
            policy.evaluate(None, &other, "b", Some("k")),
            PolicyVerdict::Silent
        );
        assert_eq!(
            policy.evaluate(None, &get(), "b", Some("k")),
            PolicyVerdict::Silent
        );

        let mut list = PolicyRequest::new("s3:ListBucket");
        list.with("s3:prefix", "public/a").with("s3:max-keys", "5");
        assert_eq!(
            policy.evaluate(None, &list, "b", None),
            PolicyVerdict::Allow
        );
        let mut many = PolicyRequest::new("s3:ListBucket");
        many.with("s3:prefix", "public/a").with("s3:max-keys", "50");
        assert_eq!(
            policy.evaluate(None, &many, "b", None),
            PolicyVerdict::Silent
        );

        // A negated operator matches an absent key: a PUT without x-amz-acl is denied.
        let put = PolicyRequest::new("s3:PutObject");
        assert_eq!(
            policy.evaluate(None, &put, "b", Some("k")),
            PolicyVerdict::Deny
        );
        let mut private = PolicyRequest::new("s3:PutObject");
        private.with("s3:x-amz-acl", "private");
        assert_eq!(
            policy.evaluate(None, &private, "b", Some("k")),
            PolicyVerdict::Silent
        );
    }

    #[test]
    fn unknown_keys_and_unevaluated_operators_grant_nothing() {
        let text = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringEquals":{"s3:unknown-key":"x"}}}]}"#;
        let policy = BucketPolicy::parse("b", text).expect("valid");
        assert!(!policy.is_public());
        assert_eq!(
            policy.evaluate(None, &get(), "b", Some("k")),
            PolicyVerdict::Silent
        );
        let list = PolicyRequest::new("s3:ListBucket");
        assert_eq!(
            policy.evaluate(None, &list, "b", None),
            PolicyVerdict::Silent
        );
        let if_exists = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLikeIfExists":{"aws:Referer":"http://www.example.com/*"}}}]}"#;
        let policy = BucketPolicy::parse("b", if_exists).expect("valid");
        assert_eq!(
            policy.evaluate(None, &get(), "b", Some("k")),
            PolicyVerdict::Allow
        );
        let mut referred = get();
        referred.with("aws:Referer", "http://evil.example/");
        assert_eq!(
            policy.evaluate(None, &referred, "b", Some("k")),
            PolicyVerdict::Silent
        );
    }

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"));
        assert!(glob("s3:get*", "s3:getobject"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert!(!glob("arn:aws:s3:::b/p*", "arn:aws:s3:::b/q"));
    }
}
