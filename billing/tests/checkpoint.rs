//! The write-ahead log's checkpoint, which the server runs in the
//! background: it reports a change only when something was written.

use billing::testing::{new_tenant, TestDb};
use billing::Backend;

#[tokio::test]
async fn a_checkpoint_reports_the_log_unchanged_until_something_is_written() {
    let t = TestDb::new(Backend::Sqlite).await.expect("database");
    new_tenant(&t.db, "acme.example.com").await.expect("tenant");
    let first = t.db.checkpoint().await.expect("checkpoint");
    assert!(first > 0, "the migrations and the tenant were logged");
    assert_eq!(t.db.checkpoint().await.expect("checkpoint"), first);

    new_tenant(&t.db, "globex.example.com")
        .await
        .expect("tenant");
    let after = t.db.checkpoint().await.expect("checkpoint");
    assert_ne!(after, first, "a write changes the log");
    assert_eq!(t.db.checkpoint().await.expect("checkpoint"), after);
}

#[tokio::test]
async fn postgres_has_no_log_to_checkpoint() {
    let t = TestDb::new(Backend::Postgres).await.expect("database");
    assert_eq!(t.db.checkpoint().await.expect("checkpoint"), 0);
}
