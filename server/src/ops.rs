//! What operators and load balancers ask of a server, outside
//! authentication: `GET /healthz` (the process answers), `GET /readyz` (the
//! database answers and its migrations are applied; 503 otherwise) and
//! `GET /metrics` (Prometheus text format).
//!
//! `/metrics` answers a client on the loopback interface that no proxy
//! forwarded (no `Forwarded` or `X-Forwarded-For` header: behind a local
//! load balancer every client would look local), or any client sending
//! `Authorization: Bearer <RATEDECK_METRICS_TOKEN>` when that token is set
//! ([`MetricsAccess`]). It holds the request count and latency per route and
//! status (the route as declared, `/api/cdrs/{id}`, never the raw path), the
//! service layer's counters ([`billing::metrics`]) and, read from the
//! database at each scrape, the live holds, what they hold and the pool's
//! connections.
//!
//! Every request also gets an id: the client's `X-Request-Id` when it is
//! short and printable, else a new one. It is answered in `X-Request-Id`
//! and every log line written while serving the request carries it.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use billing::Db;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

use crate::api::error::ErrorEntry;

/// The request id header, asked and answered.
pub const REQUEST_ID: &str = "x-request-id";
/// The longest client request id kept; a longer one is replaced.
const REQUEST_ID_MAX: usize = 64;

/// Who may read `/metrics` besides loopback clients: the holders of this
/// token (`RATEDECK_METRICS_TOKEN`). Added to the router as an extension;
/// without it only loopback clients may.
#[derive(Clone)]
pub struct MetricsAccess {
    token: Option<Arc<str>>,
}

impl MetricsAccess {
    pub fn new(token: Option<String>) -> MetricsAccess {
        MetricsAccess {
            token: token.filter(|t| !t.is_empty()).map(Arc::from),
        }
    }

    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|sent| same_secret(sent.trim().as_bytes(), token.as_bytes()))
    }
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Compares two secrets in time that depends on their lengths only.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The process's Prometheus recorder, installed on first use (there is one
/// per process: every router built in it shares it).
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                &buckets,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder set first (a test's own) keeps its place.
        if metrics::set_global_recorder(recorder).is_ok() {
            billing::metrics::describe();
            describe();
        }
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        "ratedeck_http_requests_total",
        "HTTP requests answered, by method, route and status"
    );
    metrics::describe_histogram!(
        "ratedeck_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method, route and status"
    );
}

pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

pub(crate) async fn readyz(State(db): State<Db>) -> Response {
    match db.readiness().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            let entry = ErrorEntry {
                code: "NOT_READY",
                message: "the server cannot serve requests yet".into(),
                detail: reason,
                field: None,
                line: None,
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "errors": [entry] })),
            )
                .into_response()
        }
    }
}

pub(crate) async fn metrics_text(State(db): State<Db>, request: Request) -> Response {
    let headers = request.headers();
    let forwarded =
        headers.contains_key(header::FORWARDED) || headers.contains_key("x-forwarded-for");
    let local = !forwarded
        && request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback());
    let token = request
        .extensions()
        .get::<MetricsAccess>()
        .is_some_and(|a| a.allows(headers));
    if !local && !token {
        let entry = ErrorEntry {
            code: "FORBIDDEN",
            message: "metrics are for local clients or the metrics token".into(),
            detail: "Ask from the server's own machine, or send \
                     'Authorization: Bearer <RATEDECK_METRICS_TOKEN>'."
                .into(),
            field: None,
            line: None,
        };
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "errors": [entry] })),
        )
            .into_response();
    }
    let mut text = recorder().render();
    match db.gauges().await {
        Ok(g) => {
            gauge_lines(
                &mut text,
                "ratedeck_live_holds",
                "Charging sessions in progress (all servers on the database)",
                &[(String::new(), g.live_holds.to_string())],
            );
            let held: Vec<(String, String)> = g
                .held
                .iter()
                .map(|h| {
                    (
                        format!("{{currency=\"{}\"}}", label_value(&h.currency)),
                        h.held.to_string(),
                    )
                })
                .collect();
            gauge_lines(
                &mut text,
                "ratedeck_held_amount",
                "What the calls in progress hold, per currency",
                &held,
            );
            gauge_lines(
                &mut text,
                "ratedeck_db_pool_connections",
                "This server's database connections, by state",
                &[
                    (
                        "{state=\"in_use\"}".into(),
                        g.pool_size.saturating_sub(g.pool_idle).to_string(),
                    ),
                    ("{state=\"idle\"}".into(), g.pool_idle.to_string()),
                ],
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the database figures could not be read"),
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// Appends one gauge family in the text format.
fn gauge_lines(text: &mut String, name: &str, help: &str, samples: &[(String, String)]) {
    use std::fmt::Write as _;
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(text, "{name}{labels} {value}");
    }
}

/// A label value escaped as the text format asks.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts and times every routed request (a route layer: it sees the
/// route's declared path).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("ratedeck_http_requests_total", &labels).increment(1);
    metrics::histogram!("ratedeck_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Gives the request its id, serves it inside a span carrying the id, and
/// answers the id.
pub async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= REQUEST_ID_MAX && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// 16 random hex digits.
fn new_request_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }

    #[test]
    fn the_token_is_needed_exactly() {
        let access = MetricsAccess::new(Some("s3cret".into()));
        let mut headers = HeaderMap::new();
        assert!(!access.allows(&headers));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(access.allows(&headers));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cre"),
        );
        assert!(!access.allows(&headers));
        assert!(!MetricsAccess::new(Some(String::new())).allows(&headers));
        assert!(!format!("{access:?}").contains("s3cret"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
