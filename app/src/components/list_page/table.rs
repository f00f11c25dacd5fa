//! The table of a list page: sortable headings, the rows with their Edit and
//! Delete actions, and the pager. It takes the rows already drawn
//! ([`TableRow`]), so that it is one function for every page rather than a
//! copy per row type in the browser's wasm.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use super::search::list_href;
use super::{Changes, Confirm, Heading, Names, Rows, Window};
use crate::components::grouped;

/// The current sort: field and whether it is descending.
fn current_order(query: &ParamsMap) -> Option<(String, bool)> {
    let text = query.get("orderby")?;
    let mut words = text.split_whitespace();
    let field = words.next()?.to_string();
    let desc = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    Some((field, desc))
}

/// The pager of a page of `shown` rows after `skip` of `count`, `top` rows
/// a page: the range it shows, and where the previous and next pages start.
fn pages(skip: u64, top: u64, shown: u64, count: u64) -> (String, Option<u64>, Option<u64>) {
    let range = if shown == 0 {
        format!("0 of {}", grouped(count))
    } else {
        let last = skip.saturating_add(shown).min(count);
        let first = skip.saturating_add(1);
        format!("{}–{} of {}", grouped(first), grouped(last), grouped(count))
    };
    let prev = (skip > 0).then(|| skip.saturating_sub(top));
    let next = Some(skip.saturating_add(top)).filter(|&next| next < count);
    (range, prev, next)
}

