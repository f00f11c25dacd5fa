//! `/statements`: the statements of the tenant's accounts (a standard
//! user's own), newest first, filtered by account and status: a read-only
//! page of the [list-page skeleton](crate::components::list_page).
//! `/statements/{id}`: one statement as it prints, on an A4 page with the
//! tenant's name, the period, the number and the totals (the print
//! stylesheet leaves the navigation and the buttons out), with its CSV.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::params::ParamsMap;
use model::FieldError;

use crate::components::error_text;
use crate::components::form::SelectField;
use crate::components::list_page::{
    choice_label, filter_choices, filter_text, filter_value, query_arg, Column, FilterForm,
    ListPage, ListResource, Rows,
};
use crate::components::tenant::use_tenant;
use crate::functions::balances::{list_accounts, Accounts};
use crate::functions::statements::{
    get_statement, list_statements, LineView, StatementArgs, StatementPage, StatementRow,
    StatementView, STATUSES, TENANT_ACCOUNT,
};

/// The statements, as the list page lists them.
pub struct Statements;

fn args_of(query: &ParamsMap) -> StatementArgs {
    StatementArgs {
        account: query_arg(query, "account"),
        status: query_arg(query, "status"),
        skip: query_arg(query, "skip"),
        top: query_arg(query, "top"),
    }
}

impl ListResource for Statements {
    const PATH: &'static str = "/statements";
    const KEY: &'static str = "statement";
    const NOUN: &'static str = "statement";
    const NOUNS: &'static str = "statements";

    type Args = StatementArgs;
    type List = StatementPage;
    type Row = (StatementRow, String);

    fn args(query: &ParamsMap) -> StatementArgs {
        args_of(query)
    }

    fn list(
        tenant: Option<String>,
        args: StatementArgs,
    ) -> impl Future<Output = Result<Option<StatementPage>, ServerFnError>> + Send + 'static {
        list_statements(tenant, args)
    }

    fn rows(page: StatementPage) -> Rows<(StatementRow, String)> {
        let currency = page.currency;
        let items = page.items.into_iter().map(|row| (row, currency.clone()));
        Rows::paged(items.collect(), page.count, page.skip, page.top)
    }

    fn mark((row, _): &(StatementRow, String)) -> (&'static str, String) {
        ("data-number", row.number.to_string())
    }
}

/// The link to a page of the portal with the chosen tenant kept.
fn with_tenant(path: &str, tenant: Option<String>) -> String {
    let mut q = ParamsMap::new();
    if let Some(t) = tenant {
        q.insert("tenant", t);
    }
    format!("{path}{}", q.to_query_string())
}

/// The statements page.
#[component]
pub fn StatementsPage() -> impl IntoView {
    let tenant = use_tenant();
    let accounts = Resource::new(move || tenant.get(), list_accounts);
    let columns = vec![
        Column::new("number", "No.", move |(r, _): &(StatementRow, String)| {
            let href = with_tenant(&format!("/statements/{}", r.id), tenant.get_untracked());
            view! { <a href=href data-testid="statement-link">{r.number}</a> }
        }),
        Column::new("account", "Account", |(r, _): &(StatementRow, String)| {
            view! {
                {r.account.clone()}
                {r.tenant_account.then(|| view! { " " <span class="badge">"tenant"</span> })}
            }
        }),
        Column::new("period", "Period", |(r, _): &(StatementRow, String)| {
            format!("{} – {}", r.first_day, r.last_day)
        }),
        Column::new("status", "Status", |(r, _): &(StatementRow, String)| {
            let class = format!("badge statement-{}", r.status.to_lowercase());
            view! { <span class=class>{choice_label(&STATUSES, &r.status)}</span> }
        }),
        Column::new("opening", "Opening", |(r, c): &(StatementRow, String)| {
            format!("{} {c}", r.opening)
        })
        .numeric(),
        Column::new("charges", "Charges", |(r, c): &(StatementRow, String)| {
            format!("{} {c}", r.charges)
        })
        .numeric(),
        Column::new("tax", "Tax", |(r, c): &(StatementRow, String)| {
            format!("{} {c}", r.tax)
        })
        .numeric(),
        Column::new("closing", "Closing", |(r, c): &(StatementRow, String)| {
            format!("{} {c}", r.closing)
        })
        .numeric(),
    ];
    view! {
        <ListPage
            resource=Statements
            title="Statements"
            columns=columns
            filters=move || view! { <StatementFilters accounts=accounts /> }
            empty="No statements yet: an account has its first once money moves on it."
        />
    }
}

