//! Webhook endpoints and their delivery log, for the webhooks pages: the
//! same `billing` use cases as `/api/webhooks`, the tenant's
//! administrators' only.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Deliveries per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;

/// The statuses of a delivery, as the API names them, with their label.
pub const STATUSES: [(&str, &str); 3] = [
    ("PENDING", "Pending"),
    ("DELIVERED", "Delivered"),
    ("FAILED", "Failed"),
];

/// The events, as the API names them, with their label.
pub fn event_choices() -> Vec<(&'static str, &'static str)> {
    use model::WireEnum;
    model::webhook::WebhookEvent::ALL
        .iter()
        .map(|e| (e.wire(), e.label()))
        .collect()
}

/// An endpoint as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRow {
    /// Opaque API id.
    pub id: String,
    pub url: String,
    pub description: String,
    /// Wire names, in the events' order.
    pub events: Vec<String>,
    pub enabled: bool,
    pub secret: String,
}

/// The tenant's endpoints (all of them: a tenant has few).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointList {
    pub count: i64,
    pub items: Vec<EndpointRow>,
}

/// The delivery log's parameters, as the page's URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryArgs {
    pub status: Option<String>,
    pub event: Option<String>,
    /// One endpoint's deliveries (its opaque id).
    pub endpoint: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
}

impl DeliveryArgs {
    /// What is wrong with the filters, field by field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if let Some(status) = given(&self.status) {
            if !STATUSES.iter().any(|(v, _)| *v == status) {
                errors.push(FieldError::new("status", "is not a delivery status"));
            }
        }
        if let Some(event) = given(&self.event) {
            if !event_choices().iter().any(|(v, _)| *v == event) {
                errors.push(FieldError::new("event", "is not an event"));
            }
        }
        errors
    }
}

/// One delivery of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: String,
    pub url: String,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_answer: Option<String>,
    pub created_at: String,
    pub last_attempt_at: Option<String>,
    pub next_attempt_at: Option<String>,
}

/// One page of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub count: i64,
    pub skip: u64,
    pub top: u32,
    pub items: Vec<DeliveryRow>,
}

/// The tenant's endpoints; `None` until a system administrator has chosen
/// a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_webhook_endpoints", input = Json, output = Json)]
pub async fn list_webhook_endpoints(
    tenant: Option<String>,
) -> Result<Option<EndpointList>, ServerFnError> {
    use crate::server::{chosen_scope, db, to_server_error};
    use model::query::{ListParams, ListQuery};

    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    super::managers_only(&scope, "see its webhooks")?;
    let params = ListParams {
        orderby: Some("id asc".into()),
        top: Some(model::query::MAX_TOP.to_string()),
        ..ListParams::default()
    };
    let query = ListQuery::parse(&params, &::billing::webhooks::ENDPOINT_SPEC)
        .map_err(|e| ServerFnError::new(e.message))?;
    let page = db()?
        .list_webhook_endpoints(&scope, &query)
        .await
        .map_err(to_server_error)?;
    Ok(Some(EndpointList {
        count: page.count,
        items: page
            .items
            .into_iter()
            .map(|e| EndpointRow {
                id: e.id,
                url: e.url,
                description: e.description,
                events: e.events.iter().map(ToString::to_string).collect(),
                enabled: e.enabled,
                secret: e.secret,
            })
            .collect(),
    }))
}

