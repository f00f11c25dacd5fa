//! Deck imports and exports on PostgreSQL (staged through `COPY`, read in
//! one statement) answer and store exactly what they do on SQLite: merge
//! keeps the rates a file does not name, replace removes them, a refused
//! file changes nothing, an export imports back unchanged, and a large
//! deck with every kind of text a cell can hold comes back the same.

use billing::call_rates::{ImportOptions, LineError};
use billing::testing::{new_tenant, TestDb};
use billing::{Backend, Db, Error, Scope};
use futures::StreamExt;
use model::deck::{DeckReport, ImportMode};

const HEADER: &str = "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n";

fn line(prefix: &str, price: &str, description: &str) -> String {
    format!("{prefix},INTERNATIONAL,0,0,60,6,0.01,0,{price},{price},{description}\n")
}

fn deck(lines: &[(&str, &str)]) -> String {
    let mut csv = HEADER.to_string();
    for (prefix, price) in lines {
        csv.push_str(&line(prefix, price, &format!("Route {prefix}")));
    }
    csv
}

/// `csv` in chunks of `size` bytes, as a request body arrives.
fn body(
    csv: &str,
    size: usize,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = csv
        .as_bytes()
        .chunks(size)
        .map(|c| Ok(c.to_vec()))
        .collect();
    futures::stream::iter(chunks)
}

async fn import(db: &Db, scope: &Scope, mode: ImportMode, dry_run: bool, csv: &str) -> DeckReport {
    db.import_deck(scope, ImportOptions { mode, dry_run }, body(csv, 997))
        .await
        .expect("import")
}

async fn export(db: &Db, scope: &Scope) -> String {
    let mut stream = Box::pin(db.export_call_rates(scope).await.expect("export"));
    let mut csv = String::new();
    while let Some(chunk) = stream.next().await {
        csv.push_str(&chunk.expect("chunk"));
    }
    csv
}

/// The export's records without their ids (which a database numbers its own way).
fn without_ids(csv: &str) -> Vec<Vec<String>> {
    let mut reader = billing::csv::CsvReader::new();
    let mut records = reader.push(csv.as_bytes()).expect("csv");
    records.extend(reader.finish().expect("csv"));
    records
        .into_iter()
        .map(|r| r.fields[1..].to_vec())
        .collect()
}

/// The prefixes of the tenant's rates, in export order.
async fn prefixes(db: &Db, scope: &Scope) -> Vec<String> {
    without_ids(&export(db, scope).await)[1..]
        .iter()
        .map(|r| r[0].clone())
        .collect()
}

/// Staging tables left behind (PostgreSQL): none once an import has answered.
async fn staging_tables(t: &TestDb) -> i64 {
    if t.db.backend() != Backend::Postgres {
        return 0;
    }
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM pg_tables WHERE tablename LIKE 'deck\\_import\\_%'")
            .fetch_one(t.db.pool())
            .await
            .expect("catalog");
    sqlx::Row::try_get(&row, "n").expect("count")
}

