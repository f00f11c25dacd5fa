//! Administering users after they are created: role, disabling, removal,
//! passwords. A system administrator administers every user; a tenant
//! administrator those of its own tenant (another tenant's user is "not
//! found", as any foreign id); nobody changes their own role or disables or
//! removes themself, so that an administrator cannot lock itself out.

use model::user::Role;
use model::FieldError;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, Action, Change, Entity};
use crate::auth::{hash_password, validate_password, verify_password, Caller};
use crate::db::{Db, Tx};
use crate::error::{Error, Result};
use crate::users::{user_from_row, User, USER_COLUMNS};

/// What changing a user takes: each field left out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    pub role: Option<Role>,
    pub enabled: Option<bool>,
}

/// What removing a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Removal {
    /// The user is gone.
    Deleted,
    /// The user has calls, ledger rows or charging sessions, which must keep
    /// naming it: it was disabled instead.
    Disabled,
}

/// Why a removal was a disabling, as the surfaces tell it.
pub const DISABLED_INSTEAD: &str =
    "the user has calls or ledger entries, which keep naming it: it was disabled instead";

/// The fields of a user the audit log keeps (never its password).
fn audited(user: &User) -> serde_json::Map<String, serde_json::Value> {
    audit::snapshot(&serde_json::json!({
        "username": user.username,
        "role": user.role,
        "tenant_id": user.tenant_id,
        "enabled": user.enabled,
    }))
}

impl Db {
    /// The user `id` as the caller may administer it, read for a change in
    /// `tx`, with its tenant.
    async fn administered(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        id: i64,
    ) -> Result<(User, Option<i64>)> {
        if !caller.role.manages_tenant() {
            return Err(Error::Forbidden(format!(
                "the role {} may not administer users",
                caller.role
            )));
        }
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1{}",
            crate::sql::for_update(self.backend())
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let tenant: Option<i64> = row.try_get("tenant_id")?;
        let visible = match caller.role {
            Role::SystemAdmin => true,
            _ => tenant.is_some() && tenant == caller.tenant_id,
        };
        if !visible {
            return Err(Error::NotFound("user"));
        }
        Ok((user_from_row(&row)?, tenant))
    }

    /// Changes a user's role or enables or disables it. A disabled user's
    /// logins, tokens and portal sessions stop working at once (and work
    /// again when it is enabled).
    pub async fn update_user(&self, caller: &Caller, id: i64, change: UserChange) -> Result<User> {
        let mut tx = self.write().await?;
        let (before, tenant) = self.administered(&mut tx, caller, id).await?;
        let mut errors = Vec::new();
        let mut after = before.clone();
        if let Some(role) = change.role.filter(|r| *r != before.role) {
            if id == caller.user_id {
                errors.push(FieldError::new("role", "cannot be changed for yourself"));
            } else if tenant.is_none() {
                errors.push(FieldError::new(
                    "role",
                    "of a system administrator cannot change: it belongs to no tenant",
                ));
            } else if role == Role::SystemAdmin {
                errors.push(FieldError::new(
                    "role",
                    "cannot be SystemAdmin for a user of a tenant",
                ));
            }
            after.role = role;
        }
        if let Some(enabled) = change.enabled {
            if !enabled && id == caller.user_id {
                errors.push(FieldError::new("enabled", "you cannot disable yourself"));
            }
            after.enabled = enabled;
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let changes = audit::diff(&audited(&before), &audited(&after));
        if changes.is_empty() {
            return Ok(before);
        }
        sqlx::query("UPDATE users SET role = $1, disabled = $2 WHERE id = $3")
            .bind(after.role.to_string())
            .bind(!after.enabled)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            Change::new(caller, tenant, Action::Update, Entity::User, Some(id)).with(changes),
        )
        .await?;
        tx.commit().await?;
        self.token_cache().forget_all();
        Ok(after)
    }

