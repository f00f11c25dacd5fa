//! Logins: a user name and password traded for an access and a refresh
//! token, refreshing them, the caller behind a portal session, logging out.

use model::user::Role;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::caller::caller_from_row;
use super::password::{verify_password, DUMMY_HASH};
use super::tokens::{new_secret, token_hash, ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS};
use super::Caller;
use crate::audit::Origin;
use crate::db::{now_ms, Db};
use crate::error::{Error, Result};

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
                    Some(row) => row.try_get::<i64, _>("id")?,
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
            Some(row) => (
                row.try_get::<i64, _>("id")?,
                row.try_get::<String, _>("password_hash")?,
            ),
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
            "SELECT t.family AS family, t.expires_at AS expires_at, u.id AS user_id, u.role AS role \
             FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.kind = 'refresh'",
        )
        .bind(token_hash(refresh_token))
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| Error::Unauthorized("invalid or expired refresh token".into()))?;
        let family: String = row.try_get("family")?;
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        if expires_at.is_some_and(|e| e <= now_ms()) {
            return Err(Error::Unauthorized(
                "invalid or expired refresh token".into(),
            ));
        }
        let user_id: i64 = row.try_get("user_id")?;
        let role: Role = row
            .try_get::<String, _>("role")?
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

    /// The caller behind a portal session, which holds only the user's id.
    pub async fn caller_for_user(&self, user_id: i64, origin: Origin) -> Result<Caller> {
        let row =
            sqlx::query("SELECT id AS user_id, username, role, tenant_id FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| Error::Unauthorized("the session's user no longer exists".into()))?;
        crate::standing::refuse_inactive(self, user_id).await?;
        caller_from_row(&row, origin)
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
}
