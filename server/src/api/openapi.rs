//! The published OpenAPI 3.1 document of `/api` and a page that renders it.

use axum::http::header;
use axum::response::{Html, IntoResponse};

/// The document, kept beside the code and checked against the routes by a test.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

/// A readable page of the operations, drawn from the document in the browser
/// with no third-party script.
pub async fn docs_page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
