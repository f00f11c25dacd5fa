//! Who is calling: passwords, login tokens, named API tokens.
//!
//! Passwords are argon2 hashes. Tokens are 64 random hex characters handed out
//! once; only their SHA-256 is stored, so a leaked database holds no usable
//! token.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use model::user::Role;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

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
    fn get(&self, hash: &str) -> Option<Caller> {
        let callers = self.callers.read().ok()?;
        let (caller, seen) = callers.get(hash)?;
        (seen.elapsed() < TOKEN_CACHE_TTL).then(|| caller.clone())
    }

    fn put(&self, hash: String, caller: &Caller) {
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

/// The authenticated caller of a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// `None` for system users.
    pub tenant_id: Option<i64>,
    /// The login (or API token) this call came with: what logout revokes.
    pub family: String,
    /// Unix ms; `None` for API tokens that never expire.
    pub expires_at: Option<i64>,
    /// The name of the API token this call came with (`None` for a login or
    /// a portal session).
    pub token_name: Option<String>,
    /// Where this request came from: set per request, never cached.
    pub origin: Origin,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("user_id", &self.user_id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("tenant_id", &self.tenant_id)
            .field("token_name", &self.token_name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The tenant a request acts on, and who acts.
#[derive(Debug, Clone)]
pub struct Scope {
    pub caller: Caller,
    pub tenant_id: i64,
}

impl Caller {
    /// The tenant this caller acts on. Tenant users act on their own tenant; a
    /// system administrator names one. Naming another tenant than one's own
    /// answers "not found", like any foreign id.
    pub fn scope(&self, requested: Option<i64>) -> Result<Scope> {
        let tenant_id = match (self.tenant_id, requested) {
            (Some(own), None) => own,
            (Some(own), Some(asked)) if own == asked => own,
            (Some(_), Some(_)) => return Err(Error::NotFound("tenant")),
            (None, Some(asked)) if self.role == Role::SystemAdmin => asked,
            (None, _) => {
                return Err(Error::field(
                    "tenant_id",
                    "is required: a system administrator names the tenant to act on",
                ))
            }
        };
        Ok(Scope {
            caller: self.clone(),
            tenant_id,
        })
    }

    pub fn require_system_admin(&self) -> Result<()> {
        if self.role == Role::SystemAdmin {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "only a system administrator may do this".into(),
            ))
        }
    }
}

impl Scope {
    /// Changing a tenant's rates, settings or users needs an administrator.
    pub fn require_manager(&self) -> Result<()> {
        if self.caller.role.manages_tenant() {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "the role {} may not change this",
                self.caller.role
            )))
        }
    }
}

/// Tokens handed out by a login.
#[derive(Clone, Serialize, Deserialize)]
pub struct Login {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: i64,
    pub role: Role,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
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

/// A new secret: 32 random bytes as 64 hex characters.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$7u1JkC2b6SRYbK5nOJz3mDUwTP1L1Ke3kv1tF3zM5Xs";

impl Db {
    /// Checks a user name and password and opens a login with two tokens.
    /// `origin` says where the attempt came from: failures are throttled per
    /// account and per client address ([`crate::throttle`]) and audited.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        domain: Option<&str>,
        origin: Origin,
    ) -> Result<Login> {
        let user_id = self
            .verify_credentials(username, password, domain, origin)
            .await?;
        let caller = self.caller_for_user(user_id, origin).await?;
        self.open_login(user_id, caller.role).await
    }

    /// The id of the user with these credentials. `domain` is the tenant's SIP
    /// domain; without it, only system users are looked up. Refused with
    /// `TooManyRequests` while the account or the client's address is locked
    /// out, whatever the password. A failure counts towards the lock-out and
    /// is written to the audit log.
    async fn verify_credentials(
        &self,
        username: &str,
        password: &str,
        domain: Option<&str>,
        origin: Origin,
    ) -> Result<i64> {
        let attempt = crate::throttle::Attempt::new(username, domain, origin.client);
        let standing = self.check_login_throttle(&attempt).await?;
        let scope = match domain.map(str::trim).filter(|d| !d.is_empty()) {
            Some(domain) => {
                let row = sqlx::query("SELECT id FROM tenants WHERE sip_domain = $1")
                    .bind(domain.to_ascii_lowercase())
                    .fetch_optional(self.pool())
                    .await?;
                match row {
                    Some(row) => row.try_get::<i64, _>(0)?,
                    None => -1,
                }
            }
            None => 0,
        };
        let row = sqlx::query(
            "SELECT id, password_hash FROM users WHERE tenant_scope = $1 AND username = $2",
        )
        .bind(scope)
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        let (user_id, hash) = match row {
            Some(row) => (row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?),
            None => (0, DUMMY_HASH.to_string()),
        };
        let ok = verify_password(password.to_string(), hash).await?;
        if !ok || user_id == 0 {
            let tenant = (scope > 0).then_some(scope);
            self.login_failed(&attempt).await?;
            self.audit_failed_login(origin, username, domain, tenant)
                .await?;
            return Err(Error::Unauthorized("invalid username or password".into()));
        }
        self.clear_login_failures(&attempt, standing).await?;
        Ok(user_id)
    }

