//! The webhook delivery worker: claims due deliveries from the outbox (see
//! `billing::webhooks`), posts them, signed, and records each attempt.
//!
//! Every server runs one; servers sharing a PostgreSQL database claim
//! different rows (a lease per row), so none is posted twice while its
//! worker lives. A batch is posted a few at a time, each attempt bounded by
//! a timeout far shorter than the lease. Redirects are not followed (a 3xx
//! is a failure, like any answer outside 2xx). Unless
//! `RATEDECK_WEBHOOK_PRIVATE_TARGETS` allows it, an endpoint whose host is
//! or resolves only to a loopback, private, link-local or otherwise
//! non-public address is not posted to (the attempt fails and says why), so
//! that a tenant cannot make the server call into its own network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use billing::webhooks::{Attempt, DueDelivery, RetryPolicy, ANSWER_KEPT, SIGNATURE_HEADER};
use billing::Db;
use futures::StreamExt;
use rand::RngCore;

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often it looks for due deliveries when the last look found few.
    pub poll: Duration,
    /// Deliveries claimed at a time.
    pub batch: i64,
    /// How long a claim lasts: far longer than a batch's attempts take.
    pub lease: Duration,
    /// The longest one attempt may take, answer included.
    pub timeout: Duration,
    /// The longest connecting may take.
    pub connect_timeout: Duration,
    /// Attempts in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Whether endpoints on loopback, private and link-local addresses are
    /// posted to.
    pub private_targets: bool,
    /// How long finished deliveries stay in the log.
    pub keep_for: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            poll: Duration::from_secs(1),
            batch: 32,
            lease: Duration::from_secs(120),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            concurrency: 8,
            retry: RetryPolicy::default(),
            private_targets: false,
            keep_for: Duration::from_secs(30 * 86_400),
        }
    }
}

/// How often finished deliveries past [`WorkerConfig::keep_for`] are pruned.
const PRUNE_PERIOD: Duration = Duration::from_secs(3600);

