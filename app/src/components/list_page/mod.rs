//! The skeleton of every page that lists a resource of the tenant, and
//! maybe edits it row by row: the rates, tariffs and billing plans pages, and
//! the pages to come.
//!
//! A page says what it lists by implementing [`ListResource`] (its list
//! server function, how its URL's parameters become the list's, what tells a
//! row apart), and, when its rows can be changed, [`EditResource`] (its save
//! and delete server functions). It says how it shows them by the
//! [`ListPage`] props: columns, the row editor ([`Changes`]; none for a list
//! that is only read), the toolbar's search, hint and extra actions. The
//! skeleton does the rest the same way for all: the tenant picker, the list
//! resource (reloaded after each save and delete), the notices, the
//! read-only hint, the table with sortable headings and Edit /
//! Delete-after-confirmation row actions, and the pager or the "first n of
//! m" hint.
//!
//! The list's state (search, sort, page) lives in the URL, so every view of
//! it can be linked, reloaded and rendered on the server; after hydration the
//! links and the search form navigate without reloading the page.
//!
//! What pages put together themselves comes from here too: a change asked
//! about first ([`Confirm`]), a page's own filter form ([`FilterForm`] and
//! its field helpers), and a paged list's rows ([`Rows::paged`]).

mod confirm;
mod filters;
mod frame;
mod search;
mod table;

use std::future::Future;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::form::RowForm;
use crate::components::layout::use_current_user;
use crate::components::tenant::{tenant_choices_resource, use_tenant, ChooseTenant};

pub use confirm::Confirm;
pub use filters::{
    choice_label, filter_choices, filter_text, filter_value, query_arg, Applied, FilterForm,
};
use frame::{list_frame, Frame};
pub use search::list_href;
use table::{list_table, Deleting, RowActions, TableRow};

/// A resource that a [`ListPage`] lists: its list server function and what
/// tells a row apart. Implemented by a unit type that names the resource.
pub trait ListResource: Send + Sync + 'static {
    /// The page's path (`/rates`): links and the search form lead there.
    const PATH: &'static str;
    /// Names the page's elements: `{key}-row`, `{key}s` (the table), and
    /// for an [`EditResource`] `new-{key}`, `{key}-form`, `save-{key}`.
    const KEY: &'static str;
    /// One row in messages: "The {noun} was saved.", "New {noun}".
    const NOUN: &'static str;
    /// The rows in messages: "Loading {nouns}…", "No {nouns} yet.".
    const NOUNS: &'static str;

    /// The list's parameters, as the page's URL holds them.
    type Args: Clone + PartialEq + Send + Sync + 'static;
    /// What the list server function answers.
    type List: Clone + Send + Sync + Serialize + DeserializeOwned + 'static;
    /// One row of the table (and what its editor opens with).
    type Row: Clone + Send + Sync + 'static;

    /// The list's parameters from the URL's query.
    fn args(query: &ParamsMap) -> Self::Args;
    /// Loads the list; `None` until a system administrator has chosen a tenant.
    fn list(
        tenant: Option<String>,
        args: Self::Args,
    ) -> impl Future<Output = Result<Option<Self::List>, ServerFnError>> + Send + 'static;
    /// The rows of a loaded list.
    fn rows(list: Self::List) -> Rows<Self::Row>;
    /// The attribute of the row's `<tr>` that tells it apart (`data-prefix`).
    fn mark(row: &Self::Row) -> (&'static str, String);
    /// What a loaded list shows above its table (totals, a note about it);
    /// nothing unless the page says.
    fn summary(_list: &Self::List) -> Option<AnyView> {
        None
    }
}

/// A listed resource whose rows a tenant administrator creates, changes and
/// deletes on the page.
pub trait EditResource: ListResource {
    /// The server function that creates (no id) or changes a row.
    type Save: ServerFn<Output = String, Error = ServerFnError> + Clone + Send + Sync + 'static;
    /// The server function that deletes a row.
    type Delete: ServerFn<Output = (), Error = ServerFnError> + Clone + Send + Sync + 'static;

