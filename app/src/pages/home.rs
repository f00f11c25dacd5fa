//! `/`: a short overview for the role, each figure leading to its page:
//! the account's balance and available funds, today's calls and their
//! cost, the calls in progress, the last deck import (administrators); the
//! spend per day of the last 30 days and the top destinations, as charts
//! drawn on the server, each leading to the Reports page; and short links
//! to the pages the role may use. A system administrator picks the tenant
//! first; a standard user sees only its own figures.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::user::Role;

use crate::components::chart::ChartFigure;
use crate::components::error_text;
use crate::components::layout::use_current_user;
use crate::components::tenant::{tenant_choices_resource, use_tenant, ChooseTenant, TenantPicker};
use crate::functions::auth::SignedIn;
use crate::functions::overview::{amounts_text, get_overview, OverviewView};
use crate::functions::reports::{get_report, ReportArgs, ReportPart, ReportView};

/// A page of the portal with the chosen tenant kept, and more parameters.
fn href(path: &str, tenant: &Option<String>, pairs: &[(&'static str, &str)]) -> String {
    let mut q = ParamsMap::new();
    if let Some(t) = tenant {
        q.insert("tenant", t.clone());
    }
    for (k, v) in pairs {
        q.insert(*k, (*v).to_string());
    }
    format!("{path}{}", q.to_query_string())
}

/// One figure of the overview: a card that leads to its page when the role
/// has one.
#[component]
fn Stat(
    key: &'static str,
    title: String,
    figure: String,
    sub: String,
    link: Option<String>,
) -> impl IntoView {
    let body = view! {
        <h2>{title}</h2>
        <p class="figure" data-testid=format!("{key}-figure")>{figure}</p>
        <p class="sub" data-testid=format!("{key}-sub")>{sub}</p>
    };
    match link {
        Some(link) => view! {
            <a class="card stat link-card" href=link data-testid=key>{body}</a>
        }
        .into_any(),
        None => view! { <div class="card stat" data-testid=key>{body}</div> }.into_any(),
    }
}

/// The overview's figures.
fn figures(o: OverviewView, me: &SignedIn, tenant: &Option<String>) -> impl IntoView {
    let manages = me.manages_tenant;
    let balance_title = if o.tenant_account {
        "Balance".to_string()
    } else {
        "My balance".to_string()
    };
    let balance = view! {
        <Stat
            key="overview-balance"
            title=balance_title
            figure=o.balance.text()
            sub=format!("Available {} · held by live calls {}", o.available.text(), o.held.text())
            link=Some(href("/balances", tenant, &[]))
        />
    };
    let calls_word = if o.calls_today == 1 { "call" } else { "calls" };
    let today = view! {
        <Stat
            key="overview-today"
            title="Calls today (UTC)".to_string()
            figure=format!("{} {calls_word}", o.calls_today)
            sub=format!("Spent {}", amounts_text(&o.spend_today, "nothing"))
            link=Some(href("/cdrs", tenant, &[("from", &o.day), ("to", &o.day)]))
        />
    };
    let live_word = if o.live_calls == 1 { "call" } else { "calls" };
    let live_sub = if o.online || o.live_calls > 0 {
        format!("Holding {}", amounts_text(&o.live_held, "nothing"))
    } else {
        "Online charging is off".to_string()
    };
    let live = view! {
        <Stat
            key="overview-live"
            title="Live calls now".to_string()
            figure=format!("{} {live_word}", o.live_calls)
            sub=live_sub
            link=Some(href("/live-calls", tenant, &[]))
        />
    };
    let import = manages.then(|| {
        let (figure, sub) = match &o.last_import {
            Some(i) => (
                format!("{} rates", i.rates),
                format!(
                    "{} UTC{} · {} added, {} updated, {} removed",
                    i.at.trim_end_matches('Z').replacen('T', " ", 1),
                    i.tariff
                        .as_ref()
                        .map(|t| format!(" · {t}"))
                        .unwrap_or_default(),
                    i.added,
                    i.updated,
                    i.removed
                ),
            ),
            None => (
                "None yet".to_string(),
                "Upload a deck on the call rates page".to_string(),
            ),
        };
        view! {
            <Stat
                key="overview-import"
                title="Last deck import".to_string()
                figure=figure
                sub=sub
                link=Some(href("/rates", tenant, &[]))
            />
        }
    });
    view! {
        <section class="overview" data-testid="overview" aria-label="Overview">
            {balance}
            {today}
            {live}
            {import}
        </section>
    }
}

/// Short links to the pages the role may use.
fn links(me: &SignedIn, tenant: &Option<String>) -> impl IntoView {
    let mut cards: Vec<(&str, &str, &str)> = if me.manages_tenant {
        vec![
            (
                "/rates",
                "Call rates",
                "Prices per destination prefix; deck upload.",
            ),
            (
                "/tariffs",
                "Tariffs",
                "Rate tables, their currency and fees.",
            ),
            (
                "/billing-plans",
                "Billing plans",
                "Which tariff rates a prefix.",
            ),
            (
                "/billing",
                "Billing settings",
                "Whether and when calls are charged.",
            ),
            (
                "/live-calls",
                "Live calls",
                "Calls in progress and what they hold.",
            ),
            ("/cdrs", "Calls", "Finished calls, their cost, CSV export."),
            (
                "/balances",
                "Balances",
                "Accounts, recharges and the ledger.",
            ),
            (
                "/reports",
                "Reports",
                "Spend by day, destination and hour; balance.",
            ),
            ("/users", "Users", "The tenant's people and their roles."),
        ]
    } else {
        vec![
            ("/balances", "My balance", "My account and its ledger."),
            ("/cdrs", "My calls", "My calls, their cost, CSV export."),
            ("/reports", "My spend", "What my calls cost, day by day."),
            ("/live-calls", "Live calls", "My calls in progress."),
            ("/prices", "Call prices", "What a call to a number costs."),
            ("/account", "My account", "Change my password."),
        ]
    };
    if me.role == Role::SystemAdmin {
        cards.push(("/tenants", "Tenants", "Every tenant of the system."));
    }
    let cards = cards
        .into_iter()
        .map(|(path, title, text)| {
            // The tenants page spans every tenant: no tenant in its link.
            let link = if path == "/tenants" {
                path.to_string()
            } else {
                href(path, tenant, &[])
            };
            view! {
                <a class="card link-card" href=link>
                    <h2>{title}</h2>
                    <p>{text}</p>
                </a>
            }
        })
        .collect_view();
    view! { <nav class="cards compact" aria-label="Pages">{cards}</nav> }
}

/// The last 30 days' spend per day and top destinations, each chart
/// leading to the Reports page.
fn spend_charts(report: ReportView, me: &SignedIn, tenant: &Option<String>) -> impl IntoView {
    let link = href("/reports", tenant, &[]);
    let more = if me.manages_tenant {
        "All reports →"
    } else {
        "All my spend →"
    };
    let charts = report
        .charts
        .into_iter()
        .map(|chart| view! { <ChartFigure chart=chart more=(link.clone(), more) /> })
        .collect_view();
    let title = if me.manages_tenant {
        "Spend in the last 30 days".to_string()
    } else {
        "My spend in the last 30 days".to_string()
    };
    let label = title.clone();
    view! {
        <section class="home-charts" data-testid="home-charts" aria-label=label>
            <h2 class="section-title">
                <a href=link data-testid="home-reports-link">{title}</a>
            </h2>
            <div class="charts">{charts}</div>
        </section>
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_current_user();
    let tenant = use_tenant();
    let tenants = tenant_choices_resource();
    let overview = Resource::new(move || tenant.get(), get_overview);
    let spend = Resource::new(
        move || tenant.get(),
        |tenant| get_report(tenant, ReportArgs::default(), ReportPart::Home),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = user.signed_in().await?;
                let system = me.role == Role::SystemAdmin;
                let tenants = tenants.await.unwrap_or_default();
                Some(view! {
                    <h1>"Welcome, " {me.username}</h1>
                    {system.then(|| view! { <TenantPicker tenants=tenants /> })}
                })
            })}
        </Suspense>
        <Transition fallback=|| view! { <p class="loading">"Loading the overview…"</p> }>
            {move || Suspend::new(async move {
                let Some(me) = user.signed_in().await else {
                    return ().into_any();
                };
                let tenant = tenant.get_untracked();
                let top = match overview.await {
                    Ok(Some(o)) => figures(o, &me, &tenant).into_any(),
                    Ok(None) => view! { <ChooseTenant /> }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert" data-testid="overview-error">{error_text(&e)}</p>
                    }
                    .into_any(),
                };
                let charts = match spend.await {
                    Ok(Some(report)) => spend_charts(report, &me, &tenant).into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert" data-testid="home-charts-error">{error_text(&e)}</p>
                    }
                    .into_any(),
                };
                view! {
                    {top}
                    {charts}
                    {links(&me, &tenant)}
                }
                .into_any()
            })}
        </Transition>
    }
}
