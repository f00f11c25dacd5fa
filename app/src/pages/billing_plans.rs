//! `/billing-plans`: which tariff rates the calls to a prefix, and how the
//! accounts under it are billed.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use model::tariff::{BillingCycle, BillingPlanPatch};
use model::user::Role;
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::form::{form_errors, general_error, CheckField, SelectField, TextField};
use crate::components::layout::use_current_user;
use crate::components::tenant::{tenant_choices_resource, use_tenant, ChooseTenant, TenantPicker};
use crate::functions::tariffs::{
    list_billing_plans, list_tariffs, DeleteBillingPlan, PlanList, PlanRow, SaveBillingPlan,
    TariffRow,
};

/// The fields of the form.
const FIELDS: [&str; 9] = [
    "prefix",
    "tariff_id",
    "description",
    "billing_cycle",
    "billing_day",
    "currency",
    "suspend_mode",
    "round_up",
    "prepaid",
];

const CYCLES: [BillingCycle; 3] = [
    BillingCycle::Weekly,
    BillingCycle::BiWeekly,
    BillingCycle::Monthly,
];

fn cycle_label(cycle: BillingCycle) -> &'static str {
    match cycle {
        BillingCycle::Weekly => "Weekly",
        BillingCycle::BiWeekly => "Every two weeks",
        BillingCycle::Monthly => "Monthly",
    }
}

/// What the billing day means for a cycle.
fn day_label(cycle: BillingCycle, day: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    match cycle {
        BillingCycle::Monthly => format!("day {day}"),
        _ => usize::try_from(day - 1)
            .ok()
            .and_then(|i| WEEKDAYS.get(i))
            .map_or_else(|| day.to_string(), |d| d.to_string()),
    }
}

