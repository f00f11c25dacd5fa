//! `/balances`: the tenant's account and its users' (balance, credit limit,
//! held by live calls, available, in the tenant's currency), the recharge
//! and credit-limit forms of the account chosen, and its ledger below: a
//! page of the [list-page skeleton](crate::components::list_page) filtered
//! by kind and days. The account's low-balance alert is there too: its
//! threshold (set by whoever sets the credit limit) and its latest alerts.
//! A standard user sees only its own account, its alerts and its ledger,
//! without forms.

use std::future::Future;
use std::sync::Arc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use model::FieldError;

use crate::components::form::{form_errors, general_error, SelectField, TextField};
use crate::components::list_page::{
    choice_label, filter_choices, filter_text, filter_value, list_href, query_arg, Column,
    FilterForm, ListPage, ListResource, Rows,
};
use crate::components::tenant::use_tenant;
use crate::functions::alerts::{account_alerts, AlertState, SetAccountThreshold};
use crate::functions::balances::{
    check_amount, list_accounts, list_ledger, AccountView, Accounts, LedgerArgs, LedgerPage,
    LedgerRow, RechargeAccount, SetAccountCreditLimit, KINDS,
};

/// The ledger of the chosen account, as the list page lists it.
pub struct Ledger;

fn args_of(query: &ParamsMap) -> LedgerArgs {
    LedgerArgs {
        account: query_arg(query, "account"),
        kind: query_arg(query, "kind"),
        from: query_arg(query, "from"),
        to: query_arg(query, "to"),
        skip: query_arg(query, "skip"),
        top: query_arg(query, "top"),
    }
}

impl ListResource for Ledger {
    const PATH: &'static str = "/balances";
    const KEY: &'static str = "ledger";
    const NOUN: &'static str = "ledger row";
    const NOUNS: &'static str = "ledger rows";

    type Args = LedgerArgs;
    type List = LedgerPage;
    type Row = (LedgerRow, String);

    fn args(query: &ParamsMap) -> LedgerArgs {
        args_of(query)
    }

    fn list(
        tenant: Option<String>,
        args: LedgerArgs,
    ) -> impl Future<Output = Result<Option<LedgerPage>, ServerFnError>> + Send + 'static {
        list_ledger(tenant, args)
    }

    fn rows(page: LedgerPage) -> Rows<(LedgerRow, String)> {
        let currency = page.currency;
        let items = page.items.into_iter().map(|row| (row, currency.clone()));
        Rows::paged(items.collect(), page.count, page.skip, page.top)
    }

    fn mark((row, _): &(LedgerRow, String)) -> (&'static str, String) {
        ("data-kind", row.kind.clone())
    }
}

fn kind_label(wire: &str) -> String {
    choice_label(&KINDS, wire)
}

