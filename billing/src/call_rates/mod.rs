//! Call rates of any tariff of a tenant: their create, read, update and
//! delete. The default tariff's rates are the v22 `/api/call_rates`; every
//! surface reads and writes rates through the methods here, which take the
//! tariff they act on. The [rate spec](spec) (columns, list fields, row
//! decoding), and the CSV [import](import) and [export](export) of the
//! default tariff's rates, are in their own modules.

mod export;
mod import;
mod spec;

pub use import::{ImportOptions, Imported, LineError, IMPORT_ERRORS_LISTED};
use spec::{stored_from_row, COLUMNS, FROM};
pub use spec::{CALL_RATE_SPEC, TARIFF_RATE_SPEC};

use model::call_rate::{prefix_key, CallRate, CallRateFields, CallRatePatch};
use model::query::{ListQuery, SqlValue};
use model::tariff::{validate_schedule, RateInput, RatePatch, StoredRate};
use model::{ApiId, Money};
use sqlx::{Any, Executor, Row};

use crate::audit::{self, Action, Entity};
use crate::auth::Scope;
use crate::db::{now_ms, Db, Tx};
use crate::error::{is_unique_violation, stored_units, Error, Result};
use crate::listing::{bind_all, Listing, Page};
use crate::resolver::Changed;

/// A rate as its audit entries show it: every field but the id (the
/// entry's own), ids opaque, times RFC 3339.
pub(crate) fn rate_snapshot(rate: &StoredRate) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = audit::snapshot(&rate.fields);
    fields.insert("tariff_id".into(), ApiId::encode(rate.tariff_id).into());
    fields.insert("direction".into(), rate.direction.to_string().into());
    fields.insert(
        "activation_at".into(),
        crate::time::rfc3339(rate.activation_at).into(),
    );
    fields.insert(
        "expiration_at".into(),
        rate.expiration_at.map(crate::time::rfc3339).into(),
    );
    fields.insert("forbidden".into(), rate.forbidden.into());
    fields.insert(
        "grace_period_enable".into(),
        rate.grace_period_enable.into(),
    );
    fields
}

/// One rate of the tenant inside `tx`; on PostgreSQL its row stays locked
/// until `tx` ends, so what the audit log calls "before" is what changed.
async fn rate_in_tx(
    tx: &mut Tx,
    backend: crate::db::Backend,
    scope: &Scope,
    tariff: Option<i64>,
    id: i64,
) -> Result<Option<StoredRate>> {
    let (condition, binds) = rate_condition(scope, tariff, id, 1);
    let lock = match backend {
        crate::db::Backend::Postgres => " FOR UPDATE OF r",
        crate::db::Backend::Sqlite => "",
    };
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE {condition}{lock}");
    let row = bind_all(sqlx::query(&sql), &binds)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(stored_from_row).transpose()
}

/// A v22 call rate: the id and the fields.
pub fn v22_rate(rate: StoredRate) -> CallRate {
    CallRate {
        id: ApiId::encode(rate.id),
        fields: rate.fields,
    }
}

/// Which tariff a rate operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TariffRef {
    /// The tenant's default tariff: the v22 call rates.
    Default,
    /// A tariff of the tenant, by id.
    Id(i64),
    /// Any tariff of the tenant (a rate named by its own id).
    Any,
}

/// Units of an amount the [import](import) has already checked line by line.
fn money_units(m: Money) -> Result<i64> {
    m.to_units().map_err(Error::internal)
}

pub(crate) async fn default_tariff<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    tenant_id: i64,
) -> Result<i64> {
    let row = sqlx::query("SELECT id FROM tariffs WHERE tenant_id = $1 AND is_default = TRUE")
        .bind(tenant_id)
        .fetch_optional(executor)
        .await?
        .ok_or(Error::NotFound("tenant"))?;
    Ok(row.try_get("id")?)
}