    /// Removes a user; one that calls, ledger entries or charging sessions
    /// name is disabled instead, and the answer says which was done.
    pub async fn destroy_user(&self, caller: &Caller, id: i64) -> Result<Removal> {
        let mut tx = self.write().await?;
        let (before, tenant) = self.administered(&mut tx, caller, id).await?;
        if id == caller.user_id {
            return Err(Error::Forbidden("you cannot remove yourself".into()));
        }
        let named = sqlx::query(
            "SELECT 1 FROM cdrs WHERE user_id = $1 OR billed_user_id = $1 \
             UNION ALL SELECT 1 FROM balance_transactions WHERE user_id = $1 \
             UNION ALL SELECT 1 FROM charging_sessions WHERE user_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let removal = if named.is_some() {
            let after = User {
                enabled: false,
                ..before.clone()
            };
            sqlx::query("UPDATE users SET disabled = TRUE WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let changes = audit::diff(&audited(&before), &audited(&after));
            if !changes.is_empty() {
                audit::append(
                    &mut tx,
                    Change::new(caller, tenant, Action::Update, Entity::User, Some(id))
                        .with(changes),
                )
                .await?;
            }
            Removal::Disabled
        } else {
            sqlx::query("DELETE FROM tokens WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit::append(
                &mut tx,
                Change::new(caller, tenant, Action::Delete, Entity::User, Some(id))
                    .with(audit::deleted(audited(&before))),
            )
            .await?;
            Removal::Deleted
        };
        tx.commit().await?;
        self.token_cache().forget_all();
        Ok(removal)
    }

    /// Sets another user's password (an administrator's reset): the user's
    /// logins end; its API tokens keep working.
    pub async fn reset_password(&self, caller: &Caller, id: i64, password: String) -> Result<()> {
        validate_password(&password)?;
        let hash = hash_password(password).await?;
        let mut tx = self.write().await?;
        let (_, tenant) = self.administered(&mut tx, caller, id).await?;
        self.store_password(&mut tx, caller, tenant, id, hash)
            .await?;
        tx.commit().await?;
        self.token_cache().forget_all();
        Ok(())
    }

    /// Changes the caller's own password, given the current one; the
    /// caller's other logins end. A wrong current password counts as a
    /// failed login ([`crate::throttle`]): five lock the account, and while
    /// it is locked this is refused with `TooManyRequests` whatever is given.
    pub async fn change_own_password(
        &self,
        caller: &Caller,
        current_password: &str,
        new_password: String,
    ) -> Result<()> {
        let mut errors = Vec::new();
        if current_password.is_empty() {
            errors.push(FieldError::new("current_password", "is required"));
        }
        if let Err(Error::Validation(problems)) = validate_password(&new_password) {
            errors.extend(
                problems
                    .into_iter()
                    .map(|p| FieldError::new("new_password", p.message)),
            );
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let row = sqlx::query(
            "SELECT u.password_hash AS password_hash, u.tenant_id AS tenant_id, \
             t.sip_domain AS sip_domain \
             FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1",
        )
        .bind(caller.user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(Error::NotFound("user"))?;
        let stored: String = row.try_get("password_hash")?;
        let tenant: Option<i64> = row.try_get("tenant_id")?;
        let domain: Option<String> = row.try_get("sip_domain")?;
        // A wrong current password is a failed login of the account: the
        // throttle counts it, and refuses every try while the account is locked.
        let attempt = crate::throttle::Attempt::new(
            &caller.username,
            domain.as_deref(),
            caller.origin.client,
        );
        let standing = self.check_login_throttle(&attempt).await?;
        if !verify_password(current_password.to_string(), stored).await? {
            self.record_login_failure(&attempt).await?;
            self.audit_failed_login(caller.origin, &caller.username, domain.as_deref(), tenant)
                .await?;
            return Err(Error::field(
                "current_password",
                "is not your current password",
            ));
        }
        self.clear_login_failures(&attempt, standing).await?;
        let hash = hash_password(new_password).await?;
        let mut tx = self.write().await?;
        self.store_password(&mut tx, caller, tenant, caller.user_id, hash)
            .await?;
        tx.commit().await?;
        self.token_cache().forget_all();
        Ok(())
    }

    /// Writes a password hash, ends the user's logins other than the
    /// caller's own, and audits the change (without the password).
    async fn store_password(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        tenant: Option<i64>,
        id: i64,
        hash: String,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "DELETE FROM tokens WHERE user_id = $1 AND kind IN ('access', 'refresh') AND family <> $2",
        )
        .bind(id)
        .bind(&caller.family)
        .execute(&mut **tx)
        .await?;
        let mut changes = serde_json::Map::new();
        changes.insert("password".into(), serde_json::json!({ "after": "changed" }));
        audit::append(
            tx,
            Change::new(caller, tenant, Action::Update, Entity::User, Some(id)).with(changes),
        )
        .await?;
        Ok(())
    }
}
