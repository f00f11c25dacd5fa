//! Tenants and users, for the tenants, users and account pages. Each server
//! function runs the `billing` use case of the REST API, which checks the
//! caller's role and tenant itself.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::tenant::TenantStatus;
use model::user::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Rows per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;

/// The list parameters of a page, as its URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleArgs {
    pub search: Option<String>,
    pub orderby: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
}

/// A tenant as its page lists it: as the API shows it.
pub type TenantRow = model::tenant::Tenant;

/// A user as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Opaque API id.
    pub id: String,
    pub username: String,
    pub role: Role,
    pub enabled: bool,
    pub created_at: String,
    /// Whether this is the logged-in user (who cannot disable or remove
    /// themself).
    pub is_me: bool,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage<T> {
    /// Rows matching the search, on all pages.
    pub count: i64,
    /// Rows skipped before this page.
    pub skip: u64,
    /// Rows per page.
    pub top: u32,
    pub items: Vec<T>,
}

impl<T> PeoplePage<T> {
    /// The page as a list page's rows.
    pub fn rows(self) -> crate::components::list_page::Rows<T> {
        crate::components::list_page::Rows::paged(self.items, self.count, self.skip, self.top)
    }
}

/// The list query of a page's parameters (`filter` narrows it further).
#[cfg(feature = "ssr")]
fn query_of(
    args: PeopleArgs,
    filter: Option<String>,
    spec: &model::query::ResourceSpec,
) -> Result<model::query::ListQuery, ServerFnError> {
    let params = model::query::ListParams {
        cursor: None,
        filter,
        search: args.search,
        orderby: args.orderby,
        skip: args.skip,
        top: args.top.or_else(|| Some(PAGE_SIZE.to_string())),
    };
    model::query::ListQuery::parse(&params, spec)
        .map_err(|e| ServerFnError::new(format!("{}: {}", e.parameter, e.message)))
}

/// The page of `query` that a list use case answered, each row as the page
/// lists it.
#[cfg(feature = "ssr")]
fn page_of<T, R>(
    page: ::billing::listing::Page<T>,
    query: &model::query::ListQuery,
    row: impl FnMut(T) -> R,
) -> Option<PeoplePage<R>> {
    Some(PeoplePage {
        count: page.count,
        skip: query.skip,
        top: query.top,
        items: page.items.into_iter().map(row).collect(),
    })
}

/// Runs a use case on the user `id` (its opaque id) of the tenant acted
/// on, as the caller of that scope, and answers what it answered.
#[cfg(feature = "ssr")]
async fn on_user<T, F>(
    tenant: Option<String>,
    id: &str,
    run: impl FnOnce(::billing::Db, ::billing::Caller, i64) -> F,
) -> Result<T, ServerFnError>
where
    F: std::future::Future<Output = ::billing::Result<T>>,
{
    let scope = crate::server::scope(tenant).await?;
    let id = decode(id, "user")?;
    super::answer(run(crate::server::db()?, scope.caller, id).await)
}

#[cfg(feature = "ssr")]
fn decode(wire: &str, what: &'static str) -> Result<i64, ServerFnError> {
    model::ApiId::decode(wire)
        .ok_or_else(|| crate::server::to_server_error(::billing::Error::NotFound(what)))
}

/// A page of every tenant (system administrators only), searched by name
/// or SIP domain.
#[server(prefix = "/portal/fn", endpoint = "list_tenant_rows", input = Json, output = Json)]
pub async fn list_tenant_rows(
    args: PeopleArgs,
) -> Result<Option<PeoplePage<TenantRow>>, ServerFnError> {
    use crate::server::{caller, db};
    let caller = caller().await?;
    let query = query_of(args, None, &::billing::tenants::TENANT_SPEC)?;
    let page = super::answer(db()?.list_tenants(&caller, &query).await)?;
    Ok(page_of(page, &query, |t| t))
}

/// Creates a tenant (no `id`: `name`, `sip_domain`, `currency`) or changes
/// one (`name`, `currency`).
#[server(prefix = "/portal/fn", endpoint = "save_tenant", input = Json, output = Json)]
pub async fn save_tenant(
    tenant: Option<String>,
    id: Option<String>,
    body: Map<String, Value>,
) -> Result<String, ServerFnError> {
    use crate::server::{caller, db};
    use ::billing::tenants::{NewTenant, TenantChange};
    let _ = tenant;
    let caller = caller().await?;
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let db = db()?;
    match id {
        None => {
            let new = NewTenant {
                name: text("name").unwrap_or_default(),
                sip_domain: text("sip_domain").unwrap_or_default(),
                currency: text("currency").filter(|c| !c.trim().is_empty()),
            };
            super::answer(db.create_tenant(&caller, new).await.map(|t| t.id))
        }
        Some(wire) => {
            let id = decode(&wire, "tenant")?;
            let change = TenantChange {
                name: text("name"),
                currency: text("currency"),
                status: None,
            };
            super::answer(db.update_tenant(&caller, id, change).await.map(|t| t.id))
        }
    }
}

/// Suspends or resumes a tenant; answers what was done, to be shown.
#[server(prefix = "/portal/fn", endpoint = "set_tenant_status", input = Json, output = Json)]
pub async fn set_tenant_status(id: String, status: TenantStatus) -> Result<String, ServerFnError> {
    use crate::server::{caller, db};
    use ::billing::tenants::TenantChange;
    let caller = caller().await?;
    let change = TenantChange {
        status: Some(status),
        ..TenantChange::default()
    };
    let tenant = super::answer(
        db()?
            .update_tenant(&caller, decode(&id, "tenant")?, change)
            .await,
    )?;
    Ok(match tenant.status {
        TenantStatus::Suspended => format!(
            "{} is suspended: its users cannot log in; its PBX's calls are still taken.",
            tenant.name
        ),
        TenantStatus::Active => format!("{} is active again.", tenant.name),
    })
}