/// Registers an endpoint (no `id`) or changes one; `body` holds the fields
/// as the REST API's body does (`url`, `description`, `events`, `enabled`).
#[server(prefix = "/portal/fn", endpoint = "save_webhook_endpoint", input = Json, output = Json)]
pub async fn save_webhook_endpoint(
    tenant: Option<String>,
    id: Option<String>,
    body: Map<String, Value>,
) -> Result<String, ServerFnError> {
    use model::webhook::EndpointPatch;

    let scope = super::manager_scope(tenant).await?;
    let patch = super::read(EndpointPatch::from_json(&body))?;
    let db = crate::server::db()?;
    match id {
        None => {
            let missing = patch.missing_for_new();
            if !missing.is_empty() {
                return Err(super::invalid(missing));
            }
            super::answer(
                db.create_webhook_endpoint(&scope, patch)
                    .await
                    .map(|e| e.id),
            )
        }
        Some(wire) => {
            let id = super::id_of(&wire, "webhook endpoint")?;
            super::answer(
                db.update_webhook_endpoint(&scope, id, patch)
                    .await
                    .map(|e| e.id),
            )
        }
    }
}

/// Removes an endpoint with its deliveries.
#[server(prefix = "/portal/fn", endpoint = "delete_webhook_endpoint", input = Json, output = Json)]
pub async fn delete_webhook_endpoint(
    tenant: Option<String>,
    id: String,
) -> Result<(), ServerFnError> {
    let scope = super::manager_scope(tenant).await?;
    let id = super::id_of(&id, "webhook endpoint")?;
    super::answer(
        crate::server::db()?
            .delete_webhook_endpoint(&scope, id)
            .await,
    )
}

/// Gives an endpoint a new secret; answers what was done, to be shown.
#[server(prefix = "/portal/fn", endpoint = "rotate_webhook_secret", input = Json, output = Json)]
pub async fn rotate_webhook_secret(
    tenant: Option<String>,
    id: String,
) -> Result<String, ServerFnError> {
    let scope = super::manager_scope(tenant).await?;
    let id = super::id_of(&id, "webhook endpoint")?;
    let endpoint = super::answer(crate::server::db()?.rotate_webhook_secret(&scope, id).await)?;
    Ok(format!(
        "The endpoint {} has a new secret: deliveries are signed with it from now on.",
        endpoint.url
    ))
}

/// A page of the delivery log, newest first, filtered; `None` until a
/// system administrator has chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_webhook_deliveries", input = Json, output = Json)]
pub async fn list_webhook_deliveries(
    tenant: Option<String>,
    args: DeliveryArgs,
) -> Result<Option<DeliveryPage>, ServerFnError> {
    use crate::server::{chosen_scope, db, to_server_error};
    use model::query::ListParams;

    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    super::managers_only(&scope, "see its webhooks")?;
    let errors = args.check();
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut filters = Vec::new();
    if let Some(status) = given(&args.status) {
        filters.push(format!("status eq '{status}'"));
    }
    if let Some(event) = given(&args.event) {
        filters.push(format!("event eq '{event}'"));
    }
    if let Some(endpoint) = given(&args.endpoint) {
        // An opaque id is base64: it holds no quote.
        let id = super::id_of(&endpoint, "webhook endpoint")?;
        filters.push(format!("endpoint_id eq '{}'", model::ApiId::encode(id)));
    }
    let params = ListParams {
        filter: (!filters.is_empty()).then(|| filters.join(" and ")),
        orderby: Some("id desc".into()),
        skip: given(&args.skip),
        top: Some(given(&args.top).unwrap_or_else(|| PAGE_SIZE.to_string())),
        ..ListParams::default()
    };
    let query = super::list_query(&params, &::billing::webhooks::DELIVERY_SPEC)?;
    let page = db()?
        .list_webhook_deliveries(&scope, &query)
        .await
        .map_err(to_server_error)?;
    Ok(Some(DeliveryPage {
        count: page.count,
        skip: query.skip,
        top: query.top,
        items: page
            .items
            .into_iter()
            .map(|d| DeliveryRow {
                id: d.id,
                url: d.url,
                event: d.event.to_string(),
                status: d.status.to_string(),
                attempts: d.attempts,
                last_status: d.last_status,
                last_answer: d.last_answer,
                created_at: d.created_at,
                last_attempt_at: d.last_attempt_at,
                next_attempt_at: d.next_attempt_at,
            })
            .collect(),
    }))
}
