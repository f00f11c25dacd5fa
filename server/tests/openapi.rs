//! Keeps the published OpenAPI document (`server/openapi.json`) in step with
//! the router, with what the handlers really answer, and with the PortSIP v22
//! contract copied into `docs/contract`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};
use server::api::openapi::DOCUMENT;
use server::api::ROUTES;
use server::state::AppState;
use tower::ServiceExt;

/// Methods probed on every documented path.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The keys of a path item that are operations.
const OPERATION_KEYS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where our document knowingly says more than the seed, each with its reason.
/// Every entry must still be needed (the contract test fails on a stale one).
const KNOWN_EXTENSIONS: &[(&str, &str)] = &[
    (
        "listCallRates 200 application/json.cursor",
        "a list answers the cursor of the page after (before) it, for keyset paging",
    ),
    (
        "listCallRates 200 application/json.previous_cursor",
        "a list answers the cursor of the page after (before) it, for keyset paging",
    ),
    (
        "listCDRs 200 application/json.cursor",
        "a list answers the cursor of the page after (before) it, for keyset paging",
    ),
    (
        "listCDRs 200 application/json.previous_cursor",
        "a list answers the cursor of the page after (before) it, for keyset paging",
    ),
    (
        "listUserCDRs 200 application/json.cursor",
        "a list answers the cursor of the page after (before) it, for keyset paging",
    ),
    (
        "listUserCDRs 200 application/json.previous_cursor",
        "a list answers the cursor of the page after (before) it, for keyset paging",
    ),
    (
        "listCDRs 200 application/json.items[].cost",
        "the list also says how each call was charged",
    ),
    (
        "listCDRs 200 application/json.items[].billed_account",
        "the list also says how each call was charged",
    ),
    (
        "listCDRs 200 application/json.items[].rating_status",
        "the list also says how each call was charged",
    ),
    (
        "listCDRs 200 application/json.items[].unrated_reason",
        "the list also says how each call was charged",
    ),
    (
        "retrieveCDR 200 application/json.items.id",
        "the detail also names the CDR and how it was charged",
    ),
    (
        "retrieveCDR 200 application/json.items.rating_status",
        "the detail also names the CDR and how it was charged",
    ),
    (
        "retrieveCDR 200 application/json.items.unrated_reason",
        "the detail also names the CDR and how it was charged",
    ),
    (
        "retrieveUserCDR 200 application/json.items.id",
        "the user detail also names the CDR and its talk time",
    ),
    (
        "retrieveUserCDR 200 application/json.items.duration",
        "the user detail also names the CDR and its talk time",
    ),
    (
        "getTenantBalance 200 application/json.credit_limit",
        "balances also say how far below zero the account may go",
    ),
    (
        "getUserBalance 200 application/json.credit_limit",
        "balances also say how far below zero the account may go",
    ),
    (
        "getCurrentUserBalance 200 application/json.credit_limit",
        "balances also say how far below zero the account may go",
    ),
    (
        "listCallRates 200 application/json.items[].connect_fee",
        "the seed's list items leave out connect_fee although its get and create carry it; \
         the list answers whole rates",
    ),
    (
        "getLoginStatus 200 application/json.username",
        "the status also names the caller",
    ),
    (
        "getLoginStatus 200 application/json.tenant_id",
        "the status also names the caller's tenant",
    ),
    (
        "login 200 content",
        "the seed documents no body for a login; ours answers the tokens",
    ),
];

/// Parameters our tenant-scoped operations add to the seed's (a system
/// administrator names the tenant it acts on).
const TENANT_SELECTION: [(&str, &str); 2] = [("query", "tenant_id"), ("header", "X-Tenant-Id")];

/// The list conventions every list operation takes, also where the seed
/// documents none.
const LIST_PARAMETERS: [&str; 6] = ["filter", "search", "orderby", "skip", "top", "cursor"];

/// Schema keywords that must be the same as the seed's.
const COMPARED_KEYWORDS: [&str; 15] = [
    "type",
    "format",
    "enum",
    "const",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("server/openapi.json is JSON")
}

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/contract")
}

fn seed(name: &str) -> Value {
    let path = seeds_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the contract document {} cannot be read ({e})",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("the seed is JSON")
}

/// `(METHOD, path) -> operation` of a document's `paths`.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for (key, op) in item.as_object().expect("a path item is an object") {
            if OPERATION_KEYS.contains(&key.as_str()) {
                ops.insert((key.to_ascii_uppercase(), path.clone()), op.clone());
            }
        }
    }
    ops
}

fn lookup<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{reference} is not a local reference"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} names nothing in the document"))
}

/// An object with its `$ref` followed (its own keys win).
fn follow(doc: &Value, value: &Value) -> Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let mut out = follow(doc, lookup(doc, reference));
            if let (Some(out), Some(own)) = (out.as_object_mut(), value.as_object()) {
                for (k, v) in own {
                    if k != "$ref" {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            out
        }
        None => value.clone(),
    }
}

