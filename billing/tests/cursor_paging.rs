//! Lists read page by page with the `cursor` each answer carries: every row
//! once, in the order asked (NULLs where both databases put them), forwards
//! and back; a cursor that is not the query's is refused; and the rates'
//! `search` matches the same rows on SQLite and PostgreSQL.

use billing::call_rates::{TariffRef, CALL_RATE_SPEC, TARIFF_RATE_SPEC};
use billing::testing::{new_tenant, TestDb};
use billing::{Backend, Db, Error, Scope};
use model::query::{ListParams, ListQuery};
use model::tariff::RatePatch;

const ROWS: u64 = 40;

/// `ROWS` rates: prefixes 4410000…, repeated prices, mixed-case descriptions
/// with search-language characters, and every third rate expiring (the
/// others' `expiration_at` is NULL).
async fn tenant_with_rates(db: &Db, domain: &str) -> Scope {
    let scope = new_tenant(db, domain).await.expect("tenant");
    let mut csv = String::from(
        "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n",
    );
    for i in 0..ROWS {
        let description = match i % 4 {
            0 => format!("Destination {i}"),
            1 => format!("DEST mobile {i}"),
            2 => format!("100% off_{i}"),
            _ => format!("Zone {}", i % 5),
        };
        csv.push_str(&format!(
            "{},INTERNATIONAL,0,0,60,60,0,0,0.0{},0.01,{description}\n",
            4_410_000 + i,
            i % 6
        ));
    }
    db.import_call_rates(
        &scope,
        futures::stream::iter([Ok::<_, std::io::Error>(csv.into_bytes())]),
    )
    .await
    .expect("import");
    let all = list(db, &scope, params(None, None, "100", None))
        .await
        .expect("all");
    for (n, rate) in all.items.iter().enumerate() {
        if n % 3 == 0 {
            let patch = RatePatch {
                expiration_at: Some(Some(2_000_000_000_000 - (n as i64 % 4) * 1000)),
                ..RatePatch::default()
            };
            db.update_rate(&scope, TariffRef::Default, rate.id, patch)
                .await
                .expect("expiry");
        }
    }
    scope
}

fn params(
    orderby: Option<&str>,
    search: Option<&str>,
    top: &str,
    cursor: Option<String>,
) -> ListParams {
    ListParams {
        orderby: orderby.map(str::to_string),
        search: search.map(str::to_string),
        top: Some(top.to_string()),
        cursor,
        ..Default::default()
    }
}

async fn list(
    db: &Db,
    scope: &Scope,
    params: ListParams,
) -> billing::Result<billing::Page<model::tariff::StoredRate>> {
    let query = ListQuery::parse(&params, &TARIFF_RATE_SPEC).expect("query");
    db.list_rates(scope, TariffRef::Default, &query).await
}

