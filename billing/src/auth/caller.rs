//! The authenticated caller of a request and the tenant scope it acts on.

use model::user::Role;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::Origin;
use crate::error::{Error, Result};

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
    /// Narrowed to the caller's own account: its calls, its ledger, its
    /// balance ([`Scope::own_account`]), whatever its role.
    pub own: bool,
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
            own: false,
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

/// The caller a row names by its user (`user_id`, `username`, `role`,
/// `tenant_id`), not yet holding any token.
pub(super) fn caller_from_row(row: &AnyRow, origin: Origin) -> Result<Caller> {
    Ok(Caller {
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        role: row
            .try_get::<String, _>("role")?
            .parse()
            .map_err(Error::internal)?,
        tenant_id: row.try_get("tenant_id")?,
        family: String::new(),
        expires_at: None,
        token_name: None,
        origin,
    })
}