fn merge_into(out: &mut Map<String, Value>, part: Map<String, Value>) {
    for (key, value) in part {
        match (key.as_str(), value) {
            ("properties", Value::Object(more)) => {
                let have = out.entry("properties").or_insert_with(|| json!({}));
                if let Some(have) = have.as_object_mut() {
                    have.extend(more);
                }
            }
            ("required", Value::Array(more)) => {
                let have = out.entry("required").or_insert_with(|| json!([]));
                if let Some(have) = have.as_array_mut() {
                    for name in more {
                        if !have.contains(&name) {
                            have.push(name);
                        }
                    }
                }
            }
            (_, value) => {
                out.insert(key, value);
            }
        }
    }
}

/// A schema with every `$ref` followed and every `allOf` merged, all the way
/// down its properties and items.
fn resolve(doc: &Value, schema: &Value) -> Value {
    let Some(own) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    if let Some(reference) = own.get("$ref").and_then(Value::as_str) {
        if let Value::Object(target) = resolve(doc, lookup(doc, reference)) {
            out = target;
        }
    }
    if let Some(parts) = own.get("allOf").and_then(Value::as_array) {
        for part in parts {
            if let Value::Object(part) = resolve(doc, part) {
                merge_into(&mut out, part);
            }
        }
    }
    for (key, value) in own {
        match key.as_str() {
            "$ref" | "allOf" => {}
            "properties" => {
                let properties: Map<String, Value> = value
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(name, s)| (name.clone(), resolve(doc, s)))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut part = Map::new();
                part.insert("properties".into(), Value::Object(properties));
                merge_into(&mut out, part);
            }
            "items" => {
                out.insert("items".into(), resolve(doc, value));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

fn names(list: Option<&Value>) -> BTreeSet<String> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- the router

async fn test_router() -> (billing::testing::TestDb, Router) {
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
    (test_db, server::web::router(state, false))
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
    let response = router.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes();
    (status, headers, body)
}

/// A path with every `{name}` parameter filled in with an id.
fn filled(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "MQ"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the router has an operation for `method` on `path` (its
/// parameters filled in): anything but 405 and the API's own 404 "no such
/// API operation".
async fn answers(router: &Router, method: &str, path: &str) -> bool {
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("a method"))
        .uri(filled(path))
        .body(Body::empty())
        .expect("a request");
    let (status, _, body) = send(router, request).await;
    let fallback = status == StatusCode::NOT_FOUND
        && String::from_utf8_lossy(&body).contains("no such API operation");
    status != StatusCode::METHOD_NOT_ALLOWED && !fallback
}

// ---------------------------------------------------------------- the document itself

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3.1."), "openapi is {version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:8887");

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for reference in &refs {
        lookup(&doc, reference);
    }

    let tags = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("a tag name").to_string())
        .collect::<BTreeSet<_>>();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let mut operation_ids = BTreeSet::new();
    for ((method, path), op) in operations(&doc) {
        let at = format!("{method} {path}");
        // The operators' three (liveness, readiness, metrics) are at the root.
        let operations_path = ["/healthz", "/readyz", "/metrics"].contains(&path.as_str());
        assert!(
            path.starts_with("/api/") || operations_path,
            "{at}: paths carry /api"
        );
        let id = op["operationId"].as_str().expect("an operationId");
        assert!(operation_ids.insert(id.to_string()), "{at}: {id} twice");
        let op_tags = op["tags"].as_array().expect("tags");
        assert!(!op_tags.is_empty(), "{at}: no tag");
        for tag in op_tags {
            let tag = tag.as_str().expect("a tag");
            assert!(tags.contains(tag), "{at}: tag {tag} is not declared");
        }
        assert!(op["summary"].is_string(), "{at}: no summary");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|c| c.starts_with('2')),
            "{at}: no success answer"
        );
        // Every `{name}` of the path is a required path parameter, and back.
        let params: Vec<Value> = op["parameters"]
            .as_array()
            .map(|a| a.iter().map(|p| follow(&doc, p)).collect())
            .unwrap_or_default();
        let in_template: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        let declared: BTreeSet<String> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{at}: path parameters are required");
                p["name"].as_str().expect("a name").to_string()
            })
            .collect();
        assert_eq!(in_template, declared, "{at}: path parameters");
        for requirement in op
            .get("security")
            .or(doc.get("security"))
            .and_then(Value::as_array)
            .expect("security")
        {
            for scheme in requirement.as_object().expect("a requirement").keys() {
                assert!(schemes.contains_key(scheme), "{at}: scheme {scheme}");
            }
        }
    }
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let doc = document();
    let (_db, router) = test_router().await;
    let ops = operations(&doc);
    let paths: BTreeSet<&String> = ops.keys().map(|(_, p)| p).collect();
    for path in paths {
        for method in METHODS {
            let documented = ops.contains_key(&(method.to_string(), path.clone()));
            assert_eq!(
                answers(&router, method, path).await,
                documented,
                "{method} {path}: {}",
                if documented {
                    "documented but not served"
                } else {
                    "served but not documented"
                }
            );
        }
    }
}

#[test]
fn every_route_is_documented() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc).into_keys().collect();
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

