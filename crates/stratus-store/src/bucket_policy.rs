//! Bucket policies. Any syntactically valid policy is accepted and kept as sent, but only one
//! subset is enforced: statements for everyone (`"Principal": "*"` or `{"AWS": "*"}`) about
//! `s3:GetObject` on `arn:aws:s3:::BUCKET/PATTERN` and `s3:ListBucket` on `arn:aws:s3:::BUCKET`.
//! An `Allow` grants those to requesters outside the owning project (anonymous ones included);
//! a `Deny` withdraws them, whatever ACLs say. Statements with a `Condition`, `NotPrincipal`,
//! `NotAction` or `NotResource` are stored but not enforced (they could narrow the grant in
//! ways we do not evaluate, so they grant nothing and deny nothing).

use serde_json::Value;

/// What a policy can grant to outsiders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyAction {
    /// `s3:GetObject` (GetObject, HeadObject) on a key.
    GetObject,
    /// `s3:ListBucket` (ListObjects, ListObjectsV2, HeadBucket) on the bucket.
    ListBucket,
}

impl PolicyAction {
    fn name(self) -> &'static str {
        match self {
            Self::GetObject => "s3:GetObject",
            Self::ListBucket => "s3:ListBucket",
        }
    }
}

/// A statement of the enforced subset.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// A validated policy: its text as sent and the statements we enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPolicy {
    pub text: String,
    enforced: Vec<Statement>,
    /// Whether any statement (enforced or not) allows everyone without a condition: AWS's
    /// notion of a public policy (GetBucketPolicyStatus, BlockPublicPolicy).
    public: bool,
}

/// The outcome of a policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVerdict {
    Allow,
    Deny,
    /// No enforced statement applies.
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

fn is_everyone(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map
            .get("AWS")
            .and_then(strings)
            .is_some_and(|aws| aws.iter().any(|a| a == "*")),
        _ => false,
    }
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
            enforced: Vec::new(),
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
            let principal = statement.get("Principal");
            if principal.is_none() && !statement.contains_key("NotPrincipal") {
                return Err("Missing required field Principal".into());
            }
            let actions = match (statement.get("Action"), statement.get("NotAction")) {
                (Some(a), None) => {
                    Some(strings(a).ok_or("Action must be a string or a list of strings")?)
                }
                (None, Some(a)) => {
                    strings(a).ok_or("NotAction must be a string or a list of strings")?;
                    None
                }
                _ => return Err("Missing required field Action".into()),
            };
            if let Some(bad) = actions
                .iter()
                .flatten()
                .find(|a| *a != "*" && !a.to_ascii_lowercase().starts_with("s3:"))
            {
                return Err(format!("Policy has invalid action {bad:?}"));
            }
            let resources = match (statement.get("Resource"), statement.get("NotResource")) {
                (Some(r), None) => {
                    Some(strings(r).ok_or("Resource must be a string or a list of strings")?)
                }
                (None, Some(r)) => {
                    Some(strings(r).ok_or("NotResource must be a string or a list of strings")?)
                }
                _ => return Err("Missing required field Resource".into()),
            };
            let arn = format!("arn:aws:s3:::{bucket}");
            for resource in resources.iter().flatten() {
                if resource != &arn && !resource.starts_with(&format!("{arn}/")) {
                    return Err("Policy has invalid resource".into());
                }
            }
            let conditional = statement.contains_key("Condition");
            let everyone = principal.is_some_and(is_everyone);
            if allow && everyone && !conditional {
                policy.public = true;
            }
            let enforceable = everyone
                && !conditional
                && statement.contains_key("Action")
                && statement.contains_key("Resource");
            if enforceable {
                policy.enforced.push(Statement {
                    allow,
                    actions: actions.unwrap_or_default(),
                    resources: resources.unwrap_or_default(),
                });
            }
        }
        Ok(policy)
    }

    /// Whether the policy grants anything to everyone (AWS's "public" policy).
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// What the enforced statements say about `action` on `bucket` (and `key` for objects):
    /// a matching `Deny` wins over any `Allow`.
    #[must_use]
    pub fn verdict(&self, action: PolicyAction, bucket: &str, key: Option<&str>) -> PolicyVerdict {
        let resource = match (action, key) {
            (PolicyAction::GetObject, Some(key)) => format!("arn:aws:s3:::{bucket}/{key}"),
            (PolicyAction::GetObject, None) => return PolicyVerdict::Silent,
            (PolicyAction::ListBucket, _) => format!("arn:aws:s3:::{bucket}"),
        };
        let mut verdict = PolicyVerdict::Silent;
        for statement in &self.enforced {
            let acts = statement
                .actions
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), &action.name().to_ascii_lowercase()));
            let covers = statement.resources.iter().any(|r| glob(r, &resource));
            if acts && covers {
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

    #[test]
    fn anonymous_get_statements_are_enforced_deny_first() {
        let policy = BucketPolicy::parse("b", PUBLIC_READ).expect("valid");
        assert!(policy.is_public());
        let get = PolicyAction::GetObject;
        assert_eq!(
            policy.verdict(get, "b", Some("pub/a.txt")),
            PolicyVerdict::Allow
        );
        assert_eq!(
            policy.verdict(get, "b", Some("pub/secret.txt")),
            PolicyVerdict::Deny
        );
        assert_eq!(
            policy.verdict(get, "b", Some("private/a")),
            PolicyVerdict::Silent
        );
        assert_eq!(
            policy.verdict(PolicyAction::ListBucket, "b", None),
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
        ] {
            assert!(BucketPolicy::parse("b", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conditional_and_named_principals_are_stored_not_enforced() {
        let text = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        let policy = BucketPolicy::parse("b", text).expect("valid");
        assert!(!policy.is_public());
        assert_eq!(
            policy.verdict(PolicyAction::GetObject, "b", Some("k")),
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
