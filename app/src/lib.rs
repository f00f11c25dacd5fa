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
use leptos_router::path;

use crate::components::layout::Layout;
use crate::pages::account::AccountPage;
use crate::pages::audit::AuditPage;
use crate::pages::balances::BalancesPage;
use crate::pages::billing_plans::BillingPlansPage;
use crate::pages::billing_settings::BillingSettingsPage;
use crate::pages::cdrs::{CdrDetailPage, CdrsPage};
use crate::pages::live_calls::LiveCallsPage;
use crate::pages::prices::PricesPage;
use crate::pages::rates::RatesPage;
use crate::pages::reports::ReportsPage;
use crate::pages::statements::{StatementPage, StatementsPage};
use crate::pages::tariffs::TariffsPage;
use crate::pages::tenants::TenantsPage;
use crate::pages::tokens::TokensPage;
use crate::pages::users::UsersPage;
use crate::pages::webhook_deliveries::DeliveriesPage;
use crate::pages::webhooks::WebhooksPage;
use crate::pages::{home::HomePage, login::LoginPage, not_found::NotFound};

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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Ratedeck" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("rates") view=RatesPage />
                    <Route path=path!("tariffs") view=TariffsPage />
                    <Route path=path!("billing-plans") view=BillingPlansPage />
                    <Route path=path!("billing") view=BillingSettingsPage />
                    <Route path=path!("tenants") view=TenantsPage />
                    <Route path=path!("users") view=UsersPage />
                    <Route path=path!("account") view=AccountPage />
                    <Route path=path!("tokens") view=TokensPage />
                    <Route path=path!("audit") view=AuditPage />
                    <Route path=path!("cdrs") view=CdrsPage />
                    <Route path=path!("balances") view=BalancesPage />
                    <Route path=path!("reports") view=ReportsPage />
                    <Route path=path!("live-calls") view=LiveCallsPage />
                    <Route path=path!("prices") view=PricesPage />
                    <Route path=path!("webhooks") view=WebhooksPage />
                    <Route path=path!("webhooks/deliveries") view=DeliveriesPage />
                    <Route path=path!("cdrs/:id") view=CdrDetailPage />
                    <Route path=path!("statements") view=StatementsPage />
                    <Route path=path!("statements/:id") view=StatementPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