/// The delivery worker of one server.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    client: reqwest::Client,
    config: Arc<WorkerConfig>,
    /// Names this worker's leases.
    owner: String,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    pub fn new(db: Db, config: WorkerConfig) -> Result<Worker, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Ratedeck-Webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30));
        if !config.private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let mut bytes = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut bytes);
        Ok(Worker {
            db,
            client: builder.build()?,
            config: Arc::new(config),
            owner: format!("worker-{}", hex_of(&bytes)),
        })
    }

    /// Claims one batch of due deliveries, posts them and records each
    /// attempt; answers how many were attempted.
    pub async fn run_once(&self) -> billing::Result<usize> {
        let now = billing::db::now_ms();
        let due = self
            .db
            .claim_webhook_deliveries(&self.owner, self.config.batch, self.config.lease, now)
            .await?;
        let count = due.len();
        let results: Vec<billing::Result<()>> = futures::stream::iter(due)
            .map(|delivery| async move {
                let attempt = self.attempt(&delivery).await;
                tracing::debug!(
                    delivery = delivery.id,
                    url = %delivery.url,
                    status = ?attempt.status,
                    "webhook attempt"
                );
                let recorded = self
                    .db
                    .record_webhook_attempt(&self.owner, &delivery, &attempt, &self.config.retry)
                    .await?;
                if !recorded {
                    tracing::warn!(
                        delivery = delivery.id,
                        "a webhook delivery's lease ended before its attempt was recorded"
                    );
                }
                Ok(())
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        for result in results {
            result?;
        }
        Ok(count)
    }

    /// Runs until the task is aborted: a batch whenever one is due, a look
    /// every [`WorkerConfig::poll`] otherwise, and the log pruned hourly.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut pruned = tokio::time::Instant::now() - PRUNE_PERIOD;
            loop {
                let full = match self.run_once().await {
                    Ok(count) => i64::try_from(count).unwrap_or(i64::MAX) >= self.config.batch,
                    Err(e) => {
                        tracing::warn!(error = %e, "delivering webhooks failed");
                        false
                    }
                };
                if pruned.elapsed() >= PRUNE_PERIOD {
                    pruned = tokio::time::Instant::now();
                    let keep = i64::try_from(self.config.keep_for.as_millis()).unwrap_or(i64::MAX);
                    let before = billing::db::now_ms().saturating_sub(keep);
                    match self.db.prune_webhook_deliveries(before).await {
                        Ok(0) => {}
                        Ok(pruned) => tracing::info!(pruned, "pruned the webhook delivery log"),
                        Err(e) => tracing::warn!(error = %e, "pruning webhook deliveries failed"),
                    }
                }
                if !full {
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        })
    }

    /// One attempt at a delivery: its answer's status and the start of its
    /// body, or why none came.
    async fn attempt(&self, delivery: &DueDelivery) -> Attempt {
        let at = billing::db::now_ms();
        let failed = |answer: String| Attempt {
            at,
            status: None,
            answer,
        };
        let url = match reqwest::Url::parse(&delivery.url) {
            Ok(url) => url,
            Err(e) => return failed(format!("not sent: the URL is not valid ({e})")),
        };
        if !self.config.private_targets {
            if let Some(ip) = literal_ip(&url) {
                if !is_public(ip) {
                    return failed(format!(
                        "not sent: {ip} is not a public address (RATEDECK_WEBHOOK_PRIVATE_TARGETS allows it)"
                    ));
                }
            }
        }
        let seconds = at.div_euclid(1000);
        let body = delivery.payload.as_bytes();
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Ratedeck-Event", &delivery.event)
            .header("Ratedeck-Delivery", model::ApiId::encode(delivery.id))
            .header(
                SIGNATURE_HEADER,
                billing::webhooks::signature_header(&delivery.secret, seconds, body),
            )
            .body(delivery.payload.clone());
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(describe(&e, self.config.timeout)),
        };
        let status = response.status();
        let mut answer = String::new();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            answer = format!("redirect to {location} not followed");
        } else {
            let mut bytes = Vec::new();
            let mut response = response;
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        bytes.extend_from_slice(&chunk);
                        if bytes.len() >= ANSWER_KEPT {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        answer = format!(
                            "the answer could not be read: {}",
                            describe(&e, self.config.timeout)
                        );
                        break;
                    }
                }
            }
            if answer.is_empty() {
                answer = String::from_utf8_lossy(&bytes).into_owned();
            }
        }
        Attempt {
            at,
            status: Some(status.as_u16()),
            answer,
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a request got no answer, in a sentence.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    // The innermost cause says most (refused, reset, not resolved, …).
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    if e.is_connect() {
        format!("could not connect: {cause}")
    } else {
        format!("failed: {cause}")
    }
}

/// The host of `url` when it is an address rather than a name.
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Whether an address is on the public internet: not loopback, private,
/// shared (CGNAT), link-local, unique-local, multicast, broadcast,
/// documentation or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // 100.64.0.0/10, shared address space; 0.0.0.0/8; 240.0.0.0/4.
        || (a == 100 && (64..128).contains(&b))
        || a == 0
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

/// Resolves names to their public addresses only: a name with none is not
/// connected to.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{host} has no public address (RATEDECK_WEBHOOK_PRIVATE_TARGETS allows private ones)"
                )
                .into();
                return Err(refused);
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = private.parse().expect("address");
            assert!(!is_public(ip), "{private} is not public");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().expect("address");
            assert!(is_public(ip), "{public} is public");
        }
    }

    #[test]
    fn literal_hosts_are_read_off_the_url() {
        let url = |u: &str| reqwest::Url::parse(u).expect("url");
        assert_eq!(
            literal_ip(&url("http://127.0.0.1:9/x")),
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(
            literal_ip(&url("http://[::1]/")),
            Some(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        assert_eq!(literal_ip(&url("https://hooks.example.com/")), None);
    }
}
