//! A file the server streams as an attachment, for every surface that offers
//! one (the REST API's call-rate and CDR exports and the portal's).

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};

/// The chunks of `stream` as an attachment named `filename` of
/// `content_type`. A chunk that fails ends the answer early (the error is
/// logged, not sent).
pub fn attachment<S>(stream: S, filename: &str, content_type: &'static str) -> Response
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
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}
