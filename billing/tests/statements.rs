//! Statements against the ledger they are built from, on SQLite and on
//! PostgreSQL: a property test over random ledgers (posted over months, the
//! statements brought up to date now and then, the cycle changed midway),
//! closing by two servers at once, and closed statements that never change.

use std::collections::BTreeMap;

use billing::balances::TransactionKind;
use billing::statements::{Statement, CLOSE_AFTER_MS};
use billing::testing::{new_tenant, post_at, system_admin, TestDb};
use billing::users::NewUser;
use billing::{Backend, Db, Scope};
use model::query::{ListParams, ListQuery};
use model::statement::{Cycle, StatementSettingsPatch, StatementStatus};
use model::user::Role;
use model::{ApiId, Money, WireEnum};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::{Decimal, RoundingStrategy};

const DAY: i64 = 86_400_000;
/// 2026-01-10T00:00:00Z.
const START: i64 = 1_768_003_200_000;
/// Cases per backend, and the most ledger rows in one case.
const CASES: u32 = 40;
const ENTRIES: usize = 80;

/// A ledger row to post: after `gap` ms, to account `account` (0: the
/// tenant's, 1 and 2: its users'), of `kind`, `amount` units (its sign
/// follows the kind), and whether the statements are brought up to date
/// right after it.
#[derive(Debug, Clone)]
struct Post {
    gap: i64,
    account: usize,
    kind: TransactionKind,
    amount: i64,
    sweep: bool,
}

#[derive(Debug, Clone)]
struct Settings {
    cycle: Cycle,
    day: u8,
    tax_rate: i64,
    tax_included: bool,
}

#[derive(Debug, Clone)]
struct Case {
    first: Settings,
    /// The settings from the row at this index on, if they change.
    change: Option<(usize, Settings)>,
    posts: Vec<Post>,
}

fn settings() -> impl Strategy<Value = Settings> {
    (0usize..3, 1u8..=28, 0i64..=2_500_000, any::<bool>()).prop_map(|(c, day, rate, included)| {
        let cycle = Cycle::ALL[c];
        let day = if cycle == Cycle::Monthly {
            day
        } else {
            (day - 1) % 7 + 1
        };
        Settings {
            cycle,
            day,
            tax_rate: rate,
            tax_included: included,
        }
    })
}

fn post() -> impl Strategy<Value = Post> {
    let kinds = prop_oneof![
        3 => Just(TransactionKind::CallCharge),
        2 => Just(TransactionKind::Recharge),
        1 => Just(TransactionKind::Hold),
        1 => Just(TransactionKind::Release),
        1 => Just(TransactionKind::Rerate),
    ];
    (
        prop_oneof![0i64..=60_000, 0i64..=DAY, 0i64..=9 * DAY],
        0usize..3,
        kinds,
        1i64..=50_000_000,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(gap, account, kind, amount, negative, sweep)| {
            let amount = match kind {
                TransactionKind::Recharge | TransactionKind::Release => amount,
                TransactionKind::Rerate if !negative => amount,
                _ => -amount,
            };
            Post {
                gap,
                account,
                kind,
                amount,
                sweep: sweep && gap % 3 == 0,
            }
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        settings(),
        proptest::option::of((0usize..ENTRIES, settings())),
        proptest::collection::vec(post(), 1..=ENTRIES),
    )
        .prop_map(|(first, change, posts)| Case {
            first,
            change,
            posts,
        })
}

async fn set(db: &Db, scope: &Scope, s: &Settings) {
    let body = serde_json::json!({
        "cycle": s.cycle.wire(), "cycle_day": s.day, "tax_name": "VAT",
        "tax_rate": Money::from_units(s.tax_rate), "tax_included": s.tax_included,
    });
    let patch =
        StatementSettingsPatch::from_json(body.as_object().expect("object")).expect("valid");
    db.update_statement_settings(scope, patch)
        .await
        .expect("settings saved");
}

/// Every statement of the scope's tenant, by number.
async fn all_statements(db: &Db, scope: &Scope) -> Vec<Statement> {
    let mut out = Vec::new();
    loop {
        let params = ListParams {
            orderby: Some("number asc".into()),
            skip: Some(out.len().to_string()),
            ..ListParams::default()
        };
        let query = ListQuery::parse(&params, &billing::statements::STATEMENT_SPEC).expect("query");
        let page = db.list_statements(scope, &query).await.expect("statements");
        let done = page.items.is_empty();
        out.extend(page.items);
        if done || out.len() as i64 >= page.count {
            return out;
        }
    }
}

fn ms(text: &str) -> i64 {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).expect("in range")
}

