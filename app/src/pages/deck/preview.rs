//! What a deck's dry run and commit answered, as the upload shows it: the
//! counts (new, changed, unchanged, removed), the preview's tables of rates
//! and of changes field by field, and the line after a commit.

use leptos::prelude::*;
use model::deck::{DeckChange, DeckRate, DeckReport, ImportMode, PREVIEW_LINES};

use crate::components::grouped;

/// The counts of a report.
fn counts(report: &DeckReport) -> AnyView {
    let mut items = vec![
        ("new", "New", report.new),
        ("changed", "Changed", report.changed),
        ("unchanged", "Unchanged", report.unchanged),
    ];
    if report.mode == ImportMode::Replace {
        items.push(("removed", "Removed", report.removed));
    }
    view! {
        <dl class="deck-counts">
            {items
                .into_iter()
                .map(|(key, label, n)| {
                    view! {
                        <div>
                            <dt>{label}</dt>
                            <dd data-testid=format!("count-{key}")>{grouped(n)}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
    .into_any()
}

/// What a dry run found: the counts, the first lines of each kind, and the
/// buttons that commit the import or set it aside.
#[component]
pub(super) fn Preview(
    report: DeckReport,
    commit: Callback<()>,
    cancel: Callback<()>,
) -> impl IntoView {
    let preview = report.preview.clone();
    let replace = report.mode == ImportMode::Replace;
    let verb = if replace { "Replace" } else { "Merge" };
    let writes = report.new + report.changed;
    let button = if replace && report.removed > 0 {
        format!(
            "Commit: write {} rates, remove {}",
            grouped(writes),
            grouped(report.removed)
        )
    } else {
        format!("Commit: write {} rates", grouped(writes))
    };
    view! {
        <section class="deck-report" data-testid="deck-report" aria-labelledby="deck-report-title">
            <h3 id="deck-report-title">{format!("Preview ({verb}): nothing is written yet")}</h3>
            {counts(&report)}
            {rates_table("New rates", "new", report.new, preview.new, true)}
            {changes_table(report.changed, preview.changed)}
            {rates_table("Unchanged rates", "unchanged", report.unchanged, preview.unchanged, true)}
            {replace.then(|| rates_table("Rates to remove", "removed", report.removed, preview.removed, false))}
            <div class="buttons">
                <button type="button" data-testid="deck-commit" on:click=move |_| commit.run(())>
                    {button}
                </button>
                <button type="button" class="secondary" data-testid="deck-cancel" on:click=move |_| cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </section>
    }
}

/// What an import did.
pub(super) fn committed(report: &DeckReport) -> AnyView {
    let mut text = format!(
        "The deck was imported: {} new, {} changed, {} unchanged",
        grouped(report.new),
        grouped(report.changed),
        grouped(report.unchanged)
    );
    if report.mode == ImportMode::Replace {
        text.push_str(&format!(", {} removed", grouped(report.removed)));
    }
    text.push('.');
    view! {
        <section class="deck-report" data-testid="deck-done">
            <p class="notice" role="status">{text}</p>
            {counts(report)}
        </section>
    }
    .into_any()
}

/// The caption of a kind's first lines: "New rates (the first 10 of 9,500)".
fn caption(title: &str, shown: usize, total: u64) -> String {
    if (shown as u64) < total {
        format!("{title} (the first {shown} of {})", grouped(total))
    } else {
        title.to_string()
    }
}

fn rates_table(
    title: &'static str,
    key: &'static str,
    total: u64,
    rates: Vec<DeckRate>,
    lines: bool,
) -> Option<AnyView> {
    if rates.is_empty() {
        return None;
    }
    let caption = caption(title, rates.len().min(PREVIEW_LINES), total);
    Some(view! {
        <div class="table-wrap">
            <table class="list deck-rates" data-testid=format!("deck-{key}")>
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        {lines.then(|| view! { <th scope="col" class="num">"Line"</th> })}
                        <th scope="col">"Prefix"</th>
                        <th scope="col" class="num">"Price 1"</th>
                        <th scope="col" class="num">"Price n"</th>
                        <th scope="col">"Description"</th>
                    </tr>
                </thead>
                <tbody>
                    {rates
                        .into_iter()
                        .map(|r| {
                            let mark = r.prefix.clone();
                            view! {
                                <tr data-prefix=mark>
                                    {lines.then(|| view! { <td class="num">{r.line.unwrap_or_default()}</td> })}
                                    <td data-field="prefix">{r.prefix}</td>
                                    <td class="num">{r.price_1.to_string()}</td>
                                    <td class="num">{r.price_n.to_string()}</td>
                                    <td data-field="description">{r.description}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any())
}

fn changes_table(total: u64, changes: Vec<DeckChange>) -> Option<AnyView> {
    if changes.is_empty() {
        return None;
    }
    let caption = caption("Changed rates", changes.len(), total);
    Some(
        view! {
            <div class="table-wrap">
                <table class="list deck-rates" data-testid="deck-changed">
                    <caption>{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col" class="num">"Line"</th>
                            <th scope="col">"Prefix"</th>
                            <th scope="col">"Changes (old → new)"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {changes
                            .into_iter()
                            .map(|c| {
                                let list = c
                                    .changes
                                    .into_iter()
                                    .map(|f| {
                                        view! {
                                            <li>
                                                <span class="deck-field">{f.field}</span>
                                                " "
                                                <del>{f.old}</del>
                                                " → "
                                                <ins>{f.new}</ins>
                                            </li>
                                        }
                                    })
                                    .collect_view();
                                let mark = c.prefix.clone();
                                view! {
                                    <tr data-prefix=mark>
                                        <td class="num">{c.line}</td>
                                        <td data-field="prefix">{c.prefix}</td>
                                        <td class="deck-wide">
                                            <ul class="deck-changes">{list}</ul>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    )
}
