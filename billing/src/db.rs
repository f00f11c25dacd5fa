//! The database: SQLite (embedded, the default) or PostgreSQL, one code path.
//!
//! Every query runs through sqlx's `Any` driver. Most are one SQL text with
//! `$n` placeholders, which both backends take. Statements with many
//! parameters (multi-row inserts, long `IN` lists) are built by `sql.rs` with
//! anonymous `?` placeholders on SQLite, whose driver looks each numbered
//! parameter up by name, and `$n` on PostgreSQL. Money is bound as integer
//! units, times as unix milliseconds, so no type needs a backend of its own.
//!
//! Beside it, the backend's own driver serves the one read where `Any`'s
//! conversion of each row is the cost: a tariff's rate table, a million rows
//! ([`Db::rate_rows`], in [`typed`]), one SQL text for both backends too.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};

use crate::error::{Error, Result};

mod typed;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Write-ahead log pages after which a commit on SQLite copies the log into
/// the database file itself, on that commit's time (and that of every
/// request waiting behind it). Only a safety net: the server checkpoints in
/// the background ([`Db::checkpoint`]), which keeps commits short.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 20_000;
/// How often the server checkpoints SQLite's write-ahead log while it grows:
/// small, frequent copies measured the shortest waits for the writers
/// (authorisations' p99 under load: 4.9 ms at 20 ms, 6 ms at 100 ms, 8 ms at
/// 250 ms, 7 ms with SQLite's own checkpoints at 1,000 pages).
pub const CHECKPOINT_PERIOD: Duration = Duration::from_millis(20);
/// How often at most it looks while nothing is written.
pub const CHECKPOINT_IDLE_PERIOD: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = Error;
    fn from_str(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Internal(
                "DATABASE_URL must start with sqlite: or postgres://".into(),
            ))
        }
    }
}

/// The backend's own driver on the same database.
#[derive(Debug, Clone)]
enum Typed {
    /// The database file, opened by rusqlite for each read.
    Sqlite(std::sync::Arc<Path>),
    Postgres(sqlx::PgPool),
    /// An in-memory SQLite database is its one connection's own: it is read
    /// through that connection.
    Shared,
}

/// Connections the typed pool opens at most (rate tables are built one
/// tariff at a time, and rarely).
const TYPED_CONNECTIONS: u32 = 2;

/// Authorisation groups granted side by side on PostgreSQL, each for its
/// own share of the tenants (see `charging::Queue`).
const AUTHORIZATION_LANES: usize = 4;

/// A pool on one database, with its migrations applied.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    typed: Typed,
    backend: Backend,
    rates: std::sync::Arc<crate::resolver::RateCache>,
    /// SQLite's writers of this process, one at a time (see [`Db::write_turn`]).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Online-charging authorisations waiting to be granted together.
    authorizations: std::sync::Arc<crate::charging::Queue>,
    /// Tokens recently found valid.
    tokens: std::sync::Arc<crate::auth::TokenCache>,
    /// Counts of lists whose rows carry a version (see [`crate::listing`]).
    pub(crate) counts: std::sync::Arc<crate::listing::CountCache>,
    /// The clock of the login throttle.
    login_clock: crate::throttle::ThrottleClock,
}

pub type Tx = Transaction<'static, Any>;

