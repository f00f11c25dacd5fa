//! `/users`: the users of a tenant (its own for a tenant administrator; the
//! chosen one for a system administrator), a page of the
//! [list-page skeleton](crate::components::list_page): search, create
//! (name, password, role), change the role, disable and enable, reset a
//! password, delete (a user that calls or ledger entries name is disabled
//! instead, and the page says so).

use std::future::Future;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::user::{validate_username, Role};
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::components::form::{EditorForm, RowForm, SelectField, TextField};
use crate::components::list_page::{
    Changes, Column, EditResource, ListPage, ListResource, Rows, Search,
};
use crate::components::tenant::use_tenant;
use crate::functions::people::{
    list_user_rows, DeleteUser, PeopleArgs, PeoplePage, ResetUserPassword, SaveUser,
    SetUserEnabled, UserRow, PAGE_SIZE,
};
use crate::functions::refused_fields;
use crate::pages::tenants::{people_args, status_badge};

/// The users, as the list page lists them.
pub struct Users;

impl ListResource for Users {
    const PATH: &'static str = "/users";
    const KEY: &'static str = "user";
    const NOUN: &'static str = "user";
    const NOUNS: &'static str = "users";

    type Args = PeopleArgs;
    type List = PeoplePage<UserRow>;
    type Row = UserRow;

    fn args(query: &ParamsMap) -> PeopleArgs {
        people_args(query)
    }

    fn list(
        tenant: Option<String>,
        args: PeopleArgs,
    ) -> impl Future<Output = Result<Option<PeoplePage<UserRow>>, ServerFnError>> + Send + 'static
    {
        list_user_rows(tenant, args)
    }

    fn rows(page: PeoplePage<UserRow>) -> Rows<UserRow> {
        page.rows()
    }

    fn mark(row: &UserRow) -> (&'static str, String) {
        ("data-username", row.username.clone())
    }
}

impl EditResource for Users {
    type Save = SaveUser;
    type Delete = DeleteUser;

    fn id(row: &UserRow) -> String {
        row.id.clone()
    }

    fn label(row: &UserRow) -> String {
        row.username.clone()
    }

    /// Nobody removes themself.
    fn deletable(row: &UserRow) -> bool {
        !row.is_me
    }

    fn save(tenant: Option<String>, id: Option<String>, body: Map<String, Value>) -> SaveUser {
        SaveUser { tenant, id, body }
    }

    fn delete(tenant: Option<String>, id: String) -> DeleteUser {
        DeleteUser { tenant, id }
    }
}

const ROLES: [Role; 2] = [Role::StandardUser, Role::Admin];

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    let tenant = use_tenant();
    let enable = ServerAction::<SetUserEnabled>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    // The user whose password is being reset: (id, name).
    let resetting = RwSignal::new(None::<(String, String)>);
    let message = Signal::derive(move || {
        let answer = enable.value().get().or_else(|| match reset.value().get() {
            Some(Ok(text)) => Some(Ok(text)),
            _ => None,
        });
        answer.map(|answer| match answer {
            Ok(text) => text,
            Err(e) => format!("Not changed: {}", error_text(&e)),
        })
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = reset.value().get() {
            resetting.set(None);
        }
    });
    let actions = move |row: &UserRow| {
        let id = row.id.clone();
        let name = row.username.clone();
        let enabled = row.enabled;
        let me = row.is_me;
        let toggle = (!me).then(|| {
            let id = id.clone();
            view! {
                <button
                    type="button"
                    class="secondary"
                    data-testid=if enabled { "disable" } else { "enable" }
                    on:click=move |_| {
                        reset.value().set(None);
                        enable.dispatch(SetUserEnabled {
                            tenant: tenant.get_untracked(),
                            id: id.clone(),
                            enabled: !enabled,
                        });
                    }
                >
                    {if enabled { "Disable" } else { "Enable" }}
                </button>
            }
        });
        view! {
            {toggle}
            <button
                type="button"
                class="secondary"
                data-testid="reset-password"
                on:click=move |_| {
                    reset.value().set(None);
                    resetting.set(Some((id.clone(), name.clone())));
                }
            >
                "Reset password"
            </button>
        }
    };
    let columns = vec![
        Column::new("username", "User name", |u: &UserRow| {
            let me = u.is_me;
            view! {
                {u.username.clone()}
                {me.then(|| view! { " " <span class="badge">"you"</span> })}
            }
        })
        .sortable(),
        Column::new("role", "Role", |u: &UserRow| u.role.to_string()).sortable(),
        Column::new("enabled", "Status", |u: &UserRow| {
            status_badge(u.enabled, "enabled", "disabled")
        }),
        Column::new("created_at", "Created", |u: &UserRow| {
            u.created_at.get(..10).unwrap_or_default().to_string()
        })
        .sortable(),
        Column::new("access", "Access", actions),
    ];
    let changes =
        Changes::of::<Users>(|(row, form)| view! { <UserEditor row=row form=form /> }.into_any());
    view! {
        {move || resetting.get().map(|(id, name)| view! { <ResetForm id=id name=name action=reset cancel=resetting /> })}
        <ListPage
            resource=Users
            title="Users"
            columns=columns
            search=Search {
                placeholder: "User name",
                label: "Search users",
                page_size: PAGE_SIZE,
            }
            changes=changes
            reload=Signal::derive(move || enable.version().get() + reset.version().get())
            message=message
        />
    }
}

