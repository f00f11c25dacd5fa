use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_query_map;

use crate::components::banner::LowBalanceBanner;
use crate::functions::auth::{current_user, Logout, SignedIn};

/// The logged-in user, loaded once by the [`Layout`] for the pages inside it.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<SignedIn>, ServerFnError>>);

impl CurrentUser {
    /// The user, once loaded; `None` when nobody is logged in (the layout
    /// then sends the visitor to the login page).
    pub async fn signed_in(self) -> Option<SignedIn> {
        self.0.await.ok().flatten()
    }
}

/// The pages' access to the logged-in user.
pub fn use_current_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}

/// The frame of every page behind the login (their parent route): header,
/// navigation, logout. Sends a visitor who is not logged in to the login page.
///
/// The pages render outside the frame's `Suspense`, so that what they create
/// (resources in particular) is created once, in the same order, on the
/// server and in the browser; they read the user from [`CurrentUser`].
#[component]
pub fn Layout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    provide_context(CurrentUser(user));
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
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Ratedeck"</a>
            <nav>
                <A href=link("/") exact=true>"Home"</A>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let me = user.await.ok().flatten()?;
                        if !me.manages_tenant {
                            return Some(view! { <OwnLinks /> }.into_any());
                        }
                        let operator = me.role == model::user::Role::SystemAdmin;
                        Some(view! {
                            <A href=link("/rates")>"Call rates"</A>
                            <A href=link("/tariffs")>"Tariffs"</A>
                            <A href=link("/billing-plans")>"Billing plans"</A>
                            <A href=link("/billing")>"Billing"</A>
                            {operator.then(|| view! { <A href="/tenants">"Tenants"</A> })}
                            <A href=link("/users")>"Users"</A>
                            <ManagerLinks link=link />
                            <A href=link("/live-calls")>"Live calls"</A>
                            <A href=link("/prices")>"Call prices"</A>
                            <A href="/tokens">"API tokens"</A>
                            <A href="/account">"My account"</A>
                        }.into_any())
                    })}
                </Suspense>
            </nav>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) => {
                            let who = format!(
                                "{} · {}{}",
                                me.username,
                                me.role,
                                me.tenant.map(|t| format!(" · {t}")).unwrap_or_default(),
                            );
                            view! { <span class="who" data-testid="who">{who}</span> }.into_any()
                        }
                        _ => view! { <Redirect path="/login" /> }.into_any(),
                    }
                })}
            </Suspense>
            // A plain form: without the wasm it posts to the server function
            // itself; with it, the action does (and the router follows the
            // answer's redirect), with no form reader in the main module.
            <form
                method="post"
                action=Logout::url()
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    logout.dispatch(Logout {});
                }
            >
                <button type="submit" class="link" data-testid="logout">"Log out"</button>
            </form>
        </header>
        <LowBalanceBanner />
        <main class="page">
            <Outlet />
        </main>
    }
}

/// A standard user's navigation: only what is its own (its balance and
/// ledger, its calls, its statements, its spend, what a call would cost
/// it, its password).
#[component]
fn OwnLinks() -> impl IntoView {
    view! {
        <A href="/balances">"My balance"</A>
        <A href="/cdrs">"My calls"</A>
        <A href="/statements">"My statements"</A>
        <A href="/reports">"My spend"</A>
        <A href="/live-calls">"Live calls"</A>
        <A href="/prices">"Call prices"</A>
        <A href="/account">"My account"</A>
    }
}

/// The navigation's pages for those who manage a tenant (system and tenant
/// administrators); a standard user has none of them.
#[component]
fn ManagerLinks<L, F>(link: L) -> impl IntoView
where
    L: Fn(&'static str) -> F + Copy + Send + Sync + 'static,
    F: Fn() -> String + Send + Sync + 'static,
{
    view! {
        <A href=link("/cdrs")>"Calls"</A>
        <A href=link("/balances")>"Balances"</A>
        <A href=link("/statements")>"Statements"</A>
        <A href=link("/reports")>"Reports"</A>
        <A href=link("/webhooks")>"Webhooks"</A>
        <A href="/audit">"Audit log"</A>
    }
}
