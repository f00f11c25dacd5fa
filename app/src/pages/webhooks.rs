//! `/webhooks`: the tenant's webhook endpoints (its administrators'), a
//! page of the [list-page skeleton](crate::components::list_page): each
//! URL, the events it takes, whether it is enabled, and the secret its
//! deliveries are signed with (shown, with a button that replaces it after
//! asking). The delivery log is [`/webhooks/deliveries`](super::webhook_deliveries).

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use model::webhook::EndpointPatch;
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::form::{CheckField, EditorForm, RowForm, TextField};
use crate::components::list_page::{
    list_href, Changes, Column, Confirm, EditResource, ListPage, ListResource, Rows, Window,
};
use crate::components::tenant::use_tenant;
use crate::functions::webhooks::{
    event_choices, list_webhook_endpoints, DeleteWebhookEndpoint, EndpointList, EndpointRow,
    RotateWebhookSecret, SaveWebhookEndpoint,
};

/// The fields of the form.
const FIELDS: [&str; 4] = ["url", "description", "events", "enabled"];

/// The endpoints, as the list page lists them.
pub struct Webhooks;

impl ListResource for Webhooks {
    const PATH: &'static str = "/webhooks";
    const KEY: &'static str = "webhook";
    const NOUN: &'static str = "webhook endpoint";
    const NOUNS: &'static str = "webhook endpoints";

    type Args = ();
    type List = EndpointList;
    type Row = EndpointRow;

    fn args(_query: &ParamsMap) {}

    fn list(
        tenant: Option<String>,
        (): (),
    ) -> impl Future<Output = Result<Option<EndpointList>, ServerFnError>> + Send + 'static {
        list_webhook_endpoints(tenant)
    }

    fn rows(list: EndpointList) -> Rows<EndpointRow> {
        Rows {
            items: list.items,
            count: list.count,
            window: Window::First {
                order: "in the order they were made",
            },
        }
    }

    fn mark(row: &EndpointRow) -> (&'static str, String) {
        ("data-url", row.url.clone())
    }
}

impl EditResource for Webhooks {
    type Save = SaveWebhookEndpoint;
    type Delete = DeleteWebhookEndpoint;

    fn id(row: &EndpointRow) -> String {
        row.id.clone()
    }

    fn label(row: &EndpointRow) -> String {
        row.url.clone()
    }

    fn save(
        tenant: Option<String>,
        id: Option<String>,
        body: Map<String, Value>,
    ) -> SaveWebhookEndpoint {
        SaveWebhookEndpoint { tenant, id, body }
    }

    fn delete(tenant: Option<String>, id: String) -> DeleteWebhookEndpoint {
        DeleteWebhookEndpoint { tenant, id }
    }
}