/// Merge, a dry run of replace, replace: their reports, as one backend answers them.
async fn merge_and_replace(backend: Backend) -> Vec<DeckReport> {
    let t = TestDb::new(backend).await.expect("database");
    let (db, scope) = (
        &t.db,
        new_tenant(&t.db, "deck.example.com").await.expect("tenant"),
    );
    let mut reports = Vec::new();
    let first = deck(&[("1", "0.1"), ("2", "0.1"), ("3", "0.1")]);
    reports.push(import(db, &scope, ImportMode::Merge, false, &first).await);
    assert_eq!(reports[0].new, 3);

    // 2 changed, 3 as it is, 4 new; 1 is kept.
    let merge = deck(&[("2", "0.2"), ("3", "0.1"), ("4", "0.1")]);
    let merged = import(db, &scope, ImportMode::Merge, false, &merge).await;
    assert_eq!(
        (
            merged.imported,
            merged.new,
            merged.changed,
            merged.unchanged,
            merged.removed
        ),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(merged.preview.changed[0].line, 2);
    assert_eq!(merged.preview.changed[0].prefix, "2");
    assert_eq!(prefixes(db, &scope).await, ["1", "2", "3", "4"]);
    reports.push(merged);

    // Replace: 3 as it is, 5 new, the others removed; a dry run first.
    let replace = deck(&[("3", "0.1"), ("5", "0.3")]);
    let before = export(db, &scope).await;
    let preview = import(db, &scope, ImportMode::Replace, true, &replace).await;
    assert_eq!(
        (
            preview.new,
            preview.unchanged,
            preview.removed,
            preview.dry_run
        ),
        (1, 1, 3, true)
    );
    assert_eq!(export(db, &scope).await, before, "a dry run writes nothing");
    reports.push(preview);
    let replaced = import(db, &scope, ImportMode::Replace, false, &replace).await;
    assert_eq!(
        (replaced.new, replaced.unchanged, replaced.removed),
        (1, 1, 3)
    );
    let removed: Vec<&str> = replaced
        .preview
        .removed
        .iter()
        .map(|r| r.prefix.as_str())
        .collect();
    assert_eq!(removed, ["1", "2", "4"]);
    assert_eq!(prefixes(db, &scope).await, ["3", "5"]);
    reports.push(replaced);
    assert_eq!(staging_tables(&t).await, 0);
    reports
}

#[tokio::test]
async fn merge_keeps_and_replace_removes_alike_on_both_databases() {
    let sqlite = merge_and_replace(Backend::Sqlite).await;
    let postgres = merge_and_replace(Backend::Postgres).await;
    assert_eq!(postgres, sqlite);
}

async fn refused(backend: Backend) -> Vec<LineError> {
    let t = TestDb::new(backend).await.expect("database");
    let (db, scope) = (
        &t.db,
        new_tenant(&t.db, "deck.example.com").await.expect("tenant"),
    );
    import(
        db,
        &scope,
        ImportMode::Merge,
        false,
        &deck(&[("1", "0.1"), ("2", "0.1")]),
    )
    .await;
    let before = export(db, &scope).await;
    let mut bad = deck(&[("2", "0.5"), ("7", "0.1")]);
    bad.push_str("8,CITY,0,0,60,6,0,0,0.1,0.1,x\n");
    bad.push_str(&line("7", "0.2", "again"));
    bad.push_str(&line("9", "0.1", "fine"));
    for mode in [ImportMode::Merge, ImportMode::Replace] {
        for dry_run in [false, true] {
            let answer = db
                .import_deck(&scope, ImportOptions { mode, dry_run }, body(&bad, 5))
                .await;
            let Err(Error::BadLines { lines, more }) = answer else {
                panic!("refused: {answer:?}");
            };
            assert_eq!(more, 0);
            assert_eq!(export(db, &scope).await, before, "nothing changed");
            assert_eq!(staging_tables(&t).await, 0);
            if mode == ImportMode::Replace && dry_run {
                return lines;
            }
        }
    }
    unreachable!()
}

#[tokio::test]
async fn a_refused_file_changes_nothing_and_names_its_lines_alike() {
    let postgres = refused(Backend::Postgres).await;
    assert_eq!(postgres[0].line, 4);
    assert_eq!(postgres[0].field.as_deref(), Some("type"));
    assert_eq!(postgres[1].line, 5);
    assert_eq!(postgres[1].message, "repeats the prefix of line 3");
    assert_eq!(postgres, refused(Backend::Sqlite).await);
}

/// A deck of `rows` rates whose cells hold what text cells may: quotes,
/// commas, line breaks, tabs, backslashes, formula starts, other scripts.
fn large_deck(rows: u64, every: u64) -> String {
    let odd = [
        "plain",
        "\"a, b\"",
        "\"say \"\"hi\"\"\"",
        "\"two\nlines\"",
        "tab\there",
        "back\\slash \\N",
        "'=SUM(A1)",
        "'+44 20",
        "'-1",
        "Zürich – 東京",
        "",
    ];
    let mut csv = HEADER.to_string();
    for i in 0..rows {
        let mut price = 100 + (i * 7919) % 90_000;
        if every > 0 && i % every == 0 {
            price += 1;
        }
        let prefix = if i % 7 == 0 {
            format!("+{}", 4_000_000 + i)
        } else {
            format!("{}", 4_000_000 + i)
        };
        csv.push_str(&format!(
            "{prefix},MOBILE,{},{},60,6,0.0{:04},0,0.{price:05},0.{:05},{}\n",
            i % 3,
            i % 2,
            i % 10_000,
            price / 2 + 1,
            odd[(i % odd.len() as u64) as usize]
        ));
    }
    csv
}

/// A large import, a merge of the same prefixes some changed, a replace
/// by half of them, each report and export after it.
async fn large(backend: Backend) -> Vec<(DeckReport, Vec<Vec<String>>)> {
    let t = TestDb::new(backend).await.expect("database");
    let (db, scope) = (
        &t.db,
        new_tenant(&t.db, "deck.example.com").await.expect("tenant"),
    );
    let mut steps = Vec::new();
    let first = import(db, &scope, ImportMode::Merge, false, &large_deck(20_000, 0)).await;
    assert_eq!(first.new, 20_000);
    let exported = export(db, &scope).await;
    steps.push((first, without_ids(&exported)));

    // The export imports back unchanged.
    let back = import(db, &scope, ImportMode::Merge, false, &exported).await;
    assert_eq!((back.imported, back.unchanged), (20_000, 20_000));
    assert_eq!(export(db, &scope).await, exported);
    steps.push((back, without_ids(&exported)));

    let merged = import(db, &scope, ImportMode::Merge, false, &large_deck(20_000, 9)).await;
    assert_eq!(merged.changed, 20_000_u64.div_ceil(9));
    steps.push((merged, without_ids(&export(db, &scope).await)));
    let replaced = import(
        db,
        &scope,
        ImportMode::Replace,
        false,
        &large_deck(10_000, 9),
    )
    .await;
    assert_eq!((replaced.unchanged, replaced.removed), (10_000, 10_000));
    steps.push((replaced, without_ids(&export(db, &scope).await)));
    steps
}

#[tokio::test]
async fn a_large_deck_imports_and_exports_alike_on_both_databases() {
    let sqlite = large(Backend::Sqlite).await;
    let postgres = large(Backend::Postgres).await;
    assert_eq!(postgres.len(), sqlite.len());
    for (step, (p, s)) in postgres.iter().zip(&sqlite).enumerate() {
        assert_eq!(p.0, s.0, "report of step {step}");
        assert!(p.1 == s.1, "export after step {step}");
    }
}
