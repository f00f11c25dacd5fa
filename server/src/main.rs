//! `ratedeck`: serves the portal and the APIs on one port (and, when
//! `RATEDECK_LEGACY_LISTEN` is set, the same application on a second one).

use std::future::IntoFuture;
use std::io::IsTerminal;
use std::net::SocketAddr;

use billing::Db;
use clap::Parser;
use leptos::config::get_configuration;
use server::config::{redact_url, Config, LogFormat};
use server::AppState;
use tracing_subscriber::EnvFilter;

/// A server answers many small requests, each allocating briefly;
/// mimalloc's per-thread free lists serve those faster than the system's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            // Colour codes only on a terminal: a log file or journal gets plain text.
            .with_ansi(std::io::stdout().is_terminal())
            .with_env_filter(filter())
            .init(),
        // One object per line; the request's span (its id, method and path)
        // rides along as `span`.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .init(),
    }
    server::ops::recorder();

    let mut leptos_options = get_configuration(None)?.leptos_options;
    if leptos_options.output_name.is_empty() {
        leptos_options.output_name = "ratedeck".into();
    }
    leptos_options.site_addr = config.listen;
    // A site built by scripts/build-site.sh has fingerprinted file names,
    // listed in its hash file: the pages then link those names.
    let hashes = std::path::Path::new(&*leptos_options.site_root).join("hash.txt");
    if !leptos_options.hash_files && hashes.is_file() {
        if let Ok(absolute) = std::fs::canonicalize(&hashes) {
            leptos_options.hash_files = true;
            leptos_options.hash_file = absolute.to_string_lossy().into_owned().into();
        }
    }

    tracing::info!(database = %redact_url(&config.database_url), "opening the database");
    let db = Db::connect(&config.database_url).await?;
    if let Some(password) = db
        .ensure_system_admin(config.admin_password.clone())
        .await?
    {
        // Shown once, on the console only: it is nowhere else.
        println!("\nCreated the system administrator 'admin' with the password: {password}\n");
    }

    let state = AppState {
        db: db.clone(),
        leptos_options,
    };
    let sweeper = server::sweep::spawn_hold_sweeper(db.clone());
    let checkpointer = server::sweep::spawn_checkpointer(db.clone());
    let statements = server::sweep::spawn_statement_sweeper(db.clone());
    let deliveries = server::webhooks::Worker::new(
        db.clone(),
        server::webhooks::WorkerConfig {
            private_targets: config.webhook_private_targets,
            ..Default::default()
        },
    )?
    .spawn();
    let app = server::web::router(state, config.secure_cookies).layer(axum::Extension(
        server::ops::MetricsAccess::new(config.metrics_token.clone()),
    ));
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!("Ratedeck listening on http://{}", config.listen);
    let main = axum::serve(
        listener,
        app.clone()
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal());
    match config.legacy_listen {
        Some(address) => {
            let legacy = tokio::net::TcpListener::bind(address).await?;
            tracing::info!("Ratedeck also listening on http://{address}");
            let second = axum::serve(
                legacy,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal());
            tokio::try_join!(main.into_future(), second.into_future())?;
        }
        None => main.await?,
    }
    sweeper.abort();
    statements.abort();
    // A delivery cut short is posted again once its lease ends.
    deliveries.abort();
    if let Some(checkpointer) = checkpointer {
        checkpointer.abort();
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; requests in flight then finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
