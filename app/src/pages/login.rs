use leptos::prelude::*;

use crate::components::error_text;
use crate::functions::auth::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| error_text(&e))
    };
    view! {
        <main class="login">
            <div class="login-box">
                <p class="brand">"Ratedeck"</p>
                <h1>"Log in"</h1>
                <ActionForm action=login attr:class="card" attr:data-testid="login-form">
                    <label>
                        "User name"
                        <input
                            type="text"
                            name="username"
                            required
                            autofocus
                            autocomplete="username"
                            data-testid="username"
                        />
                    </label>
                    <label>
                        "Password"
                        <input
                            type="password"
                            name="password"
                            required
                            autocomplete="current-password"
                            data-testid="password"
                        />
                    </label>
                    <label>
                        "Tenant SIP domain"
                        <input
                            type="text"
                            name="domain"
                            placeholder="empty for the system administrator"
                            autocomplete="organization"
                            data-testid="domain"
                        />
                    </label>
                    <p class="error" role="alert" data-testid="login-error">
                        {error}
                    </p>
                    <button type="submit" disabled=move || login.pending().get() data-testid="login">
                        {move || if login.pending().get() { "Logging in…" } else { "Log in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
