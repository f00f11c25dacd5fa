//! `/tariffs`: the tenant's tariffs (named rate tables with their currency and
//! tariff-wide values). The default tariff's rates are the call rates; it
//! can be changed but not deleted.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use model::tariff::{Tariff, TariffPatch};
use model::user::Role;
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::form::{form_errors, general_error, TextField};
use crate::components::layout::use_current_user;
use crate::components::tenant::{tenant_choices_resource, use_tenant, ChooseTenant, TenantPicker};
use crate::functions::tariffs::{list_tariffs, DeleteTariff, SaveTariff, TariffList, TariffRow};

/// The fields of the form, in the order the server checks them.
const FIELDS: [&str; 6] = [
    "name",
    "currency",
    "free_seconds",
    "connect_fee",
    "post_call_surcharge",
    "grace_period",
];

/// A field's value in a tariff, as the form and the table show it.
fn value_of(t: &Tariff, field: &str) -> String {
    match field {
        "name" => t.name.clone(),
        "currency" => t.currency.clone(),
        "free_seconds" => t.free_seconds.to_string(),
        "connect_fee" => t.connect_fee.to_string(),
        "post_call_surcharge" => t.post_call_surcharge.to_string(),
        "grace_period" => t.grace_period.to_string(),
        _ => String::new(),
    }
}

