//! Ratedeck's portal: server-rendered Leptos pages, hydrated in the browser.
//!
//! Pages call server functions (under `/portal/fn`), which run the same
//! `billing` use cases as the REST API with the caller taken from the portal
//! session, never from anything the browser sends.

#[cfg(feature = "ssr")]
pub mod charts;
pub mod components;
pub mod functions;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute};

use crate::components::layout::Layout;
use crate::pages::not_found::NotFound;

/// The HTML document around the app. On the server it also sets the page's
/// Content-Security-Policy: only the site's own files, and the one inline
/// hydration script by this answer's nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    server::content_security_policy();
    let stylesheet = stylesheet_href(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                <link rel="stylesheet" id="leptos" href=stylesheet />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The stylesheet's address: `/pkg/<name>.<hash>.css` when the site was
/// built with fingerprinted names (see `server::asset_hash`), else
/// `/pkg/<name>.css`.
fn stylesheet_href(options: &LeptosOptions) -> String {
    #[cfg(feature = "ssr")]
    if let Some(hash) = server::asset_hash(options, "css") {
        return format!(
            "/{}/{}.{hash}.css",
            options.site_pkg_dir, options.output_name
        );
    }
    format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
}

/// A page whose code is not in the browser's main module: the browser loads
/// it (the page's own wasm module, and any it shares with other pages) when
/// the page is first shown. On a page the server renders, the server names
/// those modules in the page's head for the browser to preload, and
/// hydration waits for them (see `frontend`). The route's `data` creates
/// nothing: each page loads its data itself, as it did before it was lazy.
macro_rules! lazy_page {
    ($($route:ident => $page:path),* $(,)?) => {$(
        #[doc = concat!("The lazily loaded route of [`", stringify!($page), "`].")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_page! {
    LoginRoute => pages::login::LoginPage,
    HomeRoute => pages::home::HomePage,
    RatesRoute => pages::rates::RatesPage,
    TariffsRoute => pages::tariffs::TariffsPage,
    BillingPlansRoute => pages::billing_plans::BillingPlansPage,
    BillingSettingsRoute => pages::billing_settings::BillingSettingsPage,
    TenantsRoute => pages::tenants::TenantsPage,
    UsersRoute => pages::users::UsersPage,
    AccountRoute => pages::account::AccountPage,
    TokensRoute => pages::tokens::TokensPage,
    AuditRoute => pages::audit::AuditPage,
    CdrsRoute => pages::cdrs::CdrsPage,
    CdrDetailRoute => pages::cdrs::CdrDetailPage,
    BalancesRoute => pages::balances::BalancesPage,
    LiveCallsRoute => pages::live_calls::LiveCallsPage,
    PricesRoute => pages::prices::PricesPage,
    ReportsRoute => pages::reports::ReportsPage,
    WebhooksRoute => pages::webhooks::WebhooksPage,
    DeliveriesRoute => pages::webhook_deliveries::DeliveriesPage,
    StatementsRoute => pages::statements::StatementsPage,
    StatementRoute => pages::statements::StatementPage,
}

/// The portal. Every page is lazily loaded ([`lazy_page`]); the frame
/// around them ([`Layout`]) and the fallback are in the main module.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Ratedeck" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view={Lazy::<HomeRoute>::new()} />
                    <Route path=path!("rates") view={Lazy::<RatesRoute>::new()} />
                    <Route path=path!("tariffs") view={Lazy::<TariffsRoute>::new()} />
                    <Route path=path!("billing-plans") view={Lazy::<BillingPlansRoute>::new()} />
                    <Route path=path!("billing") view={Lazy::<BillingSettingsRoute>::new()} />
                    <Route path=path!("tenants") view={Lazy::<TenantsRoute>::new()} />
                    <Route path=path!("users") view={Lazy::<UsersRoute>::new()} />
                    <Route path=path!("account") view={Lazy::<AccountRoute>::new()} />
                    <Route path=path!("tokens") view={Lazy::<TokensRoute>::new()} />
                    <Route path=path!("audit") view={Lazy::<AuditRoute>::new()} />
                    <Route path=path!("cdrs") view={Lazy::<CdrsRoute>::new()} />
                    <Route path=path!("balances") view={Lazy::<BalancesRoute>::new()} />
                    <Route path=path!("reports") view={Lazy::<ReportsRoute>::new()} />
                    <Route path=path!("live-calls") view={Lazy::<LiveCallsRoute>::new()} />
                    <Route path=path!("prices") view={Lazy::<PricesRoute>::new()} />
                    <Route path=path!("webhooks") view={Lazy::<WebhooksRoute>::new()} />
                    <Route path=path!("webhooks/deliveries") view={Lazy::<DeliveriesRoute>::new()} />
                    <Route path=path!("cdrs/:id") view={Lazy::<CdrDetailRoute>::new()} />
                    <Route path=path!("statements") view={Lazy::<StatementsRoute>::new()} />
                    <Route path=path!("statements/:id") view={Lazy::<StatementRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