    /// The row's opaque id, as the save and delete server functions take it.
    fn id(row: &Self::Row) -> String;
    /// The row as the editor's heading names it ("Edit the rate 4420").
    fn label(row: &Self::Row) -> String;
    /// Whether the row can be deleted (else it has no Delete button).
    fn deletable(_row: &Self::Row) -> bool {
        true
    }
    /// The save server function's input.
    fn save(tenant: Option<String>, id: Option<String>, body: Map<String, Value>) -> Self::Save;
    /// The delete server function's input.
    fn delete(tenant: Option<String>, id: String) -> Self::Delete;
}

/// How a list page changes its rows: the save and delete actions of an
/// [`EditResource`], and the editor of a row.
pub struct Changes<R: 'static> {
    saved: Signal<Option<Result<String, ServerFnError>>>,
    saving: Signal<bool>,
    deleted: Signal<Option<Result<(), ServerFnError>>>,
    deleting: Signal<bool>,
    /// Counts the saves and deletes: the list reloads after each.
    versions: Signal<(usize, usize)>,
    /// Saves a row (its id, none for a new one) of the page's tenant.
    save: Callback<(Option<String>, Map<String, Value>)>,
    /// Deletes a row (its id) of the page's tenant.
    delete: Callback<String>,
    forget: Callback<()>,
    id: fn(&R) -> String,
    label: fn(&R) -> String,
    deletable: fn(&R) -> bool,
    editor: Callback<(Option<R>, RowForm), AnyView>,
}

impl<R> Clone for Changes<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Changes<R> {}

impl<R: Clone + Send + Sync + 'static> Changes<R> {
    /// The rows of `E` change through its save and delete server functions;
    /// `editor` draws the form of a row (`None`: a new one) in the frame of
    /// [`EditorForm`](crate::components::form::EditorForm), driven by the
    /// [`RowForm`].
    pub fn of<E: EditResource<Row = R>>(
        editor: impl Fn((Option<R>, RowForm)) -> AnyView + Send + Sync + 'static,
    ) -> Self {
        let tenant = use_tenant();
        let save = ServerAction::<E::Save>::new();
        let delete = ServerAction::<E::Delete>::new();
        Self {
            saved: Signal::derive(move || save.value().get()),
            saving: save.pending().into(),
            deleted: Signal::derive(move || delete.value().get()),
            deleting: delete.pending().into(),
            versions: Signal::derive(move || (save.version().get(), delete.version().get())),
            save: Callback::new(move |(id, body)| {
                save.dispatch(E::save(tenant.get_untracked(), id, body));
            }),
            delete: Callback::new(move |id| {
                delete.dispatch(E::delete(tenant.get_untracked(), id));
            }),
            forget: Callback::new(move |()| save.value().set(None)),
            id: E::id,
            label: E::label,
            deletable: E::deletable,
            editor: Callback::new(editor),
        }
    }
}

/// The rows of a loaded list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows<R> {
    pub items: Vec<R>,
    /// Rows of the list, on all pages.
    pub count: i64,
    pub window: Window,
}

impl<R> Rows<R> {
    /// One page of a paged list: its rows, the rows on all pages, the rows
    /// skipped before it and the rows a page.
    pub fn paged(items: Vec<R>, count: i64, skip: u64, top: u32) -> Self {
        Self {
            items,
            count,
            window: Window::Paged { skip, top },
        }
    }
}

/// Which rows of the list a page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// One page, with a pager: rows skipped before it, rows per page.
    Paged { skip: u64, top: u32 },
    /// The first rows, in the order named ("by name"); a hint says when
    /// there are more.
    First { order: &'static str },
    /// One page of a long list, read by cursor: rows before it (as the URL's
    /// `at` says), rows per page, and the list's cursors of the pages after
    /// and before it. Its pager's links carry the cursors, so a deep page
    /// costs what the first does.
    Cursor {
        at: u64,
        top: u32,
        next: Option<String>,
        previous: Option<String>,
    },
}

/// A column of the table: its heading, and how a row's cell is drawn.
pub struct Column<R> {
    head: Heading,
    cell: Arc<dyn Fn(&R) -> AnyView + Send + Sync>,
}

/// What a column's heading says and does, whatever the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Heading {
    name: &'static str,
    heading: &'static str,
    numeric: bool,
    sortable: bool,
}

