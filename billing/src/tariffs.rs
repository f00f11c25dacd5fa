//! Tariffs: named rate tables of a tenant, each with its currency and
//! tariff-wide values. Every surface manages them through these methods;
//! the billing plans that route calls to a tariff are in
//! [`billing_plans`](crate::billing_plans).

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
pub use model::tariff::Tariff;
use model::tariff::{TariffInput, TariffPatch};
use model::{ApiId, Money};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Entity};
use crate::auth::Scope;
use crate::db::{now_ms, Db, Tx};
use crate::error::{is_unique_violation, stored_units, Error, Result};
use crate::listing::{bind_all, Listing, Page};
use crate::resolver::Changed;

const TARIFF_COLUMNS: &str = "id, name, currency, free_seconds, connect_fee, post_call_surcharge, \
    grace_period, CASE WHEN is_default THEN 1 ELSE 0 END AS is_default, created_at";

pub static TARIFF_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("name", "name", FieldKind::Text),
        FieldSpec::new("currency", "currency", FieldKind::Text),
        FieldSpec::new("free_seconds", "free_seconds", FieldKind::Integer),
        FieldSpec::new("connect_fee", "connect_fee", FieldKind::Money),
        FieldSpec::new(
            "post_call_surcharge",
            "post_call_surcharge",
            FieldKind::Money,
        ),
        FieldSpec::new("grace_period", "grace_period", FieldKind::Integer),
        FieldSpec::new("is_default", "is_default", FieldKind::Bool),
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
    ],
    search: &["name"],
    default_order: "id",
    decode_id: ApiId::decode,
};

