//! `/rates`: the call rates of the tenant's default tariff.
//!
//! The list's state (search, sort, page) lives in the URL, so every view of it
//! can be linked, reloaded and rendered on the server; after hydration the
//! links and the search form navigate without reloading the page. Changes go
//! through a form that runs the shared validator in the browser first and
//! shows the server's own refusals (a duplicate prefix) next to their fields.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;
use model::call_rate::{CallRate, CallRateFields};
use model::user::Role;
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::layout::use_current_user;
use crate::components::tenant::{tenant_choices_resource, use_tenant, ChooseTenant, TenantPicker};
use crate::functions::auth::SignedIn;
use crate::functions::rates::{list_rates, DeleteRate, RateListArgs, RatePage, SaveRate};
use crate::functions::tenants::TenantChoice;

/// Page sizes offered; the first page shows [`PAGE_SIZE`](crate::functions::rates::PAGE_SIZE) rows.
const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];

/// How a field is entered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Whole,
    Money,
    RateType,
}

/// A field of a rate: its column in the table and its input in the form.
struct Field {
    name: &'static str,
    /// Column heading.
    short: &'static str,
    /// Form label.
    label: &'static str,
    kind: Kind,
    /// What a new rate starts with.
    default: &'static str,
}

const FIELDS: [Field; 11] = [
    Field {
        name: "prefix",
        short: "Prefix",
        label: "Prefix",
        kind: Kind::Text,
        default: "",
    },
    Field {
        name: "type",
        short: "Type",
        label: "Type",
        kind: Kind::RateType,
        default: "LOCAL",
    },
    Field {
        name: "free_seconds",
        short: "Free s",
        label: "Free seconds",
        kind: Kind::Whole,
        default: "0",
    },
    Field {
        name: "grace_period",
        short: "Grace s",
        label: "Grace period (s)",
        kind: Kind::Whole,
        default: "0",
    },
    Field {
        name: "interval_1",
        short: "Interval 1",
        label: "First interval (s)",
        kind: Kind::Whole,
        default: "60",
    },
    Field {
        name: "interval_n",
        short: "Interval n",
        label: "Next intervals (s)",
        kind: Kind::Whole,
        default: "60",
    },
    Field {
        name: "connect_fee",
        short: "Connect fee",
        label: "Connect fee",
        kind: Kind::Money,
        default: "0",
    },
    Field {
        name: "postcall_surcharge",
        short: "Surcharge",
        label: "Post-call surcharge",
        kind: Kind::Money,
        default: "0",
    },
    Field {
        name: "price_1",
        short: "Price 1",
        label: "Price/min, first interval",
        kind: Kind::Money,
        default: "",
    },
    Field {
        name: "price_n",
        short: "Price n",
        label: "Price/min, next intervals",
        kind: Kind::Money,
        default: "",
    },
    Field {
        name: "description",
        short: "Description",
        label: "Description",
        kind: Kind::Text,
        default: "",
    },
];

const RATE_TYPES: [&str; 4] = ["LOCAL", "NATIONAL", "INTERNATIONAL", "MOBILE"];

/// A field's value in a rate, as the form and the table show it.
fn value_of(rate: &CallRate, field: &str) -> String {
    let r = &rate.fields;
    match field {
        "prefix" => r.prefix.clone(),
        "type" => r.rate_type.to_string(),
        "free_seconds" => r.free_seconds.to_string(),
        "grace_period" => r.grace_period.to_string(),
        "interval_1" => r.interval_1.to_string(),
        "interval_n" => r.interval_n.to_string(),
        "connect_fee" => r.connect_fee.to_string(),
        "postcall_surcharge" => r.postcall_surcharge.to_string(),
        "price_1" => r.price_1.to_string(),
        "price_n" => r.price_n.to_string(),
        "description" => r.description.clone(),
        _ => String::new(),
    }
}

/// What the form is open for.
#[derive(Debug, Clone, PartialEq)]
enum Editing {
    New,
    Existing(CallRate),
}

