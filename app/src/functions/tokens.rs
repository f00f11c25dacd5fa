//! API tokens, for the tokens page: the same `billing` use cases as
//! `/api/tokens`. Everyone makes tokens of their own; the list holds the
//! tokens the caller may revoke (a standard user's own, a tenant
//! administrator's every token of the tenant's users, a system
//! administrator's every one). A secret is answered once, by the creation,
//! and never again.

use crate::functions::codec::Json;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::people::{PeopleArgs, PeoplePage};

/// Rows per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;

/// An API token as the page lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Opaque API id.
    pub id: String,
    pub name: String,
    /// The user whose token it is.
    pub owner: String,
    /// The owner's tenant (none for a system user).
    pub tenant: Option<String>,
    /// Whether it is the logged-in user's own.
    pub mine: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; none while it was never used.
    pub last_used_at: Option<String>,
    /// RFC 3339; none for a token that does not expire.
    pub expires_at: Option<String>,
}

/// A token just made: its secret, shown this once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub name: String,
    pub secret: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A page of the tokens the caller may see, searched by name or owner,
/// newest first unless the page sorts otherwise.
#[server(prefix = "/portal/fn", endpoint = "list_token_rows", input = Json, output = Json)]
pub async fn list_token_rows(
    args: PeopleArgs,
) -> Result<Option<PeoplePage<TokenRow>>, ServerFnError> {
    use crate::server::{caller, db};
    let caller = caller().await?;
    let params = model::query::ListParams {
        cursor: None,
        filter: None,
        search: args.search,
        orderby: args.orderby.or_else(|| Some("created_at desc".into())),
        skip: args.skip,
        top: args.top.or_else(|| Some(PAGE_SIZE.to_string())),
    };
    let query = model::query::ListQuery::parse(&params, &::billing::auth::TOKEN_SPEC)
        .map_err(|e| ServerFnError::new(format!("{}: {}", e.parameter, e.message)))?;
    let page = super::answer(db()?.list_api_token_page(&caller, &query).await)?;
    let time = ::billing::time::rfc3339;
    Ok(Some(PeoplePage {
        count: page.count,
        skip: query.skip,
        top: query.top,
        items: page
            .items
            .into_iter()
            .map(|t| TokenRow {
                id: model::ApiId::encode(t.id),
                name: t.name,
                mine: t.owner_id == caller.user_id,
                owner: t.owner_name,
                tenant: t.tenant_name,
                created_at: time(t.created_at),
                last_used_at: t.last_used_at.map(time),
                expires_at: t.expires_at.map(time),
            })
            .collect(),
    }))
}

/// Makes an API token of the logged-in user's own; answers its secret, once.
#[server(prefix = "/portal/fn", endpoint = "create_token", input = Json, output = Json)]
pub async fn create_token(name: String) -> Result<NewToken, ServerFnError> {
    use crate::server::{caller, db};
    let caller = caller().await?;
    let (info, secret) = super::answer(db()?.create_api_token(&caller, &name, None).await)?;
    Ok(NewToken {
        name: info.name,
        secret,
    })
}

/// Revokes a token the caller may revoke; answers what was done, to be shown.
#[server(prefix = "/portal/fn", endpoint = "revoke_token", input = Json, output = Json)]
pub async fn revoke_token(id: String) -> Result<String, ServerFnError> {
    use crate::server::{caller, db};
    let caller = caller().await?;
    let id = super::id_of(&id, "API token")?;
    let name = super::answer(db()?.revoke_api_token(&caller, id).await)?;
    Ok(format!(
        "The token “{name}” is revoked: requests made with it are refused from now on."
    ))
}