/// Every page from the first by `cursor`, then back by `previous_cursor`:
/// the prefixes in the order read, forwards and backwards.
async fn walk(
    db: &Db,
    scope: &Scope,
    orderby: Option<&str>,
    search: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut forward = Vec::new();
    let mut cursor = None;
    let mut last_previous = None;
    loop {
        let page = list(db, scope, params(orderby, search, "7", cursor.clone()))
            .await
            .expect("page");
        assert!(page.items.len() <= 7);
        forward.extend(page.items.iter().map(|r| r.fields.prefix.clone()));
        last_previous = page.previous_cursor.clone().or(last_previous);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // Back from the last page: the pages before it, in reverse.
    let mut backward = Vec::new();
    let mut cursor = last_previous;
    while let Some(previous) = cursor {
        let page = list(db, scope, params(orderby, search, "7", Some(previous)))
            .await
            .expect("page back");
        backward.splice(0..0, page.items.iter().map(|r| r.fields.prefix.clone()));
        cursor = page.previous_cursor;
    }
    (forward, backward)
}

const ORDERS: &[Option<&str>] = &[
    None,
    Some("price_1 desc"),
    Some("price_1"),
    Some("description"),
    Some("expiration_at"),
    Some("expiration_at desc, price_1"),
    Some("forbidden desc, prefix desc"),
    Some("id desc"),
];

async fn walks(backend: Backend) -> Vec<Vec<String>> {
    let t = TestDb::new(backend).await.expect("database");
    let scope = tenant_with_rates(&t.db, "walk.example.com").await;
    let mut orders = Vec::new();
    for orderby in ORDERS {
        let all = list(&t.db, &scope, params(*orderby, None, "100", None))
            .await
            .expect("one page");
        assert_eq!(all.count, ROWS as i64);
        assert_eq!(all.cursor, None, "a last page has no cursor");
        assert_eq!(
            all.previous_cursor, None,
            "a first page has no previous cursor"
        );
        let one_page: Vec<String> = all.items.iter().map(|r| r.fields.prefix.clone()).collect();
        let (forward, backward) = walk(&t.db, &scope, *orderby, None).await;
        assert_eq!(
            forward, one_page,
            "{backend:?} {orderby:?}: every row once, in order"
        );
        // The last page is not read backwards, the others all are.
        let last = (ROWS as usize - 1) / 7 * 7;
        assert_eq!(backward, one_page[..last], "{backend:?} {orderby:?}: back");
        orders.push(one_page);
    }
    orders
}

#[tokio::test]
async fn walking_by_cursor_returns_every_row_once_in_the_same_order_on_both_databases() {
    let sqlite = walks(Backend::Sqlite).await;
    let postgres = walks(Backend::Postgres).await;
    for ((orderby, s), p) in ORDERS.iter().zip(&sqlite).zip(&postgres) {
        assert_eq!(s, p, "{orderby:?}: the same order on both databases");
    }
    // NULLs last ascending, first descending.
    let expiring = |orders: &Vec<Vec<String>>, n: usize| orders[n].clone();
    assert_ne!(expiring(&sqlite, 4), expiring(&sqlite, 0));
}

#[tokio::test]
async fn nulls_sort_last_ascending_and_first_descending() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let t = TestDb::new(backend).await.expect("database");
        let scope = tenant_with_rates(&t.db, "nulls.example.com").await;
        let asc = list(
            &t.db,
            &scope,
            params(Some("expiration_at"), None, "100", None),
        )
        .await
        .expect("asc");
        let nulls: Vec<bool> = asc
            .items
            .iter()
            .map(|r| r.expiration_at.is_none())
            .collect();
        let first_null = nulls.iter().position(|n| *n).expect("some never expire");
        assert!(
            nulls[first_null..].iter().all(|n| *n),
            "{backend:?}: NULLs last"
        );
        let desc = list(
            &t.db,
            &scope,
            params(Some("expiration_at desc"), None, "100", None),
        )
        .await
        .expect("desc");
        let nulls: Vec<bool> = desc
            .items
            .iter()
            .map(|r| r.expiration_at.is_none())
            .collect();
        let first_value = nulls.iter().position(|n| !*n).expect("some expire");
        assert!(
            nulls[..first_value].iter().all(|n| *n),
            "{backend:?}: NULLs first"
        );
        assert!(
            nulls[first_value..].iter().all(|n| !*n),
            "{backend:?}: NULLs first"
        );
    }
}

fn refused_at_cursor(result: billing::Result<impl std::fmt::Debug>) {
    match result {
        Err(Error::Validation(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "cursor");
            assert!(
                errors[0].message.contains("first page"),
                "{}",
                errors[0].message
            );
        }
        other => panic!("expected the cursor to be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cursor_of_another_query_or_tenant_or_altered_is_refused() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let t = TestDb::new(backend).await.expect("database");
        let db = &t.db;
        let scope = tenant_with_rates(db, "one.example.com").await;
        let other = tenant_with_rates(db, "two.example.com").await;
        let page = list(db, &scope, params(Some("price_1"), None, "5", None))
            .await
            .expect("page");
        let cursor = page.cursor.expect("a cursor");
        // The same query takes it.
        list(
            db,
            &scope,
            params(Some("price_1"), None, "5", Some(cursor.clone())),
        )
        .await
        .expect("the next page");
        // Another page size too.
        list(
            db,
            &scope,
            params(Some("price_1"), None, "9", Some(cursor.clone())),
        )
        .await
        .expect("the next page, larger");
        // Not another order, search or tenant.
        refused_at_cursor(
            list(
                db,
                &scope,
                params(Some("price_1 desc"), None, "5", Some(cursor.clone())),
            )
            .await,
        );
        refused_at_cursor(
            list(
                db,
                &scope,
                params(Some("price_1"), Some("dest"), "5", Some(cursor.clone())),
            )
            .await,
        );
        refused_at_cursor(
            list(
                db,
                &other,
                params(Some("price_1"), None, "5", Some(cursor.clone())),
            )
            .await,
        );
        // Nothing altered or made up.
        let mut bytes = cursor.clone().into_bytes();
        let middle = bytes.len() / 2;
        bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).expect("ascii");
        for bad in [
            altered,
            "not a cursor".to_string(),
            "e30".to_string(),
            format!("{cursor}x"),
        ] {
            refused_at_cursor(
                list(db, &scope, params(Some("price_1"), None, "5", Some(bad))).await,
            );
        }
        // The v22 list takes the cursors of its own answers.
        let query = ListQuery::parse(
            &ListParams {
                top: Some("10".into()),
                ..Default::default()
            },
            &CALL_RATE_SPEC,
        )
        .expect("query");
        let first = db.list_call_rates(&scope, &query).await.expect("v22 page");
        let next = ListQuery::parse(
            &ListParams {
                top: Some("10".into()),
                cursor: first.cursor.clone(),
                ..Default::default()
            },
            &CALL_RATE_SPEC,
        )
        .expect("query");
        let second = db
            .list_call_rates(&scope, &next)
            .await
            .expect("v22 next page");
        assert_eq!(second.items.len(), 10);
        assert!(second.items.iter().all(|r| !first.items.contains(r)));
    }
}

