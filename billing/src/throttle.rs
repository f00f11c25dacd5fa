//! The login throttle: failed password checks counted per account and per
//! client address, in the database (so servers sharing one PostgreSQL
//! throttle together).
//!
//! - [`ACCOUNT_FAILURES`] failures for one account (user name and tenant
//!   domain as given, compared without case or surrounding spaces) within
//!   [`WINDOW`] lock that account until the window ends;
//! - [`ADDRESS_FAILURES`] failures from one client address over all accounts
//!   within [`WINDOW`] lock that address (IPv6 addresses count per /64).
//!
//! While locked, every attempt is refused with [`Error::TooManyRequests`]
//! before any password is checked, even a correct one. A window starts at
//! its counter's first failure; a successful login clears its account's
//! counter (not the address's). Each failure is one UPSERT; rows whose
//! window has passed are pruned by [`Db::prune_login_throttle`].

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{now_ms, Db};
use crate::error::{Error, Result};

/// How long a counter's window lasts (from its first failure).
pub const WINDOW: Duration = Duration::from_secs(5 * 60);
/// Failures for one account within a window that lock the account.
pub const ACCOUNT_FAILURES: i64 = 5;
/// Failures from one client address within a window that lock the address.
pub const ADDRESS_FAILURES: i64 = 50;

fn window_ms() -> i64 {
    i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX)
}

/// The throttle's clock: the system's, moved forward by
/// [`ThrottleClock::advance`] (tests use it to let a window pass).
#[derive(Debug, Clone, Default)]
pub struct ThrottleClock {
    skew_ms: Arc<AtomicI64>,
}

impl ThrottleClock {
    /// Unix milliseconds now, as the throttle sees it.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.skew_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of its database handle) forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self
            .skew_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(s.saturating_add(ms))
            });
    }
}

/// The counters one login attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    account: String,
    address: Option<String>,
}

impl Attempt {
    /// The attempt to log in as `username` (of the tenant with SIP domain
    /// `domain`, none for system users) from `client`.
    pub fn new(username: &str, domain: Option<&str>, client: Option<IpAddr>) -> Attempt {
        let mut hash = Sha256::new();
        hash.update(domain.unwrap_or("").trim().to_lowercase().as_bytes());
        hash.update([0u8]);
        hash.update(username.trim().to_lowercase().as_bytes());
        Attempt {
            account: format!("account:{}", hex::encode(hash.finalize())),
            address: client.map(|ip| format!("address:{}", address_key(ip))),
        }
    }
}

/// An address as counted: IPv4 (also when mapped into IPv6) as is, IPv6 by
/// its /64 network, which one client usually holds whole.
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

/// What the counters said before a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Standing {
    /// The account has failures counted (a success clears them).
    account_failures: bool,
}

impl Db {
    /// The clock the login throttle reads.
    pub fn throttle_clock(&self) -> &ThrottleClock {
        self.login_clock()
    }

    /// Refuses an attempt whose account or address is locked, with the
    /// seconds until the lock ends.
    pub(crate) async fn check_login_throttle(&self, attempt: &Attempt) -> Result<Standing> {
        let now = self.login_clock().now_ms();
        let address = attempt.address.as_deref().unwrap_or(&attempt.account);
        let rows = sqlx::query(
            "SELECT subject, window_start, failures FROM login_throttle \
             WHERE subject = $1 OR subject = $2",
        )
        .bind(&attempt.account)
        .bind(address)
        .fetch_all(self.pool())
        .await?;
        let mut standing = Standing {
            account_failures: false,
        };
        let mut wait_ms = 0i64;
        for row in rows {
            let subject: String = row.try_get("subject")?;
            let window_start: i64 = row.try_get("window_start")?;
            let failures: i64 = row.try_get("failures")?;
            let ends = window_start.saturating_add(window_ms());
            if ends <= now {
                continue;
            }
            let limit = if subject == attempt.account {
                standing.account_failures = true;
                ACCOUNT_FAILURES
            } else {
                ADDRESS_FAILURES
            };
            if failures >= limit {
                wait_ms = wait_ms.max(ends - now);
            }
        }
        if wait_ms > 0 {
            let retry_after_seconds = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1);
            return Err(Error::TooManyRequests {
                retry_after_seconds,
            });
        }
        Ok(standing)
    }

    /// Counts a failed password check for the attempt's account and address:
    /// the one place where a failed login is recorded.
    pub(crate) async fn record_login_failure(&self, attempt: &Attempt) -> Result<()> {
        let now = self.login_clock().now_ms();
        let fresh_after = now.saturating_sub(window_ms());
        // One statement whatever the counters hold: a counter whose window
        // has passed starts a new one, else it counts one more. Account rows
        // come before address rows, so concurrent writers lock in one order.
        let (values, subjects) = match &attempt.address {
            Some(address) => (
                "($3, $1, 1), ($4, $1, 1)",
                vec![attempt.account.as_str(), address.as_str()],
            ),
            None => ("($3, $1, 1)", vec![attempt.account.as_str()]),
        };
        let sql = format!(
            "INSERT INTO login_throttle (subject, window_start, failures) VALUES {values} \
             ON CONFLICT (subject) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_start > $2 \
                        THEN login_throttle.failures + 1 ELSE 1 END, \
             window_start = CASE WHEN login_throttle.window_start > $2 \
                        THEN login_throttle.window_start ELSE $1 END"
        );
        let mut query = sqlx::query(&sql).bind(now).bind(fresh_after);
        for subject in subjects {
            query = query.bind(subject);
        }
        let _turn = self.write_turn().await;
        query.execute(self.pool()).await?;
        Ok(())
    }

    /// Clears the account's counter after a successful login.
    pub(crate) async fn clear_login_failures(
        &self,
        attempt: &Attempt,
        standing: Standing,
    ) -> Result<()> {
        if !standing.account_failures {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM login_throttle WHERE subject = $1")
            .bind(&attempt.account)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes the counters whose window has passed; answers how many.
    pub async fn prune_login_throttle(&self) -> Result<u64> {
        let before = self.login_clock().now_ms().saturating_sub(window_ms());
        let _turn = self.write_turn().await;
        let done = sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_counted_without_case_or_spaces() {
        let a = Attempt::new("Boss ", Some("Acme.example.com"), None);
        let b = Attempt::new("boss", Some(" acme.example.com"), None);
        assert_eq!(a, b);
        assert_ne!(a, Attempt::new("boss", None, None));
        assert_ne!(a, Attempt::new("boss2", Some("acme.example.com"), None));
    }

    #[test]
    fn ipv6_clients_count_per_network() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let two: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(address_key(one), address_key(two));
        assert_ne!(address_key(one), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(address_key(mapped), "192.0.2.7");
    }

    #[test]
    fn the_clock_moves_forward_for_every_clone() {
        let clock = ThrottleClock::default();
        let clone = clock.clone();
        let before = clone.now_ms();
        clock.advance(Duration::from_secs(600));
        assert!(clone.now_ms() >= before + 600_000);
    }
}
