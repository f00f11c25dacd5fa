//! A Ratedeck server on a fresh database, driven through its router.

#![allow(dead_code)]

use std::str::FromStr;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use billing::testing::TestDb;
use billing::Backend;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use server::AppState;
use tower::ServiceExt;

pub mod portal;

pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestApp {
    pub router: Router,
    pub db: TestDb,
}

/// An answer: status, headers and the body as JSON (or as text in `Value::String`).
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The first error's code of an error answer.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }

    /// The fields named by the errors of an error answer.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await.expect("test database");
        db.db
            .ensure_system_admin(Some(ADMIN_PASSWORD.into()))
            .await
            .expect("system admin");
        let state = AppState {
            db: db.db.clone(),
            leptos_options: LeptosOptions::builder().output_name("ratedeck").build(),
        };
        TestApp {
            router: server::web::router(state, false),
            db,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call("POST", path, Some(token), Some(body)).await
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .expect("request");
        self.send(request).await
    }

    /// Logs in and answers the access token.
    pub async fn login(&self, username: &str, password: &str, domain: Option<&str>) -> String {
        let mut body = json!({"username": username, "password": password});
        if let Some(domain) = domain {
            body["domain"] = json!(domain);
        }
        let answer = self.call("POST", "/api/login", None, Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "login: {}", answer.text);
        answer.body["access_token"]
            .as_str()
            .expect("access token")
            .to_string()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD, None).await
    }

    /// The id of a tenant's user by name, as `admin` (its administrator)
    /// sees it.
    pub async fn user_id(&self, admin: &str, username: &str) -> String {
        let users = self
            .get(
                &format!("/api/users?filter=username%20eq%20'{username}'"),
                admin,
            )
            .await;
        assert_eq!(users.status, StatusCode::OK, "{}", users.text);
        users.body["items"][0]["id"]
            .as_str()
            .expect("user id")
            .to_string()
    }

    /// Creates a tenant with an Admin and a StandardUser; answers
    /// (tenant id, admin token, user token).
    pub async fn tenant(&self, root: &str, domain: &str) -> (String, String, String) {
        let created = self
            .post(
                "/api/tenants",
                root,
                json!({"name": domain, "sip_domain": domain}),
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        let id = created.body["id"].as_str().expect("id").to_string();
        for (name, role) in [("boss", "Admin"), ("101", "StandardUser")] {
            let user = self
                .post(
                    "/api/users",
                    root,
                    json!({"username": name, "password": "password-123", "role": role, "tenant_id": id}),
                )
                .await;
            assert_eq!(user.status, StatusCode::OK, "{}", user.text);
        }
        let admin = self.login("boss", "password-123", Some(domain)).await;
        let user = self.login("101", "password-123", Some(domain)).await;
        (id, admin, user)
    }
}

/// A valid v22 call rate body.
pub fn rate(prefix: &str) -> Value {
    json!({
        "prefix": prefix, "type": "INTERNATIONAL", "free_seconds": 10, "grace_period": 5,
        "interval_1": 60, "interval_n": 6, "connect_fee": 0.1, "postcall_surcharge": 0.1,
        "price_1": 0.06, "price_n": 0.03, "description": "test rate"
    })
}

/// An amount of money as the REST API answers it (a JSON number), exactly:
/// read from its text, never through a float.
pub fn money(value: &Value) -> Decimal {
    Decimal::from_str(&value.to_string()).expect("a money value")
}

/// Runs an async test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(billing::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(billing::Backend::Postgres).await;
                }
            )*
        }
    };
}
