//! A tenant's billing settings (`/api/tenant/billing`): whether calls are
//! billed, whose balance pays (the tenant's or the calling user's), and
//! whether a call is charged after it ends (from its CDR) or authorised
//! before it starts (online charging).

use model::billing_settings::{BillingAccount, BillingSettings, BillingSettingsPatch, BillingType};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Entity};
use crate::auth::Scope;
use crate::db::Db;
use crate::error::{Error, Result};

/// A tenant's billing settings. The flag is read as 0/1: sqlx's `Any` driver
/// cannot decode SQLite's BOOLEAN.
const SETTINGS_SQL: &str =
    "SELECT CASE WHEN billing_enabled THEN 1 ELSE 0 END AS billing_enabled, \
     billing_account, billing_type FROM tenants WHERE id = $1";

fn settings_from_row(row: &AnyRow) -> Result<BillingSettings> {
    Ok(BillingSettings {
        enabled: row.try_get::<i64, _>("billing_enabled")? != 0,
        account: row
            .try_get::<String, _>("billing_account")?
            .parse::<BillingAccount>()
            .map_err(Error::internal)?,
        billing_type: row
            .try_get::<String, _>("billing_type")?
            .parse::<BillingType>()
            .map_err(Error::internal)?,
    })
}

impl Db {
    pub async fn billing_settings(&self, scope: &Scope) -> Result<BillingSettings> {
        let row = sqlx::query(SETTINGS_SQL)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        settings_from_row(&row)
    }

    pub async fn update_billing_settings(
        &self,
        scope: &Scope,
        patch: BillingSettingsPatch,
    ) -> Result<BillingSettings> {
        scope.require_manager()?;
        let sql = format!("{SETTINGS_SQL}{}", crate::sql::for_update(self.backend()));
        let mut tx = self.write().await?;
        let row = sqlx::query(&sql)
            .bind(scope.tenant_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let current = settings_from_row(&row)?;
        let next = patch.apply(current);
        audit::append_if_changed(
            &mut tx,
            scope
                .change(Action::Update, Entity::BillingSettings, scope.tenant_id)
                .with(audit::diff(
                    &audit::snapshot(&current),
                    &audit::snapshot(&next),
                )),
        )
        .await?;
        sqlx::query(
            "UPDATE tenants SET billing_enabled = $1, billing_account = $2, billing_type = $3 WHERE id = $4",
        )
        .bind(next.enabled)
        .bind(next.account.to_string())
        .bind(next.billing_type.to_string())
        .bind(scope.tenant_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }
}
