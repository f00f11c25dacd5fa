//! Call rates of any tariff of a tenant. The default tariff's rates are the
//! v22 `/api/call_rates`; every surface reads and writes rates through the
//! methods here, which take the tariff they act on.

use std::collections::HashMap;

use futures::{Stream, StreamExt};
use model::call_rate::{
    prefix_key, CallRate, CallRateFields, CallRatePatch, RateType, CSV_COLUMNS,
};
use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::tariff::{validate_schedule, RateDirection, RateInput, RatePatch, StoredRate};
use model::{ApiId, FieldError, Money};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::audit::{self, Action, Change, Entity};
use crate::auth::Scope;
use crate::csv::{self, CsvReader};
use crate::db::{now_ms, Db, Tx};
use crate::error::{is_unique_violation, Error, Result};
use crate::listing::{bind_all, Listing, Page};

const FROM: &str = "call_rates r JOIN tariffs t ON t.id = r.tariff_id";

/// Rate-level values fall back to the tariff's when a rate leaves them unset.
/// Flags are read as 0/1: sqlx's `Any` driver cannot decode SQLite's BOOLEAN.
const COLUMNS: &str = "r.id, r.prefix, r.rate_type, \
    COALESCE(r.free_seconds, t.free_seconds), \
    COALESCE(r.grace_period, CASE WHEN r.grace_period_enable THEN t.grace_period ELSE 0 END), \
    r.interval_1, r.interval_n, \
    COALESCE(r.connect_fee, t.connect_fee), \
    COALESCE(r.postcall_surcharge, t.post_call_surcharge), \
    r.price_1, r.price_n, r.description, r.tariff_id, r.direction, r.activation_at, r.expiration_at, \
    CASE WHEN r.forbidden THEN 1 ELSE 0 END, CASE WHEN r.grace_period_enable THEN 1 ELSE 0 END";

const V22_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("id", "r.id", FieldKind::Id),
    FieldSpec::new("prefix", "r.prefix", FieldKind::Text),
    FieldSpec::new(
        "type",
        "r.rate_type",
        FieldKind::Enum(<model::call_rate::RateType as model::WireEnum>::ALL_WIRE),
    ),
    FieldSpec::new(
        "free_seconds",
        "COALESCE(r.free_seconds, t.free_seconds)",
        FieldKind::Integer,
    ),
    FieldSpec::new(
        "grace_period",
        "COALESCE(r.grace_period, CASE WHEN r.grace_period_enable THEN t.grace_period ELSE 0 END)",
        FieldKind::Integer,
    ),
    FieldSpec::new("interval_1", "r.interval_1", FieldKind::Integer),
    FieldSpec::new("interval_n", "r.interval_n", FieldKind::Integer),
    FieldSpec::new(
        "connect_fee",
        "COALESCE(r.connect_fee, t.connect_fee)",
        FieldKind::Money,
    ),
    FieldSpec::new(
        "postcall_surcharge",
        "COALESCE(r.postcall_surcharge, t.post_call_surcharge)",
        FieldKind::Money,
    ),
    FieldSpec::new("price_1", "r.price_1", FieldKind::Money),
    FieldSpec::new("price_n", "r.price_n", FieldKind::Money),
    FieldSpec::new("description", "r.description", FieldKind::Text),
];

pub static CALL_RATE_SPEC: ResourceSpec = ResourceSpec {
    fields: V22_FIELDS,
    search: &["r.prefix", "r.description"],
    default_order: "r.id",
    decode_id: ApiId::decode,
};

/// The rates of any tariff: the v22 fields and the schedule.
pub static TARIFF_RATE_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        V22_FIELDS[0],
        V22_FIELDS[1],
        V22_FIELDS[2],
        V22_FIELDS[3],
        V22_FIELDS[4],
        V22_FIELDS[5],
        V22_FIELDS[6],
        V22_FIELDS[7],
        V22_FIELDS[8],
        V22_FIELDS[9],
        V22_FIELDS[10],
        V22_FIELDS[11],
        FieldSpec::new(
            "direction",
            "r.direction",
            FieldKind::Enum(<RateDirection as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("activation_at", "r.activation_at", FieldKind::Timestamp),
        FieldSpec::new("expiration_at", "r.expiration_at", FieldKind::Timestamp),
        FieldSpec::new("forbidden", "r.forbidden", FieldKind::Bool),
        FieldSpec::new(
            "grace_period_enable",
            "r.grace_period_enable",
            FieldKind::Bool,
        ),
    ],
    search: &["r.prefix", "r.description"],
    default_order: "r.id",
    decode_id: ApiId::decode,
};

