//! `/audit`: the audit log, for administrators (a tenant administrator's
//! own tenant's entries, a system administrator's every entry): a read-only
//! page of the [list-page skeleton](crate::components::list_page), newest
//! first, paged, with its own filters (entity, actor, days). Each entry
//! says when, who (and with which API token), through which surface and
//! from which address, what was done to what, and each field's change as
//! before → after.

use std::future::Future;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;
use model::FieldError;

use crate::components::form::{SelectField, TextField};
use crate::components::list_page::{list_href, Column, ListPage, ListResource, Rows, Window};
use crate::functions::audit::{list_audit, AuditArgs, AuditPage, AuditRow, ENTITIES};

/// The audit log, as the list page lists it.
pub struct Audit;

fn arg(query: &ParamsMap, key: &str) -> Option<String> {
    query.get(key).filter(|s| !s.trim().is_empty())
}

/// The list's parameters of the page's URL.
fn args_of(query: &ParamsMap) -> AuditArgs {
    AuditArgs {
        entity: arg(query, "entity"),
        actor: arg(query, "actor"),
        from: arg(query, "from"),
        to: arg(query, "to"),
        skip: arg(query, "skip"),
        top: arg(query, "top"),
    }
}

impl ListResource for Audit {
    const PATH: &'static str = "/audit";
    const KEY: &'static str = "audit";
    const NOUN: &'static str = "entry";
    const NOUNS: &'static str = "entries";

    type Args = AuditArgs;
    type List = AuditPage;
    type Row = AuditRow;

    fn args(query: &ParamsMap) -> AuditArgs {
        args_of(query)
    }

    fn list(
        _tenant: Option<String>,
        args: AuditArgs,
    ) -> impl Future<Output = Result<Option<AuditPage>, ServerFnError>> + Send + 'static {
        list_audit(args)
    }

    fn rows(page: AuditPage) -> Rows<AuditRow> {
        Rows {
            items: page.items,
            count: page.count,
            window: Window::Paged {
                skip: page.skip,
                top: page.top,
            },
        }
    }

    fn mark(row: &AuditRow) -> (&'static str, String) {
        ("data-entity", row.entity.clone())
    }
}

/// A wire name as people read it: `LOGIN_FAILED` → `login failed`.
fn words(wire: &str) -> String {
    wire.to_lowercase().replace('_', " ")
}

/// An entity kind as the filter names it.
fn entity_label(wire: &str) -> String {
    ENTITIES
        .iter()
        .find(|(v, _)| *v == wire)
        .map_or_else(|| words(wire), |(_, label)| (*label).to_string())
}

/// The changes of an entry: one line a field, before → after.
fn changes_view(row: &AuditRow) -> impl IntoView {
    if row.changes.is_empty() {
        return view! { <span class="hint">"—"</span> }.into_any();
    }
    let lines = row
        .changes
        .iter()
        .map(|c| {
            let side = |value: &Option<String>, class: &'static str| match value {
                Some(text) => view! { <span class=class>{text.clone()}</span> }.into_any(),
                None => view! { <span class=format!("{class} none")>"none"</span> }.into_any(),
            };
            // A creation has only an after: it is shown alone.
            let body = match &c.before {
                None => side(&c.after, "after"),
                Some(_) => {
                    view! { {side(&c.before, "before")} " → " {side(&c.after, "after")} }.into_any()
                }
            };
            view! {
                <li data-testid="change" data-change-field=c.field.clone()>
                    <span class="field-name">{words(&c.field)}</span>": "{body}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="changes">{lines}</ul> }.into_any()
}

/// The audit page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let columns = vec![
        Column::new("created_at", "When (UTC)", |r: &AuditRow| {
            r.created_at.trim_end_matches('Z').replacen('T', " ", 1)
        }),
        Column::new("actor", "Who", |r: &AuditRow| {
            let token = r
                .token_name
                .clone()
                .map(|t| view! { <br /><span class="hint">{format!("token “{t}”")}</span> });
            view! { {r.actor.clone()} {token} }
        }),
        Column::new("surface", "Surface", |r: &AuditRow| {
            let address = r
                .client_addr
                .clone()
                .map(|a| view! { <br /><span class="hint">{a}</span> });
            view! { {words(&r.surface)} {address} }
        }),
        Column::new("action", "Action", |r: &AuditRow| {
            let class = format!("badge action-{}", r.action.to_lowercase());
            view! { <span class=class>{words(&r.action)}</span> }
        }),
        Column::new("entity", "Entity", |r: &AuditRow| {
            let id = r
                .entity_id
                .clone()
                .map(|id| view! { " " <span class="hint">{format!("#{id}")}</span> });
            view! { {entity_label(&r.entity)} {id} }
        }),
        Column::new("changes", "Changes", changes_view),
    ];
    view! {
        <ListPage
            resource=Audit
            title="Audit log"
            columns=columns
            filters=move || view! { <AuditFilters /> }
            across_tenants=true
            empty="Nothing changed yet."
        />
    }
}

/// The filters: a GET form before hydration; after, checked in the
/// browser (the server checks the same) and applied without a reload.
#[component]
fn AuditFilters() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let current = args_of(&query.get_untracked());
    let value = |v: &Option<String>| RwSignal::new(v.clone().unwrap_or_default());
    let entity = value(&current.entity);
    let actor = value(&current.actor);
    let from = value(&current.from);
    let to = value(&current.to);
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors: Signal<Vec<FieldError>> = checked.into();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = |s: RwSignal<String>| {
            let v = s.get_untracked().trim().to_string();
            (!v.is_empty()).then_some(v)
        };
        let args = AuditArgs {
            entity: text(entity),
            actor: text(actor),
            from: text(from),
            to: text(to),
            ..AuditArgs::default()
        };
        let problems = args.check();
        if !problems.is_empty() {
            checked.set(problems);
            return;
        }
        checked.set(Vec::new());
        let href = list_href(
            Audit::PATH,
            &query.get_untracked(),
            &[
                ("entity", args.entity),
                ("actor", args.actor),
                ("from", args.from),
                ("to", args.to),
                ("skip", None),
            ],
        );
        navigate(&href, NavigateOptions::default());
    };
    let kinds = std::iter::once((String::new(), "Any".to_string()))
        .chain(ENTITIES.iter().map(|(v, l)| (v.to_string(), l.to_string())))
        .collect::<Vec<_>>();
    view! {
        <form method="get" action=Audit::PATH class="filters" novalidate on:submit=on_submit data-testid="audit-filters">
            <SelectField form="audit" name="entity" label="Entity" value=entity errors=errors options=kinds />
            <TextField form="audit" name="actor" label="Who (user or token)" value=actor errors=errors />
            <TextField form="audit" name="from" label="From (day)" value=from errors=errors placeholder="2026-01-01" />
            <TextField form="audit" name="to" label="To (day, included)" value=to errors=errors placeholder="2026-01-31" />
            <div class="field">
                <span class="label-spacer" aria-hidden="true">"\u{a0}"</span>
                <button type="submit" class="secondary" data-testid="apply-filters">"Apply"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_read_as_words() {
        assert_eq!(words("LOGIN_FAILED"), "login failed");
        assert_eq!(entity_label("API_TOKEN"), "API token");
        assert_eq!(entity_label("SOMETHING_NEW"), "something new");
    }
}