/// The billing plans page. Its resources are created here, at the top.
#[component]
pub fn BillingPlansPage() -> impl IntoView {
    let user = use_current_user();
    let tenant = use_tenant();
    let save = ServerAction::<SaveBillingPlan>::new();
    let delete = ServerAction::<DeleteBillingPlan>::new();
    let tenants = tenant_choices_resource();
    // What a plan can use; a plan's save does not change it.
    let tariff_choices = Resource::new(move || tenant.get(), list_tariffs);
    let plans = Resource::new(
        move || (tenant.get(), save.version().get(), delete.version().get()),
        |(tenant, _, _)| list_billing_plans(tenant),
    );
    // `Some(None)`: a new plan.
    let editing = RwSignal::new(None::<Option<PlanRow>>);
    let notice = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
            notice.set(Some("The billing plan was saved.".into()));
        }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => notice.set(Some("The billing plan was deleted.".into())),
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
    let open = move |what: Option<PlanRow>| {
        save.value().set(None);
        notice.set(None);
        editing.set(Some(what));
    };

    view! {
        <h1>"Billing plans"</h1>
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
                                            "A call is rated with the tariff of the plan with the longest prefix of its number; without one, with the default tariff."
                                        </p>
                                        <div class="actions">
                                            {can_edit
                                                .then(|| {
                                                    view! {
                                                        <button type="button" data-testid="new-plan" on:click=move |_| open(None)>
                                                            "New billing plan"
                                                        </button>
                                                    }
                                                })}
                                        </div>
                                    </div>
                                    {(!can_edit)
                                        .then(|| {
                                            view! {
                                                <p class="hint" data-testid="read-only">
                                                    "You can see the billing plans; a tenant administrator changes them."
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
                .map(|row| {
                    view! {
                        <Suspense fallback=|| ()>
                            {move || {
                                let row = row.clone();
                                Suspend::new(async move {
                                    let tariffs = match tariff_choices.await {
                                        Ok(Some(list)) => list.items,
                                        _ => Vec::new(),
                                    };
                                    view! { <PlanEditor row=row tariffs=tariffs save=save on_cancel=move |()| editing.set(None) /> }
                                })
                            }}
                        </Suspense>
                    }
                })
        }}
        <Transition fallback=|| view! { <p class="loading">"Loading billing plans…"</p> }>
            {move || Suspend::new(async move {
                let Some(me) = user.signed_in().await else {
                    return ().into_any();
                };
                match plans.await {
                    Ok(Some(list)) => {
                        view! {
                            <PlanTable list=list can_edit=me.manages_tenant delete=delete on_edit=move |row| open(Some(row)) />
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
fn PlanTable(
    list: PlanList,
    can_edit: bool,
    delete: ServerAction<DeleteBillingPlan>,
    #[prop(into)] on_edit: Callback<PlanRow>,
) -> impl IntoView {
    let tenant = use_tenant();
    let confirming = RwSignal::new(None::<String>);
    let shown = list.items.len();
    let count = list.count;
    let tariff_name = |id: &str| {
        list.tariffs
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.tariff.name.clone())
            .unwrap_or_default()
    };
    let rows = list
        .items
        .iter()
        .map(|row| {
            let p = &row.plan;
            let prefix = p.prefix.clone();
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
                                                .dispatch(DeleteBillingPlan {
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
            let yes_no = |b: bool| if b { "yes" } else { "no" };
            view! {
                <tr data-testid="plan-row" data-prefix=prefix>
                    <td data-field="prefix">{p.prefix.clone()}</td>
                    <td data-field="tariff">{tariff_name(&row.tariff_id)}</td>
                    <td data-field="description">{p.description.clone()}</td>
                    <td data-field="billing_cycle">{cycle_label(p.billing_cycle)}</td>
                    <td data-field="billing_day">{day_label(p.billing_cycle, p.billing_day)}</td>
                    <td data-field="round_up">{yes_no(p.round_up)}</td>
                    <td data-field="prepaid">{yes_no(p.prepaid)}</td>
                    <td data-field="currency">{p.currency.clone()}</td>
                    <td class="num" data-field="suspend_mode">{p.suspend_mode}</td>
                    {actions}
                </tr>
            }
        })
        .collect_view();
    let empty = shown == 0;
    view! {
        <div class="table-wrap">
            <table class="rates" data-testid="plans">
                <thead>
                    <tr>
                        <th>"Prefix"</th>
                        <th>"Tariff"</th>
                        <th>"Description"</th>
                        <th>"Billing cycle"</th>
                        <th>"Billing day"</th>
                        <th>"Round up"</th>
                        <th>"Prepaid"</th>
                        <th>"Currency"</th>
                        <th class="num">"Suspend mode"</th>
                        {can_edit.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {empty.then(|| view! { <p class="empty" data-testid="empty">"No billing plans yet: every call is rated with the default tariff."</p> })}
        {(count > shown as i64)
            .then(|| view! { <p class="hint">{format!("The first {shown} of {count} billing plans, by prefix.")}</p> })}
    }
}

#[component]
fn PlanEditor(
    row: Option<PlanRow>,
    tariffs: Vec<TariffRow>,
    save: ServerAction<SaveBillingPlan>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let tenant = use_tenant();
    let id = row.as_ref().map(|r| r.id.clone());
    let title = match &row {
        Some(r) => format!("Edit the billing plan {}", r.plan.prefix),
        None => "New billing plan".to_string(),
    };
    let plan = row.as_ref().map(|r| &r.plan);
    let text = |f: &dyn Fn(&model::tariff::BillingPlan) -> String, default: &str| {
        RwSignal::new(plan.map_or_else(|| default.to_string(), f))
    };
    let prefix = text(&|p| p.prefix.clone(), "");
    let description = text(&|p| p.description.clone(), "");
    let cycle = text(&|p| p.billing_cycle.number().to_string(), "3");
    let day = text(&|p| p.billing_day.to_string(), "1");
    let currency = text(&|p| p.currency.clone(), "");
    let suspend_mode = text(&|p| p.suspend_mode.to_string(), "0");
    let default_tariff = tariffs
        .iter()
        .find(|t| t.tariff.is_default)
        .or(tariffs.first())
        .map(|t| t.id.clone())
        .unwrap_or_default();
    let tariff_id = RwSignal::new(row.as_ref().map_or(default_tariff, |r| r.tariff_id.clone()));
    let round_up = RwSignal::new(plan.is_some_and(|p| p.round_up));
    let prepaid = RwSignal::new(plan.is_none_or(|p| p.prepaid));
    let tariff_options: Vec<(String, String)> = tariffs
        .iter()
        .map(|t| {
            (
                t.id.clone(),
                format!("{} ({})", t.tariff.name, t.tariff.currency),
            )
        })
        .collect();
    let cycle_options: Vec<(String, String)> = CYCLES
        .iter()
        .map(|c| (c.number().to_string(), cycle_label(*c).to_string()))
        .collect();

    let checked = RwSignal::new(Vec::<FieldError>::new());
    let answer = Signal::derive(move || save.value().get());
    let errors = form_errors(checked, answer);
    let general = general_error(errors, answer, &FIELDS);
    let is_new = id.is_none();

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        // Blank inputs are left out: a new plan then takes the default, and
        // a missing prefix is named as such.
        let mut body = Map::new();
        for (name, value) in [
            ("prefix", prefix),
            ("tariff_id", tariff_id),
            ("billing_cycle", cycle),
            ("billing_day", day),
            ("currency", currency),
            ("suspend_mode", suspend_mode),
        ] {
            let text = value.get_untracked().trim().to_string();
            if !text.is_empty() {
                body.insert(name.into(), Value::String(text));
            }
        }
        body.insert(
            "description".into(),
            Value::String(description.get_untracked()),
        );
        body.insert("round_up".into(), Value::Bool(round_up.get_untracked()));
        body.insert("prepaid".into(), Value::Bool(prepaid.get_untracked()));
        let mut problems = BillingPlanPatch::from_json(&body).err().unwrap_or_default();
        if is_new {
            for name in ["prefix", "tariff_id"] {
                if !body.contains_key(name) && !problems.iter().any(|e| e.field == name) {
                    problems.push(FieldError::new(name, "is required"));
                }
            }
        }
        if problems.is_empty() {
            checked.set(Vec::new());
            save.dispatch(SaveBillingPlan {
                tenant: tenant.get_untracked(),
                id: id.clone(),
                body,
            });
        } else {
            save.value().set(None);
            checked.set(problems);
        }
    };

    view! {
        <form class="card editor" novalidate on:submit=on_submit data-testid="plan-form">
            <h2>{title}</h2>
            <div class="grid">
                <TextField form="plan" name="prefix" label="Prefix" value=prefix errors=errors mode="numeric" />
                <SelectField form="plan" name="tariff_id" label="Tariff" value=tariff_id errors=errors options=tariff_options />
                <SelectField form="plan" name="billing_cycle" label="Billing cycle" value=cycle errors=errors options=cycle_options />
                <TextField
                    form="plan"
                    name="billing_day"
                    label="Billing day (weekday 1–7, or day of month 1–28)"
                    value=day
                    errors=errors
                    mode="numeric"
                />
                <TextField
                    form="plan"
                    name="currency"
                    label="Currency (ISO 4217)"
                    value=currency
                    errors=errors
                    placeholder="The tariff's"
                />
                <TextField form="plan" name="suspend_mode" label="Suspend mode" value=suspend_mode errors=errors mode="numeric" />
                <CheckField form="plan" name="round_up" label="Round amounts up" value=round_up errors=errors />
                <CheckField form="plan" name="prepaid" label="Prepaid" value=prepaid errors=errors />
                <TextField form="plan" name="description" label="Description" value=description errors=errors wide=true />
            </div>
            {move || general.get().map(|text| view! { <p class="error" role="alert" data-testid="form-error">{text}</p> })}
            <div class="buttons">
                <button type="submit" data-testid="save-plan" disabled=move || save.pending().get()>
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

    #[test]
    fn billing_days_read_as_weekdays_or_days_of_the_month() {
        assert_eq!(day_label(BillingCycle::Weekly, 1), "Mon");
        assert_eq!(day_label(BillingCycle::BiWeekly, 7), "Sun");
        assert_eq!(day_label(BillingCycle::Monthly, 28), "day 28");
    }
}
