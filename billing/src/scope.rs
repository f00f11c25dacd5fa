//! The tenant a request acts on, from the caller and the tenant the request
//! names (an opaque API id as text): one rule for the REST API, the portal's
//! server functions and the portal's own routes.

use model::user::Role;
use model::ApiId;

use crate::auth::{Caller, Scope};
use crate::error::{Error, Result};

/// The tenant a request names: blank text names none, and text that is not
/// an id names a tenant that is not found.
pub fn named_tenant(text: Option<&str>) -> Result<Option<i64>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => ApiId::decode(text)
            .map(Some)
            .ok_or(Error::NotFound("tenant")),
        None => Ok(None),
    }
}

impl Scope {
    /// The tenant `caller` acts on when a request names `tenant`: a tenant
    /// user's own (naming another is "not found"); for a system
    /// administrator, the one named, which it must name.
    pub fn for_caller(caller: &Caller, tenant: Option<&str>) -> Result<Scope> {
        caller.scope(named_tenant(tenant)?)
    }

    /// The caller's own account in its own tenant: what a user's "my"
    /// pages and the `/api/user/...` routes act on. Nothing a request names
    /// (a tenant, a user) widens it; a system administrator, who has no
    /// account of its own, is refused.
    pub fn own_account(caller: &Caller) -> Result<Scope> {
        match caller.tenant_id {
            Some(tenant_id) => Ok(Scope {
                caller: caller.clone(),
                tenant_id,
                own: true,
            }),
            None => Err(Error::Forbidden(
                "a system administrator has no account of its own".into(),
            )),
        }
    }

    /// The scope a tenant's own data is read with: the tenant's for its
    /// administrators, the caller's own account for a standard user.
    pub fn reading_for(caller: &Caller, tenant: Option<&str>) -> Result<Option<Scope>> {
        if caller.role == Role::StandardUser {
            return Scope::own_account(caller).map(Some);
        }
        Scope::chosen_for(caller, tenant)
    }

    /// Like [`Scope::reading_for`], for a request that must act on a tenant
    /// (a system administrator names it).
    pub fn reading(caller: &Caller, tenant: Option<&str>) -> Result<Scope> {
        if caller.role == Role::StandardUser {
            return Scope::own_account(caller);
        }
        Scope::for_caller(caller, tenant)
    }

    /// Whether what the scope reads is only the caller's own: a scope of its
    /// own account, or any scope of a standard user.
    pub fn only_own(&self) -> bool {
        self.own || self.caller.role == Role::StandardUser
    }

    /// Like [`Scope::for_caller`], but `None` for a system administrator who
    /// has not named a tenant yet (a page then offers the choice).
    pub fn chosen_for(caller: &Caller, tenant: Option<&str>) -> Result<Option<Scope>> {
        match named_tenant(tenant)? {
            None if caller.tenant_id.is_none() => Ok(None),
            named => caller.scope(named).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::system_admin;

    #[test]
    fn a_named_tenant_is_an_id_or_nothing() {
        assert_eq!(named_tenant(None).ok(), Some(None));
        assert_eq!(named_tenant(Some("  ")).ok(), Some(None));
        assert_eq!(named_tenant(Some(&ApiId::encode(7))).ok(), Some(Some(7)));
        assert!(matches!(
            named_tenant(Some("nope")),
            Err(Error::NotFound("tenant"))
        ));
    }

    #[test]
    fn an_own_account_is_the_callers_whatever_it_names() {
        let mut user = system_admin();
        assert!(matches!(
            Scope::own_account(&user),
            Err(Error::Forbidden(_))
        ));
        user.role = model::user::Role::StandardUser;
        user.tenant_id = Some(5);
        let scope = Scope::own_account(&user).expect("scope");
        assert_eq!((scope.tenant_id, scope.own), (5, true));
        let read = Scope::reading_for(&user, Some(&ApiId::encode(3)))
            .expect("scope")
            .expect("chosen");
        assert_eq!((read.tenant_id, read.only_own()), (5, true));
        user.role = model::user::Role::Admin;
        let read = Scope::reading_for(&user, None)
            .expect("scope")
            .expect("chosen");
        assert!(!read.only_own());
    }

    #[test]
    fn a_system_administrator_names_the_tenant() {
        let admin = system_admin();
        assert!(matches!(Scope::chosen_for(&admin, Some("")), Ok(None)));
        assert!(Scope::for_caller(&admin, None).is_err());
        let scope = Scope::for_caller(&admin, Some(&ApiId::encode(3))).expect("scope");
        assert_eq!(scope.tenant_id, 3);
        let mut user = admin;
        user.role = model::user::Role::Admin;
        user.tenant_id = Some(5);
        assert_eq!(
            Scope::chosen_for(&user, None)
                .ok()
                .flatten()
                .map(|s| s.tenant_id),
            Some(5)
        );
        assert!(matches!(
            Scope::for_caller(&user, Some(&ApiId::encode(3))),
            Err(Error::NotFound("tenant"))
        ));
    }
}
