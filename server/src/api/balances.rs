//! Balances (`/api/tenant/balance`, `/api/users/{id}/balance`,
//! `/api/user/balance`), credit limits, the ledger
//! (`/api/balance_transactions`), low-balance thresholds
//! (`…/low_balance`) and their alerts (`/api/alerts`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use billing::balances::LedgerFilter;
use billing::balances::{
    Balance, BalanceAlert, LowBalance, Transaction, TransactionKind, ALERT_SPEC, TRANSACTION_SPEC,
};
use billing::{Db, Page};
use model::{Fields, Money};

use super::error::{ApiError, ApiResult};
use super::extract::{path_id, Auth, JsonObject, ListParamsQuery, TenantScope};

/// Reads the one money field a body must carry; a number beyond any amount
/// is named by the field's bound (docs/rating.md "Bounds").
fn amount(body: &serde_json::Map<String, serde_json::Value>, field: &str) -> ApiResult<Money> {
    let mut f = Fields::new(body);
    let value = f.money(field, None);
    let value = f.require(field, value);
    if let Err(errors) = f.finish() {
        let out_of_range = model::money::MoneyError::OutOfRange.to_string();
        let bound = if field == "credit_limit" {
            format!("must be between 0 and {}", model::bounds::AMOUNT_MAX)
        } else {
            format!("must be at most {}", model::bounds::AMOUNT_MAX)
        };
        let errors: Vec<model::FieldError> = errors
            .into_iter()
            .map(|e| {
                if e.message == out_of_range {
                    model::FieldError::new(e.field, bound.clone())
                } else {
                    e
                }
            })
            .collect();
        return Err(errors.into());
    }
    value.ok_or_else(|| ApiError::validation(field, "is required"))
}

pub async fn get_tenant(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
) -> ApiResult<Json<Balance>> {
    Ok(Json(db.tenant_balance(&scope).await?))
}

/// What a balance route changes: the account's balance (a recharge adds
/// `balance`) or its credit limit (`credit_limit` replaces it).
#[derive(Debug, Clone, Copy)]
enum Change {
    Recharge,
    CreditLimit,
}

impl Change {
    fn field(self) -> &'static str {
        match self {
            Change::Recharge => "balance",
            Change::CreditLimit => "credit_limit",
        }
    }

    /// Changes the tenant's account (a system administrator's to change) or,
    /// with `user`, that user's (a tenant administrator's).
    async fn apply(
        self,
        db: &Db,
        scope: &billing::Scope,
        user: Option<&str>,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> ApiResult<StatusCode> {
        let user = match user {
            Some(id) => {
                scope.require_manager()?;
                Some(path_id(id, "user")?)
            }
            None => {
                scope.caller.require_system_admin()?;
                None
            }
        };
        let amount = amount(body, self.field())?;
        match (self, user) {
            (Change::Recharge, None) => db.recharge_tenant(scope, amount).await?,
            (Change::CreditLimit, None) => db.set_tenant_credit_limit(scope, amount).await?,
            (Change::Recharge, Some(id)) => db.recharge_user(scope, id, amount).await?,
            (Change::CreditLimit, Some(id)) => db.set_user_credit_limit(scope, id, amount).await?,
        };
        Ok(StatusCode::OK)
    }
}

/// `POST /api/tenant/balance {balance}`: adds `balance` to the tenant's account.
pub async fn recharge_tenant(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    Change::Recharge.apply(&db, &scope, None, &body).await
}

pub async fn set_tenant_credit_limit(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    Change::CreditLimit.apply(&db, &scope, None, &body).await
}

