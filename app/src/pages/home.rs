use leptos::prelude::*;
use model::user::Role;

use crate::components::layout::use_current_user;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                user.signed_in()
                    .await
                    .map(|me| {
                        let system = me.role == Role::SystemAdmin;
                        view! {
                            <h1>"Welcome, " {me.username}</h1>
                            <p class="lead">
                                "Rate calls, keep CDRs and charge balances for your PBX tenants."
                            </p>
                            {system
                                .then(|| {
                                    view! {
                                        <p class="hint">
                                            "As the system administrator you choose a tenant on each page, then act on it."
                                        </p>
                                    }
                                })}
                        }
                    })
            })}
        </Suspense>
        <div class="cards">
            <a class="card link-card" href="/rates">
                <h2>"Call rates"</h2>
                <p>"Prices per destination prefix: search, sort, add and change them, export them as CSV."</p>
            </a>
            <a class="card link-card" href="/tariffs">
                <h2>"Tariffs"</h2>
                <p>"Rate tables with their own currency, free seconds, fees and grace period."</p>
            </a>
            <a class="card link-card" href="/billing-plans">
                <h2>"Billing plans"</h2>
                <p>"Which tariff rates the calls to a prefix, and when its accounts are billed."</p>
            </a>
            <a class="card link-card" href="/billing">
                <h2>"Billing settings"</h2>
                <p>"Whether calls are charged, whose account pays, and when."</p>
            </a>
        </div>
    }
}
