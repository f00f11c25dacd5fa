//! Which tenant a page acts on.
//!
//! Tenant users act on their own tenant. A system administrator has none and
//! picks one; the choice lives in the page's URL (`?tenant=<id>`), so every
//! request names its tenant explicitly and two tabs cannot mix tenants up.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;
use model::user::Role;

use crate::components::error_text;
use crate::functions::auth::SignedIn;
use crate::functions::tenants::tenant_choices;

/// The `tenant` of the page's URL, if any.
pub fn use_tenant() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("tenant").filter(|t| !t.is_empty()))
}

/// Shows its children once the page knows its tenant: at once for tenant
/// users, after a choice in the tenant picker for a system administrator.
#[component]
pub fn TenantGate(children: ChildrenFn) -> impl IntoView {
    let me = expect_context::<SignedIn>();
    let picks = me.role == Role::SystemAdmin;
    let tenant = use_tenant();
    let children = StoredValue::new(children);
    view! {
        {picks.then(|| view! { <TenantPicker /> })}
        {move || {
            if picks && tenant.read().is_none() {
                view! {
                    <p class="hint" data-testid="choose-tenant">
                        "Choose the tenant to work on."
                    </p>
                }
                    .into_any()
            } else {
                children.read_value()().into_any()
            }
        }}
    }
}

/// A system administrator's choice of tenant. Works as a plain GET form
/// before the page is hydrated; after, a choice navigates at once.
#[component]
fn TenantPicker() -> impl IntoView {
    let tenants = Resource::new(|| (), |_| tenant_choices());
    let tenant = use_tenant();
    let location = use_location();
    let navigate = use_navigate();
    let select = NodeRef::<leptos::html::Select>::new();
    // After hydration a choice opens the tenant at once; the button is for
    // the page before hydration, where the form is a plain GET.
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
    view! {
        <form method="get" action=move || location.pathname.get() class="tenant-picker" on:submit=on_submit>
            <label for="tenant-picker">"Tenant"</label>
            <Suspense fallback=|| view! { <span class="loading">"Loading tenants…"</span> }>
                {move || {
                    let on_change = on_change.clone();
                    Suspend::new(async move {
                        let chosen = tenant.get();
                        match tenants.await {
                            Ok(list) => {
                                let empty = list.is_empty();
                                view! {
                                    <select
                                        id="tenant-picker"
                                        name="tenant"
                                        node_ref=select
                                        data-testid="tenant-picker"
                                        on:change=on_change
                                    >
                                        <option value="" selected=chosen.is_none()>
                                            {if empty { "No tenants yet" } else { "Choose…" }}
                                        </option>
                                        {list
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
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <span class="error" role="alert">{error_text(&e)}</span> }
                                    .into_any()
                            }
                        }
                    })
                }}
            </Suspense>
            <button type="submit" class="secondary">"Open"</button>
        </form>
    }
}