fn units(m: Money) -> i64 {
    m.to_units().expect("units")
}

/// The ledger of one account as posted: (time, kind, amount).
type Ledger = Vec<(i64, TransactionKind, i64)>;

/// Checks every statement of every account against the ledger posted.
async fn check(
    db: &Db,
    scope: &Scope,
    ledgers: &BTreeMap<Option<String>, Ledger>,
    cycles: &[Settings],
) -> Result<(), TestCaseError> {
    let statements = all_statements(db, scope).await;
    // One sequence per tenant: 1..=n, no gaps, no repeats.
    let numbers: Vec<i64> = statements.iter().map(|s| s.number).collect();
    prop_assert_eq!(numbers, (1..=statements.len() as i64).collect::<Vec<_>>());
    for (account, ledger) in ledgers {
        let mut mine: Vec<&Statement> = statements
            .iter()
            .filter(|s| &s.user_id == account)
            .collect();
        mine.sort_by_key(|s| ms(&s.period_start));
        if ledger.is_empty() {
            prop_assert!(mine.is_empty());
            continue;
        }
        prop_assert!(
            !mine.is_empty(),
            "an account with ledger rows has statements"
        );
        let first = ms(&mine[0].period_start);
        prop_assert!(first <= ledger[0].0 && ledger[0].0 < ms(&mine[0].period_end));
        let balance_at = |t: i64| -> i64 {
            ledger
                .iter()
                .filter(|(at, _, _)| *at < t)
                .map(|(_, _, a)| a)
                .sum()
        };
        for (k, s) in mine.iter().enumerate() {
            let (start, end) = (ms(&s.period_start), ms(&s.period_end));
            // Periods tile time, each cut by one of the cycles in force.
            if k + 1 < mine.len() {
                prop_assert_eq!(end, ms(&mine[k + 1].period_start));
                prop_assert_eq!(s.status, StatementStatus::Closed);
            } else {
                prop_assert_eq!(s.status, StatementStatus::Open);
            }
            prop_assert!(
                cycles
                    .iter()
                    .any(|c| c.cycle.period_end(c.day, start) == Some(end)),
                "a period of no cycle: {start} {end}"
            );
            let rows: Vec<_> = ledger
                .iter()
                .filter(|(at, _, _)| start <= *at && *at < end)
                .collect();
            let sum = |kinds: &[TransactionKind]| -> i64 {
                rows.iter()
                    .filter(|(_, k, _)| kinds.contains(k))
                    .map(|(_, _, a)| a)
                    .sum()
            };
            prop_assert_eq!(units(s.opening_balance), balance_at(start));
            // The closing balance is the ledger's balance at the period's end, to the last digit.
            prop_assert_eq!(units(s.closing_balance), balance_at(end));
            prop_assert_eq!(units(s.recharges), sum(&[TransactionKind::Recharge]));
            prop_assert_eq!(units(s.call_charges), sum(&[TransactionKind::CallCharge]));
            prop_assert_eq!(units(s.adjustments), sum(&[TransactionKind::Rerate]));
            prop_assert_eq!(
                units(s.held),
                sum(&[TransactionKind::Hold, TransactionKind::Release])
            );
            prop_assert_eq!(
                s.calls,
                rows.iter()
                    .filter(|(_, k, _)| *k == TransactionKind::CallCharge)
                    .count() as i64
            );
            // The totals add up.
            prop_assert_eq!(
                units(s.opening_balance)
                    + units(s.recharges)
                    + units(s.call_charges)
                    + units(s.adjustments)
                    + units(s.held),
                units(s.closing_balance)
            );
            // The tax: exact, rounded once, half up.
            let charges = -(units(s.call_charges) + units(s.adjustments));
            prop_assert_eq!(units(s.charges), charges);
            let (c, r) = (Decimal::new(charges, 5), s.tax_rate.decimal());
            let exact = if s.tax_included {
                c * r / (Decimal::ONE_HUNDRED + r)
            } else {
                c * r / Decimal::ONE_HUNDRED
            };
            prop_assert_eq!(
                s.tax.decimal(),
                exact.round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero)
            );
            prop_assert!(cycles
                .iter()
                .any(|c| Money::from_units(c.tax_rate) == s.tax_rate));
            let total = if s.tax_included {
                units(s.charges)
            } else {
                units(s.charges) + units(s.tax)
            };
            prop_assert_eq!(units(s.total), total);
        }
        // The lines of a statement add up to what it moved.
        for s in mine.iter().rev().take(3) {
            let id = ApiId::decode(&s.id).expect("id");
            let detail = db.get_statement(scope, id).await.expect("statement");
            let moved: i64 = detail.lines.iter().map(|l| units(l.amount)).sum::<i64>()
                - detail
                    .lines
                    .iter()
                    .filter(|l| l.section == model::statement::LineSection::Destination)
                    .map(|l| units(l.amount))
                    .sum::<i64>();
            prop_assert_eq!(moved, units(s.closing_balance) - units(s.opening_balance));
        }
    }
    Ok(())
}

