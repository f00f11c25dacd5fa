//! Settings, as flags or environment variables.

use std::net::SocketAddr;

use clap::Parser;

#[derive(Parser, Clone)]
#[command(
    name = "ratedeck",
    version,
    about = "Call billing and rating for multi-tenant IP-PBXs"
)]
pub struct Config {
    /// Address the portal and API listen on.
    #[arg(long, env = "RATEDECK_LISTEN", default_value = "127.0.0.1:8887")]
    pub listen: SocketAddr,

    /// A second address serving the same application, for clients of the
    /// older tariff API with a fixed port (e.g. `0.0.0.0:8990`).
    #[arg(long, env = "RATEDECK_LEGACY_LISTEN")]
    pub legacy_listen: Option<SocketAddr>,

    /// `sqlite://path/to/file.db` (the default, created on first start) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/ratedeck.db"
    )]
    pub database_url: String,

    /// Password for the `admin` system administrator created on first start;
    /// without it a random one is printed once.
    #[arg(long, env = "RATEDECK_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Mark the portal's session cookie `Secure` (serve behind HTTPS).
    #[arg(long, env = "RATEDECK_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Post webhooks to endpoints on loopback, private and link-local
    /// addresses too (by default only public addresses are posted to).
    #[arg(
        long,
        env = "RATEDECK_WEBHOOK_PRIVATE_TARGETS",
        default_value_t = false
    )]
    pub webhook_private_targets: bool,

    /// `text` (the default) or `json`: one JSON object per line, with the
    /// request id of the request it was written for.
    #[arg(long, env = "RATEDECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// A bearer token that may read `/metrics` from anywhere (without it,
    /// only clients on the loopback interface may).
    #[arg(long, env = "RATEDECK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("legacy_listen", &self.legacy_listen)
            .field("database", &redact_url(&self.database_url))
            .field("secure_cookies", &self.secure_cookies)
            .field("log_format", &self.log_format)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("webhook_private_targets", &self.webhook_private_targets)
            .finish_non_exhaustive()
    }
}

/// A database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_out_of_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db/ratedeck"),
            "postgres://app:***@db/ratedeck"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(
            redact_url("sqlite://data/ratedeck.db"),
            "sqlite://data/ratedeck.db"
        );
    }
}