/// Tenants are suspended, never deleted: this only says so.
#[server(prefix = "/portal/fn", endpoint = "delete_tenant", input = Json, output = Json)]
pub async fn delete_tenant(tenant: Option<String>, id: String) -> Result<(), ServerFnError> {
    let _ = (tenant, id);
    Err(crate::server::to_server_error(::billing::Error::Forbidden(
        "a tenant is suspended, not deleted".into(),
    )))
}

/// A page of the users of the tenant acted on (a system administrator
/// chooses it), searched by name; `None` until one is chosen.
#[server(prefix = "/portal/fn", endpoint = "list_user_rows", input = Json, output = Json)]
pub async fn list_user_rows(
    tenant: Option<String>,
    args: PeopleArgs,
) -> Result<Option<PeoplePage<UserRow>>, ServerFnError> {
    use crate::server::{chosen_scope, db};
    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    // A system administrator sees every user: only the chosen tenant's here.
    let filter = format!("tenant_id eq '{}'", model::ApiId::encode(scope.tenant_id));
    let query = query_of(args, Some(filter), &::billing::users::USER_SPEC)?;
    let page = super::answer(db()?.list_users(&scope.caller, &query).await)?;
    let me = model::ApiId::encode(scope.caller.user_id);
    Ok(page_of(page, &query, |u| UserRow {
        is_me: u.id == me,
        id: u.id,
        username: u.username,
        role: u.role,
        enabled: u.enabled,
        created_at: u.created_at,
    }))
}

/// Creates a user of the tenant acted on (no `id`: `username`, `password`,
/// `role`) or changes one's role (`role`).
#[server(prefix = "/portal/fn", endpoint = "save_user", input = Json, output = Json)]
pub async fn save_user(
    tenant: Option<String>,
    id: Option<String>,
    body: Map<String, Value>,
) -> Result<String, ServerFnError> {
    use crate::server::{db, scope};
    use ::billing::user_admin::UserChange;
    use ::billing::users::NewUser;
    let scope = scope(tenant).await?;
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let role = match text("role").filter(|r| !r.is_empty()) {
        Some(r) => match r.parse::<Role>() {
            Ok(role) => Some(role),
            Err(m) => return Err(super::invalid(vec![model::FieldError::new("role", m)])),
        },
        None => None,
    };
    let db = db()?;
    match id {
        None => {
            let new = NewUser {
                username: text("username").unwrap_or_default(),
                password: text("password").unwrap_or_default(),
                role,
                tenant_id: Some(scope.tenant_id),
            };
            super::answer(db.create_user(&scope.caller, new).await.map(|u| u.id))
        }
        Some(wire) => {
            let change = UserChange {
                role,
                enabled: None,
            };
            let id = decode(&wire, "user")?;
            super::answer(
                db.update_user(&scope.caller, id, change)
                    .await
                    .map(|u| u.id),
            )
        }
    }
}

/// Removes a user. One that calls or ledger entries name is disabled
/// instead: the answer is then a refusal (409) that says so, the list
/// showing the user disabled.
#[server(prefix = "/portal/fn", endpoint = "delete_user", input = Json, output = Json)]
pub async fn delete_user(tenant: Option<String>, id: String) -> Result<(), ServerFnError> {
    use ::billing::user_admin::{Removal, DISABLED_INSTEAD};
    let removal = on_user(tenant, &id, |db, caller, id| async move {
        db.destroy_user(&caller, id).await
    });
    match removal.await? {
        Removal::Deleted => Ok(()),
        Removal::Disabled => Err(crate::server::to_server_error(::billing::Error::Conflict {
            code: "DISABLED_INSTEAD",
            message: DISABLED_INSTEAD.into(),
        })),
    }
}

/// Enables or disables a user; answers what was done, to be shown.
#[server(prefix = "/portal/fn", endpoint = "set_user_enabled", input = Json, output = Json)]
pub async fn set_user_enabled(
    tenant: Option<String>,
    id: String,
    enabled: bool,
) -> Result<String, ServerFnError> {
    use ::billing::user_admin::UserChange;
    let change = UserChange {
        role: None,
        enabled: Some(enabled),
    };
    let user = on_user(tenant, &id, |db, caller, id| async move {
        db.update_user(&caller, id, change).await
    })
    .await?;
    Ok(if user.enabled {
        format!("{} is enabled again.", user.username)
    } else {
        format!(
            "{} is disabled: it cannot log in, and its tokens stop working.",
            user.username
        )
    })
}

/// An administrator sets a user's new password.
#[server(prefix = "/portal/fn", endpoint = "reset_user_password", input = Json, output = Json)]
pub async fn reset_user_password(
    tenant: Option<String>,
    id: String,
    password: String,
) -> Result<String, ServerFnError> {
    on_user(tenant, &id, |db, caller, id| async move {
        db.reset_password(&caller, id, password).await
    })
    .await?;
    Ok("The password was reset; the user's logins ended.".into())
}

/// The logged-in user changes its own password.
#[server(prefix = "/portal/fn", endpoint = "change_my_password", input = Json, output = Json)]
pub async fn change_my_password(
    current_password: String,
    new_password: String,
) -> Result<String, ServerFnError> {
    use crate::server::{caller, db};
    let caller = caller().await?;
    super::answer(
        db()?
            .change_own_password(&caller, &current_password, new_password)
            .await,
    )?;
    Ok("Your password was changed.".into())
}