async fn run_case(db: &Db, n: usize, case: Case) -> Result<(), TestCaseError> {
    let scope = new_tenant(db, &format!("case-{n}.example.com"))
        .await
        .expect("tenant");
    let mut users = Vec::new();
    for name in ["u1", "u2"] {
        let user = db
            .create_user(
                &system_admin(),
                NewUser {
                    username: name.into(),
                    password: "a long password".into(),
                    role: Some(Role::StandardUser),
                    tenant_id: Some(scope.tenant_id),
                },
            )
            .await
            .expect("user");
        users.push(ApiId::decode(&user.id).expect("id"));
    }
    set(db, &scope, &case.first).await;
    let mut cycles = vec![case.first.clone()];
    let mut ledgers: BTreeMap<Option<String>, Ledger> = BTreeMap::new();
    ledgers.insert(None, Vec::new());
    for user in &users {
        ledgers.insert(Some(ApiId::encode(*user)), Vec::new());
    }
    let mut at = START + (n as i64 % 17) * 3_600_000;
    for (i, post) in case.posts.iter().enumerate() {
        if let Some((when, settings)) = &case.change {
            if *when == i {
                set(db, &scope, settings).await;
                cycles.push(settings.clone());
            }
        }
        at += post.gap;
        let user = (post.account > 0).then(|| users[post.account - 1]);
        post_at(
            db,
            scope.tenant_id,
            user,
            post.kind,
            post.amount,
            Some("call"),
            at,
        )
        .await
        .expect("posted");
        ledgers
            .get_mut(&user.map(ApiId::encode))
            .expect("account")
            .push((at, post.kind, post.amount));
        if post.sweep {
            db.sweep_statements(at + CLOSE_AFTER_MS)
                .await
                .expect("sweep");
        }
    }
    // Long after the last row: every period until then closed.
    db.sweep_statements(at + 40 * DAY).await.expect("sweep");
    check(db, &scope, &ledgers, &cycles).await
}

/// Random ledgers: every closed statement's closing balance is the
/// ledger's balance at its period's end, its totals add up, its tax is the
/// exact one rounded once, the numbers have no gaps.
fn closing_is_the_ledger_balance(backend: Backend) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let test_db = rt.block_on(TestDb::new(backend)).expect("database");
    let db = test_db.db.clone();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::sync::atomic::AtomicUsize::new(0);
    let outcome = runner.run(&case(), |case| {
        let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rt.block_on(run_case(&db, n, case))
    });
    drop(db);
    rt.block_on(async { test_db.db.close().await });
    drop(test_db);
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[test]
fn sqlite_closing_is_the_ledger_balance() {
    closing_is_the_ledger_balance(Backend::Sqlite);
}

#[test]
fn postgres_closing_is_the_ledger_balance() {
    closing_is_the_ledger_balance(Backend::Postgres);
}