/// The balances page.
#[component]
pub fn BalancesPage() -> impl IntoView {
    let tenant = use_tenant();
    let query = use_query_map();
    let recharge = ServerAction::<RechargeAccount>::new();
    let limit = ServerAction::<SetAccountCreditLimit>::new();
    let threshold = ServerAction::<SetAccountThreshold>::new();
    let changes = Signal::derive(move || {
        recharge.version().get() + limit.version().get() + threshold.version().get()
    });
    let accounts = Resource::new(
        move || (tenant.get(), changes.get()),
        |(tenant, _)| list_accounts(tenant),
    );
    let chosen = Memo::new(move |_| query_arg(&query.read(), "account"));
    let alerts = Resource::new(
        move || (tenant.get(), chosen.get(), changes.get()),
        |(tenant, account, _)| account_alerts(tenant, account),
    );

    let below = move || {
        view! {
            <Transition fallback=|| view! { <p class="loading">"Loading the accounts…"</p> }>
                {move || {
                    // Another account chosen: its figures and forms.
                    chosen.track();
                    Suspend::new(async move {
                    match accounts.await {
                        Ok(Some(all)) => {
                            view! { <AccountsPanel all=all chosen=chosen recharge=recharge limit=limit threshold=threshold alerts=alerts /> }
                                .into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(e) => {
                            view! { <p class="error" role="alert" data-testid="accounts-error">{crate::components::error_text(&e)}</p> }
                                .into_any()
                        }
                    }
                })
                }}
            </Transition>
            <h2 class="ledger-heading">"Ledger"</h2>
            <LedgerFilters />
        }
    };
    let columns = vec![
        Column::new(
            "created_at",
            "When (UTC)",
            |(r, _): &(LedgerRow, String)| r.created_at.trim_end_matches('Z').replacen('T', " ", 1),
        ),
        Column::new("kind", "Kind", |(r, _): &(LedgerRow, String)| {
            kind_label(&r.kind)
        }),
        Column::new("amount", "Amount", |(r, c): &(LedgerRow, String)| {
            format!("{} {c}", r.amount)
        })
        .numeric(),
        Column::new(
            "balance_after",
            "Balance after",
            |(r, c): &(LedgerRow, String)| format!("{} {c}", r.balance_after),
        )
        .numeric(),
        Column::new("call_id", "Call", |(r, _): &(LedgerRow, String)| {
            r.call_id.clone().unwrap_or_else(|| "—".into())
        }),
        Column::new("created_by", "Who", |(r, _): &(LedgerRow, String)| {
            r.created_by.clone().unwrap_or_else(|| "system".into())
        }),
    ];
    view! {
        <ListPage
            resource=Ledger
            title="Balances"
            columns=columns
            below=below
            reload=changes
            empty="No ledger rows for this account yet."
        />
    }
}

/// The chosen account's figures and forms, and every account to choose from.
#[component]
fn AccountsPanel(
    all: Accounts,
    chosen: Memo<Option<String>>,
    recharge: ServerAction<RechargeAccount>,
    limit: ServerAction<SetAccountCreditLimit>,
    threshold: ServerAction<SetAccountThreshold>,
    alerts: Resource<Result<Option<AlertState>, ServerFnError>>,
) -> impl IntoView {
    let tenant = use_tenant();
    let query = use_query_map();
    let currency = all.currency.clone();
    // A standard user's page: its own account only, nothing to change.
    let own = all.own;
    let account = if own { None } else { chosen.get_untracked() };
    let current = match &account {
        None => Some(all.tenant.clone()),
        Some(id) => all
            .users
            .iter()
            .find(|u| u.user.as_ref() == Some(id))
            .cloned(),
    };
    // The operator changes the tenant's own account; its administrators its users'.
    let may_change = !own && (account.is_some() || all.operator);
    let link = move |user: Option<String>| {
        list_href(
            "/balances",
            &query.get_untracked(),
            &[("account", user), ("skip", None)],
        )
    };
    let row = {
        let currency = currency.clone();
        move |a: AccountView, is_chosen: bool| {
            let money = |v: &str| format!("{v} {currency}");
            let href = link(a.user.clone());
            let mark = a.user.clone().unwrap_or_else(|| "tenant".into());
            view! {
                <tr data-testid="account-row" data-account=mark class:chosen=is_chosen>
                    <td data-field="name">
                        <a href=href aria-current=is_chosen.then_some("true")>{a.name.clone()}</a>
                        {a.user.is_none().then(|| view! { " " <span class="badge">"tenant"</span> })}
                    </td>
                    <td class="num" data-field="balance">{money(&a.balance)}</td>
                    <td class="num" data-field="credit_limit">{money(&a.credit_limit)}</td>
                    <td class="num" data-field="held">{money(&a.held)}</td>
                    <td class="num" data-field="available">{money(&a.available)}</td>
                </tr>
            }
        }
    };
    let rows = std::iter::once(all.tenant.clone())
        .chain(all.users.iter().cloned())
        .map(|a| {
            let is_chosen = a.user == account;
            row(a, is_chosen)
        })
        .collect_view()
        .into_any();
    let more = (all.users_count > all.users.len() as i64).then(|| {
        view! { <p class="hint">{format!("The first {} of {} users, by name.", all.users.len(), all.users_count)}</p> }
    });
    let figures = current.clone().map(|a| {
        let money = |v: &str| format!("{v} {}", currency);
        view! {
            <dl class="counts" data-testid="account-figures">
                <div><dt>"Balance"</dt><dd data-testid="figure-balance">{money(&a.balance)}</dd></div>
                <div><dt>"Credit limit"</dt><dd data-testid="figure-credit-limit">{money(&a.credit_limit)}</dd></div>
                <div><dt>"Held by live calls"</dt><dd data-testid="figure-held">{money(&a.held)}</dd></div>
                <div><dt>"Available"</dt><dd data-testid="figure-available">{money(&a.available)}</dd></div>
            </dl>
        }
        .into_any()
    });
    let title = current
        .as_ref()
        .map(|a| {
            if own {
                format!("{} (your account)", a.name)
            } else if a.user.is_none() {
                format!("{} (the tenant's account)", a.name)
            } else {
                format!("{} (a user's account)", a.name)
            }
        })
        .unwrap_or_else(|| "No such account".into());
    let forms = (may_change && current.is_some()).then(|| {
        let send_recharge = {
            let account = account.clone();
            Callback::new(move |amount: String| {
                recharge.dispatch(RechargeAccount {
                    tenant: tenant.get_untracked(),
                    account: account.clone(),
                    amount,
                });
            })
        };
        let send_limit = {
            let account = account.clone();
            Callback::new(move |amount: String| {
                limit.dispatch(SetAccountCreditLimit {
                    tenant: tenant.get_untracked(),
                    account: account.clone(),
                    amount,
                });
            })
        };
        view! {
            <div class="account-forms">
                <AmountForm
                    key="recharge"
                    field="balance"
                    label="Add to the balance"
                    currency=currency.clone()
                    button="Recharge"
                    done="Recharged."
                    zero_ok=false
                    answer=recharge.value().into()
                    pending=recharge.pending().into()
                    send=send_recharge
                />
                <AmountForm
                    key="credit-limit"
                    field="credit_limit"
                    label="Credit limit"
                    currency=currency.clone()
                    button="Set the limit"
                    done="The credit limit was set."
                    zero_ok=true
                    answer=limit.value().into()
                    pending=limit.pending().into()
                    send=send_limit
                />
            </div>
        }
        .into_any()
    });
    let alert_section = current.is_some().then(|| {
        let account = account.clone();
        let currency = currency.clone();
        view! { <AlertSection alerts=alerts threshold=threshold account=account currency=currency /> }
    });
    let note = (!may_change && !own).then(|| {
        view! { <p class="hint" data-testid="operator-only">"The operator (a system administrator) recharges the tenant's account and sets its credit limit."</p> }
    });
    view! {
        <section class="card account" data-testid="account">
            <h2 data-testid="account-title">{title}</h2>
            {figures}
            {forms}
            {note}
            {alert_section}
        </section>
        {(!own).then(|| view! {
            <div class="table-wrap accounts">
                <table class="list" data-testid="accounts">
                    <thead>
                        <tr>
                            <th>"Account"</th>
                            <th class="num">"Balance"</th>
                            <th class="num">"Credit limit"</th>
                            <th class="num">"Held"</th>
                            <th class="num">"Available"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        })}
        {more}
    }
    .into_any()
}

/// One amount and its button: checked in the browser first, the server's
/// refusals shown at the field (or above the button when no field's).
#[component]
fn AmountForm(
    key: &'static str,
    field: &'static str,
    label: &'static str,
    /// The account's currency, next to the amount.
    currency: String,
    button: &'static str,
    done: &'static str,
    zero_ok: bool,
    /// A blank amount is sent too (it removes a threshold).
    #[prop(optional)]
    blank_ok: bool,
    answer: Signal<Option<Result<(), ServerFnError>>>,
    pending: Signal<bool>,
    send: Callback<String>,
) -> impl IntoView {
    let value = RwSignal::new(String::new());
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors = form_errors(checked, answer);
    let general = general_error(errors, answer, Arc::from([field]));
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = value.get_untracked();
        let problems = if blank_ok && text.trim().is_empty() {
            Vec::new()
        } else {
            check_amount(field, &text, zero_ok)
        };
        checked.set(problems.clone());
        if problems.is_empty() {
            send.run(text.trim().to_string());
        }
    };
    view! {
        <form class="amount-form" novalidate on:submit=on_submit data-testid=format!("{key}-form")>
            <TextField form=key name=field label=label value=value errors=errors mode="decimal" />
            <span class="unit">{currency}</span>
            <div class="buttons">
                <button type="submit" data-testid=format!("save-{key}") disabled=move || pending.get()>
                    {button}
                </button>
                {move || general.get().map(|text| view! { <p class="error" role="alert" data-testid=format!("{key}-error")>{text}</p> })}
                {move || matches!(answer.get(), Some(Ok(()))).then(|| view! { <p class="notice" role="status" data-testid=format!("{key}-done")>{done}</p> })}
            </div>
        </form>
    }
}