impl<R> Clone for Column<R> {
    fn clone(&self) -> Self {
        Self {
            head: self.head,
            cell: Arc::clone(&self.cell),
        }
    }
}

impl<R> Column<R> {
    /// A column named `name` (its cells' `data-field`, the `orderby` key)
    /// under `heading`, its cells drawn by `cell`.
    pub fn new<V>(
        name: &'static str,
        heading: &'static str,
        cell: impl Fn(&R) -> V + Send + Sync + 'static,
    ) -> Self
    where
        V: IntoView + 'static,
    {
        Self {
            head: Heading {
                name,
                heading,
                numeric: false,
                sortable: false,
            },
            cell: Arc::new(move |row| cell(row).into_any()),
        }
    }

    /// Right-aligned, in tabular figures.
    pub fn numeric(mut self) -> Self {
        self.head.numeric = true;
        self
    }

    /// Its heading sorts the list by it (both ways).
    pub fn sortable(mut self) -> Self {
        self.head.sortable = true;
        self
    }
}

/// What a list page calls its resource, for the parts of the skeleton that
/// are the same for every page (and so compile once, not once a page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Names {
    path: &'static str,
    key: &'static str,
    noun: &'static str,
    nouns: &'static str,
}

impl Names {
    fn of<P: ListResource>() -> Self {
        Self {
            path: P::PATH,
            key: P::KEY,
            noun: P::NOUN,
            nouns: P::NOUNS,
        }
    }
}

/// The toolbar's search form: search text and page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Search {
    /// What the search matches ("Prefix or description").
    pub placeholder: &'static str,
    /// The search input's accessible name ("Search rates").
    pub label: &'static str,
    /// Rows per page when the URL names no `top`.
    pub page_size: u32,
}