/// `/rates` with some list parameters changed (`None` removes one).
fn rates_href(query: &ParamsMap, changes: &[(&'static str, Option<String>)]) -> String {
    let mut q = query.clone();
    for (key, value) in changes {
        q.remove(key);
        if let Some(value) = value {
            q.replace(*key, value.clone());
        }
    }
    format!("/rates{}", q.to_query_string())
}

/// The rates page. Its resources are created here, at the top, and read in
/// two regions: the tools (picker, search, form), and the table.
#[component]
pub fn RatesPage() -> impl IntoView {
    let user = use_current_user();
    let tenant = use_tenant();
    let query = use_query_map();
    let args = Memo::new(move |_| {
        let q = query.read();
        RateListArgs {
            search: q.get("search"),
            orderby: q.get("orderby"),
            skip: q.get("skip"),
            top: q.get("top"),
        }
    });
    let save = ServerAction::<SaveRate>::new();
    let delete = ServerAction::<DeleteRate>::new();
    let tenants = tenant_choices_resource();
    let rates = Resource::new(
        move || {
            (
                tenant.get(),
                args.get(),
                save.version().get(),
                delete.version().get(),
            )
        },
        |(tenant, args, _, _)| list_rates(tenant, args),
    );
    let editing = RwSignal::new(None::<Editing>);
    let notice = RwSignal::new(None::<String>);

    // A saved rate closes the form; a refused one keeps it open with the reasons.
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
            notice.set(Some("The rate was saved.".into()));
        }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => notice.set(Some("The rate was deleted.".into())),
        Some(Err(e)) => notice.set(Some(format!("Not deleted: {}", error_text(&e)))),
        None => {}
    });
    // Another tenant, another list: what was open for the last one closes.
    Effect::new(move |previous: Option<Option<String>>| {
        let now = tenant.get();
        if previous.is_some_and(|p| p != now) {
            editing.set(None);
            notice.set(None);
        }
        now
    });

    let open = move |what: Editing| {
        save.value().set(None);
        notice.set(None);
        editing.set(Some(what));
    };
    let export_href = move || {
        let mut q = ParamsMap::new();
        if let Some(t) = tenant.get() {
            q.insert("tenant", t);
        }
        format!("/portal/export/call_rates.csv{}", q.to_query_string())
    };

    let tools = move |me: SignedIn, tenants: Vec<TenantChoice>, chosen: bool| {
        let picks = me.role == Role::SystemAdmin;
        let can_edit = me.manages_tenant;
        view! {
            {picks.then(|| view! { <TenantPicker tenants=tenants /> })}
            {(chosen || !picks)
                .then(|| {
                    view! {
                        <div class="toolbar">
                            <SearchForm />
                            <div class="actions">
                                <a class="button secondary" href=export_href download="call_rates.csv" rel="external" data-testid="export">
                                    "Export CSV"
                                </a>
                                {can_edit
                                    .then(|| {
                                        view! {
                                            <button type="button" data-testid="new-rate" on:click=move |_| open(Editing::New)>
                                                "New rate"
                                            </button>
                                        }
                                    })}
                            </div>
                        </div>
                        {(!can_edit)
                            .then(|| {
                                view! {
                                    <p class="hint" data-testid="read-only">
                                        "You can see the rates; a tenant administrator changes them."
                                    </p>
                                }
                            })}
                    }
                })}
        }
    };

    view! {
        <h1>"Call rates"</h1>
        <Suspense fallback=|| ()>
            {move || {
                let chosen = tenant.get().is_some();
                Suspend::new(async move {
                    let me = user.signed_in().await?;
                    let tenants = tenants.await.unwrap_or_default();
                    Some(tools(me, tenants, chosen))
                })
            }}
        </Suspense>
        {move || {
            notice
                .get()
                .map(|text| view! { <p class="notice" role="status" data-testid="notice">{text}</p> })
        }}
        {move || {
            editing
                .get()
                .map(|what| {
                    let rate = match what {
                        Editing::New => None,
                        Editing::Existing(rate) => Some(rate),
                    };
                    view! { <RateEditor rate=rate save=save on_cancel=move |()| editing.set(None) /> }
                })
        }}
        <Transition fallback=|| view! { <p class="loading">"Loading rates…"</p> }>
            {move || Suspend::new(async move {
                let Some(me) = user.signed_in().await else {
                    return ().into_any();
                };
                match rates.await {
                    Ok(Some(page)) => {
                        view! {
                            <RateTable page=page can_edit=me.manages_tenant delete=delete on_edit=move |rate| open(Editing::Existing(rate)) />
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <ChooseTenant /> }.into_any(),
                    Err(e) => {
                        view! { <p class="error" role="alert" data-testid="list-error">{error_text(&e)}</p> }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Search text and page size. A plain GET form before hydration; after, it
/// navigates in the page and leaves empty parameters out of the URL.
#[component]
fn SearchForm() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let search = NodeRef::<leptos::html::Input>::new();
    let get = move |key: &'static str| move || query.read().get(key).unwrap_or_default();
    let top = move || {
        query
            .read()
            .get("top")
            .unwrap_or_else(|| crate::functions::rates::PAGE_SIZE.to_string())
    };
    let on_submit = {
        let navigate = navigate.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let text = search.get().map(|input| input.value()).unwrap_or_default();
            let text = text.trim();
            let href = rates_href(
                &query.get_untracked(),
                &[
                    ("search", (!text.is_empty()).then(|| text.to_string())),
                    ("skip", None),
                ],
            );
            navigate(&href, NavigateOptions::default());
        }
    };
    let on_size = move |ev: leptos::ev::Event| {
        let size = event_target_value(&ev);
        let href = rates_href(
            &query.get_untracked(),
            &[("top", Some(size)), ("skip", None)],
        );
        navigate(&href, NavigateOptions::default());
    };
    view! {
        <form method="get" action="/rates" class="search" role="search" on:submit=on_submit>
            {move || {
                query
                    .read()
                    .get("tenant")
                    .map(|t| view! { <input type="hidden" name="tenant" value=t /> })
            }}
            <input type="hidden" name="orderby" value=get("orderby") />
            <input
                type="search"
                name="search"
                node_ref=search
                value=get("search")
                prop:value=get("search")
                placeholder="Prefix or description"
                aria-label="Search rates"
                data-testid="search"
            />
            <button type="submit" class="secondary" data-testid="search-button">"Search"</button>
            <label class="page-size">
                "Rows"
                <select name="top" data-testid="page-size" on:change=on_size>
                    {PAGE_SIZES
                        .iter()
                        .map(|n| {
                            let value = n.to_string();
                            let selected = move || top() == n.to_string();
                            view! { <option value=value selected=selected>{n.to_string()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        </form>
    }
}

/// The current sort: field and whether it is descending.
fn current_order(query: &ParamsMap) -> Option<(String, bool)> {
    let text = query.get("orderby")?;
    let mut words = text.split_whitespace();
    let field = words.next()?.to_string();
    let desc = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    Some((field, desc))
}

#[component]
fn RateTable(
    page: RatePage,
    can_edit: bool,
    delete: ServerAction<DeleteRate>,
    #[prop(into)] on_edit: Callback<CallRate>,
) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let tenant = use_tenant();
    let order = current_order(&query);
    let confirming = RwSignal::new(None::<String>);

    let headings = FIELDS
        .iter()
        .map(|f| {
            let (sort, arrow) = match &order {
                Some((field, desc)) if field == f.name => (
                    if *desc { "descending" } else { "ascending" },
                    if *desc { " ▼" } else { " ▲" },
                ),
                _ => ("none", ""),
            };
            let next = if sort == "ascending" {
                format!("{} desc", f.name)
            } else {
                format!("{} asc", f.name)
            };
            let href = rates_href(&query, &[("orderby", Some(next)), ("skip", None)]);
            let numeric = matches!(f.kind, Kind::Whole | Kind::Money);
            view! {
                <th aria-sort=sort class:num=numeric>
                    <a href=href data-testid=format!("sort-{}", f.name)>{f.short}{arrow}</a>
                </th>
            }
        })
        .collect_view();

    let count = page.count.max(0) as u64;
    let first = page.skip + 1;
    let last = (page.skip + page.items.len() as u64).min(count);
    let top = u64::from(page.top);
    let prev = (page.skip > 0).then(|| {
        let skip = page.skip.saturating_sub(top);
        rates_href(&query, &[("skip", (skip > 0).then(|| skip.to_string()))])
    });
    let next = (page.skip + top < count)
        .then(|| rates_href(&query, &[("skip", Some((page.skip + top).to_string()))]));
    let searched = query.get("search").filter(|s| !s.trim().is_empty());
    let empty = page.items.is_empty();

    let rows = page
        .items
        .into_iter()
        .map(|rate| {
            let cells = FIELDS
                .iter()
                .map(|f| {
                    let numeric = matches!(f.kind, Kind::Whole | Kind::Money);
                    view! { <td class:num=numeric data-field=f.name>{value_of(&rate, f.name)}</td> }
                })
                .collect_view();
            let id = rate.id.clone();
            let prefix = rate.fields.prefix.clone();
            let actions = can_edit.then(|| {
                let rate = rate.clone();
                let id = id.clone();
                view! {
                    <td class="row-actions">
                        {move || {
                            if confirming.get().as_deref() == Some(id.as_str()) {
                                let id = id.clone();
                                view! {
                                    <span class="confirm">"Delete?"</span>
                                    <button
                                        type="button"
                                        class="danger"
                                        data-testid="confirm-delete"
                                        disabled=move || delete.pending().get()
                                        on:click=move |_| {
                                            delete
                                                .dispatch(DeleteRate {
                                                    tenant: tenant.get_untracked(),
                                                    id: id.clone(),
                                                });
                                            confirming.set(None);
                                        }
                                    >
                                        "Delete"
                                    </button>
                                    <button type="button" class="secondary" on:click=move |_| confirming.set(None)>
                                        "Keep"
                                    </button>
                                }
                                    .into_any()
                            } else {
                                let rate = rate.clone();
                                let id = id.clone();
                                view! {
                                    <button type="button" class="secondary" data-testid="edit" on:click=move |_| on_edit.run(rate.clone())>
                                        "Edit"
                                    </button>
                                    <button type="button" class="secondary danger" data-testid="delete" on:click=move |_| confirming.set(Some(id.clone()))>
                                        "Delete"
                                    </button>
                                }
                                    .into_any()
                            }
                        }}
                    </td>
                }
            });
            view! {
                <tr data-testid="rate-row" data-prefix=prefix>
                    {cells}
                    {actions}
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="table-wrap">
            <table class="rates" data-testid="rates">
                <thead>
                    <tr>
                        {headings}
                        {can_edit.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {empty
            .then(|| {
                let text = match searched {
                    Some(s) => format!("No rates match “{s}”."),
                    None => "No rates yet.".to_string(),
                };
                view! { <p class="empty" data-testid="empty">{text}</p> }
            })}
        <nav class="pager" aria-label="Pages">
            {match prev {
                Some(href) => view! { <a class="button secondary" href=href data-testid="prev-page">"← Previous"</a> }.into_any(),
                None => view! { <span class="button secondary disabled">"← Previous"</span> }.into_any(),
            }}
            <span class="range" data-testid="range">
                {if empty { format!("0 of {count}") } else { format!("{first}–{last} of {count}") }}
            </span>
            {match next {
                Some(href) => view! { <a class="button secondary" href=href data-testid="next-page">"Next →"</a> }.into_any(),
                None => view! { <span class="button secondary disabled">"Next →"</span> }.into_any(),
            }}
        </nav>
    }
}

/// The form's values as the validator (and the server) read them: blank
/// inputs are left out, so a required one is named as missing.
fn body_of(values: &[(&'static Field, RwSignal<String>)]) -> Map<String, Value> {
    let mut body = Map::new();
    for (field, value) in values {
        let text = value.get_untracked();
        let text = if field.name == "description" {
            text
        } else {
            text.trim().to_string()
        };
        if !text.is_empty() || field.name == "description" {
            body.insert(field.name.to_string(), Value::String(text));
        }
    }
    body
}

#[component]
fn RateEditor(
    rate: Option<CallRate>,
    save: ServerAction<SaveRate>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let tenant = use_tenant();
    let id = rate.as_ref().map(|r| r.id.clone());
    let title = match &rate {
        Some(r) => format!("Edit the rate {}", r.fields.prefix),
        None => "New rate".to_string(),
    };
    let values: Vec<(&'static Field, RwSignal<String>)> = FIELDS
        .iter()
        .map(|f| {
            let initial = match &rate {
                Some(r) => value_of(r, f.name),
                None => f.default.to_string(),
            };
            (f, RwSignal::new(initial))
        })
        .collect();
    // Problems found in the browser; when there are none, the server's.
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors = move || {
        let local = checked.get();
        if !local.is_empty() {
            return local;
        }
        save.value().with(crate::functions::refused_fields)
    };
    let message_for = move |name: &'static str| {
        move || {
            errors()
                .into_iter()
                .filter(|e| e.field == name)
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    // Errors the form has no field for, and failures that are no field's.
    let general = move || {
        let other: Vec<String> = errors()
            .into_iter()
            .filter(|e| !FIELDS.iter().any(|f| f.name == e.field))
            .map(|e| e.to_string())
            .collect();
        match save.value().get() {
            Some(Err(e)) if crate::functions::invalid_fields(&e).is_none() => Some(error_text(&e)),
            _ if !other.is_empty() => Some(other.join("; ")),
            _ => None,
        }
    };

    let form_values = values.clone();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = body_of(&form_values);
        match CallRateFields::from_json(&body) {
            Err(problems) => {
                save.value().set(None);
                checked.set(problems);
            }
            Ok(_) => {
                checked.set(Vec::new());
                save.dispatch(SaveRate {
                    tenant: tenant.get_untracked(),
                    id: id.clone(),
                    body,
                });
            }
        }
    };

    let inputs = values
        .into_iter()
        .map(|(field, value)| {
            let name = field.name;
            let input_id = format!("rate-{name}");
            let error_id = format!("rate-{name}-error");
            let message = message_for(name);
            let invalid = move || !message_for(name)().is_empty();
            let control = match field.kind {
                Kind::RateType => view! {
                    <select id=input_id.clone() name=name data-testid=format!("field-{name}") bind:value=value>
                        {RATE_TYPES
                            .iter()
                            .map(|t| view! { <option value=*t>{*t}</option> })
                            .collect_view()}
                    </select>
                }
                .into_any(),
                kind => {
                    let mode = match kind {
                        Kind::Whole => "numeric",
                        Kind::Money => "decimal",
                        _ => "text",
                    };
                    view! {
                        <input
                            type="text"
                            id=input_id.clone()
                            name=name
                            inputmode=mode
                            autocomplete="off"
                            data-testid=format!("field-{name}")
                            aria-invalid=move || if invalid() { "true" } else { "false" }
                            aria-describedby=error_id.clone()
                            bind:value=value
                        />
                    }
                    .into_any()
                }
            };
            view! {
                <div class="field" class:wide=name == "description" class:invalid=invalid>
                    <label for=input_id>{field.label}</label>
                    {control}
                    <p class="field-error" id=error_id data-testid=format!("error-{name}")>
                        {message}
                    </p>
                </div>
            }
        })
        .collect_view();

    view! {
        <form class="card editor" novalidate on:submit=on_submit data-testid="rate-form">
            <h2>{title}</h2>
            <div class="grid">{inputs}</div>
            {move || general().map(|text| view! { <p class="error" role="alert" data-testid="form-error">{text}</p> })}
            <div class="buttons">
                <button type="submit" data-testid="save-rate" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="secondary" data-testid="cancel" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&'static str, &str)]) -> ParamsMap {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn links_change_only_what_they_name() {
        let q = query(&[("tenant", "Mg=="), ("search", "50%"), ("skip", "25")]);
        assert_eq!(
            rates_href(
                &q,
                &[("orderby", Some("prefix desc".into())), ("skip", None)]
            ),
            "/rates?tenant=Mg%3D%3D&search=50%25&orderby=prefix%20desc"
        );
        assert_eq!(rates_href(&ParamsMap::new(), &[("skip", None)]), "/rates");
    }

    #[test]
    fn the_current_sort_is_read_from_orderby() {
        assert_eq!(current_order(&query(&[])), None);
        assert_eq!(
            current_order(&query(&[("orderby", "price_1 desc")])),
            Some(("price_1".into(), true))
        );
        assert_eq!(
            current_order(&query(&[("orderby", "prefix")])),
            Some(("prefix".into(), false))
        );
    }
}
