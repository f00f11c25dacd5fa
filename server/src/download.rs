//! A file the server streams as an attachment, for every surface that offers
//! one (the REST API's call-rate export and the portal's).

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};

/// The chunks of `stream` as an attachment named `filename`. A chunk that
/// fails ends the answer early (the error is logged, not sent).
pub fn attachment<S>(stream: S, filename: &str) -> Response
where
    S: Stream<Item = billing::Result<String>> + Send + 'static,
{
    let body = Body::from_stream(stream.map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = %e, "export stopped");
            std::io::Error::other("export failed")
        })
    }));
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}
