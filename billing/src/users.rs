//! Users: the system administrators, and each tenant's administrators and
//! users (extensions).

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::user::{validate_username, Role, RESERVED_USERNAMES};
use model::{ApiId, FieldError};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Change, Entity};
use crate::auth::{hash_password, validate_password, Caller};
use crate::db::{now_ms, Db};
use crate::error::{is_unique_violation, Error, Result};
use crate::listing::{Listing, Page};

/// A user as the API shows it (never its password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub tenant_id: Option<String>,
    pub created_at: String,
    /// False once disabled: no login, no token, no portal session.
    pub enabled: bool,
}

/// What creating a user takes.
#[derive(Clone, Default, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Option<Role>,
    pub tenant_id: Option<i64>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

pub static USER_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("username", "username", FieldKind::Text),
        FieldSpec::new(
            "role",
            "role",
            FieldKind::Enum(<Role as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("tenant_id", "tenant_id", FieldKind::Id),
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
    ],
    search: &["username"],
    default_order: "id",
    decode_id: ApiId::decode,
};

pub(crate) const USER_COLUMNS: &str =
    "id, username, role, tenant_id, created_at, CASE WHEN disabled THEN 0 ELSE 1 END AS enabled";

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: ApiId::encode(row.try_get("id")?),
        username: row.try_get("username")?,
        role: row
            .try_get::<String, _>("role")?
            .parse()
            .map_err(Error::internal)?,
        tenant_id: row
            .try_get::<Option<i64>, _>("tenant_id")?
            .map(ApiId::encode),
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
        enabled: row.try_get::<i64, _>("enabled")? != 0,
    })
}

/// Problems with a new user's name and password, each naming its field.
/// Tenant users may not take the names reserved for system administrators.
pub fn validate_credentials(username: &str, password: &str, in_tenant: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(m) = validate_username(username) {
        errors.push(FieldError::new("username", m));
    } else if in_tenant && RESERVED_USERNAMES.contains(&username.to_ascii_lowercase().as_str()) {
        errors.push(FieldError::new(
            "username",
            "is reserved for system administrators",
        ));
    }
    if let Err(Error::Validation(mut e)) = validate_password(password) {
        errors.append(&mut e);
    }
    errors
}

impl Db {
    /// The id and name of every user of a tenant (for billing calls to
    /// the user who made them).
    pub(crate) async fn tenant_user_names(&self, tenant_id: i64) -> Result<Vec<(i64, String)>> {
        sqlx::query("SELECT id, username FROM users WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("username")?)))
            .collect()
    }

    /// Creates a user. A tenant administrator creates users of its own tenant;
    /// a system administrator names the tenant (or none, for another system
    /// administrator).
    pub async fn create_user(&self, caller: &Caller, new: NewUser) -> Result<User> {
        let role = new.role.unwrap_or(Role::StandardUser);
        let tenant_id = match caller.role {
            Role::SystemAdmin => new.tenant_id,
            Role::Admin => match (caller.tenant_id, new.tenant_id) {
                (Some(own), None) => Some(own),
                (Some(own), Some(asked)) if own == asked => Some(own),
                (Some(_), Some(_)) => return Err(Error::NotFound("tenant")),
                (None, _) => return Err(Error::Forbidden("no tenant".into())),
            },
            Role::StandardUser => {
                return Err(Error::Forbidden(
                    "the role StandardUser may not create users".into(),
                ))
            }
        };
        if caller.role == Role::Admin && role == Role::SystemAdmin {
            return Err(Error::Forbidden(
                "a tenant administrator may not create system administrators".into(),
            ));
        }
        let mut errors = Vec::new();
        match (role, tenant_id) {
            (Role::SystemAdmin, Some(_)) => errors.push(FieldError::new(
                "tenant_id",
                "must be absent for a system administrator",
            )),
            (Role::Admin | Role::StandardUser, None) => {
                errors.push(FieldError::new("tenant_id", "is required for this role"))
            }
            _ => {}
        }
        let username = new.username.trim().to_string();
        errors.extend(validate_credentials(
            &username,
            &new.password,
            tenant_id.is_some(),
        ));
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if let Some(tenant) = tenant_id {
            let exists = sqlx::query("SELECT id FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(self.pool())
                .await?;
            if exists.is_none() {
                return Err(Error::NotFound("tenant"));
            }
        }
        let hash = hash_password(new.password).await?;
        let now = now_ms();
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (tenant_id, tenant_scope, username, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(tenant_id)
        .bind(tenant_id.unwrap_or(0))
        .bind(&username)
        .bind(hash)
        .bind(role.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::field("username", "already exists"))
            }
            Err(e) => return Err(e.into()),
        };
        // The name, role and tenant: never the password or its hash.
        let fields = serde_json::json!({
            "username": username,
            "role": role,
            "tenant_id": tenant_id.map(ApiId::encode),
        });
        audit::append(
            &mut tx,
            Change::new(caller, tenant_id, Action::Create, Entity::User, Some(id))
                .with(audit::created(audit::snapshot(&fields))),
        )
        .await?;
        tx.commit().await?;
        Ok(User {
            id: ApiId::encode(id),
            username,
            role,
            tenant_id: tenant_id.map(ApiId::encode),
            created_at: crate::time::rfc3339(now),
            enabled: true,
        })
    }

    /// Users the caller administers: all for a system administrator, its own
    /// tenant's for a tenant administrator.
    pub async fn list_users(&self, caller: &Caller, query: &ListQuery) -> Result<Page<User>> {
        let (scope, binds) = match (caller.role, caller.tenant_id) {
            (Role::SystemAdmin, _) => ("1 = 1", vec![]),
            (Role::Admin, Some(t)) => ("tenant_id = $1", vec![SqlValue::Int(t)]),
            _ => {
                return Err(Error::Forbidden(
                    "the role StandardUser may not list users".into(),
                ))
            }
        };
        self.page(
            Listing {
                columns: USER_COLUMNS,
                from: "users",
                scope,
                scope_binds: binds,
                spec: &USER_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            user_from_row,
        )
        .await
    }

    /// One user: any for a system administrator, its tenant's for an
    /// administrator, oneself for a standard user.
    pub async fn get_user(&self, caller: &Caller, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("user"))?;
        let user_tenant: Option<i64> = row.try_get("tenant_id")?;
        let visible = match caller.role {
            Role::SystemAdmin => true,
            Role::Admin => user_tenant.is_some() && user_tenant == caller.tenant_id,
            Role::StandardUser => id == caller.user_id,
        };
        if !visible {
            return Err(Error::NotFound("user"));
        }
        user_from_row(&row)
    }
}
