//! `/live-calls`: the calls in progress (online charging), a read-only page
//! of the [list-page skeleton](crate::components::list_page) that asks
//! again every few seconds, with what they hold in all above the table.
//!
//! The refresh is a timer of the browser only: it is set by an effect
//! (effects never run on the server) and cleared when the page goes away,
//! so that navigating elsewhere leaves nothing running.

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::components::list_page::{Column, ListPage, ListResource, Rows, Search, Window};
use crate::components::tenant::use_tenant;
use crate::functions::live::{
    duration_text, list_live_calls, LiveArgs, LivePage, LiveRow, PAGE_SIZE, REFRESH_MS,
};

/// The calls in progress, as the list page lists them.
pub struct LiveCalls;

fn arg(query: &ParamsMap, key: &str) -> Option<String> {
    query.get(key).filter(|s| !s.trim().is_empty())
}

impl ListResource for LiveCalls {
    const PATH: &'static str = "/live-calls";
    const KEY: &'static str = "live-call";
    const NOUN: &'static str = "call in progress";
    const NOUNS: &'static str = "calls in progress";

    type Args = LiveArgs;
    type List = LivePage;
    type Row = LiveRow;

    fn args(query: &ParamsMap) -> LiveArgs {
        LiveArgs {
            search: arg(query, "search"),
            orderby: arg(query, "orderby"),
            skip: arg(query, "skip"),
            top: arg(query, "top"),
        }
    }

    fn list(
        tenant: Option<String>,
        args: LiveArgs,
    ) -> impl Future<Output = Result<Option<LivePage>, ServerFnError>> + Send + 'static {
        list_live_calls(tenant, args)
    }

    fn rows(page: LivePage) -> Rows<LiveRow> {
        Rows {
            items: page.items,
            count: page.count,
            window: Window::Paged {
                skip: page.skip,
                top: page.top,
            },
        }
    }

    fn mark(row: &LiveRow) -> (&'static str, String) {
        ("data-call-id", row.call_id.clone())
    }

    fn summary(page: &LivePage) -> Option<AnyView> {
        Some(view! { <LiveSummary page=page.clone() /> }.into_any())
    }
}

/// An RFC 3339 time as the table shows it: `2026-01-05 10:00:00`.
fn short_time(text: &str) -> String {
    text.trim_end_matches('Z').replacen('T', " ", 1)
}

/// What the listed calls hold, or why there are none.
#[component]
fn LiveSummary(page: LivePage) -> impl IntoView {
    let tenant = use_tenant();
    let billing_href = move || {
        let mut q = ParamsMap::new();
        if let Some(t) = tenant.get() {
            q.insert("tenant", t);
        }
        format!("/billing{}", q.to_query_string())
    };
    let held = if page.held_totals.is_empty() {
        "nothing".to_string()
    } else {
        page.held_totals
            .iter()
            .map(|(currency, amount)| format!("{amount} {currency}"))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let note = if !page.online {
        Some(
            view! {
                <p class="hint" data-testid="not-online">
                    "Live calls appear only with online charging, and this tenant's calls are not charged online. "
                    <a href=billing_href data-testid="billing-link">"Billing settings"</a>
                </p>
            }
            .into_any(),
        )
    } else if page.own_only && page.tenant_pays {
        Some(
            view! {
                <p class="hint" data-testid="tenant-pays">
                    "The tenant's account pays for calls: its administrators see them here."
                </p>
            }
            .into_any(),
        )
    } else {
        None
    };
    view! {
        <section class="live-summary" data-testid="live-summary">
            <dl class="counts">
                <div>
                    <dt>"Calls in progress"</dt>
                    <dd data-testid="live-count">{page.count}</dd>
                </div>
                <div>
                    <dt>"Held in all"</dt>
                    <dd data-testid="live-held">{held}</dd>
                </div>
            </dl>
            {note}
            <p class="hint refresh">{format!("Looks again every {} seconds.", REFRESH_MS / 1000)}</p>
        </section>
    }
}

/// The account a call holds on, as the table names it.
fn account_label(r: &LiveRow) -> String {
    if r.account_user.is_none() {
        "Tenant account".to_string()
    } else {
        r.account.clone()
    }
}

/// The live calls page.
#[component]
pub fn LiveCallsPage() -> impl IntoView {
    // Counts the refreshes: the list asks again at each.
    let tick = RwSignal::new(0_usize);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|n| *n = n.wrapping_add(1)),
            Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let columns = vec![
        Column::new("call_id", "Call", |r: &LiveRow| r.call_id.clone()).sortable(),
        Column::new("caller", "Caller", |r: &LiveRow| r.caller.clone()).sortable(),
        Column::new("callee", "Callee", |r: &LiveRow| r.callee.clone()).sortable(),
        Column::new("started_at", "Started (UTC)", |r: &LiveRow| {
            short_time(&r.started_at)
        })
        .sortable(),
        Column::new("max_duration", "Granted", |r: &LiveRow| {
            duration_text(r.max_duration)
        })
        .numeric()
        .sortable(),
        Column::new("seconds_left", "Time left", |r: &LiveRow| {
            if r.seconds_left > 0 {
                duration_text(r.seconds_left)
            } else {
                format!("grant over; hold released {}", short_time(&r.expires_at))
            }
        })
        .numeric(),
        Column::new("held", "Held", |r: &LiveRow| {
            format!("{} {}", r.held, r.currency)
        })
        .numeric()
        .sortable(),
        Column::new("account", "Held on", account_label),
    ];
    view! {
        <ListPage
            resource=LiveCalls
            title="Live calls"
            columns=columns
            search=Search {
                placeholder: "Call id or number",
                label: "Search calls in progress",
                page_size: PAGE_SIZE,
            }
            reload=tick
            empty="No calls in progress now."
        />
    }
}
