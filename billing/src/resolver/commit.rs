//! The one way a write to a tenant's rating data (a tariff, its rates, a
//! billing plan) ends: its audit entry, new rates versions and the change
//! log, the commit, then this server's rate tables brought up to date.

use sqlx::Row;

use crate::audit::{self, Change};
use crate::db::{Db, Tx};
use crate::error::{Error, Result};

use super::tables::MAX_CATCH_UP;

/// What a write changed of a tenant's rating data, as the rate tables see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Changed {
    /// Which tariff rates which calls (billing plans, tariffs added or
    /// removed, the tenant's currency): no tariff's rates.
    Routing,
    /// One rate of a tariff, added, changed or removed: tables behind it
    /// read that rate again.
    Rate { tariff: i64, rate: i64 },
    /// A tariff's name or currency, not the terms of its rates.
    TariffHead(i64),
    /// Many rates of a tariff (an import), or a tariff-wide value all its
    /// rates take: tables behind it are built afresh.
    Tariff(i64),
}

impl Db {
    /// Ends a write to a tenant's rating data: the audit entry of `change`
    /// (none for an update that changed no field), new rates versions
    /// ([`bump_rates_version`]), the commit, and then this server's rating
    /// of the tenant brought up to date, so that the change is answered once
    /// the calls this server rates see it.
    pub(crate) async fn commit_rating_change(
        &self,
        mut tx: Tx,
        change: Change<'_>,
        changed: Changed,
    ) -> Result<()> {
        let tenant_id = change
            .tenant_id
            .ok_or_else(|| Error::internal("a change of rating data names its tenant"))?;
        audit::append_if_changed(&mut tx, change).await?;
        bump_rates_version(&mut tx, tenant_id, changed).await?;
        tx.commit().await?;
        self.rating_changed(tenant_id).await;
        Ok(())
    }
}

/// Marks the tenant's rating data as changed (and the tariff's rates, when
/// a change names one), so rate tables built before are brought up to date:
/// a single-rate change is written to the change log under the tariff's new
/// version; a change of many rates empties the tariff's log, whose older
/// entries no table behind it can use any more.
pub(crate) async fn bump_rates_version(
    tx: &mut Tx,
    tenant_id: i64,
    changed: Changed,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET rates_version = rates_version + 1 WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut **tx)
        .await?;
    let (tariff, logged) = match changed {
        Changed::Routing => return Ok(()),
        Changed::Rate { tariff, rate } => (tariff, Some(Some(rate))),
        Changed::TariffHead(tariff) => (tariff, Some(None)),
        Changed::Tariff(tariff) => (tariff, None),
    };
    let version: i64 = sqlx::query(
        "UPDATE tariffs SET rates_version = rates_version + 1 WHERE id = $1 RETURNING rates_version",
    )
    .bind(tariff)
    .fetch_one(&mut **tx)
    .await?
    .try_get("rates_version")?;
    match logged {
        Some(rate) => {
            sqlx::query(
                "INSERT INTO rate_changes (tariff_id, version, rate_id) VALUES ($1, $2, $3)",
            )
            .bind(tariff)
            .bind(version)
            .bind(rate)
            .execute(&mut **tx)
            .await?;
            // Now and then, forget what no table can catch up from any more.
            if version % 64 == 0 {
                sqlx::query("DELETE FROM rate_changes WHERE tariff_id = $1 AND version <= $2")
                    .bind(tariff)
                    .bind(version - MAX_CATCH_UP)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        None => {
            sqlx::query("DELETE FROM rate_changes WHERE tariff_id = $1")
                .bind(tariff)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}
