//! Users, roles and the login answer.

use serde::{Deserialize, Serialize};

crate::wire_enum! {
    /// Built-in roles.
    pub enum Role {
        /// Operates the whole system: tenants, their administrators.
        SystemAdmin = "SystemAdmin",
        /// Administers one tenant: its users, rates and billing.
        Admin = "Admin",
        /// A user (extension) of a tenant: sees its own calls and balance.
        StandardUser = "StandardUser",
    }
}

impl Role {
    /// May change the tenant's rates, billing settings and users.
    pub fn manages_tenant(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::Admin)
    }
}

/// Names reserved for the system administrator (case ignored).
pub const RESERVED_USERNAMES: [&str; 4] = ["admin", "system", "administrator", "root"];

/// Checks a user name as the v22 API documents it: 1..64 letters, digits,
/// `_`, `-`, `'` and `.`, not starting or ending with a period.
pub fn validate_username(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is required");
    }
    if name.chars().count() > 64 {
        return Err("must be at most 64 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '\'' | '.'))
    {
        return Err("may contain only letters, digits, _, -, ' and .");
    }
    if name.starts_with('.') || name.ends_with('.') {
        return Err("must not start or end with a period");
    }
    Ok(())
}

/// The answer to a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAnswer {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub expires_at: String,
    pub refresh_token: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_documented_rules() {
        for ok in ["alice", "o'brien", "a.b", "user_1-x", "101"] {
            assert_eq!(validate_username(ok), Ok(()), "{ok}");
        }
        for bad in ["", ".a", "a.", "a b", "a@b", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}
