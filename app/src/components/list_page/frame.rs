//! The frame of a list page: heading, tenant picker, toolbar, notices, the
//! row editor's place and the table's. It knows nothing of the page's row
//! type (the page hands it the editor and the table already drawn), so it is
//! one function for every page rather than a copy per page in the browser's
//! wasm.

use std::sync::Arc;

use leptos::prelude::*;
use model::user::Role;

use super::search::search_form;
use super::{Names, Search};
use crate::components::layout::use_current_user;
use crate::components::tenant::{use_tenant, TenantPicker};
use crate::functions::tenants::TenantChoice;

/// What a [`ListPage`](super::ListPage) shows, its row type erased.
pub(super) struct Frame {
    pub names: Names,
    pub title: &'static str,
    pub search: Option<Search>,
    pub hint: Option<&'static str>,
    pub filters: Option<ViewFn>,
    pub below: Option<ViewFn>,
    pub actions: Option<ViewFn>,
    pub across_tenants: bool,
    pub panel: Option<ViewFn>,
    /// The rows can be changed (by those who manage the tenant).
    pub editable: bool,
    /// Opens the editor of a new row.
    pub new_row: Callback<()>,
    pub notice: RwSignal<Option<String>>,
    pub tenants: Resource<Result<Vec<TenantChoice>, ServerFnError>>,
    /// The open editor, if any (reactive).
    pub editor: Arc<dyn Fn() -> Option<AnyView> + Send + Sync>,
    /// The table, once the list has loaded (reactive).
    pub table: Arc<dyn Fn() -> Suspend<AnyView> + Send + Sync>,
}

pub(super) fn list_frame(frame: Frame) -> AnyView {
    let Frame {
        names,
        title,
        search,
        hint,
        filters,
        below,
        actions,
        across_tenants,
        panel,
        editable,
        new_row,
        notice,
        tenants,
        editor,
        table,
    } = frame;
    let user = use_current_user();
    let tenant = use_tenant();

    let tools = move |manages: bool| {
        let can_edit = manages && editable;
        let left = match (search, filters.clone()) {
            (Some(search), _) => untrack(|| search_form(names.path, search)).into_any(),
            (None, Some(filters)) => untrack(|| filters.run()),
            (None, None) => hint
                .map(|text| view! { <p class="hint">{text}</p> })
                .into_any(),
        };
        let actions = actions.clone();
        let below = below.clone();
        view! {
            <div class="toolbar">
                {left}
                <div class="actions">
                    {actions.map(|actions| actions.run())}
                    {can_edit
                        .then(|| {
                            view! {
                                <button type="button" data-testid=format!("new-{}", names.key) on:click=move |_| new_row.run(())>
                                    {format!("New {}", names.noun)}
                                </button>
                            }
                        })}
                </div>
            </div>
            {below.map(|below| below.run())}
            {(editable && !manages)
                .then(|| {
                    view! {
                        <p class="hint" data-testid="read-only">
                            {format!("You can see the {}; a tenant administrator changes them.", names.nouns)}
                        </p>
                    }
                })}
        }
    };

    view! {
        <h1>{title}</h1>
        <Suspense fallback=|| ()>
            {move || {
                let chosen = tenant.get().is_some();
                let tools = tools.clone();
                Suspend::new(async move {
                    let me = user.signed_in().await?;
                    let picks = me.role == Role::SystemAdmin && !across_tenants;
                    let tenants = tenants.await.unwrap_or_default();
                    Some(view! {
                        {picks.then(|| view! { <TenantPicker tenants=tenants /> })}
                        {(chosen || !picks).then(|| tools(me.manages_tenant))}
                    })
                })
            }}
        </Suspense>
        {move || {
            notice
                .get()
                .map(|text| view! { <p class="notice" role="status" data-testid="notice">{text}</p> })
        }}
        {panel.map(|panel| panel.run())}
        {move || editor()}
        <Transition fallback=move || view! { <p class="loading">{format!("Loading {}…", names.nouns)}</p> }>
            {move || table()}
        </Transition>
    }
    .into_any()
}