    /// The one place where a failed password check is recorded, whatever
    /// the surface: the throttle counts it for the account and the address.
    async fn login_failed(&self, attempt: &crate::throttle::Attempt) -> Result<()> {
        self.record_login_failure(attempt).await
    }

    async fn open_login(&self, user_id: i64, role: Role) -> Result<Login> {
        let now = now_ms();
        let family = new_secret()[..32].to_string();
        let access_token = new_secret();
        let refresh_token = new_secret();
        let expires_at = now + ACCESS_TOKEN_SECONDS * 1000;
        let mut tx = self.write().await?;
        for (kind, token, expiry) in [
            ("access", &access_token, expires_at),
            (
                "refresh",
                &refresh_token,
                now + REFRESH_TOKEN_SECONDS * 1000,
            ),
        ] {
            sqlx::query(
                "INSERT INTO tokens (user_id, kind, family, token_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(user_id)
            .bind(kind)
            .bind(&family)
            .bind(token_hash(token))
            .bind(now)
            .bind(expiry)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Login {
            access_token,
            refresh_token,
            expires_at,
            role,
        })
    }

    /// Trades a refresh token for a new pair; the old login's tokens stop working.
    #[tracing::instrument(skip_all)]
    pub async fn refresh_login(&self, refresh_token: &str) -> Result<Login> {
        let row = sqlx::query(
            "SELECT t.family, t.expires_at, u.id, u.role FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.kind = 'refresh'",
        )
        .bind(token_hash(refresh_token))
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| Error::Unauthorized("invalid or expired refresh token".into()))?;
        let family: String = row.try_get(0)?;
        let expires_at: Option<i64> = row.try_get(1)?;
        if expires_at.is_some_and(|e| e <= now_ms()) {
            return Err(Error::Unauthorized(
                "invalid or expired refresh token".into(),
            ));
        }
        let user_id: i64 = row.try_get(2)?;
        let role: Role = row
            .try_get::<String, _>(3)?
            .parse()
            .map_err(Error::internal)?;
        crate::standing::refuse_inactive(self, user_id).await?;
        let deleted =
            sqlx::query("DELETE FROM tokens WHERE family = $1 AND kind IN ('access', 'refresh')")
                .bind(&family)
                .execute(self.pool())
                .await?;
        self.token_cache().forget_all();
        if deleted.rows_affected() == 0 {
            // Another refresh with the same token won the race.
            return Err(Error::Unauthorized(
                "invalid or expired refresh token".into(),
            ));
        }
        self.open_login(user_id, role).await
    }

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
            "SELECT t.family, t.expires_at, u.id, u.username, u.role, u.tenant_id, t.kind, t.name \
             FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.kind IN ('access', 'api')",
        )
        .bind(&hash)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| Error::Unauthorized("invalid or expired access token".into()))?;
        let expires_at: Option<i64> = row.try_get(1)?;
        if expires_at.is_some_and(|e| e <= now) {
            return Err(Error::Unauthorized(
                "invalid or expired access token".into(),
            ));
        }
        let caller = Caller {
            family: row.try_get(0)?,
            expires_at,
            user_id: row.try_get(2)?,
            username: row.try_get(3)?,
            role: row
                .try_get::<String, _>(4)?
                .parse()
                .map_err(Error::internal)?,
            tenant_id: row.try_get(5)?,
            token_name: match row.try_get::<String, _>(6)?.as_str() {
                "api" => row.try_get(7)?,
                _ => None,
            },
            origin,
        };
        crate::standing::refuse_inactive(self, caller.user_id).await?;
        self.token_cache().put(hash, &caller);
        Ok(caller)
    }

    /// The caller behind a portal session, which holds only the user's id.
    pub async fn caller_for_user(&self, user_id: i64, origin: Origin) -> Result<Caller> {
        let row = sqlx::query("SELECT id, username, role, tenant_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::Unauthorized("the session's user no longer exists".into()))?;
        crate::standing::refuse_inactive(self, user_id).await?;
        Ok(Caller {
            user_id: row.try_get(0)?,
            username: row.try_get(1)?,
            role: row
                .try_get::<String, _>(2)?
                .parse()
                .map_err(Error::internal)?,
            tenant_id: row.try_get(3)?,
            family: String::new(),
            expires_at: None,
            token_name: None,
            origin,
        })
    }

    /// Checks a user name and password for the portal and XML-RPC (no
    /// tokens issued); throttled like [`Db::login`].
    #[tracing::instrument(skip_all)]
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        domain: Option<&str>,
        origin: Origin,
    ) -> Result<Caller> {
        let user_id = self
            .verify_credentials(username, password, domain, origin)
            .await?;
        self.caller_for_user(user_id, origin).await
    }

    /// Ends the caller's login (or revokes the API token it used).
    pub async fn logout(&self, caller: &Caller) -> Result<()> {
        sqlx::query("DELETE FROM tokens WHERE family = $1")
            .bind(&caller.family)
            .execute(self.pool())
            .await?;
        self.token_cache().forget_all();
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
            id: row.try_get(0)?,
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
                    id: r.try_get(0)?,
                    name: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    created_at: r.try_get(2)?,
                    expires_at: r.try_get(3)?,
                    last_used_at: r.try_get(4)?,
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
            "name": row.try_get::<Option<String>, _>(0)?,
            "expires_at": row.try_get::<Option<i64>, _>(1)?.map(crate::time::rfc3339),
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