/// The filters: the account (for the tenant's administrators) and the
/// status, checked in the browser (and again on the server).
#[component]
fn StatementFilters(accounts: Resource<Result<Option<Accounts>, ServerFnError>>) -> impl IntoView {
    let query = use_query_map();
    let current = args_of(&query.get_untracked());
    let account = filter_value(&current.account);
    let status = filter_value(&current.status);
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors: Signal<Vec<FieldError>> = checked.into();
    let apply = Callback::new(move |()| {
        let args = StatementArgs {
            account: filter_text(account),
            status: filter_text(status),
            ..StatementArgs::default()
        };
        let problems = args.check();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(vec![("account", args.account), ("status", args.status)])
    });
    let account_field = move || {
        Suspend::new(async move {
            let all = accounts.await.ok().flatten()?;
            if all.own {
                return None;
            }
            let options: Vec<(String, String)> = [
                (String::new(), "Every account".to_string()),
                (
                    TENANT_ACCOUNT.to_string(),
                    format!("{} (the tenant's)", all.tenant.name),
                ),
            ]
            .into_iter()
            .chain(
                all.users
                    .into_iter()
                    .filter_map(|u| u.user.map(|id| (id, u.name))),
            )
            .collect();
            Some(view! {
                <SelectField form="statement" name="account" label="Account" value=account errors=errors options=options />
            })
        })
    };
    view! {
        <FilterForm
            path=Statements::PATH
            testid="statement-filters"
            button="apply-statement-filters"
            keep=&["tenant"]
            checked=checked
            apply=apply
        >
            <Suspense fallback=|| ()>{account_field}</Suspense>
            <SelectField form="statement" name="status" label="Status" value=status errors=errors options=filter_choices(&STATUSES, "Any") />
        </FilterForm>
    }
}

