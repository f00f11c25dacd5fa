//! `/billing`: the tenant's billing settings, and its statement settings
//! (the cycle of its accounts' statements and the tax they show).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use model::billing_settings::{BillingAccount, BillingSettings, BillingType};
use model::fields::WireEnum;
use model::statement::{StatementSettings, StatementSettingsPatch};
use model::user::Role;
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::form::{form_errors, general_error, CheckField, SelectField, TextField};
use crate::components::layout::use_current_user;
use crate::components::tenant::{tenant_choices_resource, use_tenant, ChooseTenant, TenantPicker};
use crate::functions::billing_settings::{get_billing_settings, SaveBillingSettings};
use crate::functions::statements::{get_statement_settings, SaveStatementSettings, CYCLES};

/// The billing settings page. Its resources are created here, at the top,
/// and read in one region.
#[component]
pub fn BillingSettingsPage() -> impl IntoView {
    let user = use_current_user();
    let tenant = use_tenant();
    let tenants = tenant_choices_resource();
    let settings = Resource::new(move || tenant.get(), get_billing_settings);
    let statements = Resource::new(move || tenant.get(), get_statement_settings);
    view! {
        <h1>"Billing settings"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = user.signed_in().await?;
                let picks = me.role == Role::SystemAdmin;
                let tenants = tenants.await.unwrap_or_default();
                let statements = statements.await;
                let body = match settings.await {
                    Ok(Some(current)) => {
                        let statement_form = match statements {
                            Ok(Some(current)) => view! { <StatementSettingsForm current=current can_edit=me.manages_tenant /> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                        };
                        view! {
                            <BillingSettingsForm current=current can_edit=me.manages_tenant />
                            {statement_form}
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <ChooseTenant /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                };
                Some(view! {
                    {picks.then(|| view! { <TenantPicker tenants=tenants /> })}
                    {body}
                })
            })}
        </Suspense>
    }
}

/// Labels of the choices, with what each means.
fn account_label(account: BillingAccount) -> &'static str {
    match account {
        BillingAccount::Tenant => "The company (tenant) account pays",
        BillingAccount::User => "Each user's own account pays",
    }
}

fn type_label(billing_type: BillingType) -> &'static str {
    match billing_type {
        BillingType::Offline => "Offline: charged after the call, from its record",
        BillingType::Online => "Online: authorised before the call, funds held while it lasts",
    }
}

#[component]
fn BillingSettingsForm(current: BillingSettings, can_edit: bool) -> impl IntoView {
    let tenant = use_tenant();
    let enabled = RwSignal::new(current.enabled);
    let account = RwSignal::new(current.account.wire().to_string());
    let billing_type = RwSignal::new(current.billing_type.wire().to_string());
    let save = ServerAction::<SaveBillingSettings>::new();

    // Any change after a save hides its confirmation.
    let changed = move || save.value().set(None);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut body = Map::new();
        body.insert("enabled".into(), Value::Bool(enabled.get_untracked()));
        body.insert("account".into(), Value::String(account.get_untracked()));
        body.insert("type".into(), Value::String(billing_type.get_untracked()));
        save.dispatch(SaveBillingSettings {
            tenant: tenant.get_untracked(),
            body,
        });
    };
    let outcome = move || match save.value().get() {
        Some(Ok(_)) => Some(
            view! { <p class="notice" role="status" data-testid="billing-saved">"Saved."</p> }
                .into_any(),
        ),
        Some(Err(e)) => {
            Some(view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any())
        }
        None => None,
    };

    let choice = move |name: &'static str,
                       wire: &'static str,
                       label: &'static str,
                       signal: RwSignal<String>| {
        let initially = signal.get_untracked() == wire;
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name=name
                    value=wire
                    checked=initially
                    prop:checked=move || signal.get() == wire
                    disabled=!can_edit
                    data-testid=format!("{name}-{wire}")
                    on:change=move |_| {
                        signal.set(wire.to_string());
                        changed();
                    }
                />
                <span>
                    <strong>{wire}</strong>
                    " — "
                    {label}
                </span>
            </label>
        }
    };

    view! {
        <form class="card settings" on:submit=on_submit data-testid="billing-form">
            {(!can_edit)
                .then(|| {
                    view! {
                        <p class="hint" data-testid="read-only">
                            "Only a tenant administrator can change these settings."
                        </p>
                    }
                })}
            <label class="check">
                <input
                    type="checkbox"
                    name="enabled"
                    checked=current.enabled
                    prop:checked=move || enabled.get()
                    disabled=!can_edit
                    data-testid="billing-enabled"
                    on:change=move |ev| {
                        enabled.set(event_target_checked(&ev));
                        changed();
                    }
                />
                <span>"Billing is enabled: calls are rated and charged"</span>
            </label>
            <fieldset>
                <legend>"Account charged"</legend>
                {BillingAccount::ALL
                    .iter()
                    .map(|a| choice("account", a.wire(), account_label(*a), account))
                    .collect_view()}
            </fieldset>
            <fieldset>
                <legend>"Billing type"</legend>
                {BillingType::ALL
                    .iter()
                    .map(|t| choice("type", t.wire(), type_label(*t), billing_type))
                    .collect_view()}
            </fieldset>
            {can_edit
                .then(|| {
                    view! {
                        <div class="buttons">
                            <button type="submit" data-testid="save-billing" disabled=move || save.pending().get()>
                                {move || if save.pending().get() { "Saving…" } else { "Save" }}
                            </button>
                            {outcome}
                        </div>
                    }
                })}
        </form>
    }
}

