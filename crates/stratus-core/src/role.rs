//! Roles bound to access keys and the actions they permit.

use std::fmt;
use std::str::FromStr;

/// What a key may do inside its project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, including managing keys.
    Admin,
    /// Read and write the project's resources.
    Member,
    /// Read the project's resources.
    ReadOnly,
}

/// The kinds of action authorisation distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Listing, reading, heading.
    Read,
    /// Creating, writing, deleting resources.
    Write,
    /// Managing keys and projects.
    Administer,
}

impl Role {
    #[must_use]
    pub fn allows(self, action: Action) -> bool {
        match self {
            Role::Admin => true,
            Role::Member => action != Action::Administer,
            Role::ReadOnly => action == Action::Read,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::ReadOnly => "read-only",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "read-only" | "readonly" => Ok(Role::ReadOnly),
            other => Err(crate::InvalidId(format!(
                "unknown role {other:?}: expected admin, member or read-only"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_nested_permissions() {
        assert!(Role::Admin.allows(Action::Administer));
        assert!(Role::Member.allows(Action::Write) && !Role::Member.allows(Action::Administer));
        assert!(Role::ReadOnly.allows(Action::Read) && !Role::ReadOnly.allows(Action::Write));
        assert_eq!("read-only".parse::<Role>(), Ok(Role::ReadOnly));
        assert!("root".parse::<Role>().is_err());
    }
}
