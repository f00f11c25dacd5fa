use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::auth::{current_user, Logout, SignedIn};

/// The frame of every page behind the login: header, navigation, logout.
/// Sends a visitor who is not logged in to the login page.
#[component]
pub fn Layout(children: ChildrenFn) -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(me)) => view! { <Frame me=me>{children.read_value()()}</Frame> }.into_any(),
                    _ => view! { <Redirect path="/login" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(me: SignedIn, children: Children) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Ratedeck"</a>
            <nav>
                <a href="/">"Home"</a>
            </nav>
            <span class="who" data-testid="who">
                {me.username.clone()} " · " {me.role.clone()}
                {me.tenant.clone().map(|t| format!(" · {t}"))}
            </span>
            <ActionForm action=logout>
                <button type="submit" class="link" data-testid="logout">"Log out"</button>
            </ActionForm>
        </header>
        <main class="page">{children()}</main>
    }
}