/// A list page: its heading, the toolbar, the notices, the row editor when
/// open, and the table. Its resources are created here, at the top, and read
/// in two regions: the tools (picker, toolbar), and the table.
#[component]
pub fn ListPage<P: ListResource>(
    /// What the page lists.
    resource: P,
    /// The page's heading.
    title: &'static str,
    /// The table's columns, in order.
    columns: Vec<Column<P::Row>>,
    /// How the rows change; without, the list is only read.
    #[prop(optional)]
    changes: Option<Changes<P::Row>>,
    /// A search form on the toolbar's left.
    #[prop(optional)]
    search: Option<Search>,
    /// Or a hint there.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// Or a filter form of the page's own there (the CDRs' dates, status, ...).
    #[prop(optional, into)]
    filters: Option<ViewFn>,
    /// Shown below the toolbar (the outcome of a toolbar action).
    #[prop(optional, into)]
    below: Option<ViewFn>,
    /// Counts changes made by the page's own actions: the list reloads after each.
    #[prop(optional, into)]
    reload: Option<Signal<usize>>,
    /// More of the toolbar's actions, before "New …" (shown to every user).
    #[prop(optional, into)]
    actions: Option<ViewFn>,
    /// What an empty list says when nothing was searched (else "No {nouns} yet.").
    #[prop(optional)]
    empty: Option<&'static str>,
    /// The list spans every tenant (the tenants page): no tenant picker.
    #[prop(optional)]
    across_tenants: bool,
    /// What those changes answered, shown where the page's notices are.
    #[prop(optional, into)]
    message: Option<Signal<Option<String>>>,
    /// A section of the page's own between the toolbar and the table (the
    /// rates page's deck upload).
    #[prop(optional, into)]
    panel: Option<ViewFn>,
) -> impl IntoView {
    let _ = resource;
    let user = use_current_user();
    let tenant = use_tenant();
    let query = use_query_map();
    let args = Memo::new(move |_| P::args(&query.read()));
    let tenants = tenant_choices_resource();
    let list = Resource::new(
        move || {
            let versions = changes.map(|c| c.versions.get());
            (tenant.get(), args.get(), versions, reload.map(|r| r.get()))
        },
        |(tenant, args, _, _)| P::list(tenant, args),
    );
    // `Some(None)`: a new row.
    let editing = RwSignal::new(None::<Option<P::Row>>);
    let notice = RwSignal::new(None::<String>);

    if let Some(changes) = changes {
        // A saved row closes the form; a refused one keeps it open with the reasons.
        Effect::new(move |_| {
            if let Some(Ok(_)) = changes.saved.get() {
                editing.set(None);
                notice.set(Some(format!("The {} was saved.", P::NOUN)));
            }
        });
        Effect::new(move |_| match changes.deleted.get() {
            Some(Ok(())) => notice.set(Some(format!("The {} was deleted.", P::NOUN))),
            Some(Err(e)) => notice.set(Some(format!("Not deleted: {}", error_text(&e)))),
            None => {}
        });
    }
    // What the page's own changes answered replaces the last notice.
    if let Some(message) = message {
        Effect::new(move |_| {
            if let Some(text) = message.get() {
                notice.set(Some(text));
            }
        });
    }
    // Another tenant, another list: what was open for the last one closes.
    Effect::new(move |previous: Option<Option<String>>| {
        let now = tenant.get();
        if previous.is_some_and(|p| p != now) {
            editing.set(None);
            notice.set(None);
        }
        now
    });
    let open = move |what: Option<P::Row>| {
        if let Some(changes) = changes {
            changes.forget.run(());
        }
        notice.set(None);
        editing.set(Some(what));
    };
    let editor = move |changes: Changes<P::Row>, row: Option<P::Row>| {
        let id = row.as_ref().map(changes.id);
        let title = match &row {
            Some(row) => format!("Edit the {} {}", P::NOUN, (changes.label)(row)),
            None => format!("New {}", P::NOUN),
        };
        let form = RowForm::new(
            P::KEY,
            title,
            id.is_none(),
            changes.saved,
            changes.saving,
            Callback::new(move |body| {
                changes.save.run((id.clone(), body));
            }),
            changes.forget,
            Callback::new(move |()| editing.set(None)),
        );
        untrack(|| changes.editor.run((row, form)))
    };

    let names = Names::of::<P>();
    let heads: Arc<[Heading]> = columns.iter().map(|c| c.head).collect();
    let columns: Arc<[Column<P::Row>]> = columns.into();
    let table = move || {
        let columns = Arc::clone(&columns);
        let heads = Arc::clone(&heads);
        Suspend::new(async move {
            let Some(me) = user.signed_in().await else {
                return ().into_any();
            };
            match list.await {
                Ok(Some(list)) => {
                    // Row actions for those who may change the rows.
                    let changes = changes.filter(|_| me.manages_tenant);
                    let on_edit = Callback::new(move |row| open(Some(row)));
                    untrack(|| {
                        let summary = P::summary(&list);
                        let rows = P::rows(list);
                        let items = rows
                            .items
                            .into_iter()
                            .map(|row| table_row::<P>(row, &columns, changes, on_edit))
                            .collect();
                        let rows = Rows {
                            items,
                            count: rows.count,
                            window: rows.window,
                        };
                        let table =
                            list_table(names, rows, heads, changes.map(Deleting::of), empty);
                        view! {
                            {summary}
                            {table}
                        }
                        .into_any()
                    })
                }
                Ok(None) => view! { <ChooseTenant /> }.into_any(),
                Err(e) => {
                    view! { <p class="error" role="alert" data-testid="list-error">{error_text(&e)}</p> }
                        .into_any()
                }
            }
        })
    };

    list_frame(Frame {
        names,
        title,
        search,
        hint,
        filters,
        below,
        actions,
        across_tenants,
        panel,
        editable: changes.is_some(),
        new_row: Callback::new(move |()| open(None)),
        notice,
        tenants,
        editor: Arc::new(move || {
            changes.and_then(|changes| editing.get().map(|row| editor(changes, row)))
        }),
        table: Arc::new(table),
    })
}

/// One row as the table shows it: its cells drawn, its Edit action bound.
fn table_row<P: ListResource>(
    row: P::Row,
    columns: &[Column<P::Row>],
    changes: Option<Changes<P::Row>>,
    on_edit: Callback<P::Row>,
) -> TableRow {
    TableRow {
        cells: columns.iter().map(|c| (c.cell)(&row)).collect(),
        mark: P::mark(&row),
        actions: changes.map(|changes| RowActions {
            id: (changes.id)(&row),
            deletable: (changes.deletable)(&row),
            edit: Callback::new(move |()| on_edit.run(row.clone())),
        }),
    }
}
