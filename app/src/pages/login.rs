use leptos::prelude::*;

use crate::auth::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        login.value().get().and_then(|r| r.err()).map(|e| {
            let text = e.to_string();
            text.trim_start_matches("error running server function: ")
                .to_string()
        })
    };
    view! {
        <main class="login">
            <h1>"Ratedeck"</h1>
            <ActionForm action=login attr:class="card">
                <label>
                    "User name"
                    <input type="text" name="username" required autocomplete="username" data-testid="username" />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" required autocomplete="current-password" data-testid="password" />
                </label>
                <label>
                    "Tenant SIP domain"
                    <input type="text" name="domain" placeholder="empty for the system administrator" data-testid="domain" />
                </label>
                <p class="error" role="alert" data-testid="login-error">{error}</p>
                <button type="submit" disabled=move || login.pending().get() data-testid="login">"Log in"</button>
            </ActionForm>
        </main>
    }
}