/// The tariffs page. Its resources are created here, at the top.
#[component]
pub fn TariffsPage() -> impl IntoView {
    let user = use_current_user();
    let tenant = use_tenant();
    let save = ServerAction::<SaveTariff>::new();
    let delete = ServerAction::<DeleteTariff>::new();
    let tenants = tenant_choices_resource();
    let tariffs = Resource::new(
        move || (tenant.get(), save.version().get(), delete.version().get()),
        |(tenant, _, _)| list_tariffs(tenant),
    );
    // `Some(None)`: a new tariff.
    let editing = RwSignal::new(None::<Option<TariffRow>>);
    let notice = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
            notice.set(Some("The tariff was saved.".into()));
        }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => notice.set(Some("The tariff was deleted.".into())),
        Some(Err(e)) => notice.set(Some(format!("Not deleted: {}", error_text(&e)))),
        None => {}
    });
    Effect::new(move |previous: Option<Option<String>>| {
        let now = tenant.get();
        if previous.is_some_and(|p| p != now) {
            editing.set(None);
            notice.set(None);
        }
        now
    });
    let open = move |what: Option<TariffRow>| {
        save.value().set(None);
        notice.set(None);
        editing.set(Some(what));
    };

    view! {
        <h1>"Tariffs"</h1>
        <Suspense fallback=|| ()>
            {move || {
                let chosen = tenant.get().is_some();
                Suspend::new(async move {
                    let me = user.signed_in().await?;
                    let picks = me.role == Role::SystemAdmin;
                    let can_edit = me.manages_tenant;
                    let tenants = tenants.await.unwrap_or_default();
                    Some(view! {
                        {picks.then(|| view! { <TenantPicker tenants=tenants /> })}
                        {(chosen || !picks)
                            .then(|| {
                                view! {
                                    <div class="toolbar">
                                        <p class="hint">
                                            "Each tariff has its own rates and currency; billing plans choose the tariff by prefix."
                                        </p>
                                        <div class="actions">
                                            {can_edit
                                                .then(|| {
                                                    view! {
                                                        <button type="button" data-testid="new-tariff" on:click=move |_| open(None)>
                                                            "New tariff"
                                                        </button>
                                                    }
                                                })}
                                        </div>
                                    </div>
                                    {(!can_edit)
                                        .then(|| {
                                            view! {
                                                <p class="hint" data-testid="read-only">
                                                    "You can see the tariffs; a tenant administrator changes them."
                                                </p>
                                            }
                                        })}
                                }
                            })}
                    })
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
                .map(|row| view! { <TariffEditor row=row save=save on_cancel=move |()| editing.set(None) /> })
        }}
        <Transition fallback=|| view! { <p class="loading">"Loading tariffs…"</p> }>
            {move || Suspend::new(async move {
                let Some(me) = user.signed_in().await else {
                    return ().into_any();
                };
                match tariffs.await {
                    Ok(Some(list)) => {
                        view! {
                            <TariffTable list=list can_edit=me.manages_tenant delete=delete on_edit=move |row| open(Some(row)) />
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

#[component]
fn TariffTable(
    list: TariffList,
    can_edit: bool,
    delete: ServerAction<DeleteTariff>,
    #[prop(into)] on_edit: Callback<TariffRow>,
) -> impl IntoView {
    let tenant = use_tenant();
    let confirming = RwSignal::new(None::<String>);
    let shown = list.items.len();
    let count = list.count;
    let rows = list
        .items
        .into_iter()
        .map(|row| {
            let t = &row.tariff;
            let name = t.name.clone();
            let is_default = t.is_default;
            let actions = can_edit.then(|| {
                let row = row.clone();
                let id = row.id.clone();
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
                                                .dispatch(DeleteTariff {
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
                                let row = row.clone();
                                let id = id.clone();
                                view! {
                                    <button type="button" class="secondary" data-testid="edit" on:click=move |_| on_edit.run(row.clone())>
                                        "Edit"
                                    </button>
                                    {(!is_default)
                                        .then(|| {
                                            view! {
                                                <button type="button" class="secondary danger" data-testid="delete" on:click=move |_| confirming.set(Some(id.clone()))>
                                                    "Delete"
                                                </button>
                                            }
                                        })}
                                }
                                    .into_any()
                            }
                        }}
                    </td>
                }
            });
            view! {
                <tr data-testid="tariff-row" data-name=name>
                    <td data-field="name">
                        {t.name.clone()}
                        {is_default.then(|| view! { " " <span class="badge" data-testid="default">"default"</span> })}
                    </td>
                    <td data-field="currency">{t.currency.clone()}</td>
                    <td class="num" data-field="free_seconds">{t.free_seconds}</td>
                    <td class="num" data-field="connect_fee">{t.connect_fee.to_string()}</td>
                    <td class="num" data-field="post_call_surcharge">{t.post_call_surcharge.to_string()}</td>
                    <td class="num" data-field="grace_period">{t.grace_period}</td>
                    <td class="num" data-field="rates">{row.rates}</td>
                    {actions}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="rates" data-testid="tariffs">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Currency"</th>
                        <th class="num">"Free s"</th>
                        <th class="num">"Connect fee"</th>
                        <th class="num">"Surcharge"</th>
                        <th class="num">"Grace s"</th>
                        <th class="num">"Rates"</th>
                        {can_edit.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {(count > shown as i64)
            .then(|| view! { <p class="hint">{format!("The first {shown} of {count} tariffs, by name.")}</p> })}
    }
}

/// The form's values as the validator (and the server) read them: blank
/// inputs are left out (a new tariff then takes the default).
fn body_of(values: &[(&'static str, RwSignal<String>)]) -> Map<String, Value> {
    let mut body = Map::new();
    for (name, value) in values {
        let text = value.get_untracked().trim().to_string();
        if !text.is_empty() {
            body.insert(name.to_string(), Value::String(text));
        }
    }
    body
}

#[component]
fn TariffEditor(
    row: Option<TariffRow>,
    save: ServerAction<SaveTariff>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let tenant = use_tenant();
    let id = row.as_ref().map(|r| r.id.clone());
    let title = match &row {
        Some(r) => format!("Edit the tariff {}", r.tariff.name),
        None => "New tariff".to_string(),
    };
    let value = |name: &'static str, default: &str| {
        RwSignal::new(match &row {
            Some(r) => value_of(&r.tariff, name),
            None => default.to_string(),
        })
    };
    let name = value("name", "");
    let currency = value("currency", "");
    let free_seconds = value("free_seconds", "0");
    let connect_fee = value("connect_fee", "0");
    let post_call_surcharge = value("post_call_surcharge", "0");
    let grace_period = value("grace_period", "0");
    let values: Vec<(&'static str, RwSignal<String>)> = vec![
        ("name", name),
        ("currency", currency),
        ("free_seconds", free_seconds),
        ("connect_fee", connect_fee),
        ("post_call_surcharge", post_call_surcharge),
        ("grace_period", grace_period),
    ];
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let answer = Signal::derive(move || save.value().get());
    let errors = form_errors(checked, answer);
    let general = general_error(errors, answer, &FIELDS);

    let is_new = id.is_none();
    let form_values = values;
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = body_of(&form_values);
        let checked_here = TariffPatch::from_json(&body).and_then(|p| {
            if is_new {
                p.into_new().map(|_| ())
            } else {
                Ok(())
            }
        });
        match checked_here {
            Err(problems) => {
                save.value().set(None);
                checked.set(problems);
            }
            Ok(()) => {
                checked.set(Vec::new());
                save.dispatch(SaveTariff {
                    tenant: tenant.get_untracked(),
                    id: id.clone(),
                    body,
                });
            }
        }
    };
    view! {
        <form class="card editor" novalidate on:submit=on_submit data-testid="tariff-form">
            <h2>{title}</h2>
            <div class="grid">
                <TextField form="tariff" name="name" label="Name" value=name errors=errors />
                <TextField
                    form="tariff"
                    name="currency"
                    label="Currency (ISO 4217)"
                    value=currency
                    errors=errors
                    placeholder="The tenant's"
                />
                <TextField form="tariff" name="free_seconds" label="Free seconds" value=free_seconds errors=errors mode="numeric" />
                <TextField form="tariff" name="connect_fee" label="Connect fee" value=connect_fee errors=errors mode="decimal" />
                <TextField
                    form="tariff"
                    name="post_call_surcharge"
                    label="Post-call surcharge"
                    value=post_call_surcharge
                    errors=errors
                    mode="decimal"
                />
                <TextField form="tariff" name="grace_period" label="Grace period (s)" value=grace_period errors=errors mode="numeric" />
            </div>
            <p class="hint">"Rates of this tariff that set no free seconds, grace period, connect fee or surcharge of their own take these."</p>
            {move || general.get().map(|text| view! { <p class="error" role="alert" data-testid="form-error">{text}</p> })}
            <div class="buttons">
                <button type="submit" data-testid="save-tariff" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="secondary" data-testid="cancel" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