/// The chosen account's low-balance alert: its threshold, the form that
/// sets it (for whoever sets the credit limit), and its latest alerts.
#[component]
fn AlertSection(
    alerts: Resource<Result<Option<AlertState>, ServerFnError>>,
    threshold: ServerAction<SetAccountThreshold>,
    /// The user's id; `None` for the tenant's own account.
    account: Option<String>,
    currency: String,
) -> impl IntoView {
    let tenant = use_tenant();
    let send = {
        let account = account.clone();
        Callback::new(move |amount: String| {
            threshold.dispatch(SetAccountThreshold {
                tenant: tenant.get_untracked(),
                account: account.clone(),
                threshold: amount,
            });
        })
    };
    view! {
        <div class="account-alerts" data-testid="account-alerts">
            <h3>"Low-balance alert"</h3>
            <Transition fallback=|| ()>
                {move || {
                    let currency = currency.clone();
                    Suspend::new(async move {
                        let Ok(Some(state)) = alerts.await else {
                            return ().into_any();
                        };
                        let money = |v: &str| format!("{v} {currency}");
                        let status = match (&state.threshold, state.below) {
                            (None, _) => "No alert is set for this account.".to_string(),
                            (Some(t), true) => format!("Alert below {}: the available funds are below it now.", money(t)),
                            (Some(t), false) => format!("Alert below {}.", money(t)),
                        };
                        let form = state.may_set.then(|| {
                            view! {
                                <AmountForm
                                    key="threshold"
                                    field="threshold"
                                    label="Alert below (blank: none)"
                                    currency=currency.clone()
                                    button="Set the alert"
                                    done="The alert was set."
                                    zero_ok=true
                                    blank_ok=true
                                    answer=threshold.value().into()
                                    pending=threshold.pending().into()
                                    send=send
                                />
                            }
                        });
                        let rows = state
                            .items
                            .iter()
                            .map(|a| {
                                view! {
                                    <tr data-testid="alert-row">
                                        <td data-field="created_at">{a.created_at.trim_end_matches('Z').replacen('T', " ", 1)}</td>
                                        <td class="num" data-field="available">{money(&a.available)}</td>
                                        <td class="num" data-field="threshold">{money(&a.threshold)}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        let table = if state.items.is_empty() {
                            view! { <p class="hint" data-testid="no-alerts">"No alerts yet."</p> }.into_any()
                        } else {
                            let more = (state.count > state.items.len() as i64).then(|| {
                                view! { <p class="hint">{format!("The latest {} of {} alerts.", state.items.len(), state.count)}</p> }
                            });
                            view! {
                                <div class="table-wrap">
                                    <table class="list" data-testid="alerts">
                                        <thead>
                                            <tr>
                                                <th>"When (UTC)"</th>
                                                <th class="num">"Available"</th>
                                                <th class="num">"Threshold"</th>
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                {more}
                            }
                            .into_any()
                        };
                        view! {
                            <p data-testid="threshold-state" class:warning=state.below>{status}</p>
                            {form}
                            {table}
                        }
                        .into_any()
                    })
                }}
            </Transition>
        </div>
    }
}

/// The ledger's filters: kind and days, checked in the browser (and again
/// on the server), applied without a reload.
#[component]
fn LedgerFilters() -> impl IntoView {
    let query = use_query_map();
    let current = args_of(&query.get_untracked());
    let kind = filter_value(&current.kind);
    let from = filter_value(&current.from);
    let to = filter_value(&current.to);
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors: Signal<Vec<FieldError>> = checked.into();
    let apply = Callback::new(move |()| {
        let args = LedgerArgs {
            kind: filter_text(kind),
            from: filter_text(from),
            to: filter_text(to),
            ..LedgerArgs::default()
        };
        let problems = args.check();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(vec![
            ("kind", args.kind),
            ("from", args.from),
            ("to", args.to),
        ])
    });
    view! {
        <FilterForm
            path=Ledger::PATH
            testid="ledger-filters"
            button="apply-ledger-filters"
            keep=&["tenant", "account"]
            checked=checked
            apply=apply
        >
            <SelectField form="ledger" name="kind" label="Kind" value=kind errors=errors options=filter_choices(&KINDS, "Any") />
            <TextField form="ledger" name="from" label="From (day)" value=from errors=errors placeholder="2026-01-01" />
            <TextField form="ledger" name="to" label="To (day, included)" value=to errors=errors placeholder="2026-01-31" />
        </FilterForm>
    }
}
