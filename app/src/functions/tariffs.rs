//! Tariffs of the tenant, for the tariffs page (and the tariffs a billing
//! plan can use).

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::tariff::Tariff;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A tariff as the tariffs page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffRow {
    /// Opaque API id.
    pub id: String,
    pub tariff: Tariff,
    /// How many rates the tariff has.
    pub rates: i64,
}

/// The tenant's tariffs (the first [`model::query::MAX_TOP`], by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffList {
    /// Tariffs of the tenant, on all pages.
    pub count: i64,
    pub items: Vec<TariffRow>,
}

#[cfg(feature = "ssr")]
pub(super) fn first_page(
    orderby: &str,
    spec: &model::query::ResourceSpec,
) -> model::query::ListQuery {
    use model::query::{ListParams, ListQuery, MAX_TOP};
    let params = ListParams {
        orderby: Some(orderby.into()),
        top: Some(MAX_TOP.to_string()),
        ..ListParams::default()
    };
    // Fixed parameters that the spec accepts; the default order otherwise.
    ListQuery::parse(&params, spec).unwrap_or_default()
}

#[cfg(feature = "ssr")]
pub(super) async fn tariff_rows(
    db: &::billing::Db,
    scope: &::billing::Scope,
) -> Result<TariffList, ServerFnError> {
    use crate::server::to_server_error;
    use ::billing::tariffs::TARIFF_SPEC;
    use model::ApiId;

    let page = db
        .list_tariffs(scope, &first_page("name asc", &TARIFF_SPEC))
        .await
        .map_err(to_server_error)?;
    let counts = db
        .tariff_rate_counts(scope)
        .await
        .map_err(to_server_error)?;
    Ok(TariffList {
        count: page.count,
        items: page
            .items
            .into_iter()
            .map(|tariff| TariffRow {
                id: ApiId::encode(tariff.id),
                rates: counts.get(&tariff.id).copied().unwrap_or(0),
                tariff,
            })
            .collect(),
    })
}

/// The tenant's tariffs; `None` until a system administrator has chosen a
/// tenant.
#[server(prefix = "/portal/fn", endpoint = "list_tariffs", input = Json, output = Json)]
pub async fn list_tariffs(tenant: Option<String>) -> Result<Option<TariffList>, ServerFnError> {
    use crate::server::{chosen_scope, db};
    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    super::managers_only(&scope, "see its tariffs")?;
    tariff_rows(&db()?, &scope).await.map(Some)
}

/// Creates a tariff (no `id`) or changes one; `body` holds the fields as the
/// REST API's body does (`name`, `currency`, `free_seconds`, `connect_fee`,
/// `post_call_surcharge`, `grace_period`).
#[server(prefix = "/portal/fn", endpoint = "save_tariff", input = Json, output = Json)]
pub async fn save_tariff(
    tenant: Option<String>,
    id: Option<String>,
    body: Map<String, Value>,
) -> Result<String, ServerFnError> {
    use crate::server::db;
    use model::tariff::TariffPatch;
    use model::ApiId;

    let scope = super::manager_scope(tenant).await?;
    let patch = super::read(TariffPatch::from_json(&body))?;
    let db = db()?;
    match id {
        None => {
            let new = super::read(patch.into_new())?;
            super::answer(
                db.create_tariff(&scope, new)
                    .await
                    .map(|t| ApiId::encode(t.id)),
            )
        }
        Some(wire) => {
            let id = super::id_of(&wire, "tariff")?;
            super::answer(db.update_tariff(&scope, id, patch).await.map(|_| wire))
        }
    }
}

/// Deletes a tariff (not the default one, nor one a billing plan uses).
#[server(prefix = "/portal/fn", endpoint = "delete_tariff", input = Json, output = Json)]
pub async fn delete_tariff(tenant: Option<String>, id: String) -> Result<(), ServerFnError> {
    use crate::server::{db, scope};
    let scope = scope(tenant).await?;
    let id = super::id_of(&id, "tariff")?;
    super::answer(db()?.delete_tariff(&scope, id).await)
}
