//! Token buckets in memory, one per key (an address, an account, a device): the
//! throttles of the HTTP layer and the login budget of `auth` are built on them.
//! [`shared`] holds the same buckets in Redis for a deployment of several instances.
//!
//! Written here rather than taken from `governor`: its GCRA cannot give a token
//! back, which buckets charged only for failures (or only for successes) need. Idle
//! buckets (full again) are swept, and each map holds at most [`MAX_KEYS`] keys, so
//! memory stays bounded however many clients call.

pub mod shared;

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket per client: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateLimit {
    /// The share one account (or device) gets of a client's limit: a third of the
    /// burst, half the rate.
    pub fn per_account(self) -> Self {
        Self {
            per_minute: self.per_minute.div_ceil(2).max(1),
            burst: self.burst.div_ceil(3).max(1),
        }
    }

    /// Successful logins per known device, per account's unknown clients and per
    /// unknown name: one account's share, but never fewer than 10 at once and 30 a
    /// minute, so a strict throttle on failures does not hold up someone logging in
    /// twice.
    pub fn successful_logins(self) -> Self {
        let share = self.per_account();
        Self {
            per_minute: share.per_minute.max(30),
            burst: share.burst.max(10),
        }
    }

    /// `factor` times as many requests, and as many at once.
    pub fn times(self, factor: u32) -> Self {
        Self {
            per_minute: self.per_minute.saturating_mul(factor),
            burst: self.burst.saturating_mul(factor),
        }
    }
}

/// The most clients one bucket map tracks; past that (after sweeping the idle ones)
/// new clients are refused until some go idle.
pub const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Tokens {
    tokens: f64,
    at: Instant,
}

/// One token bucket per key.
pub struct Buckets<K> {
    limit: RateLimit,
    map: Mutex<HashMap<K, Tokens>>,
}

impl<K: Hash + Eq + Copy> Buckets<K> {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            map: Mutex::default(),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn capacity(&self) -> f64 {
        f64::from(self.limit.burst.max(1))
    }

    fn per_second(&self) -> f64 {
        f64::from(self.limit.per_minute.max(1)) / 60.0
    }

    fn refilled(&self, bucket: Tokens, now: Instant) -> Tokens {
        let earned = now.duration_since(bucket.at).as_secs_f64() * self.per_second();
        Tokens {
            tokens: (bucket.tokens + earned).min(self.capacity()),
            at: now,
        }
    }

    /// Takes a token for `key`, or says how many seconds until there is one.
    pub fn take(&self, key: K) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(&key) && map.len() >= MAX_KEYS {
            self.sweep_locked(&mut map, now);
            if map.len() >= MAX_KEYS {
                tracing::warn!("throttle table full: refusing a new client");
                return Err(60);
            }
        }
        let full = Tokens {
            tokens: self.capacity(),
            at: now,
        };
        let bucket = self.refilled(*map.get(&key).unwrap_or(&full), now);
        if bucket.tokens >= 1.0 {
            map.insert(
                key,
                Tokens {
                    tokens: bucket.tokens - 1.0,
                    ..bucket
                },
            );
            return Ok(());
        }
        map.insert(key, bucket);
        let wait = (1.0 - bucket.tokens) / self.per_second();
        Err((wait.ceil() as u64).max(1))
    }

    /// Gives back a token taken by [`Buckets::take`] (the request it paid for
    /// succeeded).
    pub fn give_back(&self, key: K) {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = map.get(&key).copied() {
            let bucket = self.refilled(bucket, now);
            map.insert(
                key,
                Tokens {
                    tokens: (bucket.tokens + 1.0).min(self.capacity()),
                    ..bucket
                },
            );
        }
    }

    /// Forgets the buckets that are full again: an idle client costs no memory.
    pub fn sweep(&self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        self.sweep_locked(&mut map, Instant::now());
    }

    fn sweep_locked(&self, map: &mut HashMap<K, Tokens>, now: Instant) {
        let capacity = self.capacity();
        map.retain(|_, bucket| self.refilled(*bucket, now).tokens < capacity);
        map.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
