//! `/api/tenants` and `/api/users`.

use axum::extract::{Path, State};
use axum::Json;
use billing::tenants::{NewTenant, Tenant, TENANT_SPEC};
use billing::users::{NewUser, User, USER_SPEC};
use billing::{Db, Page};
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