/// The labels of events given by their wire names, in their order.
fn event_labels(events: &[String]) -> String {
    event_choices()
        .iter()
        .filter(|(wire, _)| events.iter().any(|e| e == wire))
        .map(|(_, label)| *label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The webhooks page.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let tenant = use_tenant();
    let query = use_query_map();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let confirming = RwSignal::new(None::<String>);
    let message = Signal::derive(move || {
        rotate.value().get().map(|answer| match answer {
            Ok(text) => text,
            Err(e) => format!("Not replaced: {}", error_text(&e)),
        })
    });
    let secret_cell = move |row: &EndpointRow| {
        let id = row.id.clone();
        let secret = row.secret.clone();
        move || {
            let id = id.clone();
            let asking = confirming.get().as_deref() == Some(id.as_str());
            let button = if asking {
                view! {
                    <span class="confirm-revoke">
                        <Confirm
                            question="Receivers must take the new one. Replace it?"
                            verb="Replace"
                            testid="confirm-rotate"
                            danger=true
                            pending=rotate.pending()
                            on_confirm=Callback::new(move |()| {
                                rotate.dispatch(RotateWebhookSecret {
                                    tenant: tenant.get_untracked(),
                                    id: id.clone(),
                                });
                            })
                            on_keep=Callback::new(move |()| confirming.set(None))
                        />
                    </span>
                }
                .into_any()
            } else {
                view! {
                    <button
                        type="button"
                        class="secondary"
                        data-testid="rotate-secret"
                        on:click=move |_| {
                            rotate.value().set(None);
                            confirming.set(Some(id.clone()));
                        }
                    >
                        "New secret"
                    </button>
                }
                .into_any()
            };
            view! {
                <div class="secret">
                    <code data-testid="webhook-secret">{secret.clone()}</code>
                    {button}
                </div>
            }
        }
    };
    let log_href = move |endpoint: Option<String>| {
        list_href(
            "/webhooks/deliveries",
            &query.get_untracked(),
            &[("endpoint", endpoint)],
        )
    };
    let columns = vec![
        Column::new("url", "URL", |e: &EndpointRow| {
            let description = (!e.description.is_empty()).then(|| {
                view! { <span class="hint">{e.description.clone()}</span> }
            });
            view! {
                <span class="url">{e.url.clone()}</span>
                {description}
            }
        }),
        Column::new("events", "Events", |e: &EndpointRow| {
            event_labels(&e.events)
        }),
        Column::new("enabled", "Enabled", |e: &EndpointRow| {
            if e.enabled {
                view! { <span class="badge">"on"</span> }.into_any()
            } else {
                view! { <span class="badge badge-off">"off"</span> }.into_any()
            }
        }),
        Column::new("secret", "Signing secret", secret_cell),
        Column::new("deliveries", "Deliveries", move |e: &EndpointRow| {
            let href = log_href(Some(e.id.clone()));
            view! { <a href=href data-testid="endpoint-deliveries">"Log"</a> }
        }),
    ];
    let editor = move |(row, form): (Option<EndpointRow>, RowForm)| {
        view! { <EndpointEditor row=row form=form /> }.into_any()
    };
    let changes = Changes::of::<Webhooks>(editor);
    view! {
        <ListPage
            resource=Webhooks
            title="Webhooks"
            columns=columns
            hint="Each event is posted, signed with the endpoint's secret, to every enabled endpoint that takes it."
            actions=move || view! {
                <a class="button secondary" href=log_href(None) data-testid="delivery-log">"Delivery log"</a>
            }
            empty="No webhook endpoints yet: add one to be told of low balances, rated calls and imported decks."
            changes=changes
            reload=Signal::derive(move || rotate.version().get())
            message=message
        />
    }
}

/// The events an endpoint takes, as check boxes, with the problems about them.
#[component]
fn EventsField(
    chosen: Vec<(&'static str, &'static str, RwSignal<bool>)>,
    errors: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let message = move || {
        errors
            .get()
            .into_iter()
            .filter(|e| e.field == "events")
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let invalid = move || !message().is_empty();
    view! {
        <fieldset class="field wide events-field" class:invalid=invalid data-testid="field-events">
            <legend>"Events"</legend>
            {chosen
                .into_iter()
                .map(|(wire, label, value)| {
                    let id = format!("webhook-event-{}", wire.replace('.', "-"));
                    let label_for = id.clone();
                    view! {
                        <label class="check" for=label_for>
                            <input type="checkbox" id=id name="events" value=wire data-testid=format!("event-{wire}") bind:checked=value />
                            <span>{label}</span>
                            " "
                            <code>{wire}</code>
                        </label>
                    }
                })
                .collect_view()}
            <p class="field-error" data-testid="error-events">{message}</p>
        </fieldset>
    }
}

#[component]
fn EndpointEditor(row: Option<EndpointRow>, form: RowForm) -> impl IntoView {
    let url = RwSignal::new(row.as_ref().map(|r| r.url.clone()).unwrap_or_default());
    let description = RwSignal::new(
        row.as_ref()
            .map(|r| r.description.clone())
            .unwrap_or_default(),
    );
    let enabled = RwSignal::new(row.as_ref().is_none_or(|r| r.enabled));
    let events: Vec<(&'static str, &'static str, RwSignal<bool>)> = event_choices()
        .into_iter()
        .map(|(wire, label)| {
            let on = row
                .as_ref()
                .is_some_and(|r| r.events.iter().any(|e| e == wire));
            (wire, label, RwSignal::new(on))
        })
        .collect();
    let errors = form.errors;
    let is_new = form.is_new;
    let picked = events.clone();
    let check = move |()| {
        let mut body = Map::new();
        body.insert(
            "url".into(),
            Value::String(url.get_untracked().trim().to_string()),
        );
        body.insert(
            "description".into(),
            Value::String(description.get_untracked()),
        );
        body.insert(
            "events".into(),
            Value::Array(
                picked
                    .iter()
                    .filter(|(_, _, on)| on.get_untracked())
                    .map(|(wire, _, _)| Value::String((*wire).to_string()))
                    .collect(),
            ),
        );
        body.insert("enabled".into(), Value::Bool(enabled.get_untracked()));
        let mut problems = match EndpointPatch::from_json(&body) {
            Ok(patch) if is_new => patch.missing_for_new(),
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        };
        if url.get_untracked().trim().is_empty() && !problems.iter().any(|e| e.field == "url") {
            problems.push(FieldError::new("url", "is required"));
        }
        (body, problems)
    };
    view! {
        <EditorForm
            form=form
            fields=FIELDS.to_vec()
            check=check
            note="Deliveries are POSTed as JSON with the header Ratedeck-Signature: t=<unix time>,v1=<HMAC-SHA256 of “t.body” keyed by the secret>. A 2xx answer delivers one; others are tried again for a day."
        >
            <TextField form="webhook" name="url" label="URL" value=url errors=errors placeholder="https://hooks.example.com/ratedeck" wide=true />
            <TextField form="webhook" name="description" label="Description" value=description errors=errors />
            <CheckField form="webhook" name="enabled" label="Enabled" value=enabled errors=errors />
            <EventsField chosen=events errors=errors />
        </EditorForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_named_in_their_order() {
        assert_eq!(
            event_labels(&["deck.imported".into(), "balance.low".into()]),
            "Low balance, Deck imported"
        );
        assert_eq!(event_labels(&[]), "");
    }
}
