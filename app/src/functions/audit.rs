//! The audit log, for the audit page: the `billing` use case of
//! `GET /api/audit_log`, its filters (entity, actor, days) written as the
//! REST list's `filter`. The filters are checked by the same
//! [`AuditArgs::check`] in the browser and on the server.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::query::ListParams;
use model::FieldError;
use serde::{Deserialize, Serialize};

use super::days::{check_day_range, given, midnight, next_day, parse_day};

/// Entries per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;

/// The kinds of entity the filter offers: (wire name, label). Every one the
/// log holds (a test checks it against `billing`'s).
pub const ENTITIES: [(&str, &str); 13] = [
    ("CALL_RATE", "Call rate"),
    ("TARIFF", "Tariff"),
    ("BILLING_PLAN", "Billing plan"),
    ("BILLING_SETTINGS", "Billing settings"),
    ("STATEMENT_SETTINGS", "Statement settings"),
    ("TENANT_ACCOUNT", "Tenant account"),
    ("USER_ACCOUNT", "User account"),
    ("TENANT", "Tenant"),
    ("USER", "User"),
    ("API_TOKEN", "API token"),
    ("LOGIN", "Login"),
    ("CDRS", "Calls (re-rating)"),
    ("WEBHOOK_ENDPOINT", "Webhook endpoint"),
];

/// The longest actor text searched for.
const ACTOR_MAX: usize = 64;

/// The list's parameters, as the page's URL holds them: every one optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditArgs {
    /// One of [`ENTITIES`].
    pub entity: Option<String>,
    /// Part of the actor's user name or of the API token's name.
    pub actor: Option<String>,
    /// First day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl AuditArgs {
    /// What is wrong with the filters, field by field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_day_range(&self.from, &self.to, &mut errors);
        if let Some(entity) = given(&self.entity) {
            if !ENTITIES.iter().any(|(v, _)| *v == entity) {
                errors.push(FieldError::new("entity", "is not a kind of entity"));
            }
        }
        if given(&self.actor).is_some_and(|a| a.chars().count() > ACTOR_MAX) {
            errors.push(FieldError::new(
                "actor",
                format!("must be at most {ACTOR_MAX} characters"),
            ));
        }
        errors
    }

    /// The REST list's options for these filters, newest first (assumes
    /// [`Self::check`] found nothing; what does not parse is left out).
    pub fn list_params(&self) -> ListParams {
        let mut conditions = Vec::new();
        if let Some(entity) = given(&self.entity) {
            conditions.push(format!("entity eq {}", quoted(entity)));
        }
        if let Some(actor) = given(&self.actor) {
            let actor = quoted(actor);
            conditions.push(format!(
                "(contains(actor_name, {actor}) or contains(token_name, {actor}))"
            ));
        }
        if let Some(day) = given(&self.from).and_then(parse_day) {
            conditions.push(format!("created_at ge {}", midnight(day)));
        }
        if let Some(day) = given(&self.to).and_then(parse_day) {
            conditions.push(format!("created_at lt {}", midnight(next_day(day))));
        }
        ListParams {
            cursor: None,
            filter: (!conditions.is_empty()).then(|| conditions.join(" and ")),
            search: None,
            orderby: Some("id desc".into()),
            skip: given(&self.skip).map(str::to_string),
            top: given(&self.top)
                .map(str::to_string)
                .or_else(|| Some(PAGE_SIZE.to_string())),
        }
    }
}

/// One field's change, as people read it; `None`: no value on that side
/// (a creation has no before, a deletion no after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One entry as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// The acting user's name (the name tried, for a failed login).
    pub actor: String,
    pub token_name: Option<String>,
    pub surface: String,
    pub client_addr: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub changes: Vec<FieldChange>,
}

/// One page of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub count: i64,
    pub skip: u64,
    pub top: u32,
    pub items: Vec<AuditRow>,
}

