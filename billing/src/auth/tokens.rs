//! Tokens: access tokens checked on every request (with a short-lived
//! cache), and the named, long-lived API tokens a user manages.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::caller::caller_from_row;
use super::Caller;
use crate::audit::{self, Action, Change, Entity, Origin};
use crate::db::{now_ms, Db};
use crate::error::{Error, Result};

/// Seconds an access token from a login lives (the v22 documents' example).
pub const ACCESS_TOKEN_SECONDS: i64 = 1800;
/// Seconds a refresh token lives.
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 3600;
/// How long a token found valid is trusted without asking the database
/// again. A token revoked by this process stops working at once; one
/// revoked by another server process sharing the database, within this.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);
/// Tokens remembered at most; past that the memory starts afresh.
const TOKEN_CACHE_MAX: usize = 100_000;

/// Tokens recently found valid, by their hash, so that a PBX sending many
/// requests with one token does not cost a database read for each.
#[derive(Default)]
pub(crate) struct TokenCache {
    callers: std::sync::RwLock<std::collections::HashMap<String, (Caller, std::time::Instant)>>,
}

impl TokenCache {
    pub(super) fn get(&self, hash: &str) -> Option<Caller> {
        let callers = self.callers.read().ok()?;
        let (caller, seen) = callers.get(hash)?;
        (seen.elapsed() < TOKEN_CACHE_TTL).then(|| caller.clone())
    }

    pub(super) fn put(&self, hash: String, caller: &Caller) {
        if let Ok(mut callers) = self.callers.write() {
            if callers.len() >= TOKEN_CACHE_MAX {
                callers.clear();
            }
            callers.insert(hash, (caller.clone(), std::time::Instant::now()));
        }
    }

    /// Forgets every token: called whenever tokens are revoked.
    pub(crate) fn forget_all(&self) {
        if let Ok(mut callers) = self.callers.write() {
            callers.clear();
        }
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

/// A named API token as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A new secret: 32 random bytes as 64 hex characters.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Db {
    /// Who holds this access or API token; `Unauthorized` when nobody valid does.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, token: &str, origin: Origin) -> Result<Caller> {
        let token = token.trim();
        if token.is_empty() || token.len() > 256 {
            return Err(Error::Unauthorized("invalid access token".into()));
        }
        let hash = token_hash(token);
        let now = now_ms();
        if let Some(mut caller) = self.token_cache().get(&hash) {
            if caller.expires_at.is_none_or(|e| e > now) {
                caller.origin = origin;
                return Ok(caller);
            }
        }
        let row = sqlx::query(
            "SELECT t.family AS family, t.expires_at AS expires_at, u.id AS user_id, \
             u.username AS username, u.role AS role, u.tenant_id AS tenant_id, t.kind AS kind, \
             t.name AS token_name \
             FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.kind IN ('access', 'api')",
        )
        .bind(&hash)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| Error::Unauthorized("invalid or expired access token".into()))?;
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        if expires_at.is_some_and(|e| e <= now) {
            return Err(Error::Unauthorized(
                "invalid or expired access token".into(),
            ));
        }
        let caller = Caller {
            family: row.try_get("family")?,
            expires_at,
            token_name: match row.try_get::<String, _>("kind")?.as_str() {
                "api" => row.try_get("token_name")?,
                _ => None,
            },
            ..caller_from_row(&row, origin)?
        };
        crate::standing::refuse_inactive(self, caller.user_id).await?;
        self.token_cache().put(hash, &caller);
        Ok(caller)
    }

    /// Creates a named, long-lived API token for the caller. The secret is in
    /// the answer and nowhere else.
    pub async fn create_api_token(
        &self,
        caller: &Caller,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> Result<(ApiTokenInfo, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(Error::field("name", "must be 1 to 64 characters"));
        }
        if let Some(days) = expires_in_days {
            if !(1..=3650).contains(&days) {
                return Err(Error::field(
                    "expires_in_days",
                    "must be between 1 and 3650",
                ));
            }
        }
        let now = now_ms();
        let expires_at = expires_in_days.map(|d| now + d * 86_400_000);
        let secret = new_secret();
        let family = new_secret()[..32].to_string();
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "INSERT INTO tokens (user_id, kind, family, name, token_hash, created_at, expires_at) \
             VALUES ($1, 'api', $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(caller.user_id)
        .bind(&family)
        .bind(name)
        .bind(token_hash(&secret))
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let info = ApiTokenInfo {
            id: row.try_get("id")?,
            name: name.to_string(),
            created_at: now,
            expires_at,
            last_used_at: None,
        };
        let fields = serde_json::json!({
            "name": info.name,
            "expires_at": info.expires_at.map(crate::time::rfc3339),
        });
        audit::append(
            &mut tx,
            Change::new(
                caller,
                caller.tenant_id,
                Action::Create,
                Entity::ApiToken,
                Some(info.id),
            )
            .with(audit::created(audit::snapshot(&fields))),
        )
        .await?;
        tx.commit().await?;
        Ok((info, secret))
    }

    /// The caller's own API tokens.
    pub async fn list_api_tokens(&self, caller: &Caller) -> Result<Vec<ApiTokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, expires_at, last_used_at FROM tokens \
             WHERE user_id = $1 AND kind = 'api' ORDER BY id",
        )
        .bind(caller.user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: r.try_get("id")?,
                    name: r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the caller's API tokens.
    pub async fn revoke_api_token(&self, caller: &Caller, id: i64) -> Result<()> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "DELETE FROM tokens WHERE id = $1 AND user_id = $2 AND kind = 'api' \
             RETURNING name, expires_at",
        )
        .bind(id)
        .bind(caller.user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("API token"))?;
        let fields = serde_json::json!({
            "name": row.try_get::<Option<String>, _>("name")?,
            "expires_at": row
                .try_get::<Option<i64>, _>("expires_at")?
                .map(crate::time::rfc3339),
        });
        audit::append(
            &mut tx,
            Change::new(
                caller,
                caller.tenant_id,
                Action::Delete,
                Entity::ApiToken,
                Some(id),
            )
            .with(audit::deleted(audit::snapshot(&fields))),
        )
        .await?;
        tx.commit().await?;
        self.token_cache().forget_all();
        Ok(())
    }
}
