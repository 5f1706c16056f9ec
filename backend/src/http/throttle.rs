//! Per-client-IP throttling of the endpoints that guess secrets or send mail: a token
//! bucket per address, in memory. Over the limit, the answer is 429 with
//! `Retry-After`.
//!
//! - Login, token and signup spend a token per *failed* request (any 4xx): guessing
//!   passwords or probing for taken names is what the limit is for, while an office
//!   behind one address logging in successfully is never slowed down. Once the bucket
//!   is empty, every request from that address waits for it to refill.
//! - The recovery steps spend a token per request (each may send mail or test a code).
//! - The strength meter, asked while typing, has a bucket four times larger.
//! - Every login, token and signup request also draws from a bucket ten times larger,
//!   which caps floods of parallel requests (admitted before any has failed).
//!
//! Buckets are per instance; the per-account lockout, which must hold across
//! instances, lives in the database (`auth::lockout`). The middleware that applies
//! them is in `http::middleware`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A token bucket per client IP: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Clone)]
pub struct Throttle {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses whose bucket ran dry on a failure, and until when.
    blocked: Arc<Mutex<HashMap<IpAddr, Instant>>>,
}

impl Throttle {
    pub fn new(limit: RateLimit) -> Self {
        let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            )),
            blocked: Arc::default(),
        }
    }

    /// Takes one token from `ip`'s bucket, or says how long until there is one.
    fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// For buckets that count every request: takes a token or refuses.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.take(ip).map_err(whole_seconds)
    }

    /// For buckets that count failures: refuses while `ip` is blocked.
    pub fn admit(&self, ip: IpAddr) -> Result<(), u64> {
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        match blocked.get(&ip) {
            Some(until) if *until > Instant::now() => Err(whole_seconds(*until - Instant::now())),
            _ => Ok(()),
        }
    }

    /// A failed request from `ip`: spends a token, and blocks `ip` once there is none.
    pub fn failed(&self, ip: IpAddr) {
        if let Err(wait) = self.take(ip) {
            let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
            blocked.insert(ip, Instant::now() + wait);
        }
    }

    /// Drops buckets that are full again and lapsed blocks, so memory follows the
    /// active clients.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.retain(|_, until| *until > now);
    }
}

/// The address a bucket belongs to: IPv6 clients get a whole /64 (one subscriber's
/// network), so rotating through its addresses buys nothing.
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Which bucket a route draws from.
#[derive(Debug, Clone, Copy)]
pub enum Bucket {
    /// Login, token and signup: failed requests count.
    Credentials,
    /// The recovery steps: every request counts.
    Recovery,
    /// The password-strength meter: every request counts, in a roomier bucket.
    Strength,
}

/// The buckets of one application.
#[derive(Clone)]
pub struct Throttles {
    /// Failed logins, tokens and signups.
    pub credentials: Throttle,
    /// Every login, token and signup request, with ten times the allowance.
    pub credentials_flood: Throttle,
    pub recovery: Throttle,
    pub strength: Throttle,
}

impl Throttles {
    pub fn new(limit: RateLimit) -> Self {
        let times = |factor: u32| RateLimit {
            per_minute: limit.per_minute.saturating_mul(factor),
            burst: limit.burst.saturating_mul(factor),
        };
        Self {
            credentials: Throttle::new(limit),
            credentials_flood: Throttle::new(times(10)),
            recovery: Throttle::new(limit),
            strength: Throttle::new(times(4)),
        }
    }

    /// Whether a request to a `bucket` route from `ip` may go ahead; else how many
    /// seconds to wait.
    pub fn admit(&self, bucket: Bucket, ip: IpAddr) -> Result<(), u64> {
        match bucket {
            // A flood of requests in parallel is admitted before any of them has
            // failed: the roomy bucket caps it.
            Bucket::Credentials => self
                .credentials_flood
                .check(ip)
                .and_then(|()| self.credentials.admit(ip)),
            Bucket::Recovery => self.recovery.check(ip),
            Bucket::Strength => self.strength.check(ip),
        }
    }

    /// Counts how a request from `ip` was answered: on credential routes, a client
    /// error spends a token.
    pub fn answered(&self, bucket: Bucket, ip: IpAddr, client_error: bool) {
        if matches!(bucket, Bucket::Credentials) && client_error {
            self.credentials.failed(ip);
        }
    }

    pub fn forget_idle(&self) {
        for throttle in [
            &self.credentials,
            &self.credentials_flood,
            &self.recovery,
            &self.strength,
        ] {
            throttle.forget_idle();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_wait_per_address() {
        let throttle = Throttle::new(RateLimit {
            per_minute: 6,
            burst: 2,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(throttle.check(a).is_ok());
        assert!(throttle.check(a).is_ok());
        let wait = throttle.check(a).unwrap_err();
        assert!((1..=10).contains(&wait), "one token per 10 s: {wait}");
        assert!(
            throttle.check(b).is_ok(),
            "addresses have their own buckets"
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(bucket_key(one), bucket_key(other));
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(bucket_key(v4), v4);
    }

    #[test]
    fn failures_block_once_the_bucket_is_empty() {
        let throttle = Throttle::new(RateLimit {
            per_minute: 6,
            burst: 2,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..2 {
            assert!(throttle.admit(a).is_ok());
            throttle.failed(a);
        }
        assert!(throttle.admit(a).is_ok(), "two failures spent the burst");
        throttle.failed(a);
        let wait = throttle.admit(a).unwrap_err();
        assert!((1..=10).contains(&wait), "{wait}");
    }
}
