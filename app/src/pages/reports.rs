//! `/reports`: the spend of a range of days (the last 30 unless the page
//! says): its figures (spend, answer rate, average call duration, balance)
//! and its charts (spend per day, top destinations by cost and by minutes,
//! calls per hour of the day, balance over time), each with its table. The
//! tenant's for its administrators (a system administrator picks the
//! tenant); a standard user's own calls and account ("My spend").
//!
//! The charts are drawn on the server ([`crate::charts`]); the page puts
//! their markup in place.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use model::user::Role;
use model::FieldError;

use crate::components::chart::{ChartFigure, FigureCards};
use crate::components::error_text;
use crate::components::form::TextField;
use crate::components::layout::use_current_user;
use crate::components::list_page::{filter_text, query_arg, FilterForm};
use crate::components::tenant::{tenant_choices_resource, use_tenant, ChooseTenant, TenantPicker};
use crate::functions::invalid_fields;
use crate::functions::reports::{get_report, ReportArgs, ReportPart, ReportView};

const PATH: &str = "/reports";

fn args_of(query: &ParamsMap) -> ReportArgs {
    ReportArgs {
        from: query_arg(query, "from"),
        to: query_arg(query, "to"),
    }
}

/// The title of the page for the role: one's own spend, or the tenant's.
pub fn reports_title(manages_tenant: bool) -> &'static str {
    if manages_tenant {
        "Reports"
    } else {
        "My spend"
    }
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let user = use_current_user();
    let tenant = use_tenant();
    let tenants = tenant_choices_resource();
    let query = use_query_map();
    let report = Resource::new(
        move || (tenant.get(), args_of(&query.read())),
        |(tenant, args)| get_report(tenant, args, ReportPart::Full),
    );
    view! {
        <Suspense fallback=|| view! { <h1>"Reports"</h1> }>
            {move || Suspend::new(async move {
                let me = user.signed_in().await?;
                let system = me.role == Role::SystemAdmin;
                let tenants = tenants.await.unwrap_or_default();
                Some(view! {
                    <h1>{reports_title(me.manages_tenant)}</h1>
                    {system.then(|| view! { <TenantPicker tenants=tenants /> })}
                })
            })}
        </Suspense>
        <Transition fallback=|| view! { <p class="loading">"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(Some(r)) => {
                        let days = (r.from.clone(), r.to.clone());
                        view! {
                            <ReportFilters days=Some(days) refused=Vec::new() />
                            <Report report=r />
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <ChooseTenant /> }.into_any(),
                    Err(e) => match invalid_fields(&e) {
                        // Days the browser did not check (a link, a page not
                        // yet hydrated): the problems at their fields.
                        Some(refused) => view! { <ReportFilters days=None refused=refused /> }.into_any(),
                        None => view! {
                            <p class="error" role="alert" data-testid="report-error">{error_text(&e)}</p>
                        }
                        .into_any(),
                    },
                }
            })}
        </Transition>
    }
}

/// The range's days: a GET form before hydration; after, checked in the
/// browser (the server checks the same) and applied without a reload.
/// `days` are the days the report shows (the defaults filled in);
/// `refused` what the server found wrong with the page's days.
#[component]
fn ReportFilters(days: Option<(String, String)>, refused: Vec<FieldError>) -> impl IntoView {
    let query = use_query_map();
    let current = args_of(&query.get_untracked());
    let (shown_from, shown_to) = days.unzip();
    let from = RwSignal::new(current.from.or(shown_from).unwrap_or_default());
    let to = RwSignal::new(current.to.or(shown_to).unwrap_or_default());
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let errors = Signal::derive(move || {
        let found = checked.get();
        if found.is_empty() {
            refused.clone()
        } else {
            found
        }
    });
    let apply = Callback::new(move |()| {
        let args = ReportArgs {
            from: filter_text(from),
            to: filter_text(to),
        };
        let problems = args.check();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(vec![("from", args.from), ("to", args.to)])
    });
    view! {
        <div class="toolbar">
            <FilterForm path=PATH testid="report-filters" button="apply-report" keep=&["tenant"] checked=checked apply=apply>
                <TextField form="report" name="from" label="From (day)" value=from errors=errors placeholder="2026-01-01" />
                <TextField form="report" name="to" label="To (day, included)" value=to errors=errors placeholder="2026-01-31" />
            </FilterForm>
        </div>
    }
}

/// A loaded report: what it covers, its figures, its charts.
#[component]
fn Report(report: ReportView) -> impl IntoView {
    let whose = if report.own {
        "your own calls and account"
    } else {
        "the tenant's calls and account"
    };
    let charts = report
        .charts
        .into_iter()
        .map(|chart| view! { <ChartFigure chart=chart /> })
        .collect_view();
    view! {
        <p class="hint" data-testid="report-range">
            {format!("From {} to {} (UTC), {whose}; amounts in {}.", report.from, report.to, report.currency)}
        </p>
        <FigureCards figures=report.figures />
        <div class="charts">{charts}</div>
    }
}
