//! What every handler can reach.

use axum::extract::FromRef;
use billing::Db;
use leptos::config::LeptosOptions;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
}
