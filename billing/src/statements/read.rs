//! Reading statements: the list, one statement with its lines, its CSV.
//! Every read first brings the statements it reads up to date (closing
//! those whose period has ended), so what it answers never depends on when
//! the sweep last ran.

use model::query::{ListQuery, SqlValue};
use model::statement::{tax_units, LineSection, StatementSettings, StatementStatus};
use model::{ApiId, Money};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::close::{open_from_row, Open};
use super::figures::{self, Figures, Line};
use super::{settings, Account, Statement, StatementDetail, StatementLine, STATEMENT_SPEC};
use crate::auth::Scope;
use crate::db::{now_ms, Db};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};
use crate::time::rfc3339;

/// The columns of a statement's CSV, in order: each row one line of it (the
/// totals first, as `TOTAL` lines), with the statement it belongs to.
pub const STATEMENT_CSV_COLUMNS: &[&str] = &[
    "number",
    "account",
    "period_start",
    "period_end",
    "status",
    "currency",
    "section",
    "item",
    "description",
    "at",
    "calls",
    "seconds",
    "amount",
    "credit_limit",
];

const COLUMNS: &str = "statements.id, statements.tenant_id, statements.user_id, users.username, \
     statements.number, statements.status, statements.period_start, statements.period_end, \
     statements.opening_balance, statements.after_ledger_id, statements.currency, \
     statements.recharges, statements.call_charges, statements.adjustments, statements.held, \
     statements.closing_balance, statements.calls, statements.charges, statements.tax, \
     statements.tax_name, statements.tax_rate, statements.tax_included, statements.closed_at";

const FROM: &str = "statements LEFT JOIN users ON users.id = statements.user_id";

/// A statement row as stored: closed with its figures, or open.
struct Row_ {
    id: i64,
    account: Account,
    username: Option<String>,
    number: i64,
    status: StatementStatus,
    open: Open,
    closed: Option<Closed>,
}

/// What a closed statement holds.
struct Closed {
    currency: String,
    figures: Figures,
    charges: i64,
    tax: i64,
    tax_name: String,
    tax_rate: i64,
    tax_included: bool,
    closed_at: i64,
}

fn stored(row: &AnyRow) -> Result<Row_> {
    let status: StatementStatus = row
        .try_get::<String, _>("status")?
        .parse()
        .map_err(Error::internal)?;
    let closed = if status == StatementStatus::Closed {
        let get = |c: &str| -> Result<i64> {
            row.try_get::<Option<i64>, _>(c)?
                .ok_or_else(|| Error::Internal(format!("a closed statement without its {c}")))
        };
        Some(Closed {
            currency: row
                .try_get::<Option<String>, _>("currency")?
                .unwrap_or_default(),
            figures: Figures {
                last_ledger_id: 0,
                recharges: get("recharges")?,
                call_charges: get("call_charges")?,
                adjustments: get("adjustments")?,
                held: get("held")?,
                closing: get("closing_balance")?,
                calls: get("calls")?,
                holds: (0, 0),
                releases: (0, 0),
            },
            charges: get("charges")?,
            tax: get("tax")?,
            tax_name: row
                .try_get::<Option<String>, _>("tax_name")?
                .unwrap_or_default(),
            tax_rate: get("tax_rate")?,
            tax_included: get("tax_included")? != 0,
            closed_at: get("closed_at")?,
        })
    } else {
        None
    };
    Ok(Row_ {
        id: row.try_get("id")?,
        account: Account {
            tenant_id: row.try_get("tenant_id")?,
            user_id: row.try_get("user_id")?,
        },
        username: row.try_get("username")?,
        number: row.try_get("number")?,
        status,
        open: open_from_row(row)?,
        closed,
    })
}

/// The tax and total of an open statement's figures under `settings`.
fn taxed(f: &Figures, settings: &StatementSettings) -> Result<(i64, i64, i64)> {
    let rate = crate::error::stored_units("tax_rate", settings.tax_rate)?;
    let charges = f.charges()?;
    let tax = tax_units(charges, rate, settings.tax_included)
        .ok_or_else(|| Error::internal("a statement's tax overflows"))?;
    Ok((charges, tax, rate))
}

