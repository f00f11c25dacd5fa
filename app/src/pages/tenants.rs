//! `/tenants`: every tenant, for a system administrator: a page of the
//! [list-page skeleton](crate::components::list_page) that can be searched,
//! sorted and paged through. A tenant is created with its SIP domain and
//! currency, renamed (its currency changed while nothing was charged), and
//! suspended or resumed after a confirmation; it is never deleted.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::tenant::{validate_sip_domain, validate_tenant_name, TenantStatus};
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::form::{EditorForm, RowForm, TextField};
use crate::components::list_page::{
    query_arg, Changes, Column, Confirm, EditResource, ListPage, ListResource, Rows, Search,
};
use crate::functions::people::{
    list_tenant_rows, DeleteTenant, PeopleArgs, PeoplePage, SaveTenant, SetTenantStatus, TenantRow,
    PAGE_SIZE,
};

/// The list parameters of a page, from its URL.
pub fn people_args(query: &ParamsMap) -> PeopleArgs {
    PeopleArgs {
        search: query.get("search"),
        orderby: query_arg(query, "orderby"),
        skip: query_arg(query, "skip"),
        top: query_arg(query, "top"),
    }
}

/// The tenants, as the list page lists them.
pub struct Tenants;

impl ListResource for Tenants {
    const PATH: &'static str = "/tenants";
    const KEY: &'static str = "tenant";
    const NOUN: &'static str = "tenant";
    const NOUNS: &'static str = "tenants";

    type Args = PeopleArgs;
    type List = PeoplePage<TenantRow>;
    type Row = TenantRow;

    fn args(query: &ParamsMap) -> PeopleArgs {
        people_args(query)
    }

    fn list(
        _tenant: Option<String>,
        args: PeopleArgs,
    ) -> impl Future<Output = Result<Option<PeoplePage<TenantRow>>, ServerFnError>> + Send + 'static
    {
        list_tenant_rows(args)
    }

    fn rows(page: PeoplePage<TenantRow>) -> Rows<TenantRow> {
        page.rows()
    }

    fn mark(row: &TenantRow) -> (&'static str, String) {
        ("data-domain", row.sip_domain.clone())
    }
}

impl EditResource for Tenants {
    type Save = SaveTenant;
    type Delete = DeleteTenant;

    fn id(row: &TenantRow) -> String {
        row.id.clone()
    }

    fn label(row: &TenantRow) -> String {
        row.name.clone()
    }

    /// Suspended, never deleted.
    fn deletable(_row: &TenantRow) -> bool {
        false
    }

    fn save(tenant: Option<String>, id: Option<String>, body: Map<String, Value>) -> SaveTenant {
        SaveTenant { tenant, id, body }
    }

    fn delete(tenant: Option<String>, id: String) -> DeleteTenant {
        DeleteTenant { tenant, id }
    }
}

/// The status of a row as a badge.
pub fn status_badge(active: bool, on: &'static str, off: &'static str) -> impl IntoView {
    view! {
        <span class="badge" class:badge-off=!active data-testid="status">
            {if active { on } else { off }}
        </span>
    }
}

