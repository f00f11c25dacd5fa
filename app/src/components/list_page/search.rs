//! The toolbar's search form, and the links that change the list's parameters.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

use super::Search;

/// Page sizes the search form offers.
pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];

/// The page's path with some list parameters of `query` changed (`None`
/// removes one). Unless it names `cursor` or `at`, the link leaves both out.
pub fn list_href(
    path: &str,
    query: &ParamsMap,
    changes: &[(&'static str, Option<String>)],
) -> String {
    let mut q = query.clone();
    // A cursor belongs to the list's other parameters: a link that changes
    // any of them, and is not itself a page link, starts from the first page.
    if !changes
        .iter()
        .any(|(key, _)| matches!(*key, "cursor" | "at"))
    {
        q.remove("cursor");
        q.remove("at");
    }
    for (key, value) in changes {
        q.remove(key);
        if let Some(value) = value {
            q.replace(*key, value.clone());
        }
    }
    format!("{path}{}", q.to_query_string())
}

/// Search text and page size. A plain GET form before hydration; after, it
/// navigates in the page and leaves empty parameters out of the URL.
pub(super) fn search_form(path: &'static str, search: Search) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let input = NodeRef::<leptos::html::Input>::new();
    let get = move |key: &'static str| move || query.read().get(key).unwrap_or_default();
    let top = move || {
        query
            .read()
            .get("top")
            .unwrap_or_else(|| search.page_size.to_string())
    };
    let on_submit = {
        let navigate = navigate.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let text = input.get().map(|input| input.value()).unwrap_or_default();
            let text = text.trim();
            let href = list_href(
                path,
                &query.get_untracked(),
                &[
                    ("search", (!text.is_empty()).then(|| text.to_string())),
                    ("skip", None),
                ],
            );
            navigate(&href, NavigateOptions::default());
        }
    };
    let on_size = move |ev: leptos::ev::Event| {
        let size = event_target_value(&ev);
        let href = list_href(
            path,
            &query.get_untracked(),
            &[("top", Some(size)), ("skip", None)],
        );
        navigate(&href, NavigateOptions::default());
    };
    view! {
        <form method="get" action=path class="search" role="search" on:submit=on_submit>
            {move || {
                query
                    .read()
                    .get("tenant")
                    .map(|t| view! { <input type="hidden" name="tenant" value=t /> })
            }}
            <input type="hidden" name="orderby" value=get("orderby") />
            <input
                type="search"
                name="search"
                node_ref=input
                value=get("search")
                prop:value=get("search")
                placeholder=search.placeholder
                aria-label=search.label
                data-testid="search"
            />
            <button type="submit" class="secondary" data-testid="search-button">"Search"</button>
            <label class="page-size">
                "Rows"
                <select name="top" data-testid="page-size" on:change=on_size>
                    {PAGE_SIZES
                        .iter()
                        .map(|n| {
                            let value = n.to_string();
                            let selected = move || top() == n.to_string();
                            view! { <option value=value selected=selected>{n.to_string()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        </form>
    }
}
