//! What every answer carries besides its body: security headers, a caching
//! policy and, when the client accepts it, compression.
//!
//! - `Content-Security-Policy`: portal pages set their own, with the nonce
//!   of their inline hydration script (`app::server::page_policy`); every
//!   other answer gets [`DEFAULT_POLICY`].
//! - `Referrer-Policy: same-origin`; `Strict-Transport-Security` when the
//!   server runs behind HTTPS (secure cookies on).
//! - `Cache-Control`: a year, immutable, for the site's fingerprinted files
//!   (`/pkg/<name>.<16 hex digits>.<ext>`); `no-cache` for everything else
//!   that does not say otherwise.
//! - Compression (brotli or gzip, as the client's `Accept-Encoding` asks) of
//!   API answers and pages; the site's files are precompressed at build time
//!   and served as they are.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of answers that are not portal pages: the site's own
/// script and wasm only.
pub const DEFAULT_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
/// HSTS: a year, once the server has been reached over HTTPS.
pub const HSTS: &str = "max-age=31536000";
/// The cache policy of a fingerprinted file: its name changes with its content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The cache policy of everything else: ask the server each time.
pub const NO_CACHE: &str = "no-cache";

/// Wraps the application in the layers above.
pub fn layers(router: Router, secure_cookies: bool) -> Router {
    let router = router
        .layer(middleware::from_fn(cache_policy))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ));
    let router = if secure_cookies {
        router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    } else {
        router
    };
    router.layer(CompressionLayer::new().br(true).gzip(true))
}

/// True for `/pkg/<name>.<16 or more hex digits>.<ext>`: a site file whose
/// name carries its content hash.
pub fn is_fingerprinted(path: &str) -> bool {
    let Some(file) = path.strip_prefix("/pkg/") else {
        return false;
    };
    let mut parts = file.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && !file.contains('/')
        && hash.len() >= 16
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn cache_policy(request: Request, next: Next) -> Response {
    let fingerprinted = is_fingerprinted(request.uri().path());
    let mut response = next.run(request).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let policy = if fingerprinted && response.status().is_success() {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_site_files_are_fingerprinted() {
        assert!(is_fingerprinted("/pkg/ratedeck.0123456789abcdef.wasm"));
        assert!(is_fingerprinted("/pkg/ratedeck.0123456789abcdef.css"));
        // The lazily loaded pages' modules and their loader (scripts/build-site.sh).
        assert!(is_fingerprinted(
            "/pkg/split___rates_route_view_3324361955692231813.0123456789abcdef.wasm"
        ));
        assert!(is_fingerprinted("/pkg/chunk_37.0123456789abcdef.wasm"));
        assert!(is_fingerprinted("/pkg/__wasm_split.0123456789abcdef.js"));
        assert!(!is_fingerprinted("/pkg/__wasm_split.________________.js"));
        assert!(!is_fingerprinted("/pkg/ratedeck.css"));
        assert!(!is_fingerprinted("/pkg/ratedeck_bg.wasm"));
        assert!(!is_fingerprinted("/pkg/ratedeck.0123.js"));
        assert!(!is_fingerprinted("/pkg/x/ratedeck.0123456789abcdef.js"));
        assert!(!is_fingerprinted("/favicon.0123456789abcdef.ico"));
        assert!(!is_fingerprinted("/pkg/.0123456789abcdef.js"));
    }
}
