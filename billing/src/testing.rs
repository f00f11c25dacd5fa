//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL
//! database on the local server (dropped again when the test ends), so tests
//! run in parallel without seeing each other.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::{Backend, Db};
use crate::error::{Error, Result};

/// Where the PostgreSQL tests connect to create their databases.
pub fn postgres_admin_url() -> String {
    std::env::var("RATEDECK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that lives as long as the value.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    format!(
        "ratedeck_test_{}_{}_{}",
        std::process::id(),
        crate::db::now_ms(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    pub async fn new(backend: Backend) -> Result<TestDb> {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                let db = Db::connect(&url).await?;
                Ok(TestDb {
                    db,
                    url,
                    cleanup: Cleanup::File(path),
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                sqlx::any::install_default_drivers();
                let admin = sqlx::AnyPool::connect(&admin_url).await.map_err(|e| {
                    Error::Internal(format!("PostgreSQL at {admin_url} is not reachable: {e}"))
                })?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                let (base, _) = admin_url.rsplit_once('/').unwrap_or((&admin_url, ""));
                let url = format!("{base}/{name}");
                let db = Db::connect(&url).await?;
                Ok(TestDb {
                    db,
                    url,
                    cleanup: Cleanup::Database { admin_url, name },
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which is blocked until
                // this returns: work on a thread of its own, and do not wait
                // for the test's pool (its tasks cannot run now). FORCE ends
                // the pool's sessions on the server.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(admin) = sqlx::AnyPool::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&admin)
                            .await;
                            admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// The system administrator that tests and benchmarks act as when they set
/// up their own data (no login behind it).
pub fn system_admin() -> crate::Caller {
    crate::Caller {
        user_id: 0,
        username: "root".into(),
        role: model::user::Role::SystemAdmin,
        tenant_id: None,
        family: String::new(),
        expires_at: None,
        token_name: None,
        origin: crate::audit::Origin::new(crate::audit::Surface::Rest, None),
    }
}

/// A new tenant named after its SIP domain, in the tenant's default
/// currency, and the system administrator's scope on it.
pub async fn new_tenant(db: &Db, sip_domain: &str) -> Result<crate::Scope> {
    let tenant = db
        .create_tenant(
            &system_admin(),
            crate::tenants::NewTenant {
                name: sip_domain.into(),
                sip_domain: sip_domain.into(),
                currency: None,
            },
        )
        .await?;
    system_admin().scope(model::ApiId::decode(&tenant.id))
}

/// Posts a change of `amount` units of `kind` to an account (the tenant's
/// own, or `user_id`'s) as if it had been posted at `at` (unix ms), with
/// its ledger row: a ledger laid out over past periods, for the statement
/// tests. Answers the balance after it.
pub async fn post_at(
    db: &Db,
    tenant_id: i64,
    user_id: Option<i64>,
    kind: crate::balances::TransactionKind,
    amount: i64,
    call_id: Option<&str>,
    at: i64,
) -> Result<i64> {
    let mut tx = db.write().await?;
    let after = crate::balances::post_at(
        &mut tx,
        crate::balances::Entry {
            tenant_id,
            user_id,
            kind,
            amount,
            call_id,
            description: "test",
            created_by: None,
        },
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
