//! Pieces shared by pages.

pub mod form;
pub mod layout;
pub mod list_page;
pub mod tenant;
pub mod upload;

use leptos::prelude::ServerFnError;

/// A server function's error as a person reads it.
pub fn error_text(e: &ServerFnError) -> String {
    if let Some(fields) = crate::functions::invalid_fields(e) {
        return fields
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = e.to_string();
    text.trim_start_matches("error running server function: ")
        .to_string()
}
