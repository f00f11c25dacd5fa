//! `/tokens`: API tokens, for everyone who logs in. One makes tokens of
//! one's own (a PBX or a script then calls the REST API with it); the secret
//! is shown once, right after, with a button that copies it. The list, a
//! page of the [list-page skeleton](crate::components::list_page), holds the
//! tokens one may revoke: one's own, and for a tenant administrator every
//! token of the tenant's users (for a system administrator, every token);
//! revoking asks first, and the token is refused from then on.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::FieldError;

use crate::components::error_text;
use crate::components::form::{form_errors, general_error, TextField};
use crate::components::list_page::{Column, Confirm, ListPage, ListResource, Rows, Search, Window};
use crate::functions::people::{PeopleArgs, PeoplePage};
use crate::functions::tokens::{
    list_token_rows, CreateToken, NewToken, RevokeToken, TokenRow, PAGE_SIZE,
};
use crate::pages::tenants::people_args;

/// The tokens, as the list page lists them.
pub struct Tokens;

impl ListResource for Tokens {
    const PATH: &'static str = "/tokens";
    const KEY: &'static str = "token";
    const NOUN: &'static str = "token";
    const NOUNS: &'static str = "API tokens";

    type Args = PeopleArgs;
    type List = PeoplePage<TokenRow>;
    type Row = TokenRow;

    fn args(query: &ParamsMap) -> PeopleArgs {
        people_args(query)
    }

    fn list(
        _tenant: Option<String>,
        args: PeopleArgs,
    ) -> impl Future<Output = Result<Option<PeoplePage<TokenRow>>, ServerFnError>> + Send + 'static
    {
        list_token_rows(args)
    }

    fn rows(page: PeoplePage<TokenRow>) -> Rows<TokenRow> {
        Rows {
            items: page.items,
            count: page.count,
            window: Window::Paged {
                skip: page.skip,
                top: page.top,
            },
        }
    }

    fn mark(row: &TokenRow) -> (&'static str, String) {
        ("data-name", row.name.clone())
    }
}

/// An RFC 3339 time as the table shows it: `2026-01-05 10:00`.
fn minute(text: &str) -> String {
    text.get(..16).unwrap_or(text).replacen('T', " ", 1)
}

/// What the browser finds wrong with a new token's name (the server
/// checks the same).
fn check_name(name: &str) -> Vec<FieldError> {
    let length = name.trim().chars().count();
    if (1..=64).contains(&length) {
        Vec::new()
    } else {
        vec![FieldError::new("name", "must be 1 to 64 characters")]
    }
}

/// The tokens page.
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let confirming = RwSignal::new(None::<String>);
    let message = Signal::derive(move || {
        revoke.value().get().map(|answer| match answer {
            Ok(text) => text,
            Err(e) => format!("Not revoked: {}", error_text(&e)),
        })
    });
    let revoking = move |row: &TokenRow| {
        let id = row.id.clone();
        let name = row.name.clone();
        move || {
            let id = id.clone();
            if confirming.get().as_deref() == Some(id.as_str()) {
                view! {
                    <span class="confirm-revoke">
                        <Confirm
                            question="Revoke it?"
                            title=format!("Requests with “{name}” are refused at once.")
                            verb="Revoke"
                            testid="confirm-revoke"
                            danger=true
                            pending=revoke.pending()
                            on_confirm=Callback::new(move |()| {
                                revoke.dispatch(RevokeToken { id: id.clone() });
                            })
                            on_keep=Callback::new(move |()| confirming.set(None))
                        />
                    </span>
                }
                .into_any()
            } else {
                view! {
                    <button
                        type="button"
                        class="secondary danger"
                        data-testid="revoke"
                        on:click=move |_| {
                            revoke.value().set(None);
                            confirming.set(Some(id.clone()));
                        }
                    >
                        "Revoke"
                    </button>
                }
                .into_any()
            }
        }
    };
    let columns = vec![
        Column::new("name", "Name", |t: &TokenRow| t.name.clone()).sortable(),
        Column::new("owner", "Owner", |t: &TokenRow| {
            let mine = t.mine;
            let tenant = t.tenant.clone().map(|name| format!(" · {name}"));
            view! {
                {t.owner.clone()}
                {tenant}
                {mine.then(|| view! { " " <span class="badge">"you"</span> })}
            }
        })
        .sortable(),
        Column::new("created_at", "Created", |t: &TokenRow| {
            minute(&t.created_at)
        })
        .sortable(),
        Column::new("last_used_at", "Last used", |t: &TokenRow| {
            t.last_used_at
                .as_deref()
                .map_or_else(|| "never".to_string(), minute)
        })
        .sortable(),
        Column::new("expires_at", "Expires", |t: &TokenRow| {
            t.expires_at
                .as_deref()
                .map_or_else(|| "never".to_string(), minute)
        }),
        Column::new("revoke", "Revoke", revoking),
    ];
    view! {
        <ListPage
            resource=Tokens
            title="API tokens"
            columns=columns
            search=Search {
                placeholder: "Name or owner",
                label: "Search API tokens",
                page_size: PAGE_SIZE,
            }
            across_tenants=true
            panel=move || view! { <TokenCreator action=create /> }
            reload=Signal::derive(move || create.version().get() + revoke.version().get())
            message=message
            empty="No API tokens yet: make one for the PBX or a script above."
        />
    }
}

