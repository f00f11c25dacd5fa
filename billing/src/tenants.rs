//! Tenants: companies on the PBX, each with its SIP domain, currency, billing
//! settings (in [`billing_settings`](crate::billing_settings)) and default
//! tariff, and its standing (active or suspended, see [`crate::standing`]).

use model::currency::parse_currency;
use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec};
use model::tenant::{validate_sip_domain, validate_tenant_name, TenantStatus};
use model::{ApiId, FieldError};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Change, Entity};
use crate::auth::Caller;
use crate::db::{now_ms, Db};
use crate::error::{is_unique_violation, Error, Result};
use crate::listing::{Listing, Page};

pub use model::tenant::Tenant;

/// What changing a tenant takes: each field left out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantChange {
    pub name: Option<String>,
    /// Only while the tenant has no ledger rows and no rates in another
    /// currency.
    pub currency: Option<String>,
    pub status: Option<TenantStatus>,
}

/// What creating a tenant takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTenant {
    pub name: String,
    pub sip_domain: String,
    pub currency: Option<String>,
}

pub static TENANT_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("name", "name", FieldKind::Text),
        FieldSpec::new("sip_domain", "sip_domain", FieldKind::Text),
        FieldSpec::new("currency", "currency", FieldKind::Text),
        FieldSpec::new(
            "status",
            "status",
            FieldKind::Enum(<TenantStatus as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
    ],
    search: &["name", "sip_domain"],
    default_order: "id",
    decode_id: ApiId::decode,
};

const TENANT_COLUMNS: &str = "id, name, sip_domain, currency, created_at, status";

fn tenant_from_row(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: ApiId::encode(row.try_get("id")?),
        name: row.try_get("name")?,
        sip_domain: row.try_get("sip_domain")?,
        currency: row.try_get("currency")?,
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(Error::internal)?,
    })
}

impl Db {
    /// Creates a tenant with its default tariff (system administrators only).
    pub async fn create_tenant(&self, caller: &Caller, new: NewTenant) -> Result<Tenant> {
        caller.require_system_admin()?;
        let mut errors = Vec::new();
        let name = validate_tenant_name(&new.name)
            .map_err(|m| errors.push(FieldError::new("name", m)))
            .unwrap_or_default();
        let domain = validate_sip_domain(&new.sip_domain)
            .map_err(|m| errors.push(FieldError::new("sip_domain", m)))
            .unwrap_or_default();
        let currency = parse_currency(new.currency.as_deref().unwrap_or("USD"))
            .map_err(|m| errors.push(FieldError::new("currency", m)))
            .unwrap_or_default();
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let now = now_ms();
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO tenants (name, sip_domain, currency, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&name)
        .bind(&domain)
        .bind(&currency)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::field(
                    "sip_domain",
                    "is already used by another tenant",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        sqlx::query(
            "INSERT INTO tariffs (tenant_id, name, currency, is_default, created_at) VALUES ($1, 'Default', $2, TRUE, $3)",
        )
        .bind(id)
        .bind(&currency)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let fields = serde_json::json!({
            "name": name,
            "sip_domain": domain,
            "currency": currency,
        });
        audit::append(
            &mut tx,
            Change::new(caller, Some(id), Action::Create, Entity::Tenant, Some(id))
                .with(audit::created(audit::snapshot(&fields))),
        )
        .await?;
        tx.commit().await?;
        Ok(Tenant {
            id: ApiId::encode(id),
            name,
            sip_domain: domain,
            currency,
            status: TenantStatus::Active,
            created_at: crate::time::rfc3339(now),
        })
    }

    pub async fn list_tenants(&self, caller: &Caller, query: &ListQuery) -> Result<Page<Tenant>> {
        caller.require_system_admin()?;
        self.page(
            Listing {
                columns: TENANT_COLUMNS,
                from: "tenants",
                scope: "1 = 1",
                scope_binds: vec![],
                spec: &TENANT_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            tenant_from_row,
        )
        .await
    }

    /// A tenant: any one for a system administrator, one's own for its users.
    pub async fn get_tenant(&self, caller: &Caller, id: i64) -> Result<Tenant> {
        if caller.tenant_id.is_some_and(|own| own != id) {
            return Err(Error::NotFound("tenant"));
        }
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        tenant_from_row(&row)
    }

    /// Changes a tenant's name, currency or standing (system administrators
    /// only). The currency changes only while nothing was charged in the old
    /// one: no ledger rows, and no rates in a tariff of another currency; the
    /// tenant's tariffs in the old currency move with it. Suspending a
    /// tenant stops its logins and tokens at once (see [`crate::standing`]).
    pub async fn update_tenant(
        &self,
        caller: &Caller,
        id: i64,
        change: TenantChange,
    ) -> Result<Tenant> {
        caller.require_system_admin()?;
        let mut errors = Vec::new();
        let name = change.name.as_deref().and_then(|n| {
            validate_tenant_name(n)
                .map_err(|m| errors.push(FieldError::new("name", m)))
                .ok()
        });
        let currency = change.currency.as_deref().and_then(|c| {
            parse_currency(c)
                .map_err(|m| errors.push(FieldError::new("currency", m)))
                .ok()
        });
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let mut tx = self.write().await?;
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1{}",
            crate::sql::for_update(self.backend())
        );
        let before = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let before = tenant_from_row(&before)?;
        let mut after = before.clone();
        if let Some(name) = name {
            after.name = name;
        }
        if let Some(status) = change.status {
            after.status = status;
        }
        if let Some(currency) = currency.filter(|c| *c != before.currency) {
            let charged =
                sqlx::query("SELECT id FROM balance_transactions WHERE tenant_id = $1 LIMIT 1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if charged.is_some() {
                return Err(Error::field(
                    "currency",
                    "cannot change: the tenant's accounts have ledger entries in its currency",
                ));
            }
            let priced = sqlx::query(
                "SELECT r.id FROM call_rates r JOIN tariffs t ON t.id = r.tariff_id \
                 WHERE r.tenant_id = $1 AND t.currency <> $2 LIMIT 1",
            )
            .bind(id)
            .bind(&currency)
            .fetch_optional(&mut *tx)
            .await?;
            if priced.is_some() {
                return Err(Error::field(
                    "currency",
                    "cannot change: the tenant has rates in another currency",
                ));
            }
            sqlx::query("UPDATE tariffs SET currency = $1 WHERE tenant_id = $2 AND currency = $3")
                .bind(&currency)
                .bind(id)
                .bind(&before.currency)
                .execute(&mut *tx)
                .await?;
            crate::resolver::bump_rates_version(&mut tx, id, crate::resolver::Changed::Routing)
                .await?;
            after.currency = currency;
        }
        let changes = audit::diff(&audit::snapshot(&before), &audit::snapshot(&after));
        if changes.is_empty() {
            return Ok(before);
        }
        sqlx::query("UPDATE tenants SET name = $1, currency = $2, status = $3 WHERE id = $4")
            .bind(&after.name)
            .bind(&after.currency)
            .bind(after.status.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            Change::new(caller, Some(id), Action::Update, Entity::Tenant, Some(id)).with(changes),
        )
        .await?;
        tx.commit().await?;
        if after.status != before.status {
            self.token_cache().forget_all();
        }
        if after.currency != before.currency {
            // The tariffs moved along: this server quotes in the new one at once.
            self.rating_changed(id).await;
        }
        Ok(after)
    }
}
