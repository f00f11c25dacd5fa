//! Which tenant a page acts on.
//!
//! Tenant users act on their own tenant. A system administrator has none and
//! picks one; the choice lives in the page's URL (`?tenant=<id>`), so every
//! request names its tenant explicitly and two tabs cannot mix tenants up.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

use crate::functions::tenants::{tenant_choices, TenantChoice};

/// The `tenant` of the page's URL, if any.
pub fn use_tenant() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("tenant").filter(|t| !t.is_empty()))
}

/// The tenants the user can choose from (none for tenant users). A page
/// creates it at its top, outside any `Suspense`, like all its resources.
pub fn tenant_choices_resource() -> Resource<Result<Vec<TenantChoice>, ServerFnError>> {
    Resource::new(|| (), |_| tenant_choices())
}

/// The prompt a system administrator sees before choosing a tenant.
#[component]
pub fn ChooseTenant() -> impl IntoView {
    view! {
        <p class="hint" data-testid="choose-tenant">
            "Choose the tenant to work on."
        </p>
    }
}

/// A system administrator's choice of tenant. A plain GET form before the
/// page is hydrated; after, a choice opens the tenant at once.
#[component]
pub fn TenantPicker(tenants: Vec<TenantChoice>) -> impl IntoView {
    let tenant = use_tenant();
    let location = use_location();
    let navigate = use_navigate();
    let select = NodeRef::<leptos::html::Select>::new();
    let open = move |chosen: String| {
        let mut q = ParamsMap::new();
        if !chosen.is_empty() {
            q.insert("tenant", chosen);
        }
        let path = location.pathname.get_untracked();
        navigate(
            &format!("{path}{}", q.to_query_string()),
            NavigateOptions::default(),
        );
    };
    let on_change = {
        let open = open.clone();
        move |ev: leptos::ev::Event| open(event_target_value(&ev))
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        open(select.get().map(|s| s.value()).unwrap_or_default());
    };
    let chosen = tenant.get_untracked();
    let empty = tenants.is_empty();
    view! {
        <form method="get" action=move || location.pathname.get() class="tenant-picker" on:submit=on_submit>
            <label for="tenant-picker">"Tenant"</label>
            <select
                id="tenant-picker"
                name="tenant"
                node_ref=select
                data-testid="tenant-picker"
                on:change=on_change
                prop:value=move || tenant.get().unwrap_or_default()
            >
                <option value="" selected=chosen.is_none()>
                    {if empty { "No tenants yet" } else { "Choose…" }}
                </option>
                {tenants
                    .into_iter()
                    .map(|t| {
                        let selected = chosen.as_deref() == Some(t.id.as_str());
                        view! {
                            <option value=t.id selected=selected>
                                {t.name} " (" {t.sip_domain} ")"
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="secondary">"Open"</button>
        </form>
    }
}