async fn searches(backend: Backend) -> Vec<(String, i64, Vec<String>)> {
    let t = TestDb::new(backend).await.expect("database");
    let scope = tenant_with_rates(&t.db, "search.example.com").await;
    // Another tenant's rates never show.
    tenant_with_rates(&t.db, "elsewhere.example.com").await;
    let mut out = Vec::new();
    for text in [
        "dest",
        "DEST",
        "Destination 1",
        "mobile 3",
        "100%",
        "off_1",
        "_",
        "%",
        "441000",
        "44",
        "zone 4",
        "nothing like it",
        "o",
    ] {
        let all = list(&t.db, &scope, params(None, Some(text), "100", None))
            .await
            .expect("search");
        let prefixes: Vec<String> = all.items.iter().map(|r| r.fields.prefix.clone()).collect();
        let (walked, _) = walk(&t.db, &scope, Some("description desc"), Some(text)).await;
        let mut sorted_walk = walked.clone();
        sorted_walk.sort();
        let mut sorted = prefixes.clone();
        sorted.sort();
        assert_eq!(
            sorted_walk, sorted,
            "{backend:?} {text}: the walk finds the same rows"
        );
        // What the search means: the prefix or the description holds the
        // text, whatever the case.
        let lower = text.to_lowercase();
        let every = list(&t.db, &scope, params(None, None, "100", None))
            .await
            .expect("all");
        let expected: Vec<String> = every
            .items
            .iter()
            .filter(|r| {
                r.fields.prefix.to_lowercase().contains(&lower)
                    || r.fields.description.to_lowercase().contains(&lower)
            })
            .map(|r| r.fields.prefix.clone())
            .collect();
        assert_eq!(prefixes, expected, "{backend:?} {text}");
        out.push((text.to_string(), all.count, prefixes));
    }
    out
}

#[tokio::test]
async fn search_finds_the_same_rates_on_both_databases() {
    let sqlite = searches(Backend::Sqlite).await;
    let postgres = searches(Backend::Postgres).await;
    assert_eq!(sqlite, postgres);
    assert!(
        sqlite.iter().any(|(_, count, _)| *count > 7),
        "some searches span pages"
    );
}

#[tokio::test]
async fn search_follows_changed_and_deleted_rates() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let t = TestDb::new(backend).await.expect("database");
        let db = &t.db;
        let scope = tenant_with_rates(db, "changes.example.com").await;
        let found = |text: &'static str| {
            let scope = scope.clone();
            async move {
                list(db, &scope, params(None, Some(text), "100", None))
                    .await
                    .expect("search")
                    .items
                    .iter()
                    .map(|r| r.fields.prefix.clone())
                    .collect::<Vec<_>>()
            }
        };
        assert!(found("quokka").await.is_empty());
        let rate = list(db, &scope, params(None, None, "1", None))
            .await
            .expect("one")
            .items[0]
            .clone();
        let patch = RatePatch::from_json(
            serde_json::json!({"description": "Quokka Island"})
                .as_object()
                .expect("object"),
        )
        .expect("patch");
        db.update_rate(&scope, TariffRef::Default, rate.id, patch)
            .await
            .expect("update");
        assert_eq!(found("quokka").await, vec![rate.fields.prefix.clone()]);
        assert!(!found("Destination 0").await.contains(&rate.fields.prefix));
        let count = |params: ListParams| {
            let scope = scope.clone();
            async move { list(db, &scope, params).await.expect("count").count }
        };
        let all = count(params(None, None, "5", None)).await;
        let deep = count(params(Some("price_1 desc"), None, "5", None)).await;
        assert_eq!((all, deep), (ROWS as i64, ROWS as i64));
        db.delete_rate(&scope, TariffRef::Default, rate.id)
            .await
            .expect("delete");
        assert!(found("quokka").await.is_empty());
        // Counts follow the change at once.
        assert_eq!(count(params(None, None, "5", None)).await, ROWS as i64 - 1);
        assert_eq!(
            count(params(Some("price_1 desc"), None, "5", None)).await,
            ROWS as i64 - 1
        );
        let fields = model::call_rate::CallRateFields::from_json(
            serde_json::json!({
                "prefix": "4999", "type": "LOCAL", "free_seconds": 0, "grace_period": 0,
                "interval_1": 60, "interval_n": 60, "connect_fee": 0, "postcall_surcharge": 0,
                "price_1": 0.1, "price_n": 0.1, "description": "Quokka again"
            })
            .as_object()
            .expect("object"),
        )
        .expect("fields");
        db.create_call_rate(&scope, fields).await.expect("create");
        assert_eq!(count(params(None, None, "5", None)).await, ROWS as i64);
        assert_eq!(found("quokka").await, vec!["4999".to_string()]);
    }
}