/// Makes a token: its name; then its secret, once, with a copy button.
#[component]
fn TokenCreator(action: ServerAction<CreateToken>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let answer = Signal::derive(move || action.value().get());
    let errors = form_errors(checked, answer);
    let general = general_error(errors, answer, vec!["name"].into());
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            name.set(String::new());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = name.get_untracked();
        let problems = check_name(&text);
        if problems.is_empty() {
            checked.set(Vec::new());
            action.dispatch(CreateToken {
                name: text.trim().to_string(),
            });
        } else {
            action.value().set(None);
            checked.set(problems);
        }
    };
    view! {
        <form class="card editor" novalidate on:submit=on_submit data-testid="token-form">
            <h2>"New API token"</h2>
            <div class="grid">
                <TextField form="token" name="name" label="Name" value=name errors=errors placeholder="PBX of the head office" />
            </div>
            <p class="hint">
                "The token acts as you, with your rights: send it as "
                <code>"Authorization: Bearer …"</code>
                " to the REST API. A revoked token is refused at once."
            </p>
            {move || general.get().map(|text| view! { <p class="error" role="alert" data-testid="form-error">{text}</p> })}
            <div class="buttons">
                <button type="submit" data-testid="create-token" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create token" }}
                </button>
            </div>
        </form>
        {move || match action.value().get() {
            Some(Ok(token)) => Some(view! { <NewSecret token=token action=action /> }),
            _ => None,
        }}
    }
}

/// A new token's secret, shown this once.
#[component]
fn NewSecret(token: NewToken, action: ServerAction<CreateToken>) -> impl IntoView {
    // `None`: not copied yet; `Some(false)`: the browser refused.
    let copied = RwSignal::new(None::<bool>);
    let secret = token.secret.clone();
    let on_copy = move |_| copy_to_clipboard(secret.clone(), copied);
    view! {
        <section class="card new-token" data-testid="new-token">
            <h2>{format!("The token “{}”", token.name)}</h2>
            <p class="warning" role="alert">
                <strong>"Copy it now: it will not be shown again."</strong>
                " Only its name stays listed; if it is lost, revoke it and make another."
            </p>
            <div class="secret">
                <code data-testid="token-secret">{token.secret.clone()}</code>
                <button type="button" data-testid="copy-token" on:click=on_copy>
                    "Copy"
                </button>
                <span class="copied" role="status" data-testid="copied">
                    {move || match copied.get() {
                        Some(true) => "Copied",
                        Some(false) => "The browser did not copy it: select it and copy it yourself.",
                        None => "",
                    }}
                </span>
            </div>
            <div class="buttons">
                <button type="button" class="secondary" data-testid="dismiss-token" on:click=move |_| action.value().set(None)>
                    "I have copied it"
                </button>
            </div>
        </section>
    }
}

/// Puts `text` on the clipboard; `done` says whether the browser did.
#[cfg(feature = "hydrate")]
fn copy_to_clipboard(text: String, done: RwSignal<Option<bool>>) {
    use wasm_bindgen_futures::js_sys::Reflect;
    use wasm_bindgen_futures::JsFuture;
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        done.set(Some(false));
        return;
    };
    // Outside a secure context the browser has no clipboard to write.
    let has_clipboard = Reflect::get(&navigator, &"clipboard".into())
        .map(|c| !c.is_undefined() && !c.is_null())
        .unwrap_or(false);
    if !has_clipboard {
        done.set(Some(false));
        return;
    }
    let promise = navigator.clipboard().write_text(&text);
    leptos::task::spawn_local(async move {
        done.set(Some(JsFuture::from(promise).await.is_ok()));
    });
}

/// On the server there is no clipboard (the button works once hydrated).
#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(text: String, done: RwSignal<Option<bool>>) {
    let _ = text;
    done.set(Some(false));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_has_1_to_64_characters() {
        assert!(check_name("PBX").is_empty());
        assert_eq!(check_name("   ")[0].field, "name");
        assert_eq!(check_name(&"é".repeat(65)).len(), 1);
        assert!(check_name(&"é".repeat(64)).is_empty());
    }

    #[test]
    fn times_are_shown_to_the_minute() {
        assert_eq!(minute("2026-01-05T10:20:30Z"), "2026-01-05 10:20");
    }
}