impl Db {
    /// Opens (creating when needed) the database at `url` and applies migrations.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend: Backend = url.parse()?;
        let (url, max) = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => (url.to_string(), 16),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 30000",
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                    ] {
                        sqlx::Executor::execute(&mut *conn, pragma).await?;
                    }
                    let autocheckpoint =
                        format!("PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}");
                    sqlx::Executor::execute(&mut *conn, autocheckpoint.as_str()).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        let typed = match backend {
            Backend::Sqlite if max == 1 => Typed::Shared,
            Backend::Sqlite => Typed::Sqlite(sqlite_path(&url).into()),
            Backend::Postgres => Typed::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(TYPED_CONNECTIONS)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy(&url)?,
            ),
        };
        let db = Db {
            pool,
            typed,
            backend,
            rates: Default::default(),
            write_gate: Default::default(),
            authorizations: std::sync::Arc::new(crate::charging::Queue::new(match backend {
                Backend::Sqlite => 1,
                Backend::Postgres => AUTHORIZATION_LANES,
            })),
            tokens: Default::default(),
            counts: Default::default(),
            login_clock: Default::default(),
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| Error::Internal(format!("migrations: {e}")))
    }

    /// Whether this server can serve requests: the database answers and
    /// every migration this build carries is applied (a newer server on the
    /// same database may have applied more). The reason when not.
    pub async fn readiness(&self) -> std::result::Result<(), String> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| format!("the database does not answer: {e}"))?;
        let missing: Vec<String> = migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{:04} {}", m.version, m.description))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("migrations not applied: {}", missing.join(", ")))
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// On PostgreSQL, the backend's own pool (`COPY` and typed rows).
    pub(crate) fn postgres(&self) -> Option<&sqlx::PgPool> {
        match &self.typed {
            Typed::Postgres(pool) => Some(pool),
            _ => None,
        }
    }

    /// On PostgreSQL, a connection of its own for one bulk read or write
    /// (a deck's import or export), which may last as long as its client
    /// takes to send or read the file: outside every pool, so that it holds
    /// up neither requests nor rate-table builds.
    pub(crate) async fn postgres_connection(&self) -> Result<Option<sqlx::PgConnection>> {
        use sqlx::ConnectOptions;
        match self.postgres() {
            Some(pool) => Ok(Some(pool.connect_options().connect().await?)),
            None => Ok(None),
        }
    }

    /// Whether [`Db::rate_rows`] may read two statements at once.
    pub(crate) fn parallel_reads(&self) -> bool {
        !matches!(self.typed, Typed::Shared)
    }

    /// The rows of `sql` (with `binds` for `$1`, `$2`, …), rate-table rows,
    /// read through the backend's own driver, each as `map` makes it.
    pub(crate) async fn rate_rows<T: Send + 'static>(
        &self,
        sql: &str,
        binds: &[i64],
        map: fn(crate::resolver::RateRow) -> T,
    ) -> Result<Vec<T>> {
        use crate::resolver::RateRow;
        fn query<'q, DB: sqlx::Database>(
            sql: &'q str,
            binds: &[i64],
        ) -> sqlx::query::QueryAs<'q, DB, RateRow, DB::Arguments<'q>>
        where
            i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            RateRow: for<'r> sqlx::FromRow<'r, DB::Row>,
        {
            binds
                .iter()
                .fold(sqlx::query_as(sql), |query, value| query.bind(*value))
        }
        let rows = match &self.typed {
            Typed::Sqlite(path) => {
                let (path, sql, binds) = (path.clone(), sql.to_string(), binds.to_vec());
                return tokio::task::spawn_blocking(move || {
                    typed::sqlite_rate_rows(&path, &sql, &binds, map)
                })
                .await
                .map_err(Error::internal)?;
            }
            Typed::Postgres(pool) => return typed::postgres_rate_rows(pool, sql, binds, map).await,
            Typed::Shared => query(sql, binds).fetch(&self.pool),
        };
        Ok(rows.map_ok(map).try_collect().await?)
    }

    /// Rate tables kept in memory, shared by clones of this handle.
    pub(crate) fn rate_cache(&self) -> &crate::resolver::RateCache {
        &self.rates
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue instead of failing midway.
    pub async fn write(&self) -> Result<Tx> {
        let asked = std::time::Instant::now();
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        crate::metrics::write_waited(asked.elapsed());
        Ok(tx)
    }

    /// On SQLite, waits for this process's other busy writers to finish:
    /// hold the answer across [`Db::write`] and its commit. SQLite lets one
    /// writer in at a time and makes the others sleep and retry (1 ms, then
    /// longer); queueing here instead hands the lock over at once. `None` on
    /// PostgreSQL, whose writers lock rows, not the database.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// The queue of authorisations granted in groups.
    pub(crate) fn authorizations(&self) -> &crate::charging::Queue {
        &self.authorizations
    }

    /// Tokens recently found valid.
    pub(crate) fn token_cache(&self) -> &crate::auth::TokenCache {
        &self.tokens
    }

    /// The clock of the login throttle.
    pub(crate) fn login_clock(&self) -> &crate::throttle::ThrottleClock {
        &self.login_clock
    }

    /// On SQLite, copies the write-ahead log into the database file as far
    /// as readers allow, without waiting for writers or holding them up (a
    /// passive checkpoint); answers the frames the log holds, which change
    /// only when something was written. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<i64> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await?;
        Ok(sqlx::Row::try_get(&row, "log")?)
    }

    pub async fn close(&self) {
        if let Typed::Postgres(pool) = &self.typed {
            pool.close().await;
        }
        self.pool.close().await;
    }
}

/// The SQLite URL with `mode=rwc` (create the file) and its pool size; makes
/// the file's folder if it is missing.
fn sqlite_url(url: &str) -> Result<(String, u32)> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" || query.contains("mode=memory") {
        // Each in-memory connection is its own database: keep exactly one.
        return Ok((url.to_string(), 1));
    }
    if let Some(parent) = Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Internal(format!("cannot create {}: {e}", parent.display())))?;
        }
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok((format!("sqlite://{path}?{query}"), 8))
}

/// The file of a SQLite URL as [`sqlite_url`] gives it.
fn sqlite_path(url: &str) -> &Path {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    Path::new(rest.split_once('?').map_or(rest, |(path, _)| path))
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_their_file_and_folder() {
        let dir = std::env::temp_dir().join(format!("ratedeck-url-{}", now_ms()));
        let url = format!("sqlite://{}/x/ratedeck.db", dir.display());
        let (out, max) = sqlite_url(&url).expect("valid");
        assert!(out.ends_with("ratedeck.db?mode=rwc"));
        assert_eq!(max, 8);
        assert!(dir.join("x").is_dir());
        assert_eq!(sqlite_url("sqlite::memory:").expect("valid").1, 1);
    }

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(
            "sqlite://a.db".parse::<Backend>().ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            "postgres://postgres@127.0.0.1/test".parse::<Backend>().ok(),
            Some(Backend::Postgres)
        );
        assert!("mysql://x".parse::<Backend>().is_err());
    }
}
