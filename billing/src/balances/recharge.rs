//! Recharges: money added to the tenant's account (by the operator) or to a
//! user's (by the tenant's administrators), as a ledger row and an audit entry.

use model::Money;

use super::accounts::{audit_account, Balance};
use super::ledger::{post, Entry, TransactionKind};
use super::MAX_AMOUNT_UNITS;
use crate::audit::Action;
use crate::auth::Scope;
use crate::db::Db;
use crate::error::{Error, Result};

/// The largest balance a recharge may lead to.
const MAX_BALANCE_UNITS: i64 = model::bounds::units(model::bounds::BALANCE_MAX);

/// Refuses a recharge that would take a balance above [`MAX_BALANCE_UNITS`]
/// (the caller's transaction is then rolled back).
fn within_balance_bound(balance_after: i64) -> Result<()> {
    if balance_after > MAX_BALANCE_UNITS {
        return Err(Error::field(
            "balance",
            format!(
                "would take the balance above {}",
                model::bounds::BALANCE_MAX
            ),
        ));
    }
    Ok(())
}

/// Checks an amount to add: more than zero, five decimals at most.
fn positive_units(field: &str, amount: Money) -> Result<i64> {
    let too_large = || {
        Error::field(
            field,
            format!("must be at most {}", model::bounds::AMOUNT_MAX),
        )
    };
    let units = amount.to_units().map_err(|e| match e {
        model::money::MoneyError::OutOfRange if !amount.is_negative() => too_large(),
        e => Error::field(field, e.to_string()),
    })?;
    if units <= 0 {
        return Err(Error::field(field, "must be more than 0"));
    }
    if units > MAX_AMOUNT_UNITS {
        return Err(too_large());
    }
    Ok(units)
}

impl Db {
    /// Adds money to the tenant's account: the operator's (system
    /// administrator's) doing, not the tenant's own.
    pub async fn recharge_tenant(&self, scope: &Scope, amount: Money) -> Result<Balance> {
        scope.caller.require_system_admin()?;
        let units = positive_units("balance", amount)?;
        self.recharge(scope, None, units).await
    }

    /// Adds money to a user's account (the tenant's administrators).
    pub async fn recharge_user(
        &self,
        scope: &Scope,
        user_id: i64,
        amount: Money,
    ) -> Result<Balance> {
        scope.require_manager()?;
        let units = positive_units("balance", amount)?;
        self.visible_user(scope, user_id).await?;
        self.recharge(scope, Some(user_id), units).await
    }

    /// Adds `units` to an account (the tenant's own, or a user's) with its
    /// ledger row and audit entry; refused whole past the balance bound.
    async fn recharge(&self, scope: &Scope, user_id: Option<i64>, units: i64) -> Result<Balance> {
        let mut tx = self.write().await?;
        let after = post(
            &mut tx,
            Entry {
                tenant_id: scope.tenant_id,
                user_id,
                kind: TransactionKind::Recharge,
                amount: units,
                call_id: None,
                description: "recharge",
                created_by: Some(scope.caller.user_id),
            },
        )
        .await?;
        within_balance_bound(after)?;
        super::alerts::watch(&mut tx, self.backend(), scope.tenant_id, user_id).await?;
        audit_account(
            &mut tx,
            scope,
            user_id,
            Action::Recharge,
            "balance",
            after - units,
            after,
        )
        .await?;
        tx.commit().await?;
        self.read_balance(scope, user_id).await
    }
}
