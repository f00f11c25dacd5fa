//! Statements per billing cycle: for every billed account (the tenant's own
//! and each user's), one statement per period of the tenant's cycle
//! ([`model::statement`]), numbered in one sequence per tenant.
//!
//! A statement is built from the ledger, by the rows' posting time
//! ([`figures`]): opening balance, recharges, call charges (by call type and
//! by destination), adjustments (re-rating corrections, and the credit-limit
//! changes of the period, which move no money), what calls in progress held,
//! and the closing balance: the ledger's balance after the period's last
//! row, to the last digit. The tax is shown on the net charges, never
//! debited. A re-rate of a call of a closed period is posted now, so it is
//! an adjustment of the statement open now.
//!
//! An account's first statement is that of the period of its first ledger
//! row (an account without one has none); each statement, when it closes,
//! opens the next. A statement is OPEN while its period lasts, its figures
//! read from the ledger when it is read; once its period has ended (and
//! [`CLOSE_AFTER`] more, for the clocks of several servers), it is CLOSED:
//! its figures and lines are written once, in one transaction with the next
//! statement, and the database refuses any change to them afterwards.
//! Closing happens at the first read of the account's statements after that
//! (a list, one statement, its CSV) and in the server's periodic sweep
//! ([`Db::sweep_statements`]), whichever comes first. It is safe to run on
//! several servers sharing one PostgreSQL database: the closing transaction
//! locks the account's balance row (so every ledger row posted before the
//! end has committed) and the statement's row, writes only an OPEN
//! statement, and unique keys (one statement per account and period, one
//! open per account, one number per tenant) refuse a second copy; the
//! number is taken in the same transaction, so the numbers have no gaps.

mod close;
mod figures;
mod read;
mod settings;

use model::query::{FieldKind, FieldSpec, ResourceSpec};
use model::statement::{LineSection, StatementStatus};
use model::{ApiId, Money, WireEnum};
use serde::{Deserialize, Serialize};

pub use read::STATEMENT_CSV_COLUMNS;

/// How long after its period's end a statement closes, at the earliest: the
/// leeway of the servers' clocks.
pub const CLOSE_AFTER_MS: i64 = 60_000;
/// [`CLOSE_AFTER_MS`] as a duration.
pub const CLOSE_AFTER: std::time::Duration = std::time::Duration::from_millis(60_000);
/// How often the server's sweep closes the statements whose period has
/// ended (and opens the first of accounts new to the ledger).
pub const SWEEP_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

/// A billed account: the tenant's own (`user_id` None) or a user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Account {
    pub tenant_id: i64,
    pub user_id: Option<i64>,
}

impl Account {
    /// The account as the statements' key: the user's id, 0 for the tenant's.
    fn key(self) -> i64 {
        self.user_id.unwrap_or(0)
    }
}

/// A statement as the API shows it. Amounts are the balance's changes:
/// `closing_balance = opening_balance + recharges + call_charges +
/// adjustments + held`. An open statement's figures are those of its rows
/// so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub id: String,
    /// The tenant's sequence: 1, 2, 3, … over all its accounts.
    pub number: i64,
    /// `None` for the tenant's own account.
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub status: StatementStatus,
    /// The period, `[period_start, period_end)`, RFC 3339.
    pub period_start: String,
    pub period_end: String,
    pub currency: String,
    pub opening_balance: Money,
    pub recharges: Money,
    /// What calls cost (negative: taken from the balance).
    pub call_charges: Money,
    /// Re-rating corrections (positive: given back).
    pub adjustments: Money,
    /// Held by calls in progress less what was given back.
    pub held: Money,
    pub closing_balance: Money,
    /// Calls charged.
    pub calls: i64,
    /// The net charges the tax is on: `-(call_charges + adjustments)`.
    pub charges: Money,
    pub tax_name: String,
    /// Percent.
    pub tax_rate: Money,
    pub tax_included: bool,
    /// The tax on the charges, rounded once to five places, half up.
    pub tax: Money,
    /// The charges with their tax: `charges` when it includes the tax, else
    /// `charges + tax`.
    pub total: Money,
    pub closed_at: Option<String>,
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub section: LineSection,
    /// The call type, the matched prefix, `RECHARGE`, `RERATE`,
    /// `CREDIT_LIMIT`, `HOLD` or `RELEASE`.
    pub item: String,
    pub description: String,
    /// A recharge's or a credit change's time, a day of corrections.
    pub at: Option<String>,
    pub calls: i64,
    /// Answered seconds of the calls.
    pub seconds: i64,
    /// The line's change of the balance.
    pub amount: Money,
    /// The credit limit set (`CREDIT_LIMIT` lines).
    pub credit_limit: Option<Money>,
}

/// A statement with its lines and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDetail {
    #[serde(flatten)]
    pub statement: Statement,
    pub tenant_name: String,
    pub lines: Vec<StatementLine>,
}

/// The statements as a list: filtered and ordered by number, account,
/// status, period and closing time, searched by the user's name.
pub static STATEMENT_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "statements.id", FieldKind::Id),
        FieldSpec::new("number", "statements.number", FieldKind::Integer),
        FieldSpec::new("user_id", "statements.user_id", FieldKind::Id),
        FieldSpec::new("username", "users.username", FieldKind::Text),
        FieldSpec::new(
            "status",
            "statements.status",
            FieldKind::Enum(<StatementStatus as WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new(
            "period_start",
            "statements.period_start",
            FieldKind::Timestamp,
        ),
        FieldSpec::new("period_end", "statements.period_end", FieldKind::Timestamp),
        FieldSpec::new("closed_at", "statements.closed_at", FieldKind::Timestamp),
    ],
    search: &["users.username"],
    default_order: "statements.id",
    decode_id: ApiId::decode,
};
