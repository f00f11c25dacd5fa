//! The REST API under `/api`: the v22 billing operations and their neighbours.

pub mod audit;
pub mod balances;
pub mod billing_plans;
pub mod billing_settings;
pub mod call_rates;
pub mod cdrs;
pub mod charging;
pub mod error;
pub mod extract;
pub mod login;
pub mod openapi;
pub mod rating;
pub mod reports;
pub mod statements;
pub mod tariffs;
pub mod tenants;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Largest CDR batch body (10,000 CDRs of up to about 3 KiB each).
const CDR_BATCH_LIMIT: usize = 32 << 20;

/// Largest call-rate deck an import takes (about ten million rows).
pub(crate) const IMPORT_LIMIT: usize = 1 << 30;

/// Every operation [`routes`] serves, as `(method, path)` with axum's path
/// syntax (which is also OpenAPI's), less the two catch-all fallbacks. The
/// unit test below checks it against `routes()`; `tests/openapi.rs` checks the
/// published document against it.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/login"),
    ("POST", "/api/login"),
    ("POST", "/api/login/refresh"),
    ("POST", "/api/logout"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("POST", "/api/tokens/{id}/destroy"),
    ("GET", "/api/tenants"),
    ("POST", "/api/tenants"),
    ("GET", "/api/tenants/{id}"),
    ("POST", "/api/tenants/{id}"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("GET", "/api/users/{id}"),
    ("POST", "/api/users/{id}"),
    ("POST", "/api/users/{id}/destroy"),
    ("POST", "/api/users/{id}/password"),
    ("POST", "/api/user/password"),
    ("GET", "/api/tenant/billing"),
    ("POST", "/api/tenant/billing"),
    ("GET", "/api/tenant/statement_settings"),
    ("POST", "/api/tenant/statement_settings"),
    ("GET", "/api/statements"),
    ("GET", "/api/statements/{id}"),
    ("GET", "/api/statements/{id}/csv"),
    ("GET", "/api/call_rates"),
    ("POST", "/api/call_rates"),
    ("GET", "/api/call_rates/export"),
    ("POST", "/api/call_rates/import"),
    ("GET", "/api/call_rates/{id}"),
    ("POST", "/api/call_rates/{id}"),
    ("POST", "/api/call_rates/{id}/destroy"),
    ("GET", "/api/tenant/balance"),
    ("POST", "/api/tenant/balance"),
    ("POST", "/api/tenant/credit_limit"),
    ("GET", "/api/users/{id}/balance"),
    ("POST", "/api/users/{id}/balance"),
    ("POST", "/api/users/{id}/credit_limit"),
    ("GET", "/api/user/balance"),
    ("GET", "/api/tenant/low_balance"),
    ("POST", "/api/tenant/low_balance"),
    ("GET", "/api/users/{id}/low_balance"),
    ("POST", "/api/users/{id}/low_balance"),
    ("GET", "/api/user/low_balance"),
    ("GET", "/api/alerts"),
    ("GET", "/api/webhooks"),
    ("POST", "/api/webhooks"),
    ("GET", "/api/webhooks/deliveries"),
    ("GET", "/api/webhooks/deliveries/{id}"),
    ("GET", "/api/webhooks/{id}"),
    ("POST", "/api/webhooks/{id}"),
    ("POST", "/api/webhooks/{id}/secret"),
    ("POST", "/api/webhooks/{id}/destroy"),
    ("GET", "/api/user/balance_transactions"),
    ("GET", "/api/balance_transactions"),
    ("GET", "/api/audit_log"),
    ("GET", "/api/cdrs"),
    ("POST", "/api/cdrs"),
    ("POST", "/api/cdrs/rerate"),
    ("GET", "/api/cdrs/export"),
    ("GET", "/api/cdrs/{id}"),
    ("GET", "/api/user/cdrs"),
    ("GET", "/api/user/cdrs/export"),
    ("GET", "/api/user/cdrs/{id}"),
    ("GET", "/api/reports/spend"),
    ("GET", "/api/reports/summary"),
    ("GET", "/api/reports/balance"),
    ("POST", "/api/rating/quote"),
    ("POST", "/api/user/quote"),
    ("GET", "/api/tariffs"),
    ("POST", "/api/tariffs"),
    ("GET", "/api/tariffs/{id}"),
    ("POST", "/api/tariffs/{id}"),
    ("POST", "/api/tariffs/{id}/destroy"),
    ("GET", "/api/tariffs/{id}/rates"),
    ("POST", "/api/tariffs/{id}/rates"),
    ("GET", "/api/tariffs/{id}/rates/{rate_id}"),
    ("POST", "/api/tariffs/{id}/rates/{rate_id}"),
    ("POST", "/api/tariffs/{id}/rates/{rate_id}/destroy"),
    ("GET", "/api/billing_plans"),
    ("POST", "/api/billing_plans"),
    ("GET", "/api/billing_plans/{id}"),
    ("POST", "/api/billing_plans/{id}"),
    ("POST", "/api/billing_plans/{id}/destroy"),
    ("GET", "/api/charging/sessions"),
    ("POST", "/api/charging/authorize"),
    ("POST", "/api/charging/{id}/update"),
    ("POST", "/api/charging/{id}/terminate"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
];

/// Every `/api` route. Kept as a list so the OpenAPI test can compare it with
/// the published document.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login::login).get(login::status))
        .route("/api/login/refresh", post(login::refresh))
        .route("/api/logout", post(login::logout))
        .route(
            "/api/tokens",
            get(login::list_tokens).post(login::create_token),
        )
        .route("/api/tokens/{id}/destroy", post(login::revoke_token))
        .route(
            "/api/tenants",
            get(tenants::list_tenants).post(tenants::create_tenant),
        )
        .route(
            "/api/tenants/{id}",
            get(tenants::get_tenant).post(tenants::update_tenant),
        )
        .route(
            "/api/users",
            get(tenants::list_users).post(tenants::create_user),
        )
        .route(
            "/api/users/{id}",
            get(tenants::get_user).post(tenants::update_user),
        )
        .route("/api/users/{id}/destroy", post(tenants::destroy_user))
        .route("/api/users/{id}/password", post(tenants::reset_password))
        .route("/api/user/password", post(tenants::change_own_password))
        .route(
            "/api/tenant/billing",
            get(billing_settings::get).post(billing_settings::set),
        )
        .route(
            "/api/tenant/statement_settings",
            get(statements::get_settings).post(statements::set_settings),
        )
        .route("/api/statements", get(statements::list))
        .route("/api/statements/{id}", get(statements::get))
        .route("/api/statements/{id}/csv", get(statements::csv))
        .route(
            "/api/call_rates",
            get(call_rates::list).post(call_rates::create),
        )
        .route("/api/call_rates/export", get(call_rates::export))
        .route(
            "/api/call_rates/import",
            post(call_rates::import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route(
            "/api/call_rates/{id}",
            get(call_rates::get).post(call_rates::update),
        )
        .route("/api/call_rates/{id}/destroy", post(call_rates::destroy))
        .route(
            "/api/tenant/balance",
            get(balances::get_tenant).post(balances::recharge_tenant),
        )
        .route(
            "/api/tenant/credit_limit",
            post(balances::set_tenant_credit_limit),
        )
        .route(
            "/api/users/{id}/balance",
            get(balances::get_user).post(balances::recharge_user),
        )
        .route(
            "/api/users/{id}/credit_limit",
            post(balances::set_user_credit_limit),
        )
        .route("/api/user/balance", get(balances::get_own))
        .route(
            "/api/tenant/low_balance",
            get(balances::get_tenant_low_balance).post(balances::set_tenant_low_balance),
        )
        .route(
            "/api/users/{id}/low_balance",
            get(balances::get_user_low_balance).post(balances::set_user_low_balance),
        )
        .route("/api/user/low_balance", get(balances::get_own_low_balance))
        .route("/api/alerts", get(balances::alerts))
        .route("/api/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/webhooks/deliveries", get(webhooks::deliveries))
        .route("/api/webhooks/deliveries/{id}", get(webhooks::delivery))
        .route(
            "/api/webhooks/{id}",
            get(webhooks::get).post(webhooks::update),
        )
        .route("/api/webhooks/{id}/secret", post(webhooks::rotate_secret))
        .route("/api/webhooks/{id}/destroy", post(webhooks::destroy))
        .route(
            "/api/user/balance_transactions",
            get(balances::own_transactions),
        )
        .route("/api/balance_transactions", get(balances::transactions))
        .route("/api/audit_log", get(audit::list))
        .route(
            "/api/cdrs",
            get(cdrs::list)
                .post(cdrs::ingest)
                .layer(DefaultBodyLimit::max(CDR_BATCH_LIMIT)),
        )
        .route("/api/cdrs/rerate", post(cdrs::rerate))
        .route("/api/cdrs/export", get(cdrs::export))
        .route("/api/cdrs/{id}", get(cdrs::get))
        .route("/api/user/cdrs", get(cdrs::list_own))
        .route("/api/user/cdrs/export", get(cdrs::export_own))
        .route("/api/user/cdrs/{id}", get(cdrs::get_own))
        .route("/api/reports/spend", get(reports::spend))
        .route("/api/reports/summary", get(reports::summary))
        .route("/api/reports/balance", get(reports::balance))
        .route("/api/rating/quote", post(rating::quote))
        .route("/api/user/quote", post(rating::quote_own))
        .route("/api/tariffs", get(tariffs::list).post(tariffs::create))
        .route("/api/tariffs/{id}", get(tariffs::get).post(tariffs::update))
        .route("/api/tariffs/{id}/destroy", post(tariffs::destroy))
        .route(
            "/api/tariffs/{id}/rates",
            get(tariffs::list_rates).post(tariffs::create_rate),
        )
        .route(
            "/api/tariffs/{id}/rates/{rate_id}",
            get(tariffs::get_rate).post(tariffs::update_rate),
        )
        .route(
            "/api/tariffs/{id}/rates/{rate_id}/destroy",
            post(tariffs::destroy_rate),
        )
        .route(
            "/api/billing_plans",
            get(billing_plans::list).post(billing_plans::create),
        )
        .route(
            "/api/billing_plans/{id}",
            get(billing_plans::get).post(billing_plans::update),
        )
        .route(
            "/api/billing_plans/{id}/destroy",
            post(billing_plans::destroy),
        )
        .route("/api/charging/sessions", get(charging::sessions))
        .route("/api/charging/authorize", post(charging::authorize))
        .route("/api/charging/{id}/update", post(charging::update))
        .route("/api/charging/{id}/terminate", post(charging::terminate))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/docs", get(openapi::docs_page))
        // For operators and load balancers, outside authentication (crate::ops).
        .route("/healthz", get(crate::ops::healthz))
        .route("/readyz", get(crate::ops::readyz))
        .route("/metrics", get(crate::ops::metrics_text))
        .method_not_allowed_fallback(error::wrong_method)
        .route("/api", axum::routing::any(error::unknown_route))
        .route("/api/{*rest}", axum::routing::any(error::unknown_route))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::ROUTES;
    use crate::state::AppState;

    /// Methods probed on every path to find the ones it takes.
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    async fn router() -> (billing::testing::TestDb, Router) {
        let test_db = billing::testing::TestDb::new(billing::Backend::Sqlite)
            .await
            .expect("test database");
        let leptos_options = leptos::config::LeptosOptions::builder()
            .output_name("ratedeck")
            .build();
        let state = AppState {
            db: test_db.db.clone(),
            leptos_options,
        };
        (test_db, crate::web::router(state, false))
    }

    /// Whether the router has an operation for `method` on `path` (with its
    /// parameters filled in): anything but 405 and the API's own 404 fallback.
    async fn answers(router: &Router, method: &str, path: &str) -> bool {
        let uri = path
            .split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with('}') {
                    "MQ"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(&uri)
            .body(Body::empty())
            .expect("request");
        let response = router.clone().oneshot(request).await.expect("answer");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let fallback = status == StatusCode::NOT_FOUND
            && String::from_utf8_lossy(&body).contains("no such API operation");
        status != StatusCode::METHOD_NOT_ALLOWED && !fallback
    }

    /// The paths `routes()` names, read off its source, less the fallbacks.
    fn paths_in_source() -> BTreeSet<String> {
        let source = include_str!("mod.rs");
        let start = source.find("pub fn routes()").expect("routes() in mod.rs");
        let body = &source[start..];
        let body = &body[..body.find("\n}\n").expect("end of routes()")];
        body.split(".route(")
            .skip(1)
            .filter_map(|rest| {
                let rest = rest.trim_start().strip_prefix('"')?;
                Some(rest[..rest.find('"')?].to_string())
            })
            .filter(|p| p != "/api" && p != "/api/{*rest}")
            .collect()
    }

    #[tokio::test]
    async fn routes_lists_every_route_and_method() {
        let (_db, router) = router().await;
        let listed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(
            listed.len(),
            ROUTES.len(),
            "ROUTES names an operation twice"
        );

        let source_paths = paths_in_source();
        let listed_paths: BTreeSet<String> = listed.iter().map(|(_, p)| p.clone()).collect();
        assert_eq!(
            source_paths, listed_paths,
            "ROUTES and routes() name different paths"
        );

        let mut served = BTreeSet::new();
        for path in &source_paths {
            for method in METHODS {
                if answers(&router, method, path).await {
                    served.insert((method.to_string(), path.clone()));
                }
            }
        }
        assert_eq!(
            served, listed,
            "ROUTES and the methods routes() serves differ"
        );
    }

    #[tokio::test]
    async fn unknown_paths_reach_the_fallback() {
        let (_db, router) = router().await;
        assert!(!answers(&router, "GET", "/api/no_such_thing").await);
        assert!(!answers(&router, "GET", "/api/call_rates/{id}/nothing").await);
        assert!(!answers(&router, "DELETE", "/api/call_rates/{id}").await);
    }
}