fn fields_from_row(row: &AnyRow) -> Result<CallRateFields> {
    Ok(CallRateFields {
        prefix: row.try_get(1)?,
        rate_type: row
            .try_get::<String, _>(2)?
            .parse::<RateType>()
            .map_err(Error::internal)?,
        free_seconds: row.try_get(3)?,
        grace_period: row.try_get(4)?,
        interval_1: row.try_get(5)?,
        interval_n: row.try_get(6)?,
        connect_fee: Money::from_units(row.try_get(7)?),
        postcall_surcharge: Money::from_units(row.try_get(8)?),
        price_1: Money::from_units(row.try_get(9)?),
        price_n: Money::from_units(row.try_get(10)?),
        description: row.try_get(11)?,
    })
}

fn stored_from_row(row: &AnyRow) -> Result<StoredRate> {
    Ok(StoredRate {
        id: row.try_get(0)?,
        fields: fields_from_row(row)?,
        tariff_id: row.try_get(12)?,
        direction: row
            .try_get::<String, _>(13)?
            .parse::<RateDirection>()
            .map_err(Error::internal)?,
        activation_at: row.try_get(14)?,
        expiration_at: row.try_get(15)?,
        forbidden: row.try_get::<i64, _>(16)? != 0,
        grace_period_enable: row.try_get::<i64, _>(17)? != 0,
    })
}

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

/// One line of an import that cannot be taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

/// Lines named in a refused import, at most.
pub const IMPORT_ERRORS_LISTED: usize = 1000;
/// Rows written per INSERT statement during an import (8,000 parameters).
const IMPORT_BATCH: usize = 500;

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub imported: u64,
}

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
    Ok(row.try_get(0)?)
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