/// One row of the table: its cells, the attribute that tells it apart, and
/// its actions when the rows can be changed.
pub(super) struct TableRow {
    pub cells: Vec<AnyView>,
    pub mark: (&'static str, String),
    pub actions: Option<RowActions>,
}

/// A row's Edit and Delete: its id, whether it may be deleted, and what
/// Edit opens.
pub(super) struct RowActions {
    pub id: String,
    pub deletable: bool,
    pub edit: Callback<()>,
}

/// What the table needs of the page's changes: the delete, and whether one
/// is under way.
#[derive(Clone, Copy)]
pub(super) struct Deleting {
    delete: Callback<String>,
    deleting: Signal<bool>,
}

impl Deleting {
    pub(super) fn of<R>(changes: Changes<R>) -> Self {
        Self {
            delete: changes.delete,
            deleting: changes.deleting,
        }
    }
}

/// The table of the loaded rows, with the pager or the "first n" hint.
pub(super) fn list_table(
    names: Names,
    rows: Rows<TableRow>,
    heads: Arc<[Heading]>,
    deleting: Option<Deleting>,
    empty: Option<&'static str>,
) -> AnyView {
    let can_edit = deleting.is_some();
    let query = use_query_map().get_untracked();
    let order = current_order(&query);
    // The row asking whether to delete it, if any.
    let confirming = RwSignal::new(None::<String>);
    let href = |changes: &[(&'static str, Option<String>)]| list_href(names.path, &query, changes);

    let headings = heads
        .iter()
        .map(|c| {
            if !c.sortable {
                return view! { <th class:num=c.numeric>{c.heading}</th> }.into_any();
            }
            let (sort, arrow) = match &order {
                Some((field, desc)) if field == c.name => (
                    if *desc { "descending" } else { "ascending" },
                    if *desc { " ▼" } else { " ▲" },
                ),
                _ => ("none", ""),
            };
            let next = if sort == "ascending" {
                format!("{} desc", c.name)
            } else {
                format!("{} asc", c.name)
            };
            let link = href(&[("orderby", Some(next)), ("skip", None)]);
            view! {
                <th aria-sort=sort class:num=c.numeric>
                    <a href=link data-testid=format!("sort-{}", c.name)>{c.heading}{arrow}</a>
                </th>
            }
            .into_any()
        })
        .collect_view();

    let count = rows.count.max(0) as u64;
    let shown = rows.items.len() as u64;
    let is_empty = shown == 0;
    let footer = match rows.window {
        Window::Paged { skip, top } => {
            let (range, prev, next) = pages(skip, u64::from(top), shown, count);
            let prev = prev.map(|back| href(&[("skip", (back > 0).then(|| back.to_string()))]));
            let next = next.map(|skip| href(&[("skip", Some(skip.to_string()))]));
            view! { <Pager prev=prev next=next range=range /> }.into_any()
        }
        Window::Cursor {
            at,
            top,
            next,
            previous,
        } => {
            let (range, _, _) = pages(at, u64::from(top), shown, count);
            let (prev, next) = cursor_links(at, u64::from(top), next, previous);
            let prev = prev.map(|(cursor, at)| href(&cursor_changes(cursor, at)));
            let next = next.map(|(cursor, at)| href(&cursor_changes(cursor, at)));
            view! { <Pager prev=prev next=next range=range /> }.into_any()
        }
        Window::First { order } => (count > shown)
            .then(|| view! { <p class="hint">{format!("The first {} of {} {}, {order}.", grouped(shown), grouped(count), names.nouns)}</p> })
            .into_any(),
    };
    let searched = query.get("search").filter(|s| !s.trim().is_empty());
    let empty_text = match (searched, empty) {
        (Some(s), _) => format!("No {} match “{s}”.", names.nouns),
        (None, Some(text)) => text.to_string(),
        (None, None) => format!("No {} yet.", names.nouns),
    };

    let body = rows
        .items
        .into_iter()
        .map(|row| {
            let cells = heads
                .iter()
                .zip(row.cells)
                .map(|(c, cell)| view! { <td class:num=c.numeric data-field=c.name>{cell}</td> })
                .collect_view();
            let actions = row
                .actions
                .zip(deleting)
                .map(|(actions, deleting)| row_actions(actions, confirming, deleting));
            let (mark, value) = row.mark;
            view! {
                <tr data-testid=format!("{}-row", names.key)>
                    {cells}
                    {actions}
                </tr>
            }
            .add_any_attr(custom_attribute(mark, value))
        })
        .collect_view();

    view! {
        <div class="table-wrap">
            <table class="list" data-testid=format!("{}s", names.key)>
                <thead>
                    <tr>
                        {headings}
                        {can_edit.then(|| view! { <th class="row-actions"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        {is_empty.then(|| view! { <p class="empty" data-testid="empty">{empty_text}</p> })}
        {footer}
    }
    .into_any()
}

/// A row's Edit and Delete buttons; Delete asks before it deletes.
fn row_actions(
    actions: RowActions,
    confirming: RwSignal<Option<String>>,
    deleting: Deleting,
) -> impl IntoView {
    let RowActions {
        id,
        deletable,
        edit,
    } = actions;
    let Deleting { delete, deleting } = deleting;
    view! {
        <td class="row-actions">
            {move || {
                if confirming.get().as_deref() == Some(id.as_str()) {
                    let id = id.clone();
                    view! {
                        <Confirm
                            question="Delete?"
                            verb="Delete"
                            testid="confirm-delete"
                            danger=true
                            pending=deleting
                            on_confirm=Callback::new(move |()| delete.run(id.clone()))
                            on_keep=Callback::new(move |()| confirming.set(None))
                        />
                    }
                        .into_any()
                } else {
                    let id = id.clone();
                    view! {
                        <button type="button" class="secondary" data-testid="edit" on:click=move |_| edit.run(())>
                            "Edit"
                        </button>
                        {deletable
                            .then(|| {
                                view! {
                                    <button type="button" class="secondary danger" data-testid="delete" on:click=move |_| confirming.set(Some(id.clone()))>
                                        "Delete"
                                    </button>
                                }
                            })}
                    }
                        .into_any()
                }
            }}
        </td>
    }
}

/// Where the pager of a page read by cursor leads: `(cursor, at)` of the
/// page before (the first page has neither) and of the page after.
#[allow(clippy::type_complexity)]
fn cursor_links(
    at: u64,
    top: u64,
    next: Option<String>,
    previous: Option<String>,
) -> (
    Option<(Option<String>, Option<u64>)>,
    Option<(Option<String>, Option<u64>)>,
) {
    let back = at.saturating_sub(top);
    let prev = match previous {
        // Back to the first page: its plain link.
        Some(_) | None if at > 0 && back == 0 => Some((None, None)),
        Some(cursor) => Some((Some(cursor), Some(back))),
        None if at > 0 => Some((None, None)),
        None => None,
    };
    let next = next.map(|cursor| (Some(cursor), Some(at.saturating_add(top))));
    (prev, next)
}

/// The URL changes of a pager link by cursor (none: the first page).
fn cursor_changes(cursor: Option<String>, at: Option<u64>) -> [(&'static str, Option<String>); 3] {
    [
        ("cursor", cursor),
        ("at", at.map(|at| at.to_string())),
        ("skip", None),
    ]
}

/// Previous and next page, and which rows are shown.
#[component]
fn Pager(prev: Option<String>, next: Option<String>, range: String) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {match prev {
                Some(href) => view! { <a class="button secondary" href=href data-testid="prev-page">"← Previous"</a> }.into_any(),
                None => view! { <span class="button secondary disabled">"← Previous"</span> }.into_any(),
            }}
            <span class="range" data-testid="range">{range}</span>
            {match next {
                Some(href) => view! { <a class="button secondary" href=href data-testid="next-page">"Next →"</a> }.into_any(),
                None => view! { <span class="button secondary disabled">"Next →"</span> }.into_any(),
            }}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&'static str, &str)]) -> ParamsMap {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn links_change_only_what_they_name() {
        let q = query(&[("tenant", "Mg=="), ("search", "50%"), ("skip", "25")]);
        assert_eq!(
            list_href(
                "/rates",
                &q,
                &[("orderby", Some("prefix desc".into())), ("skip", None)]
            ),
            "/rates?tenant=Mg%3D%3D&search=50%25&orderby=prefix%20desc"
        );
        assert_eq!(
            list_href("/rates", &ParamsMap::new(), &[("skip", None)]),
            "/rates"
        );
    }

    #[test]
    fn the_pager_names_the_rows_shown_and_the_pages_around() {
        assert_eq!(pages(0, 25, 25, 31), ("1–25 of 31".into(), None, Some(25)));
        assert_eq!(pages(25, 25, 6, 31), ("26–31 of 31".into(), Some(0), None));
        assert_eq!(pages(30, 10, 1, 31), ("31–31 of 31".into(), Some(20), None));
        // A page past the end (the URL says so) still leads back.
        assert_eq!(pages(50, 25, 0, 31), ("0 of 31".into(), Some(25), None));
        assert_eq!(pages(0, 25, 0, 0), ("0 of 0".into(), None, None));
        // Counts are grouped by thousands.
        assert_eq!(
            pages(999_975, 25, 25, 1_000_000),
            ("999,976–1,000,000 of 1,000,000".into(), Some(999_950), None)
        );
        assert_eq!(pages(1_000, 25, 1, 1_001).0, "1,001–1,001 of 1,001");
        // However far the URL skips, the sums do not overflow.
        let (_, prev, next) = pages(u64::MAX, 100, 1, 5);
        assert_eq!((prev, next), (Some(u64::MAX - 100), None));
    }

    #[test]
    fn cursor_pages_lead_on_by_cursor_and_back_to_the_first_page() {
        let (prev, next) = cursor_links(0, 25, Some("n".into()), None);
        assert_eq!(prev, None);
        assert_eq!(next, Some((Some("n".into()), Some(25))));
        let (prev, _) = cursor_links(25, 25, Some("n".into()), Some("p".into()));
        assert_eq!(prev, Some((None, None)));
        let (prev, next) = cursor_links(50, 25, None, Some("p".into()));
        assert_eq!(prev, Some((Some("p".into()), Some(25))));
        assert_eq!(next, None);
        // A page link names the cursor and the position, and drops `skip`.
        let pairs = |href: String| {
            let mut pairs: Vec<String> = href
                .trim_start_matches("/rates?")
                .split('&')
                .map(str::to_string)
                .collect();
            pairs.sort();
            pairs
        };
        let q = query(&[("search", "44"), ("skip", "25")]);
        assert_eq!(
            pairs(list_href(
                "/rates",
                &q,
                &cursor_changes(Some("abc".into()), Some(50))
            )),
            ["at=50", "cursor=abc", "search=44"]
        );
        // Any other change starts again from the first page.
        let q = query(&[("search", "44"), ("cursor", "abc"), ("at", "50")]);
        assert_eq!(
            list_href("/rates", &q, &[("orderby", Some("prefix".into()))]),
            "/rates?search=44&orderby=prefix"
        );
    }

    #[test]
    fn the_current_sort_is_read_from_orderby() {
        assert_eq!(current_order(&query(&[])), None);
        assert_eq!(
            current_order(&query(&[("orderby", "price_1 desc")])),
            Some(("price_1".into(), true))
        );
        assert_eq!(
            current_order(&query(&[("orderby", "prefix")])),
            Some(("prefix".into(), false))
        );
    }
}
