//! A tenant as the API shows it, and its fields as both the server and the
//! browser check them.

use serde::{Deserialize, Serialize};

/// A tenant as the API shows it (and the portal lists it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Opaque API id.
    pub id: String,
    pub name: String,
    pub sip_domain: String,
    pub currency: String,
    pub status: TenantStatus,
    pub created_at: String,
}

crate::wire_enum! {
    /// Whether a tenant's users may work.
    pub enum TenantStatus {
        /// Its users log in; its calls are authorised.
        Active = "ACTIVE",
        /// Its users cannot log in and its calls are not authorised online;
        /// the CDRs its PBX posts with an API token are still taken.
        Suspended = "SUSPENDED",
    }
}

/// Checks a tenant's name: 1 to 128 characters once trimmed.
pub fn validate_tenant_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err("must be 1 to 128 characters");
    }
    Ok(name.to_string())
}

/// Checks a SIP domain: a host name or an IP address, 1..280 characters;
/// answers it in lower case.
pub fn validate_sip_domain(domain: &str) -> Result<String, &'static str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_names() {
        assert_eq!(
            validate_sip_domain(" PBX.Example.com "),
            Ok("pbx.example.com".into())
        );
        assert!(validate_sip_domain("a b").is_err());
        assert!(validate_sip_domain(".x").is_err());
        assert!(validate_tenant_name("  ").is_err());
        assert_eq!(validate_tenant_name(" Acme "), Ok("Acme".into()));
        assert_eq!(
            "SUSPENDED".parse::<TenantStatus>(),
            Ok(TenantStatus::Suspended)
        );
    }
}
