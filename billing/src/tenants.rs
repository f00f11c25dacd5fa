//! Tenants: companies on the PBX, each with its SIP domain, currency, billing
//! settings (in [`billing_settings`](crate::billing_settings)) and default
//! tariff.

use model::currency::parse_currency;
use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec};
use model::{ApiId, FieldError};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Change, Entity};
use crate::auth::Caller;
use crate::db::{now_ms, Db};
use crate::error::{is_unique_violation, Error, Result};
use crate::listing::{Listing, Page};

/// A tenant as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub sip_domain: String,
    pub currency: String,
    pub created_at: String,
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
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
    ],
    search: &["name", "sip_domain"],
    default_order: "id",
    decode_id: ApiId::decode,
};

const TENANT_COLUMNS: &str = "id, name, sip_domain, currency, created_at";

fn tenant_from_row(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: ApiId::encode(row.try_get("id")?),
        name: row.try_get("name")?,
        sip_domain: row.try_get("sip_domain")?,
        currency: row.try_get("currency")?,
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
    })
}

/// Checks a SIP domain: a host name or an IP address, 1..280 characters.
fn validate_domain(domain: &str) -> Result<String, &'static str> {
    let domain = domain.trim().to_ascii_lowercase();
    if domain.is_empty() || domain.len() > 280 {
        return Err("must be 1 to 280 characters");
    }
    let ok = domain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !ok || domain.starts_with('.') || domain.ends_with('.') {
        return Err("must be a host name or an IP address");
    }
    Ok(domain)
}

impl Db {
    /// Creates a tenant with its default tariff (system administrators only).
    pub async fn create_tenant(&self, caller: &Caller, new: NewTenant) -> Result<Tenant> {
        caller.require_system_admin()?;
        let mut errors = Vec::new();
        let name = new.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 128 {
            errors.push(FieldError::new("name", "must be 1 to 128 characters"));
        }
        let domain = validate_domain(&new.sip_domain)
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
}