/// `/statements/{id}`: one statement, printable.
#[component]
pub fn StatementPage() -> impl IntoView {
    let tenant = use_tenant();
    let params = use_params_map();
    let statement = Resource::new(
        move || (tenant.get(), params.read().get("id").unwrap_or_default()),
        |(tenant, id)| get_statement(tenant, id),
    );
    let back = move || with_tenant("/statements", tenant.get());
    view! {
        <p class="no-print"><a href=back data-testid="back-to-statements">"← All statements"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading the statement…"</p> }>
            {move || Suspend::new(async move {
                match statement.await {
                    Ok(s) => view! { <StatementSheet s=s /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert" data-testid="statement-error">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An amount with its currency.
fn amount(value: &str, currency: &str) -> String {
    format!("{value} {currency}")
}

/// The sheet itself: what prints.
#[component]
fn StatementSheet(s: StatementView) -> impl IntoView {
    let tenant = use_tenant();
    let csv = with_tenant(
        &format!("/portal/export/statements/{}.csv", s.id),
        tenant.get_untracked(),
    );
    let c = s.currency.clone();
    let status = if s.status == "OPEN" {
        "Open: the period has not ended, the figures are those so far".to_string()
    } else {
        format!("Closed {} (UTC)", s.closed_at.clone().unwrap_or_default())
    };
    let total_row = |label: &'static str, key: &'static str, value: &str, strong: bool| {
        let value = amount(value, &c);
        view! {
            <tr class:total=strong>
                <th scope="row">{label}</th>
                <td class="num" data-testid=format!("total-{key}")>{value}</td>
            </tr>
        }
    };
    let lines_of = |section: &str| -> Vec<LineView> {
        s.lines
            .iter()
            .filter(|l| l.section == section)
            .cloned()
            .collect()
    };
    let tax = s.tax_label.clone().map(|label| {
        let (tax, total) = (amount(&s.tax, &c), amount(&s.total, &c));
        let total_label = if s.tax_included {
            "Charges, tax included"
        } else {
            "Charges with tax"
        };
        view! {
            <tr>
                <th scope="row" data-testid="tax-label">{label}</th>
                <td class="num" data-testid="total-tax">{tax}</td>
            </tr>
            <tr class="total">
                <th scope="row">{total_label}</th>
                <td class="num" data-testid="total-total">{total}</td>
            </tr>
        }
    });
    view! {
        <article class="card statement" data-testid="statement" data-status=s.status.clone()>
            <header class="statement-head">
                <div>
                    <p class="statement-tenant" data-testid="statement-tenant">{s.tenant_name.clone()}</p>
                    <h1>"Statement " <span data-testid="statement-number">{format!("No. {}", s.number)}</span></h1>
                </div>
                <dl class="facts statement-facts">
                    <div><dt>"Account"</dt><dd data-testid="statement-account">{s.account.clone()}</dd></div>
                    <div><dt>"Period"</dt><dd data-testid="statement-period">{format!("{} – {}", s.first_day, s.last_day)}</dd></div>
                    <div><dt>"Status"</dt><dd data-testid="statement-status">{status}</dd></div>
                    <div><dt>"Currency"</dt><dd>{s.currency.clone()}</dd></div>
                </dl>
            </header>
            <div class="no-print statement-actions">
                <button type="button" data-testid="print" on:click=move |_| {
                    let _ = window().print();
                }>"Print"</button>
                <a class="button secondary" href=csv download="statement.csv" rel="external" data-testid="statement-csv">"Download CSV"</a>
            </div>
            <section class="statement-totals">
                <h2>"Summary"</h2>
                <table class="sheet" data-testid="statement-totals">
                    <tbody>
                        {total_row("Opening balance", "opening", &s.opening, false)}
                        {total_row("Recharges", "recharges", &s.recharges, false)}
                        {total_row("Call charges", "call-charges", &s.call_charges, false)}
                        {total_row("Adjustments", "adjustments", &s.adjustments, false)}
                        {total_row("Held by calls in progress", "held", &s.held, false)}
                        {total_row("Closing balance", "closing", &s.closing, true)}
                    </tbody>
                </table>
                <table class="sheet" data-testid="statement-tax">
                    <tbody>
                        <tr>
                            <th scope="row">{format!("Net charges ({} calls)", s.calls)}</th>
                            <td class="num" data-testid="total-charges">{amount(&s.charges, &c)}</td>
                        </tr>
                        {tax}
                    </tbody>
                </table>
            </section>
            <LineTable title="Recharges" testid="recharges" lines=lines_of("RECHARGE") currency=c.clone() calls=false />
            <LineTable title="Calls by type" testid="call-types" lines=lines_of("CALL_TYPE") currency=c.clone() calls=true />
            <LineTable title="Calls by destination" testid="destinations" lines=lines_of("DESTINATION") currency=c.clone() calls=true />
            <LineTable title="Adjustments" testid="adjustments" lines=lines_of("ADJUSTMENT") currency=c.clone() calls=false />
            <LineTable title="Held by calls in progress" testid="held" lines=lines_of("HELD") currency=c.clone() calls=false />
            <p class="hint statement-note">
                "Amounts are the changes of the balance: recharges and corrections in the account's favour are positive, charges negative. "
                "The closing balance is the account's ledger balance at the end of the period. The tax is shown on the net charges; it is not taken from the balance."
            </p>
        </article>
    }
}

/// One section of a statement's lines; nothing when it has none.
#[component]
fn LineTable(
    title: &'static str,
    testid: &'static str,
    lines: Vec<LineView>,
    currency: String,
    /// Whether the lines count calls and seconds.
    calls: bool,
) -> impl IntoView {
    (!lines.is_empty()).then(|| {
        let rows = lines
            .into_iter()
            .map(|l| {
                let what = if calls && !l.item.is_empty() && l.section == "DESTINATION" {
                    format!("{} {}", l.item, l.description)
                } else {
                    l.description.clone()
                };
                let value = match &l.credit_limit {
                    Some(limit) => format!("limit {limit} {currency}"),
                    None => format!("{} {currency}", l.amount),
                };
                view! {
                    <tr data-item=l.item.clone()>
                        <td data-field="description">{what}</td>
                        {(!calls).then(|| view! { <td class="when">{l.at.clone().unwrap_or_default()}</td> })}
                        {calls.then(|| view! {
                            <td class="num">{l.calls}</td>
                            <td class="num seconds">{l.seconds}</td>
                        })}
                        <td class="num" data-field="amount">{value}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="statement-lines">
                <h2>{title}</h2>
                <div class="table-wrap">
                    <table class="list sheet-lines" data-testid=format!("lines-{testid}")>
                        <thead>
                            <tr>
                                <th>{if calls { "What" } else { "Line" }}</th>
                                {(!calls).then(|| view! { <th>"When (UTC)"</th> })}
                                {calls.then(|| view! { <th class="num">"Calls"</th><th class="num seconds">"Seconds"</th> })}
                                <th class="num">"Amount"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </section>
        }
    })
}