/// The form that sets another user's password.
#[component]
fn ResetForm(
    id: String,
    name: String,
    action: ServerAction<ResetUserPassword>,
    cancel: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let tenant = use_tenant();
    let password = RwSignal::new(String::new());
    let errors = Signal::derive(move || action.value().with(refused_fields));
    let general = Signal::derive(move || match action.value().get() {
        Some(Err(e)) if crate::functions::invalid_fields(&e).is_none() => Some(error_text(&e)),
        _ => None,
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ResetUserPassword {
            tenant: tenant.get_untracked(),
            id: id.clone(),
            password: password.get_untracked(),
        });
    };
    view! {
        <form class="card editor" novalidate on:submit=on_submit data-testid="reset-form">
            <h2>{format!("New password for {name}")}</h2>
            <div class="grid">
                <TextField form="reset" name="password" label="New password" value=password errors=errors secret=true />
            </div>
            <p class="hint">"The user's logins end; its API tokens keep working."</p>
            {move || general.get().map(|text| view! { <p class="error" role="alert">{text}</p> })}
            <div class="buttons">
                <button type="submit" data-testid="save-password" disabled=move || action.pending().get()>
                    "Set password"
                </button>
                <button type="button" class="secondary" on:click=move |_| cancel.set(None)>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

#[component]
fn UserEditor(row: Option<UserRow>, form: RowForm) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(
        row.as_ref()
            .map(|r| r.role)
            .unwrap_or(Role::StandardUser)
            .to_string(),
    );
    let errors = form.errors;
    let is_new = form.is_new;
    let check = move |()| {
        let mut body = Map::new();
        let mut problems = Vec::new();
        if is_new {
            let name = username.get_untracked().trim().to_string();
            if let Err(m) = validate_username(&name) {
                problems.push(FieldError::new("username", m));
            }
            body.insert("username".into(), Value::String(name));
            body.insert("password".into(), Value::String(password.get_untracked()));
        }
        body.insert("role".into(), Value::String(role.get_untracked()));
        (body, problems)
    };
    let options = ROLES
        .iter()
        .map(|r| (r.to_string(), r.to_string()))
        .collect::<Vec<_>>();
    view! {
        <EditorForm form=form fields=vec!["username", "password", "role", "tenant_id"] check=check>
            {is_new
                .then(|| {
                    view! {
                        <TextField form="user" name="username" label="User name" value=username errors=errors />
                        <TextField form="user" name="password" label="Password" value=password errors=errors secret=true />
                    }
                })}
            <SelectField form="user" name="role" label="Role" value=role errors=errors options=options />
        </EditorForm>
    }
}