/// The id of a tariff of the tenant; another tenant's is not found.
pub(crate) async fn tenant_tariff<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    tenant_id: i64,
    tariff: TariffRef,
) -> Result<Option<i64>> {
    match tariff {
        TariffRef::Default => default_tariff(executor, tenant_id).await.map(Some),
        TariffRef::Id(id) => {
            sqlx::query("SELECT id FROM tariffs WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(tenant_id)
                .fetch_optional(executor)
                .await?
                .ok_or(Error::NotFound("tariff"))?;
            Ok(Some(id))
        }
        TariffRef::Any => Ok(None),
    }
}

/// A rate whose prices the caller means in `currency` belongs only in a
/// tariff of that currency. Read inside the transaction that writes the rate
/// (on PostgreSQL the tariff's row stays locked until it ends), so a
/// concurrent change of the tariff's currency cannot slip between.
async fn check_currency(
    tx: &mut Tx,
    backend: crate::db::Backend,
    tariff_id: i64,
    currency: Option<&str>,
) -> Result<()> {
    let Some(currency) = currency else {
        return Ok(());
    };
    let lock = match backend {
        crate::db::Backend::Postgres => " FOR UPDATE",
        crate::db::Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!("SELECT currency FROM tariffs WHERE id = $1{lock}"))
        .bind(tariff_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound("tariff"))?;
    let actual: String = row.try_get("currency")?;
    if actual == currency {
        Ok(())
    } else {
        Err(Error::field(
            "currency",
            format!("{currency} is not the currency of tariff {tariff_id} ({actual})"),
        ))
    }
}

fn duplicate_prefix() -> Error {
    Error::field(
        "prefix",
        "already exists in this tariff's rates (with the same activation date)",
    )
}

/// The WHERE text and binds that select one rate of the tenant in `tariff`.
fn rate_condition(
    scope: &Scope,
    tariff: Option<i64>,
    id: i64,
    first: usize,
) -> (String, Vec<SqlValue>) {
    let mut binds = vec![SqlValue::Int(id), SqlValue::Int(scope.tenant_id)];
    let mut sql = format!("r.id = ${} AND r.tenant_id = ${}", first, first + 1);
    if let Some(t) = tariff {
        sql.push_str(&format!(" AND r.tariff_id = ${}", first + 2));
        binds.push(SqlValue::Int(t));
    }
    (sql, binds)
}

impl Db {
    pub async fn list_call_rates(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<CallRate>> {
        Ok(self
            .list_rates(scope, TariffRef::Default, query)
            .await?
            .map(v22_rate))
    }

    /// A page of a tariff's rates (`Any` is taken as the default tariff).
    pub async fn list_rates(
        &self,
        scope: &Scope,
        tariff: TariffRef,
        query: &ListQuery,
    ) -> Result<Page<StoredRate>> {
        let tariff = match tenant_tariff(self.pool(), scope.tenant_id, tariff).await? {
            Some(t) => t,
            None => default_tariff(self.pool(), scope.tenant_id).await?,
        };
        self.page(
            Listing {
                columns: COLUMNS,
                from: FROM,
                scope: "r.tariff_id = $1",
                scope_binds: vec![SqlValue::Int(tariff)],
                spec: &TARIFF_RATE_SPEC,
                sqlite_search: Some("call_rates_search"),
                // Bumped with every change of the tariff or its rates.
                version: Some((
                    "SELECT rates_version AS version FROM tariffs WHERE id = $1",
                    vec![SqlValue::Int(tariff)],
                )),
            },
            query,
            stored_from_row,
        )
        .await
    }

    pub async fn get_call_rate(&self, scope: &Scope, id: i64) -> Result<CallRate> {
        self.get_rate(scope, TariffRef::Default, id)
            .await
            .map(v22_rate)
    }

    pub async fn get_rate(&self, scope: &Scope, tariff: TariffRef, id: i64) -> Result<StoredRate> {
        let tariff = tenant_tariff(self.pool(), scope.tenant_id, tariff).await?;
        let (condition, binds) = rate_condition(scope, tariff, id, 1);
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE {condition}");
        let row = bind_all(sqlx::query(&sql), &binds)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        stored_from_row(&row)
    }

    /// Adds a rate to the tenant's default tariff; answers its id.
    pub async fn create_call_rate(&self, scope: &Scope, rate: CallRateFields) -> Result<i64> {
        self.create_rate(scope, TariffRef::Default, rate.into())
            .await
    }

    /// Adds a rate to a tariff of the tenant; answers its id.
    pub async fn create_rate(
        &self,
        scope: &Scope,
        tariff: TariffRef,
        rate: RateInput,
    ) -> Result<i64> {
        scope.require_manager()?;
        validate_schedule(rate.activation_at, rate.expiration_at)
            .map_err(|m| Error::field("expiration_at", m))?;
        let now = now_ms();
        let mut tx = self.write().await?;
        let tariff = match tenant_tariff(&mut *tx, scope.tenant_id, tariff).await? {
            Some(t) => t,
            None => default_tariff(&mut *tx, scope.tenant_id).await?,
        };
        check_currency(&mut tx, self.backend(), tariff, rate.currency.as_deref()).await?;
        let inserted = sqlx::query(
            "INSERT INTO call_rates (tenant_id, tariff_id, prefix, prefix_key, rate_type, free_seconds, \
             grace_period, interval_1, interval_n, connect_fee, postcall_surcharge, price_1, price_n, \
             description, created_at, updated_at, direction, activation_at, expiration_at, forbidden, \
             grace_period_enable) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17, $18, \
             $19, $20) RETURNING id",
        )
        .bind(scope.tenant_id)
        .bind(tariff)
        .bind(&rate.prefix)
        .bind(prefix_key(&rate.prefix))
        .bind(rate.rate_type.to_string())
        .bind(rate.free_seconds)
        .bind(rate.grace_period)
        .bind(rate.interval_1)
        .bind(rate.interval_n)
        .bind(rate.connect_fee.map(|m| stored_units("connect_fee", m)).transpose()?)
        .bind(rate.postcall_surcharge.map(|m| stored_units("postcall_surcharge", m)).transpose()?)
        .bind(stored_units("price_1", rate.price_1)?)
        .bind(stored_units("price_n", rate.price_n)?)
        .bind(&rate.description)
        .bind(now)
        .bind(rate.direction.to_string())
        .bind(rate.activation_at)
        .bind(rate.expiration_at)
        .bind(rate.forbidden)
        .bind(rate.grace_period_enable)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            Err(e) if is_unique_violation(&e) => return Err(duplicate_prefix()),
            Err(e) => return Err(e.into()),
        };
        let created = rate_in_tx(&mut tx, self.backend(), scope, Some(tariff), id)
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Create, Entity::CallRate, id)
                .with(audit::created(rate_snapshot(&created))),
            Changed::Rate { tariff, rate: id },
        )
        .await?;
        Ok(id)
    }

    /// Changes the fields a patch names; the others stay as they are.
    /// Answers the rate as it now is (an empty patch: as it was, or its
    /// "not found").
    pub async fn update_call_rate(
        &self,
        scope: &Scope,
        id: i64,
        patch: CallRatePatch,
    ) -> Result<CallRate> {
        self.update_rate(scope, TariffRef::Default, id, patch.into())
            .await
            .map(v22_rate)
    }

    /// Changes the fields a patch names of a rate of `tariff`, and answers
    /// the rate as it now is. A patch that changes nothing answers the rate
    /// as it is, or its "not found", so that every surface tells a caller
    /// with a wrong id that it is wrong.
    pub async fn update_rate(
        &self,
        scope: &Scope,
        tariff: TariffRef,
        id: i64,
        patch: RatePatch,
    ) -> Result<StoredRate> {
        scope.require_manager()?;
        if patch.is_empty() {
            let Some(currency) = patch.currency.as_deref() else {
                return self.get_rate(scope, tariff, id).await;
            };
            let mut tx = self.write().await?;
            let tariff = tenant_tariff(&mut *tx, scope.tenant_id, tariff).await?;
            let rate = rate_in_tx(&mut tx, self.backend(), scope, tariff, id)
                .await?
                .ok_or(Error::NotFound("call rate"))?;
            check_currency(&mut tx, self.backend(), rate.tariff_id, Some(currency)).await?;
            tx.commit().await?;
            return Ok(rate);
        }
        let mut sets: Vec<&str> = Vec::new();
        let mut binds: Vec<SqlValue> = Vec::new();
        let mut set = |column: &'static str, value: SqlValue| {
            sets.push(column);
            binds.push(value);
        };
        let b = &patch.base;
        if let Some(p) = &b.prefix {
            set("prefix", SqlValue::Text(p.clone()));
            set("prefix_key", SqlValue::Text(prefix_key(p).to_string()));
        }
        if let Some(t) = b.rate_type {
            set("rate_type", SqlValue::Text(t.to_string()));
        }
        if let Some(d) = patch.direction {
            set("direction", SqlValue::Text(d.to_string()));
        }
        for (column, value) in [
            ("free_seconds", b.free_seconds),
            ("grace_period", b.grace_period),
            ("interval_1", b.interval_1),
            ("interval_n", b.interval_n),
            ("activation_at", patch.activation_at),
        ] {
            if let Some(v) = value {
                set(column, SqlValue::Int(v));
            }
        }
        for (column, value) in [
            ("connect_fee", b.connect_fee),
            ("postcall_surcharge", b.postcall_surcharge),
            ("price_1", b.price_1),
            ("price_n", b.price_n),
        ] {
            if let Some(v) = value {
                set(column, SqlValue::Int(stored_units(column, v)?));
            }
        }
        if let Some(d) = &b.description {
            set("description", SqlValue::Text(d.clone()));
        }
        for (column, value) in [
            ("forbidden", patch.forbidden),
            ("grace_period_enable", patch.grace_period_enable),
        ] {
            if let Some(v) = value {
                set(column, SqlValue::Bool(v));
            }
        }
        let clear_expiration = matches!(patch.expiration_at, Some(None));
        if let Some(Some(e)) = patch.expiration_at {
            set("expiration_at", SqlValue::Int(e));
        }
        set("updated_at", SqlValue::Int(now_ms()));
        let mut assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 1))
            .collect();
        if clear_expiration {
            assignments.push("expiration_at = NULL".into());
        }
        let mut tx = self.write().await?;
        let tariff = tenant_tariff(&mut *tx, scope.tenant_id, tariff).await?;
        let before = rate_in_tx(&mut tx, self.backend(), scope, tariff, id)
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        check_currency(
            &mut tx,
            self.backend(),
            before.tariff_id,
            patch.currency.as_deref(),
        )
        .await?;
        let n = binds.len();
        let (condition, more) = rate_condition(scope, tariff, id, n + 1);
        binds.extend(more);
        let sql = format!(
            "UPDATE call_rates SET {} WHERE id IN (SELECT r.id FROM call_rates r WHERE {condition}) \
             RETURNING tariff_id, activation_at, expiration_at",
            assignments.join(", "),
        );
        let done = bind_all(sqlx::query(&sql), &binds)
            .fetch_optional(&mut *tx)
            .await;
        let row = match done {
            Ok(Some(row)) => row,
            Ok(None) => return Err(Error::NotFound("call rate")),
            Err(e) if is_unique_violation(&e) => return Err(duplicate_prefix()),
            Err(e) => return Err(e.into()),
        };
        let tariff_id: i64 = row.try_get("tariff_id")?;
        validate_schedule(row.try_get("activation_at")?, row.try_get("expiration_at")?)
            .map_err(|m| Error::field("expiration_at", m))?;
        let after = rate_in_tx(&mut tx, self.backend(), scope, Some(tariff_id), id)
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Update, Entity::CallRate, id)
                .with(audit::diff(&rate_snapshot(&before), &rate_snapshot(&after))),
            Changed::Rate {
                tariff: tariff_id,
                rate: id,
            },
        )
        .await?;
        Ok(after)
    }

    pub async fn delete_call_rate(&self, scope: &Scope, id: i64) -> Result<()> {
        self.delete_rate(scope, TariffRef::Default, id).await
    }

    pub async fn delete_rate(&self, scope: &Scope, tariff: TariffRef, id: i64) -> Result<()> {
        scope.require_manager()?;
        let mut tx = self.write().await?;
        let tariff = tenant_tariff(&mut *tx, scope.tenant_id, tariff).await?;
        let before = rate_in_tx(&mut tx, self.backend(), scope, tariff, id)
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        let (condition, binds) = rate_condition(scope, tariff, id, 1);
        let sql = format!(
            "DELETE FROM call_rates WHERE id IN (SELECT r.id FROM call_rates r WHERE {condition}) \
             RETURNING tariff_id"
        );
        let row = bind_all(sqlx::query(&sql), &binds)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        let tariff_id: i64 = row.try_get("tariff_id")?;
        self.commit_rating_change(
            tx,
            scope
                .change(Action::Delete, Entity::CallRate, id)
                .with(audit::deleted(rate_snapshot(&before))),
            Changed::Rate {
                tariff: tariff_id,
                rate: id,
            },
        )
        .await?;
        Ok(())
    }
}
