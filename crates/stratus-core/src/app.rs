//! Applications: a named set of buckets and functions that `stratus apply` manages together.
//! The server keeps, per project, what each application created, so deleting the application
//! removes exactly that and nothing the project made by other means.

use serde::{Deserialize, Serialize};

use crate::InvalidId;
use crate::trigger::Trigger;

/// An application's name: the same alphabet as function names, so it reads well in a CLI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppName(String);

impl AppName {
    /// # Errors
    /// [`InvalidId`] naming the broken rule.
    pub fn parse(name: &str) -> Result<Self, InvalidId> {
        if name.is_empty() || name.len() > 64 {
            return Err(InvalidId(format!(
                "invalid application name {name:?}: must be 1 to 64 characters long"
            )));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(InvalidId(format!(
                "invalid application name {name:?}: only letters, digits, hyphens and underscores are allowed"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AppName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an application owns: the buckets it created (not those it merely uses) and the
/// functions it deploys, each with the edges the manifest gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppResources {
    #[serde(default)]
    pub buckets: Vec<String>,
    #[serde(default)]
    pub functions: Vec<AppFunction>,
}

/// One function of an application. `triggers` are those its last deploy sent (the manifest's
/// inputs and the schedules of its function.yaml), kept so a plan can tell a changed edge
/// from an unchanged one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppFunction {
    pub name: String,
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// Buckets the function writes to (the informational side of an edge).
    #[serde(default)]
    pub outputs: Vec<String>,
}

impl AppResources {
    #[must_use]
    pub fn function(&self, name: &str) -> Option<&AppFunction> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// # Errors
    /// The first invalid bucket or function name, or a name listed twice.
    pub fn validate(&self) -> Result<(), InvalidId> {
        let mut seen = std::collections::BTreeSet::new();
        for bucket in &self.buckets {
            crate::BucketName::parse(bucket)?;
            if !seen.insert(("bucket", bucket.as_str())) {
                return Err(InvalidId(format!("bucket {bucket:?} is listed twice")));
            }
        }
        for function in &self.functions {
            crate::FunctionName::parse(&function.name)?;
            if !seen.insert(("function", function.name.as_str())) {
                return Err(InvalidId(format!(
                    "function {:?} is listed twice",
                    function.name
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_use_the_function_alphabet() {
        assert!(AppName::parse("scan-pipeline_2").is_ok());
        assert!(AppName::parse("").is_err());
        assert!(
            AppName::parse("a/b")
                .expect_err("refused")
                .0
                .contains("only letters")
        );
        assert!(AppName::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn resources_refuse_duplicates_and_bad_names() {
        let mut resources: AppResources = serde_json::from_str(
            r#"{"buckets": ["scans"], "functions": [{"name": "ocr", "triggers": [{"bucket": "scans"}]}]}"#,
        )
        .expect("valid JSON");
        assert!(resources.validate().is_ok());
        assert!(matches!(
            &resources.function("ocr").expect("ocr").triggers[0],
            Trigger::Bucket(b) if b.events == ["s3:ObjectCreated:*"]
        ));
        resources.buckets.push("scans".into());
        assert!(
            resources
                .validate()
                .expect_err("duplicate")
                .0
                .contains("twice")
        );
        resources.buckets = vec!["Bad_Name".into()];
        assert!(resources.validate().is_err());
        assert!(serde_json::from_str::<AppResources>(r#"{"bucket": []}"#).is_err());
    }
}
