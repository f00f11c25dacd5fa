//! A list page's own filter form (the calls' days and status, the ledger's
//! kind and days): the list's parameters read from the URL, checked in the
//! browser (the server checks the same) and applied without a reload.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;
use model::FieldError;

use super::search::list_href;

/// A list parameter of the URL's query, when it holds more than blanks.
pub fn query_arg(query: &ParamsMap, key: &str) -> Option<String> {
    query.get(key).filter(|s| !s.trim().is_empty())
}

/// A filter field's signal, opened with the parameter's current value.
pub fn filter_value(current: &Option<String>) -> RwSignal<String> {
    RwSignal::new(current.clone().unwrap_or_default())
}

/// What a filter field holds, trimmed; `None` when it is empty.
pub fn filter_text(field: RwSignal<String>) -> Option<String> {
    let text = field.get_untracked().trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// A select field's options: `none` (any value) first, then `all` as
/// (value, label) pairs.
pub fn filter_choices(all: &[(&str, &str)], none: &str) -> Vec<(String, String)> {
    std::iter::once((String::new(), none.to_string()))
        .chain(all.iter().map(|(v, l)| (v.to_string(), l.to_string())))
        .collect()
}

/// The label of `wire` among (value, label) pairs; itself when none has it.
pub fn choice_label(all: &[(&str, &str)], wire: &str) -> String {
    all.iter()
        .find(|(v, _)| *v == wire)
        .map_or_else(|| wire.to_string(), |(_, label)| (*label).to_string())
}

/// What applying a filter form answers: the list parameters to set (`None`
/// removes one), or the problems to show at the fields.
pub type Applied = Result<Vec<(&'static str, Option<String>)>, Vec<FieldError>>;

/// The filter form of the list page at `path`: a GET form before hydration
/// (the parameters named in `keep`, such as the tenant, travel as hidden
/// inputs); after, `apply` checks the fields, and the page navigates to the
/// list with the parameters it answers, from its first page. The problems
/// `apply` finds are set in `checked`, which the fields show.
#[component]
pub fn FilterForm(
    /// The list page's path.
    path: &'static str,
    /// The form's `data-testid`.
    testid: &'static str,
    /// The Apply button's `data-testid`.
    button: &'static str,
    /// Parameters of the URL the form keeps ("tenant", "account").
    keep: &'static [&'static str],
    /// The problems the browser found, shown at the fields.
    checked: RwSignal<Vec<FieldError>>,
    /// Checks the fields and answers the parameters to set.
    apply: Callback<(), Applied>,
    children: Children,
) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match apply.run(()) {
            Err(problems) => checked.set(problems),
            Ok(mut changes) => {
                checked.set(Vec::new());
                changes.push(("skip", None));
                let href = list_href(path, &query.get_untracked(), &changes);
                navigate(&href, NavigateOptions::default());
            }
        }
    };
    view! {
        <form method="get" action=path class="filters" novalidate on:submit=on_submit data-testid=testid>
            {move || {
                let q = query.read();
                keep.iter()
                    .filter_map(|key| q.get(key).map(|v| view! { <input type="hidden" name=*key value=v /> }))
                    .collect_view()
            }}
            {children()}
            <div class="field">
                <span class="label-spacer" aria-hidden="true">"\u{a0}"</span>
                <button type="submit" class="secondary" data-testid=button>"Apply"</button>
            </div>
        </form>
    }
}