fn statement(
    row: &Row_,
    f: &Figures,
    (charges, tax): (i64, i64),
    (tax_name, tax_rate, tax_included): (&str, i64, bool),
    currency: &str,
    closed_at: Option<i64>,
) -> Result<Statement> {
    let total = if tax_included {
        charges
    } else {
        charges
            .checked_add(tax)
            .ok_or_else(|| Error::internal("a statement's total overflows"))?
    };
    Ok(Statement {
        id: ApiId::encode(row.id),
        number: row.number,
        user_id: row.account.user_id.map(ApiId::encode),
        username: row.username.clone(),
        status: row.status,
        period_start: rfc3339(row.open.period_start),
        period_end: rfc3339(row.open.period_end),
        currency: currency.to_string(),
        opening_balance: Money::from_units(row.open.opening),
        recharges: Money::from_units(f.recharges),
        call_charges: Money::from_units(f.call_charges),
        adjustments: Money::from_units(f.adjustments),
        held: Money::from_units(f.held),
        closing_balance: Money::from_units(f.closing),
        calls: f.calls,
        charges: Money::from_units(charges),
        tax_name: tax_name.to_string(),
        tax_rate: Money::from_units(tax_rate),
        tax_included,
        tax: Money::from_units(tax),
        total: Money::from_units(total),
        closed_at: closed_at.map(rfc3339),
    })
}

fn line(l: Line) -> StatementLine {
    StatementLine {
        section: l.section,
        item: l.item,
        description: l.description,
        at: l.at.map(rfc3339),
        calls: l.calls,
        seconds: l.seconds,
        amount: Money::from_units(l.amount),
        credit_limit: l.credit_limit.map(Money::from_units),
    }
}

/// What the tenant's open statements are shown with: its settings now, and
/// its currency.
struct Live {
    settings: StatementSettings,
    currency: String,
}

