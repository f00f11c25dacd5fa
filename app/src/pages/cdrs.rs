//! `/cdrs`: the tenant's calls (a standard user's own, without the
//! re-rating), a read-only page of the
//! [list-page skeleton](crate::components::list_page) with its own filters
//! (days, number, rating status, direction), the CSV export of what they
//! match, and the re-rating of those calls; `/cdrs/{id}`: one call with how
//! its cost was reached.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::params::ParamsMap;
use model::FieldError;

use crate::components::error_text;
use crate::components::form::{SelectField, TextField};
use crate::components::layout::use_current_user;
use crate::components::list_page::{
    choice_label, filter_choices, filter_text, filter_value, query_arg, Column, Confirm,
    FilterForm, ListPage, ListResource, Rows,
};
use crate::components::tenant::use_tenant;
use crate::functions::cdrs::{
    get_cdr_detail, list_cdrs, CdrListArgs, CdrPage, CdrRow, RerateCdrs, DIRECTIONS, STATUSES,
};

/// The calls, as the list page lists them.
pub struct Cdrs;

/// The list's parameters of the page's URL.
fn args_of(query: &ParamsMap) -> CdrListArgs {
    CdrListArgs {
        from: query_arg(query, "from"),
        to: query_arg(query, "to"),
        search: query_arg(query, "search"),
        status: query_arg(query, "status"),
        direction: query_arg(query, "direction"),
        orderby: query_arg(query, "orderby"),
        skip: query_arg(query, "skip"),
        top: query_arg(query, "top"),
    }
}

impl ListResource for Cdrs {
    const PATH: &'static str = "/cdrs";
    const KEY: &'static str = "cdr";
    const NOUN: &'static str = "call";
    const NOUNS: &'static str = "calls";

    type Args = CdrListArgs;
    type List = CdrPage;
    type Row = (CdrRow, String);

    fn args(query: &ParamsMap) -> CdrListArgs {
        args_of(query)
    }

    fn list(
        tenant: Option<String>,
        args: CdrListArgs,
    ) -> impl Future<Output = Result<Option<CdrPage>, ServerFnError>> + Send + 'static {
        list_cdrs(tenant, args)
    }

    fn rows(page: CdrPage) -> Rows<(CdrRow, String)> {
        let currency = page.currency;
        let items = page.items.into_iter().map(|row| (row, currency.clone()));
        Rows::paged(items.collect(), page.count, page.skip, page.top)
    }

    fn mark((row, _): &(CdrRow, String)) -> (&'static str, String) {
        ("data-call-id", row.call_id.clone())
    }
}

/// A direction as people read it.
fn direction_label(wire: &str) -> String {
    choice_label(&DIRECTIONS, wire)
}

/// An RFC 3339 time as the table shows it: `2026-01-05 10:00:00`.
fn short_time(text: &str) -> String {
    text.trim_end_matches('Z').replacen('T', " ", 1)
}

