//! Passwords: argon2 hashes, the password policy, the first system
//! administrator.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};

use super::tokens::new_secret;
use crate::db::{now_ms, Db};
use crate::error::{Error, Result};

/// Hashes a password with argon2 (off the async threads).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(Error::internal)
    })
    .await
    .map_err(Error::internal)?
}

/// Checks a password against a stored argon2 hash (off the async threads).
pub async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(Error::internal)?
}

/// A password policy a person can remember and an attacker cannot guess quickly.
pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 {
        return Err(Error::field("password", "must be at least 8 characters"));
    }
    if password.len() > 256 {
        return Err(Error::field("password", "must be at most 256 bytes"));
    }
    Ok(())
}

/// An argon2 hash of a random password, checked when the user does not exist
/// so that a login takes as long for unknown names as for known ones.
pub(super) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$7u1JkC2b6SRYbK5nOJz3mDUwTP1L1Ke3kv1tF3zM5Xs";

impl Db {
    /// Makes sure a system administrator exists: on first start, creates `admin`
    /// with the given password, or a random one that is returned to be shown once.
    pub async fn ensure_system_admin(&self, password: Option<String>) -> Result<Option<String>> {
        let exists = sqlx::query("SELECT id FROM users WHERE role = 'SystemAdmin' LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        if exists.is_some() {
            return Ok(None);
        }
        let (password, generated) = match password.filter(|p| !p.is_empty()) {
            Some(p) => (p, false),
            None => (new_secret()[..20].to_string(), true),
        };
        validate_password(&password)?;
        let hash = hash_password(password.clone()).await?;
        sqlx::query(
            "INSERT INTO users (tenant_id, tenant_scope, username, password_hash, role, created_at) \
             VALUES (NULL, 0, 'admin', $1, 'SystemAdmin', $2)",
        )
        .bind(hash)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(generated.then_some(password))
    }
}
