//! The low-balance banner at the top of every page behind the login: the
//! caller's accounts whose available funds are below their alert
//! threshold now (its own; for a tenant administrator, the tenant's too),
//! read again on every navigation.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::functions::alerts::{low_balance_banner, LowAccountView};

fn sentence(account: &LowAccountView) -> String {
    let whose = if account.tenant {
        format!("The account of {} (the tenant's)", account.name)
    } else {
        "Your account".to_string()
    };
    format!(
        "{whose} has {} {currency} available, below its alert threshold of {} {currency}.",
        account.available,
        account.threshold,
        currency = account.currency
    )
}

/// The banner, when some account of the caller's is low.
#[component]
pub fn LowBalanceBanner() -> impl IntoView {
    let location = use_location();
    let low = Resource::new(move || location.pathname.get(), |_| low_balance_banner());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let accounts = low.await.unwrap_or_default();
                (!accounts.is_empty()).then(|| {
                    let lines = accounts
                        .iter()
                        .map(|a| view! { <p data-testid="low-balance-line">{sentence(a)}</p> })
                        .collect_view();
                    view! {
                        <div class="banner low-balance" role="alert" data-testid="low-balance-banner">
                            <strong>"Low balance"</strong>
                            <div class="banner-lines">{lines}</div>
                            <a href="/balances">"See the balance"</a>
                        </div>
                    }
                })
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_says_whose_funds_are_low() {
        let mut account = LowAccountView {
            name: "Acme".into(),
            tenant: true,
            available: "4.00000".into(),
            threshold: "10.00000".into(),
            currency: "EUR".into(),
        };
        assert_eq!(
            sentence(&account),
            "The account of Acme (the tenant's) has 4.00000 EUR available, below its alert threshold of 10.00000 EUR."
        );
        account.tenant = false;
        assert!(sentence(&account).starts_with("Your account has 4.00000 EUR"));
    }
}