/// A value of a change as people read it: text as it is, numbers, yes/no,
/// anything else in compact JSON; null is no value.
pub fn readable(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("yes".into()),
        Value::Bool(false) => Some("no".into()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// The changes of an entry (`{"field": {"before": …, "after": …}}`), field
/// by field in the entry's order.
pub fn field_changes(changes: &serde_json::Value) -> Vec<FieldChange> {
    let Some(fields) = changes.as_object() else {
        return Vec::new();
    };
    fields
        .iter()
        .map(|(field, sides)| FieldChange {
            field: field.clone(),
            before: sides.get("before").and_then(readable),
            after: sides.get("after").and_then(readable),
        })
        .collect()
}

/// A page of the audit log (administrators: a tenant administrator its own
/// tenant's entries, a system administrator every entry), newest first.
#[server(prefix = "/portal/fn", endpoint = "list_audit", input = Json, output = Json)]
pub async fn list_audit(args: AuditArgs) -> Result<Option<AuditPage>, ServerFnError> {
    use crate::server::{caller, db};
    let caller = caller().await?;
    super::answer(::billing::audit::require_reader(&caller))?;
    let errors = args.check();
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let query = model::query::ListQuery::parse(&args.list_params(), &::billing::audit::AUDIT_SPEC)
        .map_err(|e| super::invalid(vec![FieldError::new("actor", e.message)]))?;
    let page = super::answer(db()?.list_audit_log(&caller, None, &query).await)?;
    Ok(Some(AuditPage {
        count: page.count,
        skip: query.skip,
        top: query.top,
        items: page
            .items
            .into_iter()
            .map(|e| AuditRow {
                changes: field_changes(&e.changes),
                id: e.id,
                created_at: e.created_at,
                actor: e.actor_name,
                token_name: e.token_name,
                surface: e.surface.to_string(),
                client_addr: e.client_addr,
                action: e.action.to_string(),
                entity: e.entity.to_string(),
                entity_id: e.entity_id,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_filters_become_the_lists_filter() {
        let args = AuditArgs {
            entity: Some("USER".into()),
            actor: Some("o'boss".into()),
            from: Some("2026-01-30".into()),
            to: Some("2026-01-31".into()),
            ..AuditArgs::default()
        };
        assert!(args.check().is_empty());
        assert_eq!(
            args.list_params().filter.as_deref(),
            Some(
                "entity eq 'USER' and (contains(actor_name, 'o''boss') or \
                 contains(token_name, 'o''boss')) and created_at ge '2026-01-30T00:00:00Z' \
                 and created_at lt '2026-02-01T00:00:00Z'"
            )
        );
        assert_eq!(AuditArgs::default().list_params().filter, None);
    }

    #[test]
    fn bad_filters_are_named_at_their_field() {
        let args = AuditArgs {
            entity: Some("PASSWORD".into()),
            from: Some("2026-02-30".into()),
            to: Some("yesterday".into()),
            actor: Some("x".repeat(65)),
            ..AuditArgs::default()
        };
        let fields: Vec<String> = args.check().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["from", "to", "entity", "actor"]);
        let backwards = AuditArgs {
            from: Some("2026-02-02".into()),
            to: Some("2026-02-01".into()),
            ..AuditArgs::default()
        };
        assert_eq!(backwards.check()[0].field, "to");
    }

    #[test]
    fn changes_read_field_by_field() {
        let changes = field_changes(&json!({
            "price_1": {"before": 0.06, "after": 0.07},
            "name": {"after": "Gold"},
            "enabled": {"before": true, "after": false},
            "note": {"before": null, "after": "x"},
        }));
        let find = |f: &str| changes.iter().find(|c| c.field == f).cloned();
        assert_eq!(
            find("price_1").map(|c| (c.before, c.after)),
            Some((Some("0.06".into()), Some("0.07".into())))
        );
        assert_eq!(
            find("name").map(|c| (c.before, c.after)),
            Some((None, Some("Gold".into())))
        );
        assert_eq!(
            find("enabled").map(|c| (c.before, c.after)),
            Some((Some("yes".into()), Some("no".into())))
        );
        assert_eq!(find("note").and_then(|c| c.before), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_filter_offers_every_entity_of_the_log() {
        use model::WireEnum;
        let offered: Vec<&str> = ENTITIES.iter().map(|(v, _)| *v).collect();
        assert_eq!(offered, <::billing::audit::Entity as WireEnum>::ALL_WIRE);
    }
}
