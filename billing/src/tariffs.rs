//! Tariffs (named rate tables of a tenant, each with its currency and
//! tariff-wide values) and billing plans (which tariff rates the calls to a
//! prefix). Every surface manages them through these methods.

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::tariff::{BillingCycle, BillingPlanPatch, TariffInput, TariffPatch};
pub use model::tariff::{BillingPlan, Tariff};
use model::{ApiId, Money};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Change, Entity};
use crate::auth::Scope;
use crate::call_rates::bump_rates_version;
use crate::db::{now_ms, Db, Tx};
use crate::error::{is_unique_violation, Error, Result};
use crate::listing::{bind_all, Listing, Page};

const TARIFF_COLUMNS: &str = "id, name, currency, free_seconds, connect_fee, post_call_surcharge, \
    grace_period, CASE WHEN is_default THEN 1 ELSE 0 END, created_at";

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
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        currency: row.try_get(2)?,
        free_seconds: row.try_get(3)?,
        connect_fee: Money::from_units(row.try_get(4)?),
        post_call_surcharge: Money::from_units(row.try_get(5)?),
        grace_period: row.try_get(6)?,
        is_default: row.try_get::<i64, _>(7)? != 0,
        created_at: row.try_get(8)?,
    })
}

const PLAN_COLUMNS: &str = "id, prefix, tariff_id, description, suspend_mode, currency, \
    billing_cycle, billing_day, CASE WHEN round_up THEN 1 ELSE 0 END, \
    CASE WHEN prepaid THEN 1 ELSE 0 END, created_at";

pub static BILLING_PLAN_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("prefix", "prefix", FieldKind::Text),
        FieldSpec::new("tariff_id", "tariff_id", FieldKind::Id),
        FieldSpec::new("description", "description", FieldKind::Text),
        FieldSpec::new("suspend_mode", "suspend_mode", FieldKind::Integer),
        FieldSpec::new("currency", "currency", FieldKind::Text),
        FieldSpec::new("billing_cycle", "billing_cycle", FieldKind::Integer),
        FieldSpec::new("billing_day", "billing_day", FieldKind::Integer),
        FieldSpec::new("round_up", "round_up", FieldKind::Bool),
        FieldSpec::new("prepaid", "prepaid", FieldKind::Bool),
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
    ],
    search: &["prefix", "description"],
    default_order: "id",
    decode_id: ApiId::decode,
};

fn plan_from_row(row: &AnyRow) -> Result<BillingPlan> {
    Ok(BillingPlan {
        id: row.try_get(0)?,
        prefix: row.try_get(1)?,
        tariff_id: row.try_get(2)?,
        description: row.try_get(3)?,
        suspend_mode: row.try_get(4)?,
        currency: row.try_get(5)?,
        billing_cycle: BillingCycle::from_number(row.try_get(6)?)
            .ok_or_else(|| Error::internal("a stored billing cycle is out of range"))?,
        billing_day: row.try_get(7)?,
        round_up: row.try_get::<i64, _>(8)? != 0,
        prepaid: row.try_get::<i64, _>(9)? != 0,
        created_at: row.try_get(10)?,
    })
}

/// A tariff as its audit entries show it (no id, no creation time).
fn tariff_snapshot(tariff: &Tariff) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = audit::snapshot(tariff);
    fields.remove("id");
    fields.remove("created_at");
    fields
}

/// A billing plan as its audit entries show it (ids opaque).
fn plan_snapshot(plan: &BillingPlan) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = audit::snapshot(plan);
    fields.remove("id");
    fields.remove("created_at");
    fields.insert("tariff_id".into(), ApiId::encode(plan.tariff_id).into());
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

