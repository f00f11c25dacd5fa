//! Tokens: access tokens checked on every request (with a short-lived
//! cache), and the named, long-lived API tokens a user manages.

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::user::Role;
use model::ApiId;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::caller::caller_from_row;
use super::Caller;
use crate::audit::{self, Action, Change, Entity, Origin};
use crate::db::{now_ms, Db};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};

/// Seconds an access token from a login lives (the v22 documents' example).
pub const ACCESS_TOKEN_SECONDS: i64 = 1800;
/// Seconds a refresh token lives.
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 3600;
/// How long a token found valid is trusted without asking the database
/// again. A token revoked by this process stops working at once; one
/// revoked by another server process sharing the database, within this.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);
/// How precisely an API token's last use is kept (its `last_used_at` is
/// written again only when it is older than this).
pub const LAST_USED_PRECISION_MS: i64 = 60_000;
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

/// An API token as the tokens page lists it: whose it is, too.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiTokenListing {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The user whose token it is (the requests made with it are theirs).
    pub owner_id: i64,
    pub owner_name: String,
    /// The owner's tenant; `None` for a system user.
    pub tenant_name: Option<String>,
}

/// What the tokens list filters, searches (name and owner) and sorts by.
pub static TOKEN_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "t.id", FieldKind::Id),
        FieldSpec::new("name", "t.name", FieldKind::Text),
        FieldSpec::new("owner", "u.username", FieldKind::Text),
        FieldSpec::new("created_at", "t.created_at", FieldKind::Timestamp),
        FieldSpec::new("last_used_at", "t.last_used_at", FieldKind::Timestamp),
        FieldSpec::new("tenant_id", "u.tenant_id", FieldKind::Id),
    ],
    search: &["t.name", "u.username"],
    default_order: "t.id",
    decode_id: ApiId::decode,
};

const LISTING_COLUMNS: &str = "t.id AS id, t.name AS name, t.created_at AS created_at, \
     t.expires_at AS expires_at, t.last_used_at AS last_used_at, u.id AS owner_id, \
     u.username AS owner_name, tn.name AS tenant_name";
const LISTING_FROM: &str =
    "tokens t JOIN users u ON u.id = t.user_id LEFT JOIN tenants tn ON tn.id = u.tenant_id";

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
            "SELECT t.id AS token_id, t.family AS family, t.expires_at AS expires_at, \
             t.last_used_at AS last_used_at, u.id AS user_id, \
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
        let is_api = row.try_get::<String, _>("kind")? == "api";
        let caller = Caller {
            family: row.try_get("family")?,
            expires_at,
            token_name: match is_api {
                true => row.try_get("token_name")?,
                false => None,
            },
            ..caller_from_row(&row, origin)?
        };
        crate::standing::refuse_inactive(self, caller.user_id).await?;
        if is_api {
            let last_used: Option<i64> = row.try_get("last_used_at")?;
            self.note_api_token_use(row.try_get("token_id")?, last_used, now)
                .await?;
        }
        self.token_cache().put(hash, &caller);
        Ok(caller)
    }

    /// Records that an API token was used now, unless that was recorded
    /// less than [`LAST_USED_PRECISION_MS`] ago (a PBX sending many requests
    /// costs one write a minute at most, and none while its token is cached).
    async fn note_api_token_use(&self, id: i64, last_used: Option<i64>, now: i64) -> Result<()> {
        if last_used.is_some_and(|t| now.saturating_sub(t) < LAST_USED_PRECISION_MS) {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
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

    /// A page of the API tokens the caller may see and revoke: a standard
    /// user's own; a tenant administrator's, every token of the tenant's
    /// users (the PBX's among them); a system administrator's, every one.
    /// Never a secret.
    pub async fn list_api_token_page(
        &self,
        caller: &Caller,
        query: &ListQuery,
    ) -> Result<Page<ApiTokenListing>> {
        let (scope, binds) = match (caller.role, caller.tenant_id) {
            (Role::SystemAdmin, _) => ("t.kind = 'api'", vec![]),
            (Role::Admin, Some(tenant)) => (
                "t.kind = 'api' AND u.tenant_id = $1",
                vec![SqlValue::Int(tenant)],
            ),
            _ => (
                "t.kind = 'api' AND t.user_id = $1",
                vec![SqlValue::Int(caller.user_id)],
            ),
        };
        self.page(
            Listing {
                columns: LISTING_COLUMNS,
                from: LISTING_FROM,
                scope,
                scope_binds: binds,
                spec: &TOKEN_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            |r| {
                Ok(ApiTokenListing {
                    id: r.try_get("id")?,
                    name: r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    owner_id: r.try_get("owner_id")?,
                    owner_name: r.try_get("owner_name")?,
                    tenant_name: r.try_get("tenant_name")?,
                })
            },
        )
        .await
    }

    /// Revokes an API token: one's own, or as a tenant administrator any
    /// token of the tenant's users, or as a system administrator any token.
    /// Another's token that the caller may not revoke is not found. It stops
    /// working at once. Answers the token's name.
    pub async fn revoke_api_token(&self, caller: &Caller, id: i64) -> Result<String> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT t.name AS name, t.expires_at AS expires_at, t.user_id AS owner_id, \
             u.username AS owner_name, u.tenant_id AS tenant_id \
             FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1 AND t.kind = 'api'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("API token"))?;
        let owner_id: i64 = row.try_get("owner_id")?;
        let tenant_id: Option<i64> = row.try_get("tenant_id")?;
        let allowed = owner_id == caller.user_id
            || caller.role == Role::SystemAdmin
            || (caller.role == Role::Admin && tenant_id.is_some() && tenant_id == caller.tenant_id);
        if !allowed {
            return Err(Error::NotFound("API token"));
        }
        sqlx::query("DELETE FROM tokens WHERE id = $1 AND kind = 'api'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let name = row
            .try_get::<Option<String>, _>("name")?
            .unwrap_or_default();
        let mut fields = serde_json::json!({
            "name": name,
            "expires_at": row
                .try_get::<Option<i64>, _>("expires_at")?
                .map(crate::time::rfc3339),
        });
        if owner_id != caller.user_id {
            fields["owner"] = Value::String(row.try_get("owner_name")?);
        }
        audit::append(
            &mut tx,
            Change::new(
                caller,
                tenant_id,
                Action::Delete,
                Entity::ApiToken,
                Some(id),
            )
            .with(audit::deleted(audit::snapshot(&fields))),
        )
        .await?;
        tx.commit().await?;
        self.token_cache().forget_all();
        Ok(name)
    }
}
