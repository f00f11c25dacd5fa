//! Ratedeck's portal: server-rendered Leptos pages, hydrated in the browser.
//!
//! Pages call server functions (under `/portal/fn`), which run the same
//! `billing` use cases as the REST API with the caller taken from the portal
//! session, never from anything the browser sends.

pub mod components;
pub mod functions;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Layout;
use crate::pages::billing::BillingPage;
use crate::pages::billing_plans::BillingPlansPage;
use crate::pages::rates::RatesPage;
use crate::pages::tariffs::TariffsPage;
use crate::pages::{home::HomePage, login::LoginPage, not_found::NotFound};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/ratedeck.css" />
        <Title text="Ratedeck" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("rates") view=RatesPage />
                    <Route path=path!("tariffs") view=TariffsPage />
                    <Route path=path!("billing-plans") view=BillingPlansPage />
                    <Route path=path!("billing") view=BillingPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