/// The tenants page.
#[component]
pub fn TenantsPage() -> impl IntoView {
    let status = ServerAction::<SetTenantStatus>::new();
    let confirming = RwSignal::new(None::<String>);
    let message = Signal::derive(move || {
        status.value().get().map(|answer| match answer {
            Ok(text) => text,
            Err(e) => format!("Not changed: {}", error_text(&e)),
        })
    });
    let standing = move |row: &TenantRow| {
        let id = row.id.clone();
        let name = row.name.clone();
        let active = row.status == TenantStatus::Active;
        let next = if active {
            TenantStatus::Suspended
        } else {
            TenantStatus::Active
        };
        let verb = if active { "Suspend" } else { "Resume" };
        move || {
            let id = id.clone();
            if confirming.get().as_deref() == Some(id.as_str()) {
                view! {
                    <Confirm
                        question=format!("{verb} {name}?")
                        verb=verb
                        testid="confirm-status"
                        danger=active
                        pending=status.pending()
                        on_confirm=Callback::new(move |()| {
                            status.dispatch(SetTenantStatus { id: id.clone(), status: next });
                        })
                        on_keep=Callback::new(move |()| confirming.set(None))
                    />
                }
                .into_any()
            } else {
                view! {
                    <button
                        type="button"
                        class="secondary"
                        class:danger=active
                        data-testid=if active { "suspend" } else { "resume" }
                        on:click=move |_| confirming.set(Some(id.clone()))
                    >
                        {verb}
                    </button>
                }
                .into_any()
            }
        }
    };
    let columns = vec![
        Column::new("name", "Name", |t: &TenantRow| t.name.clone()).sortable(),
        Column::new("sip_domain", "SIP domain", |t: &TenantRow| {
            t.sip_domain.clone()
        })
        .sortable(),
        Column::new("currency", "Currency", |t: &TenantRow| t.currency.clone()).sortable(),
        Column::new("status", "Status", |t: &TenantRow| {
            status_badge(t.status == TenantStatus::Active, "active", "suspended")
        })
        .sortable(),
        Column::new("created_at", "Created", |t: &TenantRow| {
            t.created_at.get(..10).unwrap_or_default().to_string()
        })
        .sortable(),
        Column::new("standing", "Standing", standing),
    ];
    let changes = Changes::of::<Tenants>(|(row, form)| {
        view! { <TenantEditor row=row form=form /> }.into_any()
    });
    view! {
        <ListPage
            resource=Tenants
            title="Tenants"
            columns=columns
            search=Search {
                placeholder: "Name or SIP domain",
                label: "Search tenants",
                page_size: PAGE_SIZE,
            }
            changes=changes
            across_tenants=true
            reload=Signal::derive(move || status.version().get())
            message=message
        />
    }
}

/// What the browser finds wrong in a tenant's form, with the server's own
/// validators.
fn check_tenant(body: &Map<String, Value>, is_new: bool) -> Vec<FieldError> {
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let mut problems = Vec::new();
    if let Err(m) = validate_tenant_name(text("name")) {
        problems.push(FieldError::new("name", m));
    }
    if is_new {
        if let Err(m) = validate_sip_domain(text("sip_domain")) {
            problems.push(FieldError::new("sip_domain", m));
        }
    }
    let currency = text("currency");
    if !currency.trim().is_empty() {
        if let Err(m) = model::currency::parse_currency(currency) {
            problems.push(FieldError::new("currency", m));
        }
    }
    problems
}

#[component]
fn TenantEditor(row: Option<TenantRow>, form: RowForm) -> impl IntoView {
    let name = RwSignal::new(row.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let sip_domain = RwSignal::new(String::new());
    let currency = RwSignal::new(
        row.as_ref()
            .map(|r| r.currency.clone())
            .unwrap_or_else(|| "USD".into()),
    );
    let errors = form.errors;
    let is_new = form.is_new;
    let check = move |()| {
        let mut body = Map::new();
        body.insert("name".into(), Value::String(name.get_untracked()));
        if is_new {
            body.insert(
                "sip_domain".into(),
                Value::String(sip_domain.get_untracked()),
            );
        }
        let money = currency.get_untracked().trim().to_string();
        if !money.is_empty() {
            body.insert("currency".into(), Value::String(money));
        }
        let problems = check_tenant(&body, is_new);
        (body, problems)
    };
    let note = if is_new {
        "The tenant's users log in with its SIP domain; its default tariff is made in its currency."
    } else {
        "The currency changes only while the tenant has no ledger entries and no rates in another currency."
    };
    view! {
        <EditorForm form=form fields=vec!["name", "sip_domain", "currency"] check=check note=note>
            <TextField form="tenant" name="name" label="Name" value=name errors=errors />
            {is_new
                .then(|| {
                    view! {
                        <TextField
                            form="tenant"
                            name="sip_domain"
                            label="SIP domain"
                            value=sip_domain
                            errors=errors
                            placeholder="pbx.example.com"
                        />
                    }
                })}
            <TextField form="tenant" name="currency" label="Currency (ISO 4217)" value=currency errors=errors />
        </EditorForm>
    }
}
