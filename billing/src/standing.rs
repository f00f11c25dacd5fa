//! Whether a user may work now: its tenant is not suspended and it is not
//! disabled. Every way in (a login, a token, a portal session, a refresh)
//! asks [`refuse_inactive`]; the one exception is what a suspended
//! tenant's PBX has already carried: [`Db::authenticate_carried`] lets its
//! API tokens still post CDRs and end the calls in progress, so that no
//! call is lost.

use model::tenant::TenantStatus;
use model::user::Role;
use sqlx::Row;

use crate::auth::{token_hash, Caller};
use crate::db::{now_ms, Db};
use crate::error::{Error, Result};
use crate::Origin;

/// The code of a refusal because the tenant is suspended.
pub const TENANT_SUSPENDED: &str = "TENANT_SUSPENDED";
/// The code of a refusal because the user is disabled.
pub const USER_DISABLED: &str = "USER_DISABLED";

pub(crate) fn suspended() -> Error {
    Error::Inactive {
        code: TENANT_SUSPENDED,
        message: "the tenant is suspended: its users cannot log in or authorise calls".into(),
    }
}

fn disabled() -> Error {
    Error::Inactive {
        code: USER_DISABLED,
        message: "the user is disabled".into(),
    }
}

/// Refuses a user that is disabled or whose tenant is suspended (and one
/// that no longer exists).
pub(crate) async fn refuse_inactive(db: &Db, user_id: i64) -> Result<()> {
    let row = sqlx::query(
        "SELECT CASE WHEN u.disabled THEN 1 ELSE 0 END AS disabled, t.status FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id \
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| Error::Unauthorized("the user no longer exists".into()))?;
    if row.try_get::<i64, _>("disabled")? != 0 {
        return Err(disabled());
    }
    match row.try_get::<Option<String>, _>("status")?.as_deref() {
        Some(status) if status == TenantStatus::Suspended.to_string() => Err(suspended()),
        _ => Ok(()),
    }
}

impl Db {
    /// Refuses with `TENANT_SUSPENDED` when the tenant is suspended.
    pub async fn refuse_suspended_tenant(&self, tenant_id: i64) -> Result<()> {
        let row = sqlx::query("SELECT status FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        if row.try_get::<String, _>("status")? == TenantStatus::Suspended.to_string() {
            return Err(suspended());
        }
        Ok(())
    }

    /// The holder of a token, for what a PBX reports of calls it has already
    /// carried (CDRs, the end of a call in progress): like
    /// [`Db::authenticate`], but a suspended tenant's API tokens still work
    /// here (not its logins, and never a disabled user's tokens).
    pub async fn authenticate_carried(&self, token: &str, origin: Origin) -> Result<Caller> {
        match self.authenticate(token, origin).await {
            Err(Error::Inactive { code, .. }) if code == TENANT_SUSPENDED => {
                self.api_token_holder(token, origin).await
            }
            other => other,
        }
    }

    async fn api_token_holder(&self, token: &str, origin: Origin) -> Result<Caller> {
        let row = sqlx::query(
            "SELECT t.family, t.expires_at, t.name, u.id, u.username, u.role, u.tenant_id, \
             CASE WHEN u.disabled THEN 1 ELSE 0 END AS disabled \
             FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.kind = 'api'",
        )
        .bind(token_hash(token.trim()))
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(suspended)?;
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        if expires_at.is_some_and(|e| e <= now_ms()) {
            return Err(Error::Unauthorized(
                "invalid or expired access token".into(),
            ));
        }
        if row.try_get::<i64, _>("disabled")? != 0 {
            return Err(disabled());
        }
        Ok(Caller {
            user_id: row.try_get("id")?,
            username: row.try_get("username")?,
            role: row
                .try_get::<String, _>("role")?
                .parse::<Role>()
                .map_err(Error::internal)?,
            tenant_id: row.try_get("tenant_id")?,
            family: row.try_get("family")?,
            expires_at,
            token_name: row.try_get("name")?,
            origin,
        })
    }
}
