//! A tenant's statement settings (`/api/tenant/statement_settings`): its
//! cycle and the tax its statements show. A tenant without a row has the
//! defaults (monthly from the 1st, no tax); the row is written at the first
//! change, or when the tenant's first statement takes its number.

use model::statement::{Cycle, StatementSettings, StatementSettingsPatch};
use model::Money;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Entity};
use crate::auth::Scope;
use crate::db::{Db, Tx};
use crate::error::{Error, Result};

/// The tenant's settings, the defaults where it has no row yet.
const SETTINGS_SQL: &str =
    "SELECT t.id, s.cycle, s.cycle_day, s.tax_name, s.tax_rate, s.tax_included \
     FROM tenants t LEFT JOIN statement_settings s ON s.tenant_id = t.id WHERE t.id = $1";

fn settings_from_row(row: &AnyRow) -> Result<StatementSettings> {
    let Some(cycle) = row.try_get::<Option<String>, _>("cycle")? else {
        return Ok(StatementSettings::default());
    };
    Ok(StatementSettings {
        cycle: cycle.parse::<Cycle>().map_err(Error::internal)?,
        cycle_day: u8::try_from(row.try_get::<i64, _>("cycle_day")?).map_err(Error::internal)?,
        tax_name: row.try_get("tax_name")?,
        tax_rate: Money::from_units(row.try_get("tax_rate")?),
        tax_included: row.try_get::<i64, _>("tax_included")? != 0,
    })
}

/// The settings of `tenant_id` as `executor` sees them.
pub(super) async fn read<'e, E>(executor: E, tenant_id: i64) -> Result<StatementSettings>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(SETTINGS_SQL)
        .bind(tenant_id)
        .fetch_optional(executor)
        .await?
        .ok_or(Error::NotFound("tenant"))?;
    settings_from_row(&row)
}

/// Makes sure the tenant has its row (with the defaults), inside `tx`.
pub(super) async fn ensure_row(tx: &mut Tx, tenant_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO statement_settings (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The next statement number of the tenant, taken inside `tx`: the row is
/// locked until `tx` ends, and a rolled-back `tx` gives the number back, so
/// the numbers have no gaps.
pub(super) async fn take_number(tx: &mut Tx, tenant_id: i64) -> Result<i64> {
    ensure_row(tx, tenant_id).await?;
    let row = sqlx::query(
        "UPDATE statement_settings SET next_number = next_number + 1 WHERE tenant_id = $1 \
         RETURNING next_number - 1 AS number",
    )
    .bind(tenant_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("number")?)
}

impl Db {
    /// The tenant's statement settings (any of its users: the tax is on
    /// every statement).
    pub async fn statement_settings(&self, scope: &Scope) -> Result<StatementSettings> {
        read(self.pool(), scope.tenant_id).await
    }

    /// Changes the statement settings (the tenant's administrators). A new
    /// cycle starts with the period after each account's open statement;
    /// the tax is that of the settings when a statement closes.
    pub async fn update_statement_settings(
        &self,
        scope: &Scope,
        patch: StatementSettingsPatch,
    ) -> Result<StatementSettings> {
        scope.require_manager()?;
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        // Not found first, for a tenant a system administrator names wrongly.
        read(&mut *tx, scope.tenant_id).await?;
        ensure_row(&mut tx, scope.tenant_id).await?;
        let sql = format!(
            "SELECT cycle FROM statement_settings WHERE tenant_id = $1{}",
            crate::sql::for_update(self.backend())
        );
        sqlx::query(&sql)
            .bind(scope.tenant_id)
            .fetch_one(&mut *tx)
            .await?;
        let current = read(&mut *tx, scope.tenant_id).await?;
        let next = patch.apply(&current).map_err(Error::Validation)?;
        let rate = crate::error::stored_units("tax_rate", next.tax_rate)?;
        audit::append_if_changed(
            &mut tx,
            scope
                .change(Action::Update, Entity::StatementSettings, scope.tenant_id)
                .with(audit::diff(
                    &audit::snapshot(&current),
                    &audit::snapshot(&next),
                )),
        )
        .await?;
        sqlx::query(
            "UPDATE statement_settings SET cycle = $1, cycle_day = $2, tax_name = $3, tax_rate = $4, \
             tax_included = $5 WHERE tenant_id = $6",
        )
        .bind(next.cycle.to_string())
        .bind(i64::from(next.cycle_day))
        .bind(&next.tax_name)
        .bind(rate)
        .bind(i64::from(next.tax_included))
        .bind(scope.tenant_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }
}