/// One billing plan of the tenant inside `tx`, locked on PostgreSQL.
async fn plan_in_tx(
    tx: &mut Tx,
    scope: &Scope,
    lock: &str,
    id: i64,
) -> Result<Option<BillingPlan>> {
    let sql =
        format!("SELECT {PLAN_COLUMNS} FROM billing_plans WHERE id = $1 AND tenant_id = $2{lock}");
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(scope.tenant_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(plan_from_row).transpose()
}

fn units(m: Money) -> Result<i64> {
    m.to_units().map_err(Error::internal)
}

fn duplicate_name() -> Error {
    Error::field(
        "name",
        "is already the name of another tariff of the tenant",
    )
}

fn duplicate_plan() -> Error {
    Error::field(
        "prefix",
        "already has a billing plan: a prefix has at most one",
    )
}

/// Runs an UPDATE built from `sets` (column, value) on the row `id` of the
/// tenant in `table`; answers whether a row was changed.
async fn update_row(
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
            "SELECT tariff_id, COUNT(*) FROM call_rates WHERE tenant_id = $1 GROUP BY tariff_id",
        )
        .bind(scope.tenant_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?)))
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
                .try_get(0)?,
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
        .bind(units(new.connect_fee)?)
        .bind(units(new.post_call_surcharge)?)
        .bind(new.grace_period)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get(0)?,
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
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Create,
                Entity::Tariff,
                Some(id),
            )
            .with(audit::created(tariff_snapshot(&tariff))),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, None).await?;
        tx.commit().await?;
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
                sets.push((column, SqlValue::Int(units(v)?)));
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
        let changes = audit::diff(&tariff_snapshot(&before), &tariff_snapshot(&after));
        if !changes.is_empty() {
            audit::append(
                &mut tx,
                Change::new(
                    &scope.caller,
                    Some(scope.tenant_id),
                    Action::Update,
                    Entity::Tariff,
                    Some(id),
                )
                .with(changes),
            )
            .await?;
        }
        bump_rates_version(&mut tx, scope.tenant_id, Some(id)).await?;
        tx.commit().await?;
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
                .map(|r| r.try_get::<String, _>(0))
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
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Delete,
                Entity::Tariff,
                Some(id),
            )
            .with(audit::deleted(gone)),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, None).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_billing_plans(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<BillingPlan>> {
        self.page(
            Listing {
                columns: PLAN_COLUMNS,
                from: "billing_plans",
                scope: "tenant_id = $1",
                scope_binds: vec![SqlValue::Int(scope.tenant_id)],
                spec: &BILLING_PLAN_SPEC,
            },
            query,
            plan_from_row,
        )
        .await
    }

    pub async fn get_billing_plan(&self, scope: &Scope, id: i64) -> Result<BillingPlan> {
        let sql =
            format!("SELECT {PLAN_COLUMNS} FROM billing_plans WHERE id = $1 AND tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("billing plan"))?;
        plan_from_row(&row)
    }

    /// The currency of a tariff of the tenant; another tenant's tariff is a
    /// bad `tariff_id`.
    async fn plan_tariff(tx: &mut Tx, scope: &Scope, tariff_id: i64) -> Result<String> {
        let row = sqlx::query("SELECT currency FROM tariffs WHERE id = $1 AND tenant_id = $2")
            .bind(tariff_id)
            .bind(scope.tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| Error::field("tariff_id", "is not a tariff of the tenant"))?;
        Ok(row.try_get(0)?)
    }

    /// Creates a billing plan; `prefix` and `tariff_id` are required, the
    /// currency defaults to the tariff's.
    pub async fn create_billing_plan(
        &self,
        scope: &Scope,
        plan: BillingPlanPatch,
    ) -> Result<BillingPlan> {
        scope.require_manager()?;
        plan.validate()?;
        let mut missing = Vec::new();
        if plan.prefix.is_none() {
            missing.push(model::FieldError::new("prefix", "is required"));
        }
        if plan.tariff_id.is_none() {
            missing.push(model::FieldError::new("tariff_id", "is required"));
        }
        let (Some(prefix), Some(tariff_id)) = (plan.prefix, plan.tariff_id) else {
            return Err(Error::Validation(missing));
        };
        let now = now_ms();
        let mut tx = self.write().await?;
        let tariff_currency = Self::plan_tariff(&mut tx, scope, tariff_id).await?;
        let currency = match plan.currency {
            Some(c) => {
                model::currency::parse_currency(&c).map_err(|m| Error::field("currency", m))?
            }
            None => tariff_currency,
        };
        let cycle = plan.billing_cycle.unwrap_or(BillingCycle::Monthly);
        let day = plan.billing_day.unwrap_or(1);
        check_day(cycle, day)?;
        let inserted = sqlx::query(
            "INSERT INTO billing_plans (tenant_id, prefix, prefix_key, tariff_id, description, \
             suspend_mode, currency, billing_cycle, billing_day, round_up, prepaid, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(scope.tenant_id)
        .bind(&prefix)
        .bind(model::call_rate::prefix_key(&prefix))
        .bind(tariff_id)
        .bind(plan.description.clone().unwrap_or_default())
        .bind(plan.suspend_mode.unwrap_or(0))
        .bind(&currency)
        .bind(cycle.number())
        .bind(day)
        .bind(plan.round_up.unwrap_or(false))
        .bind(plan.prepaid.unwrap_or(true))
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get(0)?,
            Err(e) if is_unique_violation(&e) => return Err(duplicate_plan()),
            Err(e) => return Err(e.into()),
        };
        let created = BillingPlan {
            id,
            prefix,
            tariff_id,
            description: plan.description.unwrap_or_default(),
            suspend_mode: plan.suspend_mode.unwrap_or(0),
            currency,
            billing_cycle: cycle,
            billing_day: day,
            round_up: plan.round_up.unwrap_or(false),
            prepaid: plan.prepaid.unwrap_or(true),
            created_at: now,
        };
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Create,
                Entity::BillingPlan,
                Some(id),
            )
            .with(audit::created(plan_snapshot(&created))),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, None).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn update_billing_plan(
        &self,
        scope: &Scope,
        id: i64,
        patch: BillingPlanPatch,
    ) -> Result<BillingPlan> {
        scope.require_manager()?;
        patch.validate()?;
        let lock = crate::sql::for_update(self.backend());
        let mut tx = self.write().await?;
        let current = plan_in_tx(&mut tx, scope, lock, id)
            .await?
            .ok_or(Error::NotFound("billing plan"))?;
        check_day(
            patch.billing_cycle.unwrap_or(current.billing_cycle),
            patch.billing_day.unwrap_or(current.billing_day),
        )?;
        let mut sets: Vec<(&'static str, SqlValue)> = Vec::new();
        if let Some(p) = &patch.prefix {
            sets.push(("prefix", SqlValue::Text(p.clone())));
            sets.push((
                "prefix_key",
                SqlValue::Text(model::call_rate::prefix_key(p).to_string()),
            ));
        }
        if let Some(t) = patch.tariff_id {
            Self::plan_tariff(&mut tx, scope, t).await?;
            sets.push(("tariff_id", SqlValue::Int(t)));
        }
        if let Some(d) = &patch.description {
            sets.push(("description", SqlValue::Text(d.clone())));
        }
        if let Some(c) = &patch.currency {
            let c = model::currency::parse_currency(c).map_err(|m| Error::field("currency", m))?;
            sets.push(("currency", SqlValue::Text(c)));
        }
        for (column, value) in [
            ("suspend_mode", patch.suspend_mode),
            (
                "billing_cycle",
                patch.billing_cycle.map(BillingCycle::number),
            ),
            ("billing_day", patch.billing_day),
        ] {
            if let Some(v) = value {
                sets.push((column, SqlValue::Int(v)));
            }
        }
        for (column, value) in [("round_up", patch.round_up), ("prepaid", patch.prepaid)] {
            if let Some(v) = value {
                sets.push((column, SqlValue::Bool(v)));
            }
        }
        if !sets.is_empty() {
            match update_row(&mut tx, "billing_plans", sets, id, scope.tenant_id).await {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Err(duplicate_plan()),
                Err(e) => return Err(e.into()),
            }
            let after = plan_in_tx(&mut tx, scope, "", id)
                .await?
                .ok_or(Error::NotFound("billing plan"))?;
            let changes = audit::diff(&plan_snapshot(&current), &plan_snapshot(&after));
            if !changes.is_empty() {
                audit::append(
                    &mut tx,
                    Change::new(
                        &scope.caller,
                        Some(scope.tenant_id),
                        Action::Update,
                        Entity::BillingPlan,
                        Some(id),
                    )
                    .with(changes),
                )
                .await?;
            }
            bump_rates_version(&mut tx, scope.tenant_id, None).await?;
        }
        tx.commit().await?;
        self.get_billing_plan(scope, id).await
    }

    pub async fn delete_billing_plan(&self, scope: &Scope, id: i64) -> Result<()> {
        scope.require_manager()?;
        let lock = crate::sql::for_update(self.backend());
        let mut tx = self.write().await?;
        let before = plan_in_tx(&mut tx, scope, lock, id)
            .await?
            .ok_or(Error::NotFound("billing plan"))?;
        sqlx::query("DELETE FROM billing_plans WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(scope.tenant_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Delete,
                Entity::BillingPlan,
                Some(id),
            )
            .with(audit::deleted(plan_snapshot(&before))),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, None).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn check_day(cycle: BillingCycle, day: i64) -> Result<()> {
    let days = cycle.days();
    if days.contains(&day) {
        Ok(())
    } else {
        Err(Error::field(
            "billing_day",
            format!(
                "must be between {} and {} for this billing cycle",
                days.start(),
                days.end()
            ),
        ))
    }
}