/// The link to a page of the portal with the chosen tenant kept.
fn with_tenant(
    path: &str,
    tenant: Option<String>,
    mut pairs: Vec<(&'static str, String)>,
) -> String {
    let mut q = ParamsMap::new();
    if let Some(t) = tenant {
        q.insert("tenant", t);
    }
    for (k, v) in pairs.drain(..) {
        q.insert(k, v);
    }
    format!("{path}{}", q.to_query_string())
}

/// The calls page.
#[component]
pub fn CdrsPage() -> impl IntoView {
    let tenant = use_tenant();
    let query = use_query_map();
    let rerate = ServerAction::<RerateCdrs>::new();
    let confirming = RwSignal::new(false);
    let reload = Signal::derive(move || rerate.version().get());

    let export_href = move || {
        with_tenant(
            "/portal/export/cdrs.csv",
            tenant.get(),
            args_of(&query.read()).filter_pairs(),
        )
    };
    let user = use_current_user();
    let rerating = move || {
        if confirming.get() {
            view! {
                <Confirm
                    question="Re-rate the calls shown by these filters?"
                    verb="Re-rate"
                    testid="confirm-rerate"
                    pending=rerate.pending()
                    on_confirm=Callback::new(move |()| {
                        rerate.dispatch(RerateCdrs {
                            tenant: tenant.get_untracked(),
                            args: args_of(&query.get_untracked()),
                        });
                    })
                    on_keep=Callback::new(move |()| confirming.set(false))
                />
            }
            .into_any()
        } else {
            view! {
                <button
                    type="button"
                    data-testid="rerate"
                    disabled=move || rerate.pending().get()
                    on:click=move |_| {
                        rerate.value().set(None);
                        confirming.set(true);
                    }
                >
                    {move || if rerate.pending().get() { "Re-rating…" } else { "Re-rate…" }}
                </button>
            }
            .into_any()
        }
    };
    // Anyone exports the calls the page shows; the tenant's administrators
    // also re-rate them.
    let actions = move || {
        view! {
            <a class="button secondary" href=export_href download="cdrs.csv" rel="external" data-testid="export-cdrs">
                "Export CSV"
            </a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let me = user.signed_in().await?;
                    me.manages_tenant.then(|| rerating.into_view())
                })}
            </Suspense>
        }
    };
    let below = move || {
        rerate.value().get().map(|outcome| match outcome {
            Ok(r) => view! {
                <div class="notice rerated" role="status" data-testid="rerated">
                    <strong>"Re-rated."</strong>
                    <dl class="counts">
                        <div><dt>"Matched"</dt><dd data-testid="rerate-matched">{r.matched}</dd></div>
                        <div><dt>"Re-rated"</dt><dd data-testid="rerate-rerated">{r.rerated}</dd></div>
                        <div><dt>"Unchanged"</dt><dd data-testid="rerate-unchanged">{r.unchanged}</dd></div>
                        <div><dt>"Unrated"</dt><dd data-testid="rerate-unrated">{r.unrated}</dd></div>
                        <div>
                            <dt>"Total change"</dt>
                            <dd data-testid="rerate-delta">{format!("{} {}", r.delta, r.currency)}</dd>
                        </div>
                    </dl>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="error" role="alert" data-testid="rerate-error">{error_text(&e)}</p> }
                .into_any(),
        })
    };

    let columns = vec![
        Column::new(
            "started_at",
            "Started (UTC)",
            |(r, _): &(CdrRow, String)| short_time(&r.started_at),
        )
        .sortable(),
        Column::new("call_id", "Call", move |(r, _): &(CdrRow, String)| {
            let href = with_tenant(
                &format!("/cdrs/{}", r.id),
                tenant.get_untracked(),
                Vec::new(),
            );
            view! { <a href=href data-testid="cdr-link">{r.call_id.clone()}</a> }
        }),
        Column::new("caller", "Caller", |(r, _): &(CdrRow, String)| {
            r.caller.clone()
        })
        .sortable(),
        Column::new("callee", "Callee", |(r, _): &(CdrRow, String)| {
            r.callee.clone()
        })
        .sortable(),
        Column::new("direction", "Direction", |(r, _): &(CdrRow, String)| {
            direction_label(&r.direction)
        }),
        Column::new("duration", "Seconds", |(r, _): &(CdrRow, String)| {
            r.duration.to_string()
        })
        .numeric()
        .sortable(),
        Column::new("rating_status", "Rating", |(r, _): &(CdrRow, String)| {
            let class = format!("badge status-{}", r.rating_status.to_lowercase());
            let title = r.unrated_reason.clone().unwrap_or_default();
            view! { <span class=class title=title>{r.rating_status.clone()}</span> }
        }),
        Column::new(
            "cost",
            "Cost",
            |(r, currency): &(CdrRow, String)| match &r.cost {
                Some(cost) => format!("{cost} {currency}"),
                None => "—".to_string(),
            },
        )
        .numeric()
        .sortable(),
    ];
    view! {
        <ListPage
            resource=Cdrs
            title="Calls (CDRs)"
            columns=columns
            filters=move || view! { <CdrFilters /> }
            actions=actions
            below=below
            reload=reload
            empty="No calls yet: the PBX posts them to /api/cdrs."
        />
    }
}

