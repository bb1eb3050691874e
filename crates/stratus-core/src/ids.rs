//! Identifiers validated once at the edge so that deeper layers can trust them.

use std::fmt;

/// Why a name was rejected; the message is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidId(pub String);

/// A bucket name following the S3 general-purpose bucket naming rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName(String);

impl BucketName {
    /// Validates `name` against the S3 rules: 3–63 characters of lowercase letters, digits, dots
    /// and hyphens, starting and ending with a letter or digit, no `..`, not an IP address.
    ///
    /// # Errors
    /// [`InvalidId`] naming the broken rule.
    pub fn parse(name: &str) -> Result<Self, InvalidId> {
        let bad = |why: &str| Err(InvalidId(format!("invalid bucket name {name:?}: {why}")));
        if !(3..=63).contains(&name.len()) {
            return bad("must be between 3 and 63 characters long");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return bad("only lowercase letters, digits, dots and hyphens are allowed");
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[name.len() - 1]) {
            return bad("must begin and end with a letter or digit");
        }
        if name.contains("..") || name.contains(".-") || name.contains("-.") {
            return bad("dots may not be adjacent to dots or hyphens");
        }
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return bad("must not be formatted as an IP address");
        }
        if name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") {
            return bad("uses a reserved prefix or suffix");
        }
        Ok(Self(name.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest object key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// An object key. Keys are data, never file paths: `../../etc/passwd` is a valid key, and no
/// layer may ever join a key onto a filesystem path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// # Errors
    /// [`InvalidId`] when the key is empty or longer than [`MAX_KEY_BYTES`].
    pub fn parse(key: &str) -> Result<Self, InvalidId> {
        if key.is_empty() {
            return Err(InvalidId("object key must not be empty".into()));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(InvalidId(format!(
                "object key is {} bytes, the limit is {MAX_KEY_BYTES}",
                key.len()
            )));
        }
        Ok(Self(key.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A project (tenant) name: 1–63 lowercase letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectName(String);

impl ProjectName {
    /// # Errors
    /// [`InvalidId`] when the name breaks the rule above.
    pub fn parse(name: &str) -> Result<Self, InvalidId> {
        let valid_chars = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if name.is_empty() || name.len() > 63 || !valid_chars || name.starts_with('-') {
            return Err(InvalidId(format!(
                "invalid project name {name:?}: use 1-63 lowercase letters, digits and hyphens, not starting with a hyphen"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my-bucket.logs", "a1b2c3", &"x".repeat(63)] {
            assert!(BucketName::parse(ok).is_ok(), "{ok} should be valid");
        }
        for bad in [
            "ab",
            "Upper",
            "-start",
            "end-",
            "a..b",
            "a.-b",
            "192.168.1.1",
            "under_score",
            &"x".repeat(64),
        ] {
            assert!(BucketName::parse(bad).is_err(), "{bad} should be invalid");
        }
    }

    #[test]
    fn object_keys_are_data_not_paths() {
        assert_eq!(
            ObjectKey::parse("../../etc/passwd").map(|k| k.as_str().to_owned()),
            Ok("../../etc/passwd".into())
        );
        assert!(ObjectKey::parse("").is_err());
        assert!(ObjectKey::parse(&"k".repeat(1024)).is_ok());
        assert!(ObjectKey::parse(&"k".repeat(1025)).is_err());
    }

    #[test]
    fn project_names() {
        assert!(ProjectName::parse("team-a").is_ok());
        assert!(ProjectName::parse("Team").is_err());
        assert!(ProjectName::parse("").is_err());
        assert!(ProjectName::parse("-x").is_err());
    }
}
