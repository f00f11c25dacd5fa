//! `/webhooks/deliveries`: the delivery log of the tenant's webhooks (its
//! administrators'), newest first, a page of the
//! [list-page skeleton](crate::components::list_page) filtered by status
//! and event (and, from an endpoint's row, by endpoint): each delivery's
//! event, where it goes, its status, its attempts, and the last answer.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use model::FieldError;

use crate::components::form::SelectField;
use crate::components::list_page::{
    choice_label, filter_choices, filter_text, filter_value, list_href, query_arg, Column,
    FilterForm, ListPage, ListResource, Rows,
};
use crate::functions::webhooks::{
    event_choices, list_webhook_deliveries, DeliveryArgs, DeliveryPage, DeliveryRow, STATUSES,
};

/// The log, as the list page lists it.
pub struct Deliveries;

fn args_of(query: &ParamsMap) -> DeliveryArgs {
    DeliveryArgs {
        status: query_arg(query, "status"),
        event: query_arg(query, "event"),
        endpoint: query_arg(query, "endpoint"),
        skip: query_arg(query, "skip"),
        top: query_arg(query, "top"),
    }
}

impl ListResource for Deliveries {
    const PATH: &'static str = "/webhooks/deliveries";
    const KEY: &'static str = "delivery";
    const NOUN: &'static str = "delivery";
    const NOUNS: &'static str = "deliveries";

    type Args = DeliveryArgs;
    type List = DeliveryPage;
    type Row = DeliveryRow;

    fn args(query: &ParamsMap) -> DeliveryArgs {
        args_of(query)
    }

    fn list(
        tenant: Option<String>,
        args: DeliveryArgs,
    ) -> impl Future<Output = Result<Option<DeliveryPage>, ServerFnError>> + Send + 'static {
        list_webhook_deliveries(tenant, args)
    }

    fn rows(page: DeliveryPage) -> Rows<DeliveryRow> {
        Rows::paged(page.items, page.count, page.skip, page.top)
    }

    fn mark(row: &DeliveryRow) -> (&'static str, String) {
        ("data-status", row.status.clone())
    }
}

/// An RFC 3339 time as the table shows it: `2026-01-05 10:00:07`.
fn second(text: &str) -> String {
    text.trim_end_matches('Z').replacen('T', " ", 1)
}

/// The start of a long answer, whole characters.
fn short(text: &str) -> String {
    const SHOWN: usize = 80;
    if text.chars().count() <= SHOWN {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(SHOWN).collect();
    cut.push('…');
    cut
}

/// The delivery log page.
#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let query = use_query_map();
    let columns = vec![
        Column::new("created_at", "Queued (UTC)", |d: &DeliveryRow| {
            second(&d.created_at)
        }),
        Column::new("event", "Event", |d: &DeliveryRow| {
            view! { <code>{d.event.clone()}</code> }
        }),
        Column::new("url", "Endpoint", |d: &DeliveryRow| {
            view! { <span class="url">{d.url.clone()}</span> }
        }),
        Column::new("status", "Status", move |d: &DeliveryRow| {
            let label = choice_label(&STATUSES, &d.status);
            let class = match d.status.as_str() {
                "DELIVERED" => "badge",
                "FAILED" => "badge badge-off",
                _ => "badge badge-wait",
            };
            view! { <span class=class>{label}</span> }
        }),
        Column::new("attempts", "Attempts", |d: &DeliveryRow| d.attempts).numeric(),
        Column::new("last_status", "Last answer", |d: &DeliveryRow| {
            let status = d
                .last_status
                .map_or_else(|| "none".to_string(), |s| format!("HTTP {s}"));
            let answer = d.last_answer.clone().unwrap_or_default();
            let title = answer.clone();
            let shown = short(&answer);
            view! {
                <span class="answer" title=title>
                    <strong>{status}</strong>
                    {(!shown.is_empty()).then(|| view! { " " <span class="hint">{shown}</span> })}
                </span>
            }
        }),
        Column::new(
            "next_attempt_at",
            "Next attempt (UTC)",
            |d: &DeliveryRow| {
                d.next_attempt_at
                    .as_deref()
                    .map_or_else(|| "—".to_string(), second)
            },
        ),
    ];
    let endpoints_href = move || list_href("/webhooks", &query.get(), &[("endpoint", None)]);
    view! {
        <p class="back"><a href=endpoints_href data-testid="back-to-endpoints">"← Webhook endpoints"</a></p>
        <ListPage
            resource=Deliveries
            title="Webhook deliveries"
            columns=columns
            filters=|| view! { <DeliveryFilters /> }
            empty="No deliveries yet: an event is queued for every enabled endpoint that takes it."
        />
    }
}

/// The log's filters: status and event, checked in the browser (and again
/// on the server), applied without a reload.
#[component]
fn DeliveryFilters() -> impl IntoView {
    let query = use_query_map();
    let current = args_of(&query.get_untracked());
    let status = filter_value(&current.status);
    let event = filter_value(&current.event);
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors: Signal<Vec<FieldError>> = checked.into();
    let apply = Callback::new(move |()| {
        let args = DeliveryArgs {
            status: filter_text(status),
            event: filter_text(event),
            ..DeliveryArgs::default()
        };
        let problems = args.check();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(vec![("status", args.status), ("event", args.event)])
    });
    let events = event_choices();
    view! {
        <FilterForm
            path=Deliveries::PATH
            testid="delivery-filters"
            button="apply-delivery-filters"
            keep=&["tenant", "endpoint"]
            checked=checked
            apply=apply
        >
            <SelectField form="deliveries" name="status" label="Status" value=status errors=errors options=filter_choices(&STATUSES, "Any") />
            <SelectField form="deliveries" name="event" label="Event" value=event errors=errors options=filter_choices(&events, "Any") />
        </FilterForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_answers_are_cut_and_times_read_plainly() {
        assert_eq!(short("ok"), "ok");
        let long = "é".repeat(100);
        assert_eq!(short(&long).chars().count(), 81);
        assert_eq!(second("2026-01-05T10:00:07Z"), "2026-01-05 10:00:07");
    }
}