/// The filters: a GET form before hydration; after, checked in the
/// browser (the server checks the same) and applied without a reload.
#[component]
fn CdrFilters() -> impl IntoView {
    let query = use_query_map();
    let current = args_of(&query.get_untracked());
    let from = filter_value(&current.from);
    let to = filter_value(&current.to);
    let search = filter_value(&current.search);
    let status = filter_value(&current.status);
    let direction = filter_value(&current.direction);
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors: Signal<Vec<FieldError>> = checked.into();
    let apply = Callback::new(move |()| {
        let args = CdrListArgs {
            from: filter_text(from),
            to: filter_text(to),
            search: filter_text(search),
            status: filter_text(status),
            direction: filter_text(direction),
            ..CdrListArgs::default()
        };
        let problems = args.check();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(vec![
            ("from", args.from),
            ("to", args.to),
            ("search", args.search),
            ("status", args.status),
            ("direction", args.direction),
        ])
    });
    view! {
        <FilterForm path=Cdrs::PATH testid="cdr-filters" button="apply-filters" keep=&["tenant"] checked=checked apply=apply>
            <TextField form="cdr" name="from" label="From (day)" value=from errors=errors placeholder="2026-01-01" />
            <TextField form="cdr" name="to" label="To (day, included)" value=to errors=errors placeholder="2026-01-31" />
            <TextField form="cdr" name="search" label="Number (caller or callee)" value=search errors=errors />
            <SelectField form="cdr" name="status" label="Rating" value=status errors=errors options=filter_choices(&STATUSES, "Any") />
            <SelectField form="cdr" name="direction" label="Direction" value=direction errors=errors options=filter_choices(&DIRECTIONS, "Any") />
        </FilterForm>
    }
}

/// `/cdrs/{id}`: one call and its rating.
#[component]
pub fn CdrDetailPage() -> impl IntoView {
    let tenant = use_tenant();
    let params = use_params_map();
    let detail = Resource::new(
        move || (tenant.get(), params.read().get("id").unwrap_or_default()),
        |(tenant, id)| get_cdr_detail(tenant, id),
    );
    let back = move || with_tenant("/cdrs", tenant.get(), Vec::new());
    view! {
        <p><a href=back data-testid="back-to-cdrs">"← All calls"</a></p>
        <h1>"Call"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading the call…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <CdrDetailView detail=d /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert" data-testid="cdr-error">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CdrDetailView(detail: crate::functions::cdrs::CdrDetail) -> impl IntoView {
    let d = detail;
    let or_dash = |v: Option<String>| v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into());
    let cost = match &d.cost {
        Some(c) => format!("{c} {}", d.currency),
        None => "—".into(),
    };
    let call = vec![
        ("Call id", d.call_id.clone()),
        ("Caller", d.caller.clone()),
        ("Callee", d.callee.clone()),
        ("Destination", or_dash(Some(d.destination.clone()))),
        ("Direction", direction_label(&d.direction)),
        ("Started (UTC)", short_time(&d.started_at)),
        (
            "Answered (UTC)",
            or_dash(d.answered_at.as_deref().map(short_time)),
        ),
        (
            "Ended (UTC)",
            or_dash(d.ended_at.as_deref().map(short_time)),
        ),
        ("Answered seconds", d.duration.to_string()),
        ("Trunk", or_dash(Some(d.trunk.clone()))),
        ("Billed account", or_dash(d.billed_account.clone())),
        ("Rating", d.rating_status.clone()),
        ("Cost", cost),
    ];
    let lines = |rows: Vec<(String, String)>| {
        rows.into_iter()
            .map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> })
            .collect_view()
    };
    let call_lines = lines(call.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    let has_rating = !d.rating.is_empty();
    view! {
        <div class="cards detail">
            <section class="card">
                <h2>"The call"</h2>
                <dl class="facts" data-testid="cdr-facts">{call_lines}</dl>
                {d.unrated_reason.clone().map(|r| view! { <p class="hint" data-testid="unrated-reason">{r}</p> })}
            </section>
            <section class="card">
                <h2>"How the cost was reached"</h2>
                {if has_rating {
                    view! { <dl class="facts" data-testid="cdr-rating">{lines(d.rating.clone())}</dl> }.into_any()
                } else {
                    view! { <p class="hint" data-testid="no-rating">"The call was not charged at a rate."</p> }.into_any()
                }}
                {d.rating_note.clone().map(|n| view! { <p class="hint" data-testid="rating-note">{n}</p> })}
            </section>
        </div>
    }
}
