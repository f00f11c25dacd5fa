//! A report's charts and figures as the pages show them (Home, Reports):
//! each chart's title and sentence, the SVG the server drew (put in place as
//! it is: it was escaped where it was drawn, and it shows before hydration),
//! and the table of the same numbers under it.

use leptos::prelude::*;

use crate::functions::reports::{ChartView, FigureView};

/// One chart with its table; `more` (address, text) leads to the page with
/// more of it.
#[component]
pub fn ChartFigure(
    chart: ChartView,
    #[prop(optional)] more: Option<(String, &'static str)>,
) -> impl IntoView {
    let ChartView {
        key,
        title,
        note,
        svg,
        table,
    } = chart;
    let heading_id = format!("chart-{key}-title");
    let labelled_by = heading_id.clone();
    let testid = format!("chart-{key}");
    let head = table
        .columns
        .into_iter()
        .enumerate()
        .map(|(i, c)| view! { <th scope="col" class:num={i > 0}>{c}</th> })
        .collect_view();
    let body = table
        .rows
        .into_iter()
        .map(|cells| {
            let mut cells = cells.into_iter();
            let first = cells.next().unwrap_or_default();
            let rest = cells
                .map(|c| view! { <td class="num">{c}</td> })
                .collect_view();
            view! { <tr><th scope="row">{first}</th>{rest}</tr> }
        })
        .collect_view();
    view! {
        <figure class="card chart" data-testid=testid aria-labelledby=labelled_by>
            <figcaption>
                <h2 id=heading_id>{title}</h2>
                <p class="hint">{note}</p>
            </figcaption>
            <div class="chart-plot" inner_html=svg></div>
            <details class="chart-table">
                <summary>"The numbers"</summary>
                <div class="table-wrap">
                    <table class="list">
                        <thead><tr>{head}</tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            </details>
            {more.map(|(href, text)| view! { <p class="chart-more"><a href=href data-testid="to-reports">{text}</a></p> })}
        </figure>
    }
}

/// A report's figures as cards.
#[component]
pub fn FigureCards(figures: Vec<FigureView>) -> impl IntoView {
    let cards = figures
        .into_iter()
        .map(|f| {
            view! {
                <div class="card stat" data-testid=format!("report-{}", f.key)>
                    <h2>{f.title}</h2>
                    <p class="figure" data-testid=format!("report-{}-figure", f.key)>{f.value}</p>
                    <p class="sub">{f.sub}</p>
                </div>
            }
        })
        .collect_view();
    view! { <section class="overview" aria-label="Figures">{cards}</section> }
}
