//! Per-client throttling of the endpoints that guess secrets, send mail or hash: a
//! token bucket per address (and, for hashing, per account), in memory. Over the
//! limit, the answer is 429 with `Retry-After`.
//!
//! - Login, token and signup take a token *before* the handler runs and give it back
//!   when the request succeeds: failures (guessing passwords, probing for taken names)
//!   spend the bucket, an office behind one address logging in successfully never
//!   does, and N parallel failures can never get past the burst, because each holds
//!   its token while it runs.
//! - The recovery and email-code steps spend a token per request (each may send mail
//!   or test a code); the strength meter has a bucket four times larger.
//! - Every request that hashes a password (sign-up, profile and password changes,
//!   accounts made by admins) spends from a hashing bucket per address, and per
//!   account where there is one, so one client cannot keep the hashing pool busy.
//!
//! The buckets are [`crate::rate::Buckets`] (written there, not taken from
//! `governor`, whose GCRA cannot give a token back), shared by every instance through
//! Redis when `REDIS_URL` is set ([`crate::rate::shared`]), else per instance; the
//! per-account lockout, which must hold across instances, lives in the database
//! (`auth::lockout`). The middleware that applies them is in `http::middleware`.

use std::net::{IpAddr, Ipv6Addr};

pub use crate::rate::shared::{Limiter, Redis};
pub use crate::rate::{Buckets, MAX_KEYS, RateLimit};

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

/// Which bucket a route draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Login, token and signup: taken up front, given back on success.
    Credentials,
    /// The recovery and email-code steps: every request counts.
    Recovery,
    /// The password-strength meter: every request counts, in a roomier bucket.
    Strength,
    /// Routes that hash a password: every request counts.
    Hashing,
}

/// The buckets of one application.
pub struct Throttles {
    pub credentials: Limiter<IpAddr>,
    pub recovery: Limiter<IpAddr>,
    pub strength: Limiter<IpAddr>,
    pub hashing: Limiter<IpAddr>,
    /// Hashing per account, whatever address it comes from.
    pub hashing_accounts: Limiter<i32>,
    /// Every request made with an API key, per key (`API_KEY_RATE_PER_MINUTE`).
    pub api_keys: Limiter<i32>,
}

impl Throttles {
    /// Buckets of `limit` (and `api_keys` per key), in `shared` Redis when there is one.
    pub fn new(limit: RateLimit, api_keys: RateLimit, shared: Option<Redis>) -> Self {
        let limiter = |name, limit| Limiter::new(name, limit, shared.clone());
        Self {
            credentials: limiter("credentials", limit),
            recovery: limiter("recovery", limit),
            strength: limiter("strength", limit.times(4)),
            hashing: limiter("hashing", limit),
            hashing_accounts: Limiter::new("hashing-account", limit.per_account(), shared.clone()),
            api_keys: Limiter::new("api-key", api_keys, shared),
        }
    }

    fn of(&self, bucket: Bucket) -> &Limiter<IpAddr> {
        match bucket {
            Bucket::Credentials => &self.credentials,
            Bucket::Recovery => &self.recovery,
            Bucket::Strength => &self.strength,
            Bucket::Hashing => &self.hashing,
        }
    }

    /// Whether a request to a `bucket` route from `ip` may go ahead (a token is
    /// taken); else how many seconds to wait.
    pub async fn admit(&self, bucket: Bucket, ip: IpAddr) -> Result<(), u64> {
        let admitted = self.of(bucket).take(ip).await;
        if admitted.is_err() {
            crate::metrics::throttled(match bucket {
                Bucket::Credentials => "credentials",
                Bucket::Recovery => "recovery",
                Bucket::Strength => "strength",
                Bucket::Hashing => "hashing",
            });
        }
        admitted
    }

    /// Counts how a request from `ip` was answered: on credential routes, a success
    /// gives its token back.
    pub async fn answered(&self, bucket: Bucket, ip: IpAddr, succeeded: bool) {
        if bucket == Bucket::Credentials && succeeded {
            self.credentials.give_back(ip).await;
        }
    }

    /// Spends one of `account_id`'s hashing tokens.
    pub async fn hashing_for(&self, account_id: i32) -> Result<(), u64> {
        let admitted = self.hashing_accounts.take(account_id).await;
        if admitted.is_err() {
            crate::metrics::throttled("hashing-account");
        }
        admitted
    }

    /// Drops this instance's buckets that are full again, so memory follows the
    /// active clients.
    pub fn forget_idle(&self) {
        for buckets in [
            &self.credentials,
            &self.recovery,
            &self.strength,
            &self.hashing,
        ] {
            buckets.sweep();
        }
        self.hashing_accounts.sweep();
        self.api_keys.sweep();
    }

    /// Spends one of API key `id`'s requests.
    pub async fn api_key(&self, id: i32) -> Result<(), u64> {
        let admitted = self.api_keys.take(id).await;
        if admitted.is_err() {
            crate::metrics::throttled("api-key");
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limit(per_minute: u32, burst: u32) -> RateLimit {
        RateLimit { per_minute, burst }
    }

    #[test]
    fn a_burst_then_a_wait_per_key() {
        let buckets = Buckets::new(limit(6, 2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(buckets.take(a).is_ok());
        assert!(buckets.take(a).is_ok());
        let wait = buckets.take(a).unwrap_err();
        assert!((1..=10).contains(&wait), "one token per 10 s: {wait}");
        assert!(buckets.take(b).is_ok(), "keys have their own buckets");
    }

    #[test]
    fn given_back_tokens_are_spent_again_but_never_beyond_the_burst() {
        let buckets = Buckets::new(limit(6, 2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10 {
            assert!(buckets.take(a).is_ok());
            buckets.give_back(a);
        }
        buckets.give_back(a);
        buckets.give_back(a);
        assert!(buckets.take(a).is_ok() && buckets.take(a).is_ok());
        assert!(buckets.take(a).is_err(), "giving back never overfills");
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
    fn idle_buckets_are_swept() {
        let buckets = Buckets::new(limit(60_000, 1));
        for n in 0..100u32 {
            buckets.take(n).unwrap();
        }
        assert_eq!(buckets.len(), 100);
        std::thread::sleep(Duration::from_millis(5));
        buckets.sweep();
        assert!(buckets.is_empty(), "refilled buckets are forgotten");
    }
}