fn tariff_from_row(row: &AnyRow) -> Result<Tariff> {
    Ok(Tariff {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        currency: row.try_get("currency")?,
        free_seconds: row.try_get("free_seconds")?,
        connect_fee: Money::from_units(row.try_get("connect_fee")?),
        post_call_surcharge: Money::from_units(row.try_get("post_call_surcharge")?),
        grace_period: row.try_get("grace_period")?,
        is_default: row.try_get::<i64, _>("is_default")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// A tariff as its audit entries show it (no id, no creation time).
fn tariff_snapshot(tariff: &Tariff) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = audit::snapshot(tariff);
    fields.remove("id");
    fields.remove("created_at");
    fields
}

/// One tariff of the tenant inside `tx`, locked on PostgreSQL until `tx` ends.
async fn tariff_in_tx(tx: &mut Tx, scope: &Scope, lock: &str, id: i64) -> Result<Option<Tariff>> {
    let sql =
        format!("SELECT {TARIFF_COLUMNS} FROM tariffs WHERE id = $1 AND tenant_id = $2{lock}");
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(scope.tenant_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(tariff_from_row).transpose()
}

fn duplicate_name() -> Error {
    Error::field(
        "name",
        "is already the name of another tariff of the tenant",
    )
}

/// Runs an UPDATE built from `sets` (column, value) on the row `id` of the
/// tenant in `table`; answers whether a row was changed.
pub(crate) async fn update_row(
    tx: &mut Tx,
    table: &str,
    sets: Vec<(&'static str, SqlValue)>,
    id: i64,
    tenant_id: i64,
) -> std::result::Result<bool, sqlx::Error> {
    let mut binds: Vec<SqlValue> = Vec::with_capacity(sets.len() + 2);
    let mut assignments = Vec::with_capacity(sets.len());
    for (i, (column, value)) in sets.into_iter().enumerate() {
        assignments.push(format!("{column} = ${}", i + 1));
        binds.push(value);
    }
    let n = binds.len();
    let sql = format!(
        "UPDATE {table} SET {} WHERE id = ${} AND tenant_id = ${}",
        assignments.join(", "),
        n + 1,
        n + 2
    );
    binds.push(SqlValue::Int(id));
    binds.push(SqlValue::Int(tenant_id));
    let done = bind_all(sqlx::query(&sql), &binds)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Db {
    pub async fn list_tariffs(&self, scope: &Scope, query: &ListQuery) -> Result<Page<Tariff>> {
        self.page(
            Listing {
                columns: TARIFF_COLUMNS,
                from: "tariffs",
                scope: "tenant_id = $1",
                scope_binds: vec![SqlValue::Int(scope.tenant_id)],
                spec: &TARIFF_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            tariff_from_row,
        )
        .await
    }

    pub async fn get_tariff(&self, scope: &Scope, id: i64) -> Result<Tariff> {
        let sql = format!("SELECT {TARIFF_COLUMNS} FROM tariffs WHERE id = $1 AND tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tariff"))?;
        tariff_from_row(&row)
    }

    /// How many rates each tariff of the tenant has, by tariff id (a tariff
    /// without rates is absent). One query, whatever the number of tariffs.
    pub async fn tariff_rate_counts(
        &self,
        scope: &Scope,
    ) -> Result<std::collections::HashMap<i64, i64>> {
        let rows = sqlx::query(
            "SELECT tariff_id, COUNT(*) AS rates FROM call_rates WHERE tenant_id = $1 \
             GROUP BY tariff_id",
        )
        .bind(scope.tenant_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("tariff_id")?,
                    row.try_get::<i64, _>("rates")?,
                ))
            })
            .collect()
    }

    /// The tenant's default tariff (whose rates are the v22 call rates).
    pub async fn default_tariff(&self, scope: &Scope) -> Result<Tariff> {
        let id = crate::call_rates::default_tariff(self.pool(), scope.tenant_id).await?;
        self.get_tariff(scope, id).await
    }

    /// Creates a tariff; without a currency it takes the tenant's.
    pub async fn create_tariff(&self, scope: &Scope, new: TariffInput) -> Result<Tariff> {
        scope.require_manager()?;
        let now = now_ms();
        let mut tx = self.write().await?;
        let currency = match new.currency {
            Some(c) => c,
            None => sqlx::query("SELECT currency FROM tenants WHERE id = $1")
                .bind(scope.tenant_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(Error::NotFound("tenant"))?
                .try_get("currency")?,
        };
        let inserted = sqlx::query(
            "INSERT INTO tariffs (tenant_id, name, currency, free_seconds, connect_fee, \
             post_call_surcharge, grace_period, is_default, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8) RETURNING id",
        )
        .bind(scope.tenant_id)
        .bind(&new.name)
        .bind(&currency)
        .bind(new.free_seconds)
        .bind(stored_units("connect_fee", new.connect_fee)?)
        .bind(stored_units(
            "post_call_surcharge",
            new.post_call_surcharge,
        )?)
        .bind(new.grace_period)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            Err(e) if is_unique_violation(&e) => return Err(duplicate_name()),
            Err(e) => return Err(e.into()),
        };
        let tariff = Tariff {
            id,
            name: new.name,
            currency,
            free_seconds: new.free_seconds,
            connect_fee: new.connect_fee,
            post_call_surcharge: new.post_call_surcharge,
            grace_period: new.grace_period,
            is_default: false,
            created_at: now,
        };
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Create, Entity::Tariff, id)
                .with(audit::created(tariff_snapshot(&tariff))),
            Changed::Routing,
        )
        .await?;
        Ok(tariff)
    }

    /// Changes what a patch names; the tariff's rates see new tariff-wide values.
    pub async fn update_tariff(
        &self,
        scope: &Scope,
        id: i64,
        patch: TariffPatch,
    ) -> Result<Tariff> {
        scope.require_manager()?;
        let mut sets: Vec<(&'static str, SqlValue)> = Vec::new();
        if let Some(name) = &patch.name {
            sets.push(("name", SqlValue::Text(name.clone())));
        }
        if let Some(c) = &patch.currency {
            sets.push(("currency", SqlValue::Text(c.clone())));
        }
        for (column, value) in [
            ("free_seconds", patch.free_seconds),
            ("grace_period", patch.grace_period),
        ] {
            if let Some(v) = value {
                sets.push((column, SqlValue::Int(v)));
            }
        }
        for (column, value) in [
            ("connect_fee", patch.connect_fee),
            ("post_call_surcharge", patch.post_call_surcharge),
        ] {
            if let Some(v) = value {
                sets.push((column, SqlValue::Int(stored_units(column, v)?)));
            }
        }
        if sets.is_empty() {
            return self.get_tariff(scope, id).await;
        }
        let lock = crate::sql::for_update(self.backend());
        let mut tx = self.write().await?;
        let before = tariff_in_tx(&mut tx, scope, lock, id)
            .await?
            .ok_or(Error::NotFound("tariff"))?;
        match update_row(&mut tx, "tariffs", sets, id, scope.tenant_id).await {
            Ok(true) => {}
            Ok(false) => return Err(Error::NotFound("tariff")),
            Err(e) if is_unique_violation(&e) => return Err(duplicate_name()),
            Err(e) => return Err(e.into()),
        }
        let after = tariff_in_tx(&mut tx, scope, "", id)
            .await?
            .ok_or(Error::NotFound("tariff"))?;
        // A new name or currency leaves the rates' terms as they were.
        let terms_kept = patch.free_seconds.is_none()
            && patch.grace_period.is_none()
            && patch.connect_fee.is_none()
            && patch.post_call_surcharge.is_none();
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Update, Entity::Tariff, id)
                .with(audit::diff(
                    &tariff_snapshot(&before),
                    &tariff_snapshot(&after),
                )),
            if terms_kept {
                Changed::TariffHead(id)
            } else {
                Changed::Tariff(id)
            },
        )
        .await?;
        self.get_tariff(scope, id).await
    }

    /// Deletes a tariff and its rates. The default tariff, and a tariff a
    /// billing plan uses, cannot be deleted.
    pub async fn delete_tariff(&self, scope: &Scope, id: i64) -> Result<()> {
        scope.require_manager()?;
        let lock = crate::sql::for_update(self.backend());
        let mut tx = self.write().await?;
        let before = tariff_in_tx(&mut tx, scope, lock, id)
            .await?
            .ok_or(Error::NotFound("tariff"))?;
        if before.is_default {
            return Err(Error::Conflict {
                code: "DEFAULT_TARIFF",
                message:
                    "the default tariff cannot be deleted: its rates are the tenant's call rates"
                        .into(),
            });
        }
        let plans =
            sqlx::query("SELECT prefix FROM billing_plans WHERE tariff_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        if !plans.is_empty() {
            let prefixes = plans
                .iter()
                .map(|r| r.try_get::<String, _>("prefix"))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            return Err(Error::Conflict {
                code: "TARIFF_IN_USE",
                message: format!(
                    "the tariff is used by the billing plans for the prefixes {}: delete them or move them to another tariff first",
                    prefixes.join(", ")
                ),
            });
        }
        let rates = sqlx::query("DELETE FROM call_rates WHERE tariff_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM tariffs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut gone = tariff_snapshot(&before);
        gone.insert("rates".into(), rates.into());
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Delete, Entity::Tariff, id)
                .with(audit::deleted(gone)),
            Changed::Routing,
        )
        .await?;
        Ok(())
    }
}
