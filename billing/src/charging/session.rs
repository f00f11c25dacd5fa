//! A charging session: one call's grant, what it holds, and the state it is
//! in (live, settled, or its hold expired), as stored in `charging_sessions`.

use std::collections::HashMap;

use model::{ApiId, Money};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{seconds, Grant, Settlement};
use crate::auth::Scope;
use crate::balances::{Entry, TransactionKind};
use crate::db::{Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::quote::QuotedRate;
use crate::sql::Params;

model::wire_enum! {
    /// Where a charging session stands.
    pub enum SessionState {
        /// A call being charged: its hold is taken.
        Live = "LIVE",
        /// A call whose amount was debited.
        Settled = "SETTLED",
        /// A call whose hold was released without hearing of its end.
        Expired = "EXPIRED",
    }
}

impl SessionState {
    /// Its text in the database.
    pub fn as_str(self) -> &'static str {
        model::WireEnum::wire(self)
    }
}

/// A stored charging session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: i64,
    pub tenant_id: i64,
    pub call_id: String,
    pub user_id: Option<i64>,
    pub callee: String,
    pub rate_id: i64,
    pub rate_prefix: String,
    pub currency: String,
    pub started_at: i64,
    pub max_duration: i64,
    pub held: i64,
    pub expires_at: i64,
    pub state: SessionState,
    pub duration: Option<i64>,
    pub cost: Option<i64>,
    pub released: Option<i64>,
}

impl Session {
    /// A ledger entry of the call's account: the charging itself, not a person,
    /// moves the money.
    pub(super) fn entry<'a>(
        &'a self,
        kind: TransactionKind,
        amount: i64,
        description: &'a str,
    ) -> Entry<'a> {
        Entry {
            tenant_id: self.tenant_id,
            user_id: self.user_id,
            kind,
            amount,
            call_id: Some(&self.call_id),
            description,
            created_by: None,
        }
    }
}

/// The columns [`session_from_row`] reads.
pub(super) const SESSION_COLUMNS: &str =
    "id, tenant_id, call_id, user_id, callee, rate_id, rate_prefix, currency, \
    started_at, max_duration, held, expires_at, state, duration, cost, released";

pub(super) fn session_from_row(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        call_id: row.try_get("call_id")?,
        user_id: row.try_get("user_id")?,
        callee: row.try_get("callee")?,
        rate_id: row.try_get("rate_id")?,
        rate_prefix: row.try_get("rate_prefix")?,
        currency: row.try_get("currency")?,
        started_at: row.try_get("started_at")?,
        max_duration: row.try_get("max_duration")?,
        held: row.try_get("held")?,
        expires_at: row.try_get("expires_at")?,
        state: row
            .try_get::<String, _>("state")?
            .parse()
            .map_err(Error::internal)?,
        duration: row.try_get("duration")?,
        cost: row.try_get("cost")?,
        released: row.try_get("released")?,
    })
}

impl Session {
    pub(super) fn rate(&self) -> QuotedRate {
        QuotedRate {
            id: ApiId::encode(self.rate_id),
            prefix: self.rate_prefix.clone(),
        }
    }

    pub(super) fn grant(&self) -> Grant {
        Grant::new(
            &self.call_id,
            seconds(self.max_duration),
            self.held,
            &self.currency,
            self.rate_id,
            &self.rate_prefix,
            self.expires_at,
        )
    }

    pub(super) fn settlement(&self) -> Settlement {
        Settlement {
            call_id: self.call_id.clone(),
            duration: seconds(self.duration.unwrap_or(0)),
            cost: Money::from_units(self.cost.unwrap_or(0)),
            released: Money::from_units(self.released.unwrap_or(0)),
            currency: self.currency.clone(),
            rate: self.rate(),
        }
    }

    /// The refusal of a request about a call that has ended.
    pub(super) fn ended(&self) -> Error {
        Error::Conflict {
            code: "CALL_ENDED",
            message: format!(
                "the call {} has ended ({})",
                self.call_id,
                if self.state == SessionState::Settled {
                    "settled"
                } else {
                    "its hold expired"
                }
            ),
        }
    }
}

/// The sessions of the tenant's calls among `call_ids`, inside `tx`; one
/// cheap statement when the tenant has none (it charges offline).
pub(crate) async fn sessions_of(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    call_ids: &[&str],
) -> Result<HashMap<String, Session>> {
    let any = sqlx::query("SELECT 1 FROM charging_sessions WHERE tenant_id = $1 LIMIT 1")
        .bind(tenant_id)
        .fetch_optional(&mut **tx)
        .await?;
    if any.is_none() {
        return Ok(HashMap::new());
    }
    sessions_among(tx, backend, tenant_id, call_ids).await
}

/// The sessions of the tenant's calls among `call_ids`, inside `tx`.
pub(super) async fn sessions_among(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    call_ids: &[&str],
) -> Result<HashMap<String, Session>> {
    let mut found = HashMap::new();
    for chunk in call_ids.chunks(500) {
        let mut p = Params::new(backend);
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE tenant_id = {} AND call_id IN ({})",
            p.next(),
            p.list(chunk.len())
        );
        let mut query = crate::sql::Binds::new(&sql, p.count()).bind(tenant_id);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.query()?.fetch_all(&mut **tx).await? {
            let session = session_from_row(&row)?;
            found.insert(session.call_id.clone(), session);
        }
    }
    Ok(found)
}

impl Db {
    pub(super) async fn session(&self, tenant_id: i64, call_id: &str) -> Result<Option<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE tenant_id = $1 AND call_id = $2"
        );
        sqlx::query(&sql)
            .bind(tenant_id)
            .bind(call_id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| session_from_row(&r))
            .transpose()
    }

    pub(super) async fn known_session(&self, scope: &Scope, call_id: &str) -> Result<Session> {
        self.session(scope.tenant_id, call_id)
            .await?
            .ok_or(Error::NotFound("call"))
    }
}