/// Two servers on one database close the same statements at once: each
/// closes once, the numbers have no gaps, nothing is written twice.
async fn two_servers_close_once(backend: Backend) {
    let test_db = TestDb::new(backend).await.expect("database");
    let one = test_db.db.clone();
    let two = Db::connect(&test_db.url).await.expect("a second server");
    // 120 recharges every half day, over the 60 days before a day ago, on
    // each of six tenants.
    let now = billing::db::now_ms();
    let first = now - 61 * DAY;
    let mut tenants = Vec::new();
    for t in 0..6 {
        let scope = new_tenant(&one, &format!("t{t}.example.com"))
            .await
            .expect("tenant");
        for d in 0..120 {
            post_at(
                &one,
                scope.tenant_id,
                None,
                TransactionKind::Recharge,
                100_000 + d,
                None,
                first + d * DAY / 2,
            )
            .await
            .expect("posted");
        }
        tenants.push(scope);
    }
    // The monthly periods from the first row's to now's.
    let monthly = |t: i64| Cycle::Monthly.period_start(1, t).expect("period");
    let mut periods = vec![monthly(first)];
    while let Some(end) = Cycle::Monthly.period_end(1, *periods.last().expect("one")) {
        if end > now {
            break;
        }
        periods.push(end);
    }
    // A period that ended less than CLOSE_AFTER ago is not closed yet.
    let due = periods
        .windows(2)
        .filter(|w| w[1] + CLOSE_AFTER_MS <= now)
        .count();
    let (a, b) = tokio::join!(one.sweep_statements(now), two.sweep_statements(now));
    let closed = a.expect("one sweeps") + b.expect("the other sweeps");
    assert_eq!(closed, 6 * due);
    let (a, b) = tokio::join!(one.sweep_statements(now), two.sweep_statements(now));
    assert_eq!(a.expect("again") + b.expect("again"), 0);
    for scope in &tenants {
        let all = all_statements(&one, scope).await;
        assert_eq!(all.len(), due + 1);
        assert_eq!(
            all.iter().map(|s| s.number).collect::<Vec<_>>(),
            (1..=due as i64 + 1).collect::<Vec<_>>()
        );
        assert_eq!(all[due].status, StatementStatus::Open);
        let sum: i64 = (0..120).map(|d| 100_000 + d).sum();
        assert_eq!(units(all[due].closing_balance), sum);
        for w in all.windows(2) {
            assert_eq!(w[0].closing_balance, w[1].opening_balance);
            assert_eq!(w[0].period_end, w[1].period_start);
        }
    }
    two.close().await;
}

/// A closed statement and its lines refuse every change and removal.
async fn closed_statements_never_change(backend: Backend) {
    let test_db = TestDb::new(backend).await.expect("database");
    let db = &test_db.db;
    let scope = new_tenant(db, "frozen.example.com").await.expect("tenant");
    // Two months ago: its period has ended.
    let at = billing::db::now_ms() - 62 * DAY;
    post_at(
        db,
        scope.tenant_id,
        None,
        TransactionKind::Recharge,
        500_000,
        None,
        at,
    )
    .await
    .expect("posted");
    assert!(db.sweep_statements(at + 40 * DAY).await.expect("sweep") >= 1);
    for sql in [
        "UPDATE statements SET closing_balance = 0 WHERE status = 'CLOSED'",
        "DELETE FROM statements",
        "UPDATE statement_lines SET amount = 0",
        "DELETE FROM statement_lines",
    ] {
        let refused = sqlx::query(sql).execute(db.pool()).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }
    let all = all_statements(db, &scope).await;
    assert_eq!(units(all[0].closing_balance), 500_000);
    assert_eq!(all[0].status, StatementStatus::Closed);
    assert_eq!(all.last().map(|s| s.status), Some(StatementStatus::Open));
}

mod sqlite {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_servers_close_once() {
        super::two_servers_close_once(Backend::Sqlite).await;
    }
    #[tokio::test]
    async fn closed_statements_never_change() {
        super::closed_statements_never_change(Backend::Sqlite).await;
    }
}

mod postgres {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_servers_close_once() {
        super::two_servers_close_once(Backend::Postgres).await;
    }
    #[tokio::test]
    async fn closed_statements_never_change() {
        super::closed_statements_never_change(Backend::Postgres).await;
    }
}
