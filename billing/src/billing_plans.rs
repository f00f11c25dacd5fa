//! Billing plans: which tariff rates the calls to a prefix (the plan whose
//! prefix is the longest match of the callee), and whether their amounts are
//! rounded up. Every surface manages them through these methods.

pub use model::billing_plan::BillingPlan;
use model::billing_plan::{BillingCycle, BillingPlanPatch};
use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::ApiId;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Entity};
use crate::auth::Scope;
use crate::db::{now_ms, Db, Tx};
use crate::error::{is_unique_violation, Error, Result};
use crate::listing::{Listing, Page};
use crate::resolver::Changed;
use crate::tariffs::update_row;

const PLAN_COLUMNS: &str = "id, prefix, tariff_id, description, suspend_mode, currency, \
    billing_cycle, billing_day, CASE WHEN round_up THEN 1 ELSE 0 END AS round_up, \
    CASE WHEN prepaid THEN 1 ELSE 0 END AS prepaid, created_at";

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
        id: row.try_get("id")?,
        prefix: row.try_get("prefix")?,
        tariff_id: row.try_get("tariff_id")?,
        description: row.try_get("description")?,
        suspend_mode: row.try_get("suspend_mode")?,
        currency: row.try_get("currency")?,
        billing_cycle: BillingCycle::from_number(row.try_get("billing_cycle")?)
            .ok_or_else(|| Error::internal("a stored billing cycle is out of range"))?,
        billing_day: row.try_get("billing_day")?,
        round_up: row.try_get::<i64, _>("round_up")? != 0,
        prepaid: row.try_get::<i64, _>("prepaid")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// A billing plan as its audit entries show it (ids opaque).
fn plan_snapshot(plan: &BillingPlan) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = audit::snapshot(plan);
    fields.remove("id");
    fields.remove("created_at");
    fields.insert("tariff_id".into(), ApiId::encode(plan.tariff_id).into());
    fields
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

fn duplicate_plan() -> Error {
    Error::field(
        "prefix",
        "already has a billing plan: a prefix has at most one",
    )
}

impl Db {
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
                sqlite_search: None,
                version: None,
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
        Ok(row.try_get("currency")?)
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
            Ok(row) => row.try_get("id")?,
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
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Create, Entity::BillingPlan, id)
                .with(audit::created(plan_snapshot(&created))),
            Changed::Routing,
        )
        .await?;
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
        if sets.is_empty() {
            tx.commit().await?;
            return self.get_billing_plan(scope, id).await;
        }
        match update_row(&mut tx, "billing_plans", sets, id, scope.tenant_id).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(duplicate_plan()),
            Err(e) => return Err(e.into()),
        }
        let after = plan_in_tx(&mut tx, scope, "", id)
            .await?
            .ok_or(Error::NotFound("billing plan"))?;
        let changes = audit::diff(&plan_snapshot(&current), &plan_snapshot(&after));
        let change = scope.change(Action::Update, Entity::BillingPlan, id);
        self.commit_rating_change(tx, change.with(changes), Changed::Routing)
            .await?;
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
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Delete, Entity::BillingPlan, id)
                .with(audit::deleted(plan_snapshot(&before))),
            Changed::Routing,
        )
        .await?;
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