impl Db {
    async fn live(&self, tenant_id: i64) -> Result<Live> {
        let settings = settings::read(self.pool(), tenant_id).await?;
        let currency: String = sqlx::query("SELECT currency FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?
            .try_get("currency")?;
        Ok(Live { settings, currency })
    }

    /// A stored statement as the API shows it: a closed one as written, an
    /// open one from the ledger now.
    async fn shown(&self, row: &Row_, live: &Live) -> Result<Statement> {
        match &row.closed {
            Some(c) => statement(
                row,
                &c.figures,
                (c.charges, c.tax),
                (&c.tax_name, c.tax_rate, c.tax_included),
                &c.currency,
                Some(c.closed_at),
            ),
            None => {
                let mut conn = self.pool().acquire().await?;
                let f = figures::figures(&mut conn, row.account, &row.open).await?;
                let (charges, tax, rate) = taxed(&f, &live.settings)?;
                statement(
                    row,
                    &f,
                    (charges, tax),
                    (&live.settings.tax_name, rate, live.settings.tax_included),
                    &live.currency,
                    None,
                )
            }
        }
    }

    /// The statements the scope reads: every account's of the tenant for
    /// its administrators, one's own for a standard user (or a scope of
    /// one's own account), filtered, searched, ordered and paged.
    pub async fn list_statements(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<Statement>> {
        let now = now_ms();
        let own = scope.only_own() || !scope.caller.role.manages_tenant();
        let account = own.then_some(Account {
            tenant_id: scope.tenant_id,
            user_id: Some(scope.caller.user_id),
        });
        let live = self.live(scope.tenant_id).await?;
        self.bring_up_to_date(Some(scope.tenant_id), account, now)
            .await?;
        let (condition, binds) = if own {
            (
                "statements.tenant_id = $1 AND statements.user_id = $2",
                vec![
                    SqlValue::Int(scope.tenant_id),
                    SqlValue::Int(scope.caller.user_id),
                ],
            )
        } else {
            (
                "statements.tenant_id = $1",
                vec![SqlValue::Int(scope.tenant_id)],
            )
        };
        let page = self
            .page(
                Listing {
                    columns: COLUMNS,
                    from: FROM,
                    scope: condition,
                    scope_binds: binds,
                    spec: &STATEMENT_SPEC,
                    sqlite_search: None,
                    version: None,
                },
                query,
                stored,
            )
            .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for row in &page.items {
            items.push(self.shown(row, &live).await?);
        }
        Ok(Page {
            count: page.count,
            items,
            cursor: page.cursor,
            previous_cursor: page.previous_cursor,
        })
    }

    /// One stored statement the scope may read, brought up to date.
    async fn visible_statement(&self, scope: &Scope, id: i64) -> Result<Row_> {
        let own = scope.only_own() || !scope.caller.role.manages_tenant();
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE statements.id = $1 AND statements.tenant_id = $2"
        );
        let fetch = || async {
            let row = sqlx::query(&sql)
                .bind(id)
                .bind(scope.tenant_id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(Error::NotFound("statement"))?;
            let row = stored(&row)?;
            if own && row.account.user_id != Some(scope.caller.user_id) {
                return Err(Error::NotFound("statement"));
            }
            Ok::<_, Error>(row)
        };
        let row = fetch().await?;
        if row.status == StatementStatus::Open
            && self
                .bring_up_to_date(Some(scope.tenant_id), Some(row.account), now_ms())
                .await?
                > 0
        {
            return fetch().await;
        }
        Ok(row)
    }

    /// One statement with its lines (the tenant's administrators; a
    /// standard user its own).
    pub async fn get_statement(&self, scope: &Scope, id: i64) -> Result<StatementDetail> {
        let row = self.visible_statement(scope, id).await?;
        let live = self.live(scope.tenant_id).await?;
        let tenant_name: String = sqlx::query("SELECT name FROM tenants WHERE id = $1")
            .bind(scope.tenant_id)
            .fetch_one(self.pool())
            .await?
            .try_get("name")?;
        let lines = if row.closed.is_some() {
            sqlx::query(
                "SELECT section, item, description, at, calls, seconds, amount, credit_limit \
                 FROM statement_lines WHERE statement_id = $1 ORDER BY position",
            )
            .bind(row.id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Line {
                    section: r
                        .try_get::<String, _>("section")?
                        .parse::<LineSection>()
                        .map_err(Error::internal)?,
                    item: r.try_get("item")?,
                    description: r.try_get("description")?,
                    at: r.try_get("at")?,
                    calls: r.try_get("calls")?,
                    seconds: r.try_get("seconds")?,
                    amount: r.try_get("amount")?,
                    credit_limit: r.try_get("credit_limit")?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        } else {
            let mut conn = self.pool().acquire().await?;
            let f = figures::figures(&mut conn, row.account, &row.open).await?;
            figures::lines(
                &mut conn,
                row.account,
                row.open.after,
                (row.open.period_start, row.open.period_end),
                &f,
            )
            .await?
        };
        Ok(StatementDetail {
            statement: self.shown(&row, &live).await?,
            tenant_name,
            lines: lines.into_iter().map(line).collect(),
        })
    }

    /// One statement as CSV ([`STATEMENT_CSV_COLUMNS`]): its totals as
    /// `TOTAL` lines, then its lines; and the file's name.
    pub async fn statement_csv(&self, scope: &Scope, id: i64) -> Result<(String, String)> {
        use std::fmt::Write;
        let detail = self.get_statement(scope, id).await?;
        let s = &detail.statement;
        let account = s.username.clone().unwrap_or_else(|| "TENANT".into());
        let head = [
            s.number.to_string(),
            crate::csv::text(&account).into_owned(),
            s.period_start.clone(),
            s.period_end.clone(),
            s.status.to_string(),
            s.currency.clone(),
        ]
        .join(",");
        let mut out = STATEMENT_CSV_COLUMNS.join(",");
        out.push('\n');
        let totals = [
            ("OPENING_BALANCE", "opening balance", s.opening_balance, 0),
            ("RECHARGES", "recharges", s.recharges, 0),
            ("CALL_CHARGES", "call charges", s.call_charges, s.calls),
            ("ADJUSTMENTS", "adjustments", s.adjustments, 0),
            ("HELD", "held by calls in progress", s.held, 0),
            ("CLOSING_BALANCE", "closing balance", s.closing_balance, 0),
            ("CHARGES", "net charges", s.charges, 0),
            ("TAX", "tax", s.tax, 0),
            ("TOTAL", "charges with tax", s.total, 0),
        ];
        let write = |out: &mut String,
                     section: &str,
                     item: &str,
                     description: &str,
                     at: &str,
                     calls: i64,
                     seconds: i64,
                     amount: Money,
                     limit: Option<Money>|
         -> Result<()> {
            writeln!(
                out,
                "{head},{section},{},{},{at},{calls},{seconds},{},{}",
                crate::csv::text(item),
                crate::csv::text(description),
                amount.to_fixed(),
                limit.map(Money::to_fixed).unwrap_or_default()
            )
            .map_err(Error::internal)
        };
        for (item, description, amount, calls) in totals {
            let description = if item == "TAX" && !s.tax_name.is_empty() {
                format!(
                    "{} {}%{}",
                    s.tax_name,
                    s.tax_rate,
                    if s.tax_included { " included" } else { "" }
                )
            } else {
                description.to_string()
            };
            write(
                &mut out,
                "TOTAL",
                item,
                &description,
                "",
                calls,
                0,
                amount,
                None,
            )?;
        }
        for l in &detail.lines {
            write(
                &mut out,
                &l.section.to_string(),
                &l.item,
                &l.description,
                l.at.as_deref().unwrap_or(""),
                l.calls,
                l.seconds,
                l.amount,
                l.credit_limit,
            )?;
        }
        Ok((format!("statement-{}.csv", s.number), out))
    }
}