/// Marks the tenant's rating data as changed (and the tariff's rates, when
/// one is named), so rate tables built before are rebuilt.
pub(crate) async fn bump_rates_version(
    tx: &mut Tx,
    tenant_id: i64,
    tariff_id: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET rates_version = rates_version + 1 WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut **tx)
        .await?;
    if let Some(tariff_id) = tariff_id {
        sqlx::query("UPDATE tariffs SET rates_version = rates_version + 1 WHERE id = $1")
            .bind(tariff_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
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
        .bind(rate.connect_fee.map(money_units).transpose()?)
        .bind(rate.postcall_surcharge.map(money_units).transpose()?)
        .bind(money_units(rate.price_1)?)
        .bind(money_units(rate.price_n)?)
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
            Ok(row) => row.try_get(0)?,
            Err(e) if is_unique_violation(&e) => return Err(duplicate_prefix()),
            Err(e) => return Err(e.into()),
        };
        let created = rate_in_tx(&mut tx, self.backend(), scope, Some(tariff), id)
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Create,
                Entity::CallRate,
                Some(id),
            )
            .with(audit::created(rate_snapshot(&created))),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, Some(tariff)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes the fields a patch names; the others stay as they are.
    pub async fn update_call_rate(
        &self,
        scope: &Scope,
        id: i64,
        patch: CallRatePatch,
    ) -> Result<()> {
        self.update_rate(scope, TariffRef::Default, id, patch.into())
            .await
    }

    /// Changes the fields a patch names of a rate of `tariff`.
    pub async fn update_rate(
        &self,
        scope: &Scope,
        tariff: TariffRef,
        id: i64,
        patch: RatePatch,
    ) -> Result<()> {
        scope.require_manager()?;
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
                set(column, SqlValue::Int(money_units(v)?));
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
        let tariff_id: i64 = row.try_get(0)?;
        validate_schedule(row.try_get(1)?, row.try_get(2)?)
            .map_err(|m| Error::field("expiration_at", m))?;
        let after = rate_in_tx(&mut tx, self.backend(), scope, Some(tariff_id), id)
            .await?
            .ok_or(Error::NotFound("call rate"))?;
        let changes = audit::diff(&rate_snapshot(&before), &rate_snapshot(&after));
        if !changes.is_empty() {
            audit::append(
                &mut tx,
                Change::new(
                    &scope.caller,
                    Some(scope.tenant_id),
                    Action::Update,
                    Entity::CallRate,
                    Some(id),
                )
                .with(changes),
            )
            .await?;
        }
        bump_rates_version(&mut tx, scope.tenant_id, Some(tariff_id)).await?;
        tx.commit().await?;
        Ok(())
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
        let tariff_id: i64 = row.try_get(0)?;
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Delete,
                Entity::CallRate,
                Some(id),
            )
            .with(audit::deleted(rate_snapshot(&before))),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, Some(tariff_id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The default tariff's rates as CSV, produced page by page (in id order)
    /// so that an export of any size streams in constant memory.
    pub async fn export_call_rates(
        &self,
        scope: &Scope,
    ) -> Result<impl Stream<Item = Result<String>> + Send + 'static> {
        let tariff = default_tariff(self.pool(), scope.tenant_id).await?;
        let db = self.clone();
        let header = format!("{}\n", CSV_COLUMNS.join(","));
        let pages = futures::stream::try_unfold(Some(0i64), move |after| {
            let db = db.clone();
            async move {
                let Some(after) = after else { return Ok(None) };
                let sql = format!(
                    "SELECT {COLUMNS} FROM {FROM} WHERE r.tariff_id = $1 AND r.id > $2 ORDER BY r.id LIMIT 5000"
                );
                let rows = sqlx::query(&sql)
                    .bind(tariff)
                    .bind(after)
                    .fetch_all(db.pool())
                    .await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let mut chunk = String::with_capacity(rows.len() * 80);
                let mut last = after;
                for row in &rows {
                    last = row.try_get(0)?;
                    write_csv_line(&mut chunk, last, &fields_from_row(row)?);
                }
                let next = (rows.len() == 5000).then_some(last);
                Ok(Some((chunk, next)))
            }
        });
        Ok(futures::stream::once(async move { Ok(header) }).chain(pages))
    }

    /// Imports CSV in the export's format into the default tariff, all or
    /// nothing: a rate whose prefix exists is updated, others are added. Bad
    /// lines are all reported (up to [`IMPORT_ERRORS_LISTED`]) and nothing is
    /// written.
    pub async fn import_call_rates<S, B, E>(&self, scope: &Scope, mut body: S) -> Result<Imported>
    where
        S: Stream<Item = std::result::Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        scope.require_manager()?;
        let mut tx = self.write().await?;
        let tariff = default_tariff(&mut *tx, scope.tenant_id).await?;
        let rates_before = count_rates(&mut tx, tariff).await?;
        let mut import = Import {
            tenant_id: scope.tenant_id,
            tariff,
            now: now_ms(),
            columns: None,
            seen: HashMap::new(),
            batch: Vec::with_capacity(IMPORT_BATCH),
            backend: self.backend(),
            errors: Vec::new(),
            more_errors: 0,
            imported: 0,
        };
        let mut reader = CsvReader::new();
        loop {
            let (records, end) = match body.next().await {
                Some(Ok(chunk)) => (reader.push(chunk.as_ref()), false),
                Some(Err(e)) => {
                    return Err(Error::field("file", format!("could not be read: {e}")))
                }
                None => (reader.finish(), true),
            };
            match records {
                Ok(records) => {
                    for record in records {
                        import.take(record);
                        if import.batch.len() >= IMPORT_BATCH {
                            import.flush(&mut tx).await?;
                        }
                    }
                }
                Err(e) => {
                    import.fail(e.line, None, format!("CSV {}", e.message));
                    break;
                }
            }
            if end {
                break;
            }
        }
        import.flush(&mut tx).await?;
        if import.columns.is_none() {
            import.fail(
                1,
                None,
                "the file is empty: the first line must name the columns".into(),
            );
        }
        if !import.errors.is_empty() {
            tx.rollback().await?;
            return Err(Error::BadLines {
                lines: import.errors,
                more: import.more_errors,
            });
        }
        let added = count_rates(&mut tx, tariff).await? - rates_before;
        let updated = i64::try_from(import.imported).unwrap_or(i64::MAX) - added;
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Import,
                Entity::CallRate,
                None,
            )
            .with(audit::counts(&[
                ("tariff_id", ApiId::encode(tariff).into()),
                ("added", added.into()),
                ("updated", updated.into()),
            ])),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, Some(tariff)).await?;
        tx.commit().await?;
        Ok(Imported {
            imported: import.imported,
        })
    }
}

/// How many rates a tariff has, inside `tx`.
async fn count_rates(tx: &mut Tx, tariff: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM call_rates WHERE tariff_id = $1")
            .bind(tariff)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?,
    )
}

fn write_csv_line(out: &mut String, id: i64, r: &CallRateFields) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{}",
        ApiId::encode(id),
        csv::text(&r.prefix),
        r.rate_type,
        r.free_seconds,
        r.grace_period,
        r.interval_1,
        r.interval_n,
        r.connect_fee,
        r.postcall_surcharge,
        r.price_1,
        r.price_n,
        csv::text(&r.description),
    );
}

/// The state of one import.
struct Import {
    backend: crate::db::Backend,
    tenant_id: i64,
    tariff: i64,
    now: i64,
    /// For each CSV column, the API field it holds (from the header line).
    columns: Option<Vec<&'static str>>,
    /// Prefix keys seen so far, with their line: a file may not name one twice.
    seen: HashMap<Box<str>, u64>,
    batch: Vec<CallRateFields>,
    errors: Vec<LineError>,
    more_errors: u64,
    imported: u64,
}