pub async fn get_user(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Balance>> {
    let id = path_id(&id, "user")?;
    Ok(Json(db.user_balance(&scope, id).await?))
}

/// `POST /api/users/{id}/balance {balance}`: adds `balance` to the user's account.
pub async fn recharge_user(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    Change::Recharge.apply(&db, &scope, Some(&id), &body).await
}

pub async fn set_user_credit_limit(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    Change::CreditLimit
        .apply(&db, &scope, Some(&id), &body)
        .await
}

/// `GET /api/user/balance`: the caller's own account.
pub async fn get_own(State(db): State<Db>, Auth(caller): Auth) -> ApiResult<Json<Balance>> {
    let scope = billing::Scope::own_account(&caller)?;
    Ok(Json(db.user_balance(&scope, caller.user_id).await?))
}

/// `GET /api/user/balance_transactions`: the caller's own ledger, with the
/// options of `GET /api/balance_transactions`.
pub async fn own_transactions(
    State(db): State<Db>,
    Auth(caller): Auth,
    params: ListParamsQuery,
    Query(own): Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<Page<Transaction>>> {
    let scope = billing::Scope::own_account(&caller)?;
    ledger_of(&db, &scope, params, &own).await
}

/// `GET /api/balance_transactions`: the list options, and the ledger's own
/// `kind`, `from` and `to` (RFC 3339; rows written at or after `from`,
/// before `to`).
pub async fn transactions(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
    Query(own): Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<Page<Transaction>>> {
    ledger_of(&db, &scope, params, &own).await
}

async fn ledger_of(
    db: &Db,
    scope: &billing::Scope,
    params: ListParamsQuery,
    own: &std::collections::HashMap<String, String>,
) -> ApiResult<Json<Page<Transaction>>> {
    let query = params.parse(&TRANSACTION_SPEC)?;
    let given: serde_json::Map<String, serde_json::Value> = ["kind", "from", "to"]
        .into_iter()
        .filter_map(|k| own.get(k).map(|v| (k.to_string(), v.clone().into())))
        .collect();
    let mut f = Fields::new(&given);
    let kind = f.string("kind");
    let from = f.timestamp("from");
    let to = f.timestamp("to");
    let kind = match kind.as_deref().map(str::parse::<TransactionKind>) {
        None => None,
        Some(Ok(kind)) => Some(kind),
        Some(Err(_)) => {
            f.error(
                "kind",
                "must be RECHARGE, CALL_CHARGE, HOLD, RELEASE or RERATE",
            );
            None
        }
    };
    f.finish()?;
    let filter = LedgerFilter {
        account: None,
        kind,
        from,
        to,
    };
    Ok(Json(
        db.list_ledger(scope, &filter, &query)
            .await?
            .map(|entry| entry.transaction),
    ))
}

/// Reads `threshold` of a low-balance body: an amount from 0, or `null`
/// to remove the alert; it must be there.
fn threshold(body: &serde_json::Map<String, serde_json::Value>) -> ApiResult<Option<Money>> {
    if !body.contains_key("threshold") {
        return Err(ApiError::validation(
            "threshold",
            "is required (null removes the alert)",
        ));
    }
    let mut f = Fields::new(body);
    let value = f.money_in(
        "threshold",
        Money::ZERO,
        model::bounds::money(model::bounds::AMOUNT_MAX),
    );
    f.finish()?;
    Ok(value)
}

/// `GET /api/tenant/low_balance`: the tenant's own account's threshold.
pub async fn get_tenant_low_balance(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
) -> ApiResult<Json<LowBalance>> {
    Ok(Json(db.low_balance(&scope, None).await?))
}

/// `POST /api/tenant/low_balance {threshold}`: the operator's, as the
/// tenant's credit limit is.
pub async fn set_tenant_low_balance(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<LowBalance>> {
    scope.caller.require_system_admin()?;
    let threshold = threshold(&body)?;
    Ok(Json(
        db.set_low_balance_threshold(&scope, None, threshold)
            .await?,
    ))
}

pub async fn get_user_low_balance(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<LowBalance>> {
    let id = path_id(&id, "user")?;
    Ok(Json(db.low_balance(&scope, Some(id)).await?))
}

/// `POST /api/users/{id}/low_balance {threshold}`: the tenant's administrators'.
pub async fn set_user_low_balance(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<LowBalance>> {
    scope.require_manager()?;
    let id = path_id(&id, "user")?;
    let threshold = threshold(&body)?;
    Ok(Json(
        db.set_low_balance_threshold(&scope, Some(id), threshold)
            .await?,
    ))
}

/// `GET /api/user/low_balance`: the caller's own account's threshold.
pub async fn get_own_low_balance(
    State(db): State<Db>,
    Auth(caller): Auth,
) -> ApiResult<Json<LowBalance>> {
    let scope = billing::Scope::own_account(&caller)?;
    Ok(Json(db.low_balance(&scope, Some(caller.user_id)).await?))
}

/// `GET /api/alerts`: the low-balance alerts of the tenant's accounts (a
/// standard user: its own), with the list options; newest first.
pub async fn alerts(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    mut params: ListParamsQuery,
) -> ApiResult<Json<Page<BalanceAlert>>> {
    if params.0.orderby.is_none() {
        params.0.orderby = Some("id desc".into());
    }
    let query = params.parse(&ALERT_SPEC)?;
    Ok(Json(db.list_balance_alerts(&scope, None, &query).await?))
}
