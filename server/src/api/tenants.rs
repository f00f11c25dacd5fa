//! `/api/tenants`, `/api/users` and `/api/user/password`.

use axum::extract::{Path, State};
use axum::Json;
use billing::tenants::{NewTenant, Tenant, TenantChange, TENANT_SPEC};
use billing::user_admin::{Removal, UserChange, DISABLED_INSTEAD};
use billing::users::{NewUser, User, USER_SPEC};
use billing::{Db, Page};
use model::tenant::TenantStatus;
use model::user::Role;
use model::{ApiId, Fields};
use serde_json::{json, Value};

use super::error::ApiResult;
use super::extract::{path_id, Auth, JsonObject, ListParamsQuery};

pub async fn create_tenant(
    State(db): State<Db>,
    Auth(caller): Auth,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    caller.require_system_admin()?;
    let mut f = Fields::new(&body);
    let name = f.string("name");
    let name = f.require("name", name);
    let sip_domain = f.string("sip_domain");
    let sip_domain = f.require("sip_domain", sip_domain);
    let currency = f.string("currency");
    f.finish()?;
    let tenant = db
        .create_tenant(
            &caller,
            NewTenant {
                name: name.unwrap_or_default(),
                sip_domain: sip_domain.unwrap_or_default(),
                currency,
            },
        )
        .await?;
    Ok(Json(json!({ "id": tenant.id })))
}

pub async fn list_tenants(
    State(db): State<Db>,
    Auth(caller): Auth,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<Tenant>>> {
    caller.require_system_admin()?;
    let query = params.parse(&TENANT_SPEC)?;
    Ok(Json(db.list_tenants(&caller, &query).await?))
}

pub async fn get_tenant(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Tenant>> {
    Ok(Json(db.get_tenant(&caller, path_id(&id, "tenant")?).await?))
}

pub async fn create_user(
    State(db): State<Db>,
    Auth(caller): Auth,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let mut f = Fields::new(&body);
    let username = f.string("username");
    let username = f.require("username", username);
    let password = f.string("password");
    let password = f.require("password", password);
    let role = f.enumeration::<Role>("role");
    let tenant = f.string("tenant_id");
    let tenant_id = match tenant {
        Some(text) => match ApiId::decode(&text) {
            Some(id) => Some(id),
            None => {
                f.error("tenant_id", "is not a tenant id");
                None
            }
        },
        None => None,
    };
    if let Err(mut errors) = f.finish() {
        // Name every problem at once: also those of the name and password.
        let in_tenant = tenant_id.is_some() || caller.tenant_id.is_some();
        for e in billing::users::validate_credentials(
            username.as_deref().unwrap_or_default(),
            password.as_deref().unwrap_or_default(),
            in_tenant,
        ) {
            if !errors.iter().any(|known| known.field == e.field) {
                errors.push(e);
            }
        }
        return Err(errors.into());
    }
    let user = db
        .create_user(
            &caller,
            NewUser {
                username: username.unwrap_or_default(),
                password: password.unwrap_or_default(),
                role,
                tenant_id,
            },
        )
        .await?;
    Ok(Json(json!({ "id": user.id })))
}

pub async fn list_users(
    State(db): State<Db>,
    Auth(caller): Auth,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<User>>> {
    let query = params.parse(&USER_SPEC)?;
    Ok(Json(db.list_users(&caller, &query).await?))
}

pub async fn get_user(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(db.get_user(&caller, path_id(&id, "user")?).await?))
}

/// `POST /api/tenants/{id} {name?, currency?, status?}` → the tenant.
pub async fn update_tenant(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Tenant>> {
    caller.require_system_admin()?;
    let id = path_id(&id, "tenant")?;
    let mut f = Fields::new(&body);
    let change = TenantChange {
        name: f.string("name"),
        currency: f.string("currency"),
        status: f.enumeration::<TenantStatus>("status"),
    };
    f.finish()?;
    Ok(Json(db.update_tenant(&caller, id, change).await?))
}

/// `POST /api/users/{id} {role?, enabled?}` → the user.
pub async fn update_user(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<User>> {
    let id = path_id(&id, "user")?;
    let mut f = Fields::new(&body);
    let change = UserChange {
        role: f.enumeration::<Role>("role"),
        enabled: f.bool("enabled"),
    };
    f.finish()?;
    Ok(Json(db.update_user(&caller, id, change).await?))
}

/// `POST /api/users/{id}/destroy` → `{id, deleted, disabled}`; a user that
/// calls or ledger entries name is disabled instead, and `message` says so.
pub async fn destroy_user(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(text): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&text, "user")?;
    Ok(Json(match db.destroy_user(&caller, id).await? {
        Removal::Deleted => json!({"id": ApiId::encode(id), "deleted": true, "disabled": false}),
        Removal::Disabled => json!({
            "id": ApiId::encode(id), "deleted": false, "disabled": true, "message": DISABLED_INSTEAD,
        }),
    }))
}

/// `POST /api/users/{id}/password {password}`: an administrator sets another
/// user's password; that user's logins end.
pub async fn reset_password(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(text): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let id = path_id(&text, "user")?;
    let mut f = Fields::new(&body);
    let password = f.string("password");
    let password = f.require("password", password);
    f.finish()?;
    db.reset_password(&caller, id, password.unwrap_or_default())
        .await?;
    Ok(Json(json!({"id": ApiId::encode(id)})))
}

/// `POST /api/user/password {current_password, new_password}`: the caller
/// changes its own password; its other logins end.
pub async fn change_own_password(
    State(db): State<Db>,
    Auth(caller): Auth,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let mut f = Fields::new(&body);
    let current = f.string("current_password");
    let current = f.require("current_password", current);
    let new = f.string("new_password");
    let new = f.require("new_password", new);
    f.finish()?;
    db.change_own_password(
        &caller,
        current.as_deref().unwrap_or_default(),
        new.unwrap_or_default(),
    )
    .await?;
    Ok(Json(json!({"id": ApiId::encode(caller.user_id)})))
}
