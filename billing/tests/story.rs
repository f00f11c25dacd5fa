//! One story through the storage layer, told on SQLite and on PostgreSQL.

use billing::tenants::NewTenant;
use billing::testing::TestDb;
use billing::users::NewUser;
use billing::{Backend, Error};
use model::call_rate::{CallRateFields, CallRatePatch};
use model::query::{ListParams, ListQuery};
use model::user::Role;

const REST: billing::Origin = billing::Origin {
    surface: billing::Surface::Rest,
    client: None,
};

fn rate(prefix: &str, price: &str) -> CallRateFields {
    let body = serde_json::json!({
        "prefix": prefix, "type": "LOCAL", "free_seconds": 0, "grace_period": 0,
        "interval_1": 60, "interval_n": 60, "connect_fee": 0, "postcall_surcharge": 0,
        "price_1": price.parse::<f64>().ok(), "price_n": 0.01,
    });
    let mut map = body.as_object().cloned().expect("object");
    map.insert("price_1".into(), serde_json::Value::String(price.into()));
    CallRateFields::from_json(&map).expect("valid rate")
}

async fn story(backend: Backend) {
    let t = TestDb::new(backend).await.expect("database");
    let db = &t.db;
    let password = db
        .ensure_system_admin(None)
        .await
        .expect("bootstrap")
        .expect("a generated password");
    assert_eq!(db.ensure_system_admin(None).await.expect("again"), None);
    let login = db
        .login("admin", &password, None, REST)
        .await
        .expect("login");
    assert_eq!(login.role, Role::SystemAdmin);
    assert!(matches!(
        db.login("admin", "wrong-password", None, REST).await,
        Err(Error::Unauthorized(_))
    ));
    let root = db
        .authenticate(&login.access_token, REST)
        .await
        .expect("token works");

    let acme = db
        .create_tenant(
            &root,
            NewTenant {
                name: "Acme".into(),
                sip_domain: "Acme.example.com".into(),
                currency: None,
            },
        )
        .await
        .expect("tenant");
    assert_eq!(acme.sip_domain, "acme.example.com");
    assert_eq!(acme.currency, "USD");
    let acme_id = model::ApiId::decode(&acme.id).expect("id");
    let dup = db
        .create_tenant(
            &root,
            NewTenant {
                name: "Other".into(),
                sip_domain: "acme.example.com".into(),
                currency: Some("EUR".into()),
            },
        )
        .await;
    assert!(matches!(dup, Err(Error::Validation(ref e)) if e[0].field == "sip_domain"));

    db.create_user(
        &root,
        NewUser {
            username: "boss".into(),
            password: "correct horse".into(),
            role: Some(Role::Admin),
            tenant_id: Some(acme_id),
        },
    )
    .await
    .expect("admin user");
    let boss_login = db
        .login("boss", "correct horse", Some("acme.example.com"), REST)
        .await
        .expect("tenant login");
    let boss = db
        .authenticate(&boss_login.access_token, REST)
        .await
        .expect("boss");
    let scope = boss.scope(None).expect("own tenant");

    let id = db
        .create_call_rate(&scope, rate("44", "0.1"))
        .await
        .expect("create");
    assert!(matches!(
        db.create_call_rate(&scope, rate("+44", "0.2")).await,
        Err(Error::Validation(ref e)) if e[0].field == "prefix"
    ));
    let got = db.get_call_rate(&scope, id).await.expect("get");
    assert_eq!(got.fields.price_1.to_wire(), "0.1");
    let patch = CallRatePatch {
        price_1: Some("0.12345".parse().expect("money")),
        ..Default::default()
    };
    db.update_call_rate(&scope, id, patch)
        .await
        .expect("update");
    let got = db.get_call_rate(&scope, id).await.expect("get");
    assert_eq!(got.fields.price_1.to_wire(), "0.12345");
    assert_eq!(got.fields.prefix, "44");

    let csv = "id,prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n\
               ,44,MOBILE,0,0,60,60,0,0,0.2,0.2,updated\n\
               ,1,LOCAL,0,0,30,6,0,0,0.006,0.006,\"US, \"\"all\"\"\"\n";
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(csv.as_bytes().to_vec())]);
    let imported = db.import_call_rates(&scope, chunks).await.expect("import");
    assert_eq!(imported.imported, 2);
    let all = ListQuery::parse(&ListParams::default(), &billing::call_rates::CALL_RATE_SPEC)
        .expect("query");
    let page = db.list_call_rates(&scope, &all).await.expect("list");
    assert_eq!(page.count, 2);
    assert_eq!(page.items[0].fields.description, "updated");
    assert_eq!(page.items[1].fields.description, "US, \"all\"");

    let bad = "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n\n\
               7,LOCAL,0,0,60,60,0,0,0.1,0.1\n\
               8,CITY,0,0,0,60,0,0,0.1,0.1\n\
               7,LOCAL,0,0,60,60,0,0,0.1,0.1\n";
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(bad.as_bytes().to_vec())]);
    match db.import_call_rates(&scope, chunks).await {
        Err(Error::BadLines { lines, more }) => {
            assert_eq!(more, 0);
            let named: Vec<_> = lines
                .iter()
                .map(|l| (l.line, l.field.clone().unwrap_or_default()))
                .collect();
            assert_eq!(
                named,
                [
                    (3, "type".to_string()),
                    (3, "interval_1".into()),
                    (4, "prefix".into())
                ]
            );
        }
        other => panic!("expected bad lines, got {other:?}"),
    }
    let page = db.list_call_rates(&scope, &all).await.expect("list");
    assert_eq!(page.count, 2, "a refused import writes nothing");

    let filtered = ListQuery::parse(
        &ListParams {
            filter: Some("price_1 gt 0.1 and type eq 'MOBILE'".into()),
            ..Default::default()
        },
        &billing::call_rates::CALL_RATE_SPEC,
    )
    .expect("query");
    let page = db.list_call_rates(&scope, &filtered).await.expect("list");
    assert_eq!(page.count, 1);
    assert_eq!(page.items[0].fields.prefix, "44");

    db.logout(&boss).await.expect("logout");
    assert!(db
        .authenticate(&boss_login.access_token, REST)
        .await
        .is_err());
}

#[tokio::test]
async fn story_on_sqlite() {
    story(Backend::Sqlite).await;
}

#[tokio::test]
async fn story_on_postgres() {
    story(Backend::Postgres).await;
}
