//! The number of rates of each tariff, as the portal's tariffs page shows it,
//! counts the tenant's own rates only; on SQLite and on PostgreSQL.

use billing::call_rates::TariffRef;
use billing::tenants::NewTenant;
use billing::testing::TestDb;
use billing::Backend;
use model::call_rate::CallRateFields;
use model::tariff::TariffPatch;

const REST: billing::Origin = billing::Origin {
    surface: billing::Surface::Rest,
    client: None,
};

fn rate(prefix: &str) -> CallRateFields {
    let body = serde_json::json!({
        "prefix": prefix, "type": "LOCAL", "free_seconds": 0, "grace_period": 0,
        "interval_1": 60, "interval_n": 60, "connect_fee": 0, "postcall_surcharge": 0,
        "price_1": "0.1", "price_n": "0.1",
    });
    CallRateFields::from_json(body.as_object().expect("object")).expect("valid rate")
}

async fn counts(backend: Backend) {
    let t = TestDb::new(backend).await.expect("database");
    let db = &t.db;
    let password = db
        .ensure_system_admin(None)
        .await
        .expect("bootstrap")
        .expect("a generated password");
    let login = db
        .login("admin", &password, None, REST)
        .await
        .expect("login");
    let root = db
        .authenticate(&login.access_token, REST)
        .await
        .expect("root");
    let mut scopes = Vec::new();
    for domain in ["a.example.com", "b.example.com"] {
        let tenant = db
            .create_tenant(
                &root,
                NewTenant {
                    name: domain.into(),
                    sip_domain: domain.into(),
                    currency: None,
                },
            )
            .await
            .expect("tenant");
        let id = model::ApiId::decode(&tenant.id).expect("id");
        scopes.push(root.scope(Some(id)).expect("scope"));
    }
    let (a, b) = (&scopes[0], &scopes[1]);

    let wholesale = db
        .create_tariff(
            a,
            TariffPatch {
                name: Some("Wholesale".into()),
                ..TariffPatch::default()
            }
            .into_new()
            .expect("complete"),
        )
        .await
        .expect("tariff");
    for prefix in ["44", "45"] {
        db.create_call_rate(a, rate(prefix)).await.expect("rate");
    }
    db.create_rate(a, TariffRef::Id(wholesale.id), rate("49").into())
        .await
        .expect("wholesale rate");
    db.create_call_rate(b, rate("44")).await.expect("rate of b");

    let default_a = db.default_tariff(a).await.expect("default").id;
    let default_b = db.default_tariff(b).await.expect("default").id;
    let of_a = db.tariff_rate_counts(a).await.expect("counts");
    assert_eq!(of_a.len(), 2);
    assert_eq!(of_a.get(&default_a), Some(&2));
    assert_eq!(of_a.get(&wholesale.id), Some(&1));
    let of_b = db.tariff_rate_counts(b).await.expect("counts");
    assert_eq!(of_b.len(), 1);
    assert_eq!(of_b.get(&default_b), Some(&1));

    // A deleted tariff's rates are gone with it.
    db.delete_tariff(a, wholesale.id).await.expect("deleted");
    let of_a = db.tariff_rate_counts(a).await.expect("counts");
    assert_eq!(of_a.get(&wholesale.id), None);
    assert_eq!(of_a.get(&default_a), Some(&2));
}

#[tokio::test]
async fn rate_counts_on_sqlite() {
    counts(Backend::Sqlite).await;
}

#[tokio::test]
async fn rate_counts_on_postgres() {
    counts(Backend::Postgres).await;
}