/// The fields of the statement settings form.
const STATEMENT_FIELDS: [&str; 5] = ["cycle", "cycle_day", "tax_name", "tax_rate", "tax_included"];

/// The statement settings: the cycle of the accounts' statements and the
/// tax they show, checked in the browser as the server checks them, each
/// problem at its field.
#[component]
fn StatementSettingsForm(current: StatementSettings, can_edit: bool) -> impl IntoView {
    let tenant = use_tenant();
    let cycle = RwSignal::new(current.cycle.wire().to_string());
    let cycle_day = RwSignal::new(current.cycle_day.to_string());
    let tax_name = RwSignal::new(current.tax_name.clone());
    let tax_rate = RwSignal::new(current.tax_rate.to_wire());
    let tax_included = RwSignal::new(current.tax_included);
    let save = ServerAction::<SaveStatementSettings>::new();
    let answer: Signal<Option<Result<StatementSettings, ServerFnError>>> = save.value().into();
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors = form_errors(checked, answer);
    let general = general_error(errors, answer, STATEMENT_FIELDS.into());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut body = Map::new();
        body.insert("cycle".into(), Value::String(cycle.get_untracked()));
        body.insert("cycle_day".into(), Value::String(cycle_day.get_untracked()));
        body.insert("tax_name".into(), Value::String(tax_name.get_untracked()));
        let rate = tax_rate.get_untracked();
        let rate = if rate.trim().is_empty() {
            "0".to_string()
        } else {
            rate
        };
        body.insert("tax_rate".into(), Value::String(rate));
        body.insert(
            "tax_included".into(),
            Value::Bool(tax_included.get_untracked()),
        );
        let problems = match StatementSettingsPatch::from_json(&body) {
            Ok(patch) => patch.apply(&current).err().unwrap_or_default(),
            Err(problems) => problems,
        };
        save.value().set(None);
        checked.set(problems.clone());
        if problems.is_empty() {
            save.dispatch(SaveStatementSettings {
                tenant: tenant.get_untracked(),
                body,
            });
        }
    };
    let cycles: Vec<(String, String)> = CYCLES
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect();
    view! {
        <form class="card settings statement-settings" novalidate on:submit=on_submit data-testid="statement-settings-form">
            <h2>"Statements"</h2>
            <p class="hint">
                "Each account gets a statement per period; a new cycle starts after each account's open statement. "
                "The tax is shown on the statements' net charges, not taken from the balances."
            </p>
            <div class="grid">
                <SelectField form="statement-settings" name="cycle" label="Cycle" value=cycle errors=errors options=cycles />
                <TextField form="statement-settings" name="cycle_day" label="Day a period starts" value=cycle_day errors=errors mode="numeric" />
                <TextField form="statement-settings" name="tax_name" label="Tax name" value=tax_name errors=errors placeholder="VAT" />
                <TextField form="statement-settings" name="tax_rate" label="Tax rate (%)" value=tax_rate errors=errors mode="decimal" />
                <CheckField form="statement-settings" name="tax_included" label="The charges include the tax" value=tax_included errors=errors />
            </div>
            <p class="hint">
                "The day: of the month, 1 to 28, for a monthly cycle; a weekday, 1 (Monday) to 7 (Sunday), for the others. Periods are in UTC."
            </p>
            {move || general.get().map(|text| view! { <p class="error" role="alert" data-testid="statement-settings-error">{text}</p> })}
            {can_edit.then(|| view! {
                <div class="buttons">
                    <button type="submit" data-testid="save-statement-settings" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                    {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! {
                        <p class="notice" role="status" data-testid="statement-settings-saved">"Saved."</p>
                    })}
                </div>
            })}
        </form>
    }
}
