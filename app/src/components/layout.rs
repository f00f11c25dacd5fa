use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_query_map;

use crate::functions::auth::{current_user, Logout, SignedIn};

/// The frame of every page behind the login (the parent route of those
/// pages): header, navigation, logout. Sends a visitor who is not logged in to
/// the login page. The pages inside find the logged-in user as a
/// [`SignedIn`] context; the frame stays while they change.
#[component]
pub fn Layout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(me)) => {
                        view! { <Frame me=me /> }.into_any()
                    }
                    _ => view! { <Redirect path="/login" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(me: SignedIn) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let query = use_query_map();
    // A system administrator's chosen tenant stays chosen from page to page.
    let link = move |path: &'static str| {
        move || match query.read().get("tenant") {
            Some(tenant) if !tenant.is_empty() => {
                let mut q = leptos_router::params::ParamsMap::new();
                q.insert("tenant", tenant);
                format!("{path}{}", q.to_query_string())
            }
            _ => path.to_string(),
        }
    };
    let who = format!(
        "{} · {}{}",
        me.username,
        me.role,
        me.tenant
            .as_ref()
            .map(|t| format!(" · {t}"))
            .unwrap_or_default()
    );
    provide_context(me);
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Ratedeck"</a>
            <nav>
                <A href=link("/") exact=true>"Home"</A>
                <A href=link("/rates")>"Call rates"</A>
                <A href=link("/billing")>"Billing"</A>
            </nav>
            <span class="who" data-testid="who">{who}</span>
            <ActionForm action=logout>
                <button type="submit" class="link" data-testid="logout">"Log out"</button>
            </ActionForm>
        </header>
        <main class="page">
            <Outlet />
        </main>
    }
}