#[tokio::test]
async fn the_document_and_its_page_are_served() {
    let (_db, router) = test_router().await;
    let get = |uri: &str| {
        Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("a request")
    };
    let (status, headers, body) = send(&router, get("/api/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(body, DOCUMENT.as_bytes());

    let (status, headers, body) = send(&router, get("/api/docs")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .expect("a content type")
        .starts_with("text/html"));
    let page = String::from_utf8(body.to_vec()).expect("UTF-8");
    assert!(
        page.contains("/api/openapi.json"),
        "the page loads the document"
    );
    for outside in ["<script src", "<link", "http://", "https://", "@import"] {
        assert!(
            !page.contains(outside),
            "the page reaches outside: {outside}"
        );
    }
}

// ---------------------------------------------------------------- the seed contract

struct Contract<'a> {
    seed: &'a Value,
    ours: &'a Value,
    problems: Vec<String>,
    extensions_seen: BTreeSet<String>,
}

/// Upper bounds our document adds to request fields the seed leaves unbounded
/// (docs/rating.md "Bounds": what the rating arithmetic can never overflow
/// with), by field name. A tightening, never a loosening, of the contract.
const ADDED_BOUNDS: &[(&str, &str, f64)] = &[
    ("price_1", "maximum", 1000.0),
    ("price_n", "maximum", 1000.0),
    ("connect_fee", "maximum", 1000.0),
    ("postcall_surcharge", "maximum", 10.0),
    ("interval_1", "maximum", 86400.0),
    ("interval_n", "maximum", 86400.0),
    ("free_seconds", "maximum", 86400.0),
    ("grace_period", "maximum", 86400.0),
    ("duration", "maximum", 2_592_000.0),
    ("balance", "maximum", 1_000_000_000.0),
    ("balance", "exclusiveMinimum", 0.0),
];

/// Whether `key` of the schema at `at` is one of [`ADDED_BOUNDS`], in a request.
fn added_bound(at: &str, key: &str, seed: Option<&Value>, ours: Option<&Value>) -> bool {
    let field = at.rsplit(['.', ']']).next().unwrap_or("");
    seed.is_none()
        && at.contains(" request ")
        && ADDED_BOUNDS.iter().any(|(name, bound, value)| {
            *name == field && *bound == key && ours.and_then(Value::as_f64) == Some(*value)
        })
}

fn keyword(key: &str, value: Option<&Value>) -> Option<Value> {
    match (key, value) {
        // The seed writes `date_time` for the standard `date-time`.
        ("format", Some(Value::String(f))) if f == "date_time" => Some(json!("date-time")),
        (_, v) => v.cloned(),
    }
}

impl Contract<'_> {
    fn extension(&mut self, at: &str) {
        if KNOWN_EXTENSIONS.iter().any(|(known, _)| *known == at) {
            self.extensions_seen.insert(at.to_string());
        } else {
            self.problems.push(format!(
                "{at}: not in the contract (and not a known extension)"
            ));
        }
    }

    /// Both schemas resolved.
    fn schema(&mut self, at: &str, seed: &Value, ours: &Value) {
        for key in COMPARED_KEYWORDS {
            let (theirs, mine) = (keyword(key, seed.get(key)), keyword(key, ours.get(key)));
            if theirs != mine && !added_bound(at, key, seed.get(key), ours.get(key)) {
                self.problems.push(format!(
                    "{at}: {key} is {} where the contract has {}",
                    mine.map_or("absent".into(), |v| v.to_string()),
                    theirs.map_or("absent".into(), |v| v.to_string())
                ));
            }
        }
        let (theirs, mine) = (names(seed.get("required")), names(ours.get("required")));
        if theirs != mine {
            self.problems.push(format!(
                "{at}: required is {mine:?} where the contract has {theirs:?}"
            ));
        }
        let empty = Map::new();
        let seed_props = seed
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let our_props = ours
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, theirs) in seed_props {
            match our_props.get(name) {
                Some(mine) => self.schema(&format!("{at}.{name}"), theirs, mine),
                None => self
                    .problems
                    .push(format!("{at}.{name}: missing (the contract has it)")),
            }
        }
        for name in our_props.keys() {
            if !seed_props.contains_key(name) {
                self.extension(&format!("{at}.{name}"));
            }
        }
        match (seed.get("items"), ours.get("items")) {
            (Some(theirs), Some(mine)) => self.schema(&format!("{at}[]"), theirs, mine),
            (Some(_), None) => self.problems.push(format!("{at}: items missing")),
            _ => {}
        }
    }

    fn content(&mut self, at: &str, seed: Option<&Value>, ours: Option<&Value>) {
        let empty = Map::new();
        let seed_content = seed.and_then(Value::as_object).unwrap_or(&empty);
        let our_content = ours.and_then(Value::as_object).unwrap_or(&empty);
        if seed_content.is_empty() && !our_content.is_empty() {
            self.extension(&format!("{at} content"));
            return;
        }
        for (media, theirs) in seed_content {
            match our_content.get(media) {
                Some(mine) => {
                    let theirs = resolve(self.seed, &theirs["schema"]);
                    let mine = resolve(self.ours, &mine["schema"]);
                    self.schema(&format!("{at} {media}"), &theirs, &mine);
                }
                None => self.problems.push(format!("{at}: no {media} content")),
            }
        }
        for media in our_content.keys() {
            if !seed_content.contains_key(media) {
                self.problems
                    .push(format!("{at}: {media} is not in the contract"));
            }
        }
    }

    fn operation(&mut self, method: &str, seed_path: &str, seed_op: &Value) {
        let path = format!("/api{seed_path}");
        let Some(ours) = self.ours["paths"][&path].get(method.to_ascii_lowercase()) else {
            self.problems
                .push(format!("{method} {path}: missing from our document"));
            return;
        };
        let ours = ours.clone();
        let id = seed_op["operationId"].as_str().unwrap_or("?").to_string();
        if ours["operationId"] != seed_op["operationId"] {
            self.problems.push(format!(
                "{method} {path}: operationId {} where the contract has {id}",
                ours["operationId"]
            ));
        }
        if ours["tags"] != seed_op["tags"] {
            self.problems.push(format!(
                "{id}: tags {} where the contract has {}",
                ours["tags"], seed_op["tags"]
            ));
        }

        // Parameters, keyed by (in, name).
        let params = |doc: &Value, op: &Value| -> BTreeMap<(String, String), Value> {
            op["parameters"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| follow(doc, p))
                        .map(|p| {
                            let key = (
                                p["in"].as_str().unwrap_or("").to_string(),
                                p["name"].as_str().unwrap_or("").to_string(),
                            );
                            (key, p)
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let seed_params = params(self.seed, seed_op);
        let our_params = params(self.ours, &ours);
        for ((place, name), theirs) in &seed_params {
            let at = format!("{id} parameter {place}:{name}");
            match our_params.get(&(place.clone(), name.clone())) {
                Some(mine) => {
                    if mine["required"].as_bool().unwrap_or(false)
                        != theirs["required"].as_bool().unwrap_or(false)
                    {
                        self.problems.push(format!("{at}: required differs"));
                    }
                    let theirs = resolve(self.seed, &theirs["schema"]);
                    let mine = resolve(self.ours, &mine["schema"]);
                    self.schema(&at, &theirs, &mine);
                }
                None => self.problems.push(format!("{at}: missing")),
            }
        }
        for (place, name) in our_params.keys() {
            let known = TENANT_SELECTION
                .iter()
                .any(|(p, n)| p == place && n == name)
                || (id.starts_with("list")
                    && place == "query"
                    && LIST_PARAMETERS.contains(&name.as_str()));
            if !seed_params.contains_key(&(place.clone(), name.clone())) && !known {
                self.problems.push(format!(
                    "{id} parameter {place}:{name}: not in the contract"
                ));
            }
        }

        // The request body.
        match (seed_op.get("requestBody"), ours.get("requestBody")) {
            (Some(theirs), Some(mine)) => {
                let mine = follow(self.ours, mine);
                if theirs["required"] == true && mine["required"] != true {
                    self.problems
                        .push(format!("{id} request: the contract requires a body"));
                }
                self.content(
                    &format!("{id} request"),
                    theirs.get("content"),
                    mine.get("content"),
                );
            }
            (Some(_), None) => self.problems.push(format!("{id}: no request body")),
            (None, Some(_)) => self
                .problems
                .push(format!("{id}: a request body the contract does not take")),
            (None, None) => {}
        }

        // The answers.
        let seed_responses = seed_op["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let our_responses = ours["responses"].as_object().cloned().unwrap_or_default();
        for (code, theirs) in &seed_responses {
            if code == "4XX" {
                if !our_responses.keys().any(|c| c.starts_with('4')) {
                    self.problems.push(format!("{id}: no 4xx answer"));
                }
                continue;
            }
            let Some(mine) = our_responses.get(code) else {
                self.problems.push(format!("{id}: no {code} answer"));
                continue;
            };
            let mine = follow(self.ours, mine);
            let at = format!("{id} {code}");
            let empty = Map::new();
            for (name, header) in theirs
                .get("headers")
                .and_then(Value::as_object)
                .unwrap_or(&empty)
            {
                match mine["headers"].get(name) {
                    Some(our_header) => {
                        let a = resolve(self.seed, &header["schema"]);
                        let b = resolve(self.ours, &our_header["schema"]);
                        self.schema(&format!("{at} header {name}"), &a, &b);
                    }
                    None => self.problems.push(format!("{at}: no {name} header")),
                }
            }
            if code.starts_with('2') || theirs.get("content").is_some() {
                self.content(&at, theirs.get("content"), mine.get("content"));
            }
            // The seed gives its errors no body; ours carry the error format.
        }
        for code in our_responses.keys() {
            if code.starts_with('2') && !seed_responses.contains_key(code) {
                self.problems
                    .push(format!("{id}: answers {code}, which the contract does not"));
            }
        }
    }
}

#[test]
fn the_seed_contract_is_kept() {
    let ours = document();
    let billing = seed("portsip-v22-billing.openapi.json");
    // The neighbours file holds bare `paths`; only what we serve is compared.
    let neighbours = json!({ "paths": seed("portsip-v22-neighbours.openapi-paths.json") });

    let mut compared = BTreeSet::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (seed_doc, all) in [(&billing, true), (&neighbours, false)] {
        let mut contract = Contract {
            seed: seed_doc,
            ours: &ours,
            problems: Vec::new(),
            extensions_seen: BTreeSet::new(),
        };
        for ((method, path), op) in operations(seed_doc) {
            let served = ours["paths"][format!("/api{path}")]
                .get(method.to_ascii_lowercase())
                .is_some();
            if all || served {
                contract.operation(&method, &path, &op);
                compared.insert(op["operationId"].as_str().unwrap_or("?").to_string());
            }
        }
        problems.append(&mut contract.problems);
        seen.append(&mut contract.extensions_seen);
    }
    assert!(
        problems.is_empty(),
        "the document drifts from the v22 contract:\n  {}",
        problems.join("\n  ")
    );
    for id in [
        "getTenantBillingConfigurations",
        "setTenantBillingConfigurations",
        "listCallRates",
        "createCallRate",
        "getCallRate",
        "updateCallRate",
        "deleteCallRate",
        "exportCallRates",
        "login",
        "getLoginStatus",
    ] {
        assert!(compared.contains(id), "{id} was not compared");
    }
    for (known, why) in KNOWN_EXTENSIONS {
        assert!(
            seen.contains(*known),
            "the known extension {known} ({why}) is no longer needed: remove it"
        );
    }
}

// ---------------------------------------------------------------- real answers

fn kind_matches(kind: &str, value: &Value) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        _ => false,
    }
}

/// Checks a value against a resolved schema, strictly: an object may hold
/// only the documented properties.
fn validate(schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::String(k) => vec![k.as_str()],
            Value::Array(ks) => ks.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !kinds.iter().any(|k| kind_matches(k, value)) {
            problems.push(format!("{at}: {value} is not of type {kind}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            problems.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            problems.push(format!("{at}: {value} is not {constant}"));
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|min| length < min)
            || schema["maxLength"].as_u64().is_some_and(|max| length > max)
        {
            problems.push(format!("{at}: {value} has a length out of bounds"));
        }
    }
    if let Some(number) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|min| number < min)
            || schema["maximum"].as_f64().is_some_and(|max| number > max)
        {
            problems.push(format!("{at}: {value} is out of bounds"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in names(schema.get("required")) {
            if !object.contains_key(&name) {
                problems.push(format!("{at}.{name}: required but absent"));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, v) in object {
                match properties.get(name) {
                    Some(s) => validate(s, v, &format!("{at}.{name}"), problems),
                    None => problems.push(format!("{at}.{name}: not documented")),
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            validate(items, v, &format!("{at}[{i}]"), problems);
        }
    }
}

/// A client that checks every answer against the document.
struct Api {
    router: Router,
    doc: Value,
    token: Option<String>,
    problems: Vec<String>,
}

struct Answer {
    at: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    json: Value,
}

impl Api {
    /// Calls `method template` (with `{id}` replaced by `id`, then `query`
    /// appended) and checks the answer against the operation's documented
    /// answer for its status.
    #[allow(clippy::too_many_arguments)]
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        id: &str,
        query: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let uri = format!("{}{query}", template.replace("{id}", id));
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("a method"))
            .uri(&uri);
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if !content_type.is_empty() {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::from(body)).expect("a request");
        let (status, headers, body) = send(&self.router, request).await;
        let at = format!("{method} {uri} -> {status}");
        let json = if body.is_empty() {
            Value::Null
        } else if headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|c| c.as_bytes().starts_with(b"application/json"))
        {
            serde_json::from_slice(&body).expect("a JSON answer")
        } else {
            Value::Null
        };
        let op = &self.doc["paths"][template][method.to_ascii_lowercase()];
        let responses = &op["responses"];
        let documented = responses
            .get(status.as_str())
            .or_else(|| {
                responses.get(format!(
                    "{}XX",
                    status.as_str().chars().next().unwrap_or('?')
                ))
            })
            .or_else(|| responses.get("default"));
        match documented {
            None => self.problems.push(format!("{at}: status not documented")),
            Some(response) => {
                let response = follow(&self.doc, response);
                match response.get("content").and_then(Value::as_object) {
                    None => {
                        if !body.is_empty() {
                            self.problems
                                .push(format!("{at}: a body where none is documented"));
                        }
                    }
                    Some(content) => {
                        let media = headers
                            .get(header::CONTENT_TYPE)
                            .and_then(|c| c.to_str().ok())
                            .unwrap_or("")
                            .split(';')
                            .next()
                            .unwrap_or("")
                            .to_string();
                        match content.get(&media) {
                            None => self
                                .problems
                                .push(format!("{at}: {media:?} is not a documented content type")),
                            Some(entry) if media == "application/json" => {
                                let schema = resolve(&self.doc, &entry["schema"]);
                                validate(&schema, &json, &at, &mut self.problems);
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        Answer {
            at,
            status,
            headers,
            body,
            json,
        }
    }

    /// Notes an answer whose status is not the expected one, and goes on.
    fn status(&mut self, answer: &Answer, want: StatusCode) {
        if answer.status != want {
            self.problems.push(format!(
                "{}: expected {want}; the body: {}",
                answer.at,
                String::from_utf8_lossy(&answer.body)
            ));
        }
    }

    /// Notes a value that is not the expected one, and goes on.
    fn same(&mut self, got: &Value, want: &Value) {
        if got != want {
            self.problems
                .push(format!("got {got} where {want} was expected"));
        }
    }

    async fn json(
        &mut self,
        method: &str,
        template: &str,
        id: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> Answer {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.call(
            method,
            template,
            id,
            query,
            headers,
            "application/json",
            bytes,
        )
        .await
    }
}

fn id_of(answer: &Answer) -> String {
    answer.json["id"].as_str().expect("an id").to_string()
}

#[tokio::test]
async fn answers_match_the_documented_schemas() {
    let (test_db, router) = test_router().await;
    test_db
        .db
        .ensure_system_admin(Some("sysadmin-password".into()))
        .await
        .expect("a system administrator");
    let mut api = Api {
        router,
        doc: document(),
        token: None,
        problems: Vec::new(),
    };
    let none: &[(&str, &str)] = &[];

    // Errors before any login.
    let a = api
        .json("GET", "/api/call_rates", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::UNAUTHORIZED);
    api.same(&a.json["errors"][0]["code"], &json!("UNAUTHORIZED"));
    let a = api
        .json(
            "POST",
            "/api/login",
            "",
            "",
            none,
            json!({"username": "admin"}),
        )
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);
    api.same(&a.json["errors"][0]["field"], &json!("password"));

    // Logging in.
    let a = api
        .json(
            "POST",
            "/api/login",
            "",
            "",
            none,
            json!({"username": "admin", "password": "sysadmin-password"}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.token = Some(a.json["access_token"].as_str().expect("a token").into());
    let a = api
        .json("GET", "/api/login", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::OK);
    api.same(&a.json["role"], &json!("SystemAdmin"));

    // Tenants and users.
    let a = api
        .json(
            "POST",
            "/api/tenants",
            "",
            "",
            none,
            json!({"name": "Example", "sip_domain": "pbx.example.com"}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let tenant = id_of(&a);
    let a = api
        .json("GET", "/api/tenants", "", "?top=10", none, Value::Null)
        .await;
    api.same(&a.json["count"], &json!(1));
    api.json("GET", "/api/tenants/{id}", &tenant, "", none, Value::Null)
        .await;
    let a = api
        .json(
            "POST",
            "/api/users",
            "",
            "",
            none,
            json!({"username": "alice", "password": "alice-password", "role": "Admin", "tenant_id": tenant}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let user = id_of(&a);
    api.json(
        "GET",
        "/api/users",
        "",
        "?filter=role%20eq%20'Admin'",
        none,
        Value::Null,
    )
    .await;
    api.json("GET", "/api/users/{id}", &user, "", none, Value::Null)
        .await;

    // Billing settings, naming the tenant both ways.
    let by_header = [("X-Tenant-Id", tenant.as_str())];
    let by_query = format!("?tenant_id={tenant}");
    let a = api
        .json("GET", "/api/tenant/billing", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);
    api.same(&a.json["errors"][0]["field"], &json!("tenant_id"));
    let a = api
        .json(
            "GET",
            "/api/tenant/billing",
            "",
            &by_query,
            none,
            Value::Null,
        )
        .await;
    api.same(
        &a.json,
        &json!({"enabled": false, "account": "TENANT", "type": "OFFLINE"}),
    );
    let a = api
        .json(
            "POST",
            "/api/tenant/billing",
            "",
            "",
            &by_header,
            json!({"enabled": true}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    // (An answer with a body where the document has none is noted by `call`.)

    // Statement settings, and a statement of the tenant's account.
    let a = api
        .json(
            "GET",
            "/api/tenant/statement_settings",
            "",
            &by_query,
            none,
            Value::Null,
        )
        .await;
    api.same(
        &a.json,
        &json!({"cycle": "MONTHLY", "cycle_day": 1, "tax_name": "", "tax_rate": 0, "tax_included": false}),
    );
    let a = api
        .json(
            "POST",
            "/api/tenant/statement_settings",
            "",
            "",
            &by_header,
            json!({"tax_name": "VAT", "tax_rate": 20}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let a = api
        .json(
            "POST",
            "/api/tenant/statement_settings",
            "",
            "",
            &by_header,
            json!({"cycle_day": 29}),
        )
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);
    let a = api
        .json(
            "POST",
            "/api/tenant/balance",
            "",
            &by_query,
            none,
            json!({"balance": 10}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let a = api
        .json("GET", "/api/statements", "", &by_query, none, Value::Null)
        .await;
    api.same(&a.json["count"], &json!(1));
    let statement = a.json["items"][0]["id"]
        .as_str()
        .expect("a statement id")
        .to_string();
    let a = api
        .json(
            "GET",
            "/api/statements/{id}",
            &statement,
            &by_query,
            none,
            Value::Null,
        )
        .await;
    api.same(&a.json["lines"][0]["section"], &json!("RECHARGE"));
    let a = api
        .json(
            "GET",
            "/api/statements/{id}/csv",
            &statement,
            &by_query,
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::OK);
    let a = api
        .json(
            "GET",
            "/api/statements/{id}",
            "bm90LWFuLWlk",
            &by_query,
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::NOT_FOUND);

    // Call rates.
    let rate = json!({
        "prefix": "4420", "type": "INTERNATIONAL", "free_seconds": 0, "grace_period": 5,
        "interval_1": 60, "interval_n": 6, "connect_fee": 0.1, "postcall_surcharge": 0,
        "price_1": 0.06, "price_n": 0.03, "description": "London"
    });
    let a = api
        .json("POST", "/api/call_rates", "", "", &by_header, rate)
        .await;
    api.status(&a, StatusCode::OK);
    let id = id_of(&a);

    // A CDR with only the required fields: what the call does not have is
    // left out of the answers, never null where the shapes allow none.
    let a = api
        .json(
            "POST",
            "/api/cdrs",
            "",
            "",
            &by_header,
            json!({"call_id": "bare", "direction": "OUTBOUND_CALL", "callee": "442071234567",
                   "started_at": "2026-11-22T10:00:00Z", "duration": 0}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let a = api
        .json("GET", "/api/cdrs", "", &by_query, none, Value::Null)
        .await;
    api.status(&a, StatusCode::OK);
    let cdr = a.json["items"][0]["id"]
        .as_str()
        .expect("a CDR id")
        .to_string();
    for absent in [
        "answered_at",
        "status_code",
        "end_reason",
        "outbound_caller_id",
    ] {
        if a.json["items"][0].get(absent).is_some() {
            api.problems
                .push(format!("GET /api/cdrs shows the absent {absent}"));
        }
    }
    api.json("GET", "/api/cdrs/{id}", &cdr, &by_query, none, Value::Null)
        .await;
    // The reports of that call, each shape as documented: its day, the
    // totals with nothing answered (no average duration), the balance.
    let november = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";
    for group_by in ["day", "hour_of_day", "destination"] {
        let a = api
            .json(
                "GET",
                "/api/reports/spend",
                "",
                &format!("{by_query}&{november}&group_by={group_by}"),
                none,
                Value::Null,
            )
            .await;
        api.status(&a, StatusCode::OK);
    }
    let a = api
        .json(
            "GET",
            "/api/reports/summary",
            "",
            &format!("{by_query}&{november}"),
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.same(&a.json["calls"], &json!(1));
    api.same(&a.json["average_duration"], &Value::Null);
    let a = api
        .json(
            "GET",
            "/api/reports/balance",
            "",
            &format!("{by_query}&{november}"),
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::OK);
    let days = Value::from(a.json["items"].as_array().map(Vec::len));
    api.same(&days, &json!(30));
    let a = api
        .json(
            "GET",
            "/api/reports/balance",
            "",
            &format!("{by_query}&from=2026-11-01T10:00:00Z&to=2026-12-01T00:00:00Z"),
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);
    api.same(&a.json["errors"][0]["field"], &json!("from"));
    let a = api
        .json(
            "GET",
            "/api/call_rates/{id}",
            &id,
            &by_query,
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::OK);
    if !String::from_utf8_lossy(&a.body).contains("\"price_1\":0.06") {
        api.problems
            .push(format!("{}: money is not written exactly", a.at));
    }
    let a = api
        .json(
            "GET",
            "/api/call_rates",
            "",
            &format!("{by_query}&filter=startswith(prefix,'44')&orderby=price_1%20desc&top=5"),
            none,
            Value::Null,
        )
        .await;
    api.same(&a.json["count"], &json!(1));
    let a = api
        .json(
            "POST",
            "/api/call_rates/{id}",
            &id,
            "",
            &by_header,
            json!({"price_1": 0.07}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    // (An answer with a body where the document has none is noted by `call`.)
    let a = api
        .json(
            "POST",
            "/api/call_rates",
            "",
            "",
            &by_header,
            json!({"prefix": "44", "interval_1": 0}),
        )
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);

    // Export, then import the export back, as the body and as a form.
    let a = api
        .json(
            "GET",
            "/api/call_rates/export",
            "",
            "",
            &by_header,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(
        a.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"call_rates.csv\""
    );
    let csv = String::from_utf8(a.body.to_vec()).expect("UTF-8");
    let columns = model::call_rate::CSV_COLUMNS.join(",");
    assert_eq!(csv.lines().next(), Some(columns.as_str()));
    assert!(
        api.doc["paths"]["/api/call_rates/export"]["get"]["description"]
            .as_str()
            .is_some_and(|d| d.contains(&columns)),
        "the export's documented columns are CSV_COLUMNS"
    );
    let a = api
        .call(
            "POST",
            "/api/call_rates/import",
            "",
            "",
            &by_header,
            "text/csv",
            csv.clone().into_bytes(),
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.same(&a.json, &json!({"imported": 1}));
    let form = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rates.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--XyZ--\r\n"
    );
    let a = api
        .call(
            "POST",
            "/api/call_rates/import",
            "",
            "",
            &by_header,
            "multipart/form-data; boundary=XyZ",
            form.into_bytes(),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let bad = format!("{columns}\n,4421,LOCAL,0,0,0,1,0,0,0,0,\n");
    let a = api
        .call(
            "POST",
            "/api/call_rates/import",
            "",
            "",
            &by_header,
            "text/csv",
            bad.into_bytes(),
        )
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);
    api.same(&a.json["errors"][0]["line"], &json!(2));
    // A dry run answers its preview, as documented.
    let a = api
        .call(
            "POST",
            "/api/call_rates/import",
            "",
            "?dry_run=true&mode=replace",
            &by_header,
            "text/csv",
            csv.clone().into_bytes(),
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.same(&a.json["unchanged"], &json!(1));

    let a = api
        .json(
            "POST",
            "/api/call_rates/{id}/destroy",
            &id,
            "",
            &by_header,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::NO_CONTENT);
    let a = api
        .json(
            "GET",
            "/api/call_rates/{id}",
            &id,
            &by_query,
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::NOT_FOUND);

    // Webhooks, and a low-balance threshold the funds are below at once:
    // its alert, and its delivery queued.
    let a = api
        .json(
            "POST",
            "/api/webhooks",
            "",
            "",
            &by_header,
            json!({"url": "https://hooks.example.com/r", "events": ["balance.low"]}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let hook = id_of(&a);
    api.json("GET", "/api/webhooks", "", "", &by_header, Value::Null)
        .await;
    api.json(
        "GET",
        "/api/webhooks/{id}",
        &hook,
        "",
        &by_header,
        Value::Null,
    )
    .await;
    let a = api
        .json(
            "POST",
            "/api/webhooks/{id}",
            &hook,
            "",
            &by_header,
            json!({"description": "operations", "events": ["balance.low", "call.rated"]}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let a = api
        .json(
            "POST",
            "/api/webhooks/{id}/secret",
            &hook,
            "",
            &by_header,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::OK);
    let a = api
        .json(
            "POST",
            "/api/webhooks",
            "",
            "",
            &by_header,
            json!({"url": "gopher://x", "events": []}),
        )
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);
    let a = api
        .json(
            "POST",
            "/api/tenant/low_balance",
            "",
            "",
            &by_header,
            json!({"threshold": 1000000}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.same(&a.json["below"], &json!(true));
    api.json(
        "GET",
        "/api/tenant/low_balance",
        "",
        "",
        &by_header,
        Value::Null,
    )
    .await;
    let a = api
        .json(
            "POST",
            "/api/users/{id}/low_balance",
            &user,
            "",
            &by_header,
            json!({"threshold": null}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.json(
        "GET",
        "/api/users/{id}/low_balance",
        &user,
        "",
        &by_header,
        Value::Null,
    )
    .await;
    let a = api
        .json("GET", "/api/user/low_balance", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::FORBIDDEN);
    let a = api
        .json("GET", "/api/alerts", "", "", &by_header, Value::Null)
        .await;
    api.same(&a.json["count"], &json!(1));
    let a = api
        .json(
            "GET",
            "/api/webhooks/deliveries",
            "",
            "",
            &by_header,
            Value::Null,
        )
        .await;
    api.same(&a.json["count"], &json!(1));
    let delivery = a.json["items"][0]["id"].as_str().unwrap_or("").to_string();
    api.json(
        "GET",
        "/api/webhooks/deliveries/{id}",
        &delivery,
        "",
        &by_header,
        Value::Null,
    )
    .await;
    let a = api
        .json(
            "POST",
            "/api/webhooks/{id}/destroy",
            &hook,
            "",
            &by_header,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::NO_CONTENT);

    // API tokens.
    let a = api
        .json(
            "POST",
            "/api/tokens",
            "",
            "",
            none,
            json!({"name": "ci", "expires_in_days": 30}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let token = id_of(&a);
    api.json("GET", "/api/tokens", "", "", none, Value::Null)
        .await;
    let a = api
        .json(
            "POST",
            "/api/tokens/{id}/destroy",
            &token,
            "",
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::NO_CONTENT);

    // The audit log of everything above: every tenant's, then one tenant's.
    let a = api
        .json("GET", "/api/audit_log", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::OK);
    if a.json["count"].as_u64().unwrap_or(0) < 5 {
        api.problems
            .push(format!("the audit log lists too little: {}", a.json));
    }
    let a = api
        .json(
            "GET",
            "/api/audit_log",
            "",
            "?filter=entity%20eq%20%27CALL_RATE%27&orderby=id%20desc",
            &by_header,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.same(&a.json["items"][0]["action"], &json!("DELETE"));
    let a = api
        .json(
            "GET",
            "/api/audit_log",
            "",
            "?filter=nothing%20eq%201",
            none,
            Value::Null,
        )
        .await;
    api.status(&a, StatusCode::BAD_REQUEST);

    // A tenant's administrator: its own tenant without naming it; refresh; logout.
    api.token = None;
    let a = api
        .json(
            "POST",
            "/api/login",
            "",
            "",
            none,
            json!({"username": "alice", "password": "alice-password", "domain": "pbx.example.com"}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    let refresh = a.json["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    api.token = Some(a.json["access_token"].as_str().expect("a token").into());
    let a = api
        .json("GET", "/api/call_rates", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::OK);
    let a = api
        .json("GET", "/api/tenants", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::FORBIDDEN);
    let a = api
        .json(
            "POST",
            "/api/login/refresh",
            "",
            "",
            none,
            json!({"refresh_token": refresh}),
        )
        .await;
    api.status(&a, StatusCode::OK);
    api.token = Some(a.json["access_token"].as_str().expect("a token").into());
    let a = api
        .json("POST", "/api/logout", "", "", none, Value::Null)
        .await;
    api.status(&a, StatusCode::NO_CONTENT);

    // A known path with a method it does not take.
    let (status, _, body) = send(
        &api.router,
        Request::builder()
            .method(Method::DELETE)
            .uri("/api/call_rates")
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    let schema = resolve(&api.doc, &json!({"$ref": "#/components/schemas/Error"}));
    validate(&schema, &body, "405", &mut api.problems);
    assert_eq!(body["errors"][0]["code"], "METHOD_NOT_ALLOWED");

    assert!(
        api.problems.is_empty(),
        "answers that differ from the document:\n  {}",
        api.problems.join("\n  ")
    );
}
