//! `/account`: the logged-in user changes its own password.

use leptos::prelude::*;

use crate::components::error_text;
use crate::components::form::TextField;
use crate::functions::people::ChangeMyPassword;
use crate::functions::{invalid_fields, refused_fields};

#[component]
pub fn AccountPage() -> impl IntoView {
    let action = ServerAction::<ChangeMyPassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let errors = Signal::derive(move || action.value().with(refused_fields));
    let outcome = move || match action.value().get() {
        Some(Ok(text)) => Some(
            view! { <p class="notice" role="status" data-testid="notice">{text}</p> }.into_any(),
        ),
        Some(Err(e)) if invalid_fields(&e).is_none() => Some(
            view! { <p class="error" role="alert" data-testid="form-error">{error_text(&e)}</p> }
                .into_any(),
        ),
        _ => None,
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            current.set(String::new());
            new.set(String::new());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ChangeMyPassword {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
        });
    };
    view! {
        <h1>"My account"</h1>
        {outcome}
        <form class="card editor" novalidate on:submit=on_submit data-testid="password-form">
            <h2>"Change my password"</h2>
            <div class="grid">
                <TextField form="account" name="current_password" label="Current password" value=current errors=errors secret=true />
                <TextField form="account" name="new_password" label="New password" value=new errors=errors secret=true />
            </div>
            <p class="hint">"At least 8 characters. Your other logins end."</p>
            <div class="buttons">
                <button type="submit" data-testid="save-password" disabled=move || action.pending().get()>
                    "Change password"
                </button>
            </div>
        </form>
    }
}