impl Import {
    fn fail(&mut self, line: u64, field: Option<String>, message: String) {
        if self.errors.len() < IMPORT_ERRORS_LISTED {
            self.errors.push(LineError {
                line,
                field,
                message,
            });
        } else {
            self.more_errors += 1;
        }
    }

    fn take(&mut self, record: csv::Record) {
        let Some(columns) = &self.columns else {
            self.read_header(record);
            return;
        };
        if record.fields.len() != columns.len() {
            let message = format!(
                "has {} fields where the header names {}",
                record.fields.len(),
                columns.len()
            );
            self.fail(record.line, None, message);
            return;
        }
        let mut body = serde_json::Map::new();
        for (name, value) in columns.iter().zip(record.fields) {
            let value = csv::untext(value);
            if *name != "id" && !value.is_empty() {
                body.insert((*name).to_string(), serde_json::Value::String(value));
            }
        }
        // A repeated prefix is named even on a line with other faults.
        let mut repeated = false;
        if let Some(serde_json::Value::String(prefix)) = body.get("prefix") {
            let key: Box<str> = prefix_key(prefix).into();
            match self.seen.get(&key) {
                Some(first) => {
                    let message = format!("repeats the prefix of line {first}");
                    self.fail(record.line, Some("prefix".into()), message);
                    repeated = true;
                }
                None => {
                    self.seen.insert(key, record.line);
                }
            }
        }
        match CallRateFields::from_json(&body) {
            Ok(rate) if !repeated && self.errors.is_empty() => self.batch.push(rate),
            Ok(_) => {}
            Err(errors) => {
                for FieldError { field, message } in errors {
                    self.fail(record.line, Some(field), message);
                }
            }
        }
    }

    fn read_header(&mut self, record: csv::Record) {
        let mut columns = Vec::new();
        for name in &record.fields {
            let name = name.trim();
            match CSV_COLUMNS.iter().find(|c| **c == name) {
                Some(c) if columns.contains(c) => self.fail(
                    record.line,
                    Some(name.to_string()),
                    "is named twice in the header".into(),
                ),
                Some(c) => columns.push(*c),
                None => self.fail(
                    record.line,
                    Some(name.to_string()),
                    format!("is not a column; columns are {}", CSV_COLUMNS.join(", ")),
                ),
            }
        }
        for required in model::call_rate::REQUIRED {
            if !columns.contains(required) {
                self.fail(
                    record.line,
                    Some((*required).to_string()),
                    "column is missing from the header".into(),
                );
            }
        }
        self.columns = Some(columns);
    }

    /// Writes the pending rows in one statement (unless the import already failed).
    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        if !self.errors.is_empty() {
            return Ok(());
        }
        const PER_ROW: usize = 16;
        let mut sql = String::from(
            "INSERT INTO call_rates (tenant_id, tariff_id, prefix, prefix_key, rate_type, free_seconds, \
             grace_period, interval_1, interval_n, connect_fee, postcall_surcharge, price_1, price_n, \
             description, created_at, updated_at) VALUES ",
        );
        sql.push_str(&crate::sql::placeholders(self.backend, rows.len(), PER_ROW));
        let mut binds = Vec::with_capacity(rows.len() * PER_ROW);
        for r in &rows {
            binds.extend([
                SqlValue::Int(self.tenant_id),
                SqlValue::Int(self.tariff),
                SqlValue::Text(r.prefix.clone()),
                SqlValue::Text(prefix_key(&r.prefix).to_string()),
                SqlValue::Text(r.rate_type.to_string()),
                SqlValue::Int(r.free_seconds),
                SqlValue::Int(r.grace_period),
                SqlValue::Int(r.interval_1),
                SqlValue::Int(r.interval_n),
                SqlValue::Int(money_units(r.connect_fee)?),
                SqlValue::Int(money_units(r.postcall_surcharge)?),
                SqlValue::Int(money_units(r.price_1)?),
                SqlValue::Int(money_units(r.price_n)?),
                SqlValue::Text(r.description.clone()),
                SqlValue::Int(self.now),
                SqlValue::Int(self.now),
            ]);
        }
        sql.push_str(
            " ON CONFLICT (tariff_id, prefix_key, activation_at) DO UPDATE SET \
             prefix = excluded.prefix, rate_type = excluded.rate_type, free_seconds = excluded.free_seconds, \
             grace_period = excluded.grace_period, interval_1 = excluded.interval_1, \
             interval_n = excluded.interval_n, connect_fee = excluded.connect_fee, \
             postcall_surcharge = excluded.postcall_surcharge, price_1 = excluded.price_1, \
             price_n = excluded.price_n, description = excluded.description, updated_at = excluded.updated_at",
        );
        bind_all(sqlx::query(&sql), &binds)
            .execute(&mut **tx)
            .await?;
        self.imported += rows.len() as u64;
        Ok(())
    }
}
