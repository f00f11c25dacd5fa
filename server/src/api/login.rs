//! `/api/login` and the other token operations.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use billing::auth::Login;
use billing::Db;
use model::user::LoginAnswer;
use model::{ApiId, Fields};
use serde::Serialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{origin_of, path_id, token_of, Auth, JsonObject};

fn answer(login: Login) -> LoginAnswer {
    let now = billing::db::now_ms();
    LoginAnswer {
        access_token: login.access_token,
        token_type: "Bearer".into(),
        expires_in: ((login.expires_at - now).max(0) + 999) / 1000,
        expires_at: billing::time::rfc3339(login.expires_at),
        refresh_token: login.refresh_token,
        role: login.role,
    }
}

/// `POST /api/login {username, password, domain?}`
pub async fn login(
    State(db): State<Db>,
    extensions: axum::http::Extensions,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<LoginAnswer>> {
    let mut f = Fields::new(&body);
    let username = f.string("username");
    let username = f.require("username", username);
    let password = f.string("password");
    let password = f.require("password", password);
    let domain = f.string("domain");
    f.finish()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::validation("username", "is required"));
    };
    let login = db
        .login(
            &username,
            &password,
            domain.as_deref(),
            origin_of(&extensions),
        )
        .await?;
    Ok(Json(answer(login)))
}

/// `GET /api/login`: the status of the token the request carries.
pub async fn status(Auth(caller): Auth, headers: HeaderMap, uri: Uri) -> Json<Value> {
    let now = billing::db::now_ms();
    let mut body = json!({
        "access_token": token_of(&headers, &uri),
        "role": caller.role,
        "username": caller.username,
        "tenant_id": caller.tenant_id.map(ApiId::encode),
    });
    if let Some(expires_at) = caller.expires_at {
        body["expires_at"] = json!(billing::time::rfc3339(expires_at));
        body["expires_in"] = json!(((expires_at - now).max(0) + 999) / 1000);
    }
    Json(body)
}

/// `POST /api/login/refresh {refresh_token}`
pub async fn refresh(
    State(db): State<Db>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<LoginAnswer>> {
    let mut f = Fields::new(&body);
    let token = f.string("refresh_token");
    let token = f.require("refresh_token", token);
    f.finish()?;
    let token = token.unwrap_or_default();
    Ok(Json(answer(db.refresh_login(&token).await?)))
}

/// `POST /api/logout`: ends the login the token belongs to.
pub async fn logout(State(db): State<Db>, Auth(caller): Auth) -> ApiResult<StatusCode> {
    db.logout(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct TokenView {
    id: String,
    name: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl TokenView {
    fn new(info: billing::auth::ApiTokenInfo, token: Option<String>) -> TokenView {
        TokenView {
            id: ApiId::encode(info.id),
            name: info.name,
            created_at: billing::time::rfc3339(info.created_at),
            expires_at: info.expires_at.map(billing::time::rfc3339),
            last_used_at: info.last_used_at.map(billing::time::rfc3339),
            token,
        }
    }
}

/// `GET /api/tokens`: the caller's named API tokens (never their secrets).
pub async fn list_tokens(State(db): State<Db>, Auth(caller): Auth) -> ApiResult<Json<Value>> {
    let items: Vec<TokenView> = db
        .list_api_tokens(&caller)
        .await?
        .into_iter()
        .map(|t| TokenView::new(t, None))
        .collect();
    Ok(Json(json!({"count": items.len(), "items": items})))
}

/// `POST /api/tokens {name, expires_in_days?}`: the secret is in this answer only.
pub async fn create_token(
    State(db): State<Db>,
    Auth(caller): Auth,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<TokenView>> {
    let mut f = Fields::new(&body);
    let name = f.string("name");
    let name = f.require("name", name);
    let days = f.int("expires_in_days", 1, 3650);
    f.finish()?;
    let (info, secret) = db
        .create_api_token(&caller, &name.unwrap_or_default(), days)
        .await?;
    Ok(Json(TokenView::new(info, Some(secret))))
}

/// `POST /api/tokens/{id}/destroy`
pub async fn revoke_token(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    db.revoke_api_token(&caller, path_id(&id, "API token")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
