//! Token buckets every instance shares, in Redis (`REDIS_URL`): the same refill rule
//! as [`Buckets`], run as one Lua script per call so parallel requests on any
//! instance take from one bucket atomically, with Redis's clock (instances' clocks
//! may differ). A bucket's key expires once it would be full again, so Redis holds
//! only active clients.
//!
//! When Redis cannot answer, the call falls back to this instance's own bucket (and
//! logs it): a Redis outage weakens the limit to per instance for its duration, and
//! never refuses or fails requests.

use std::fmt::Display;
use std::hash::Hash;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Buckets, RateLimit};

/// `KEYS[1]`: the bucket; `ARGV`: capacity, tokens per millisecond, `take` or `give`.
/// Returns 0 when a token was taken (or given back), else the milliseconds to wait.
const SCRIPT: &str = r"
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local wait = 0
if ARGV[3] == 'take' then
  if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / per_ms) end
else
  tokens = math.min(capacity, tokens + 1)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / per_ms) + 1000)
return wait
";

/// A connection to the Redis every instance uses; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    connection: ConnectionManager,
    script: std::sync::Arc<redis::Script>,
    /// Keeps deployments sharing one Redis apart (derived from their shared secret).
    namespace: String,
}

impl Redis {
    /// Connects to `url` (fails at start-up when it cannot: a configured Redis that
    /// is missing is a deployment error). Calls time out after 250 ms.
    pub async fn connect(url: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            connection,
            script: std::sync::Arc::new(redis::Script::new(SCRIPT)),
            namespace: String::new(),
        })
    }

    /// The same connection, with keys under `namespace`.
    pub fn namespaced(self, namespace: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            ..self
        }
    }

    async fn call(&self, key: &str, limit: RateLimit, op: &str) -> redis::RedisResult<u64> {
        let capacity = f64::from(limit.burst.max(1));
        let per_ms = f64::from(limit.per_minute.max(1)) / 60_000.0;
        let mut connection = self.connection.clone();
        self.script
            .key(key)
            .arg(capacity)
            .arg(per_ms)
            .arg(op)
            .invoke_async(&mut connection)
            .await
    }
}

/// Buckets shared through [`Redis`] when there is one, else this instance's.
pub struct Limiter<K> {
    /// The key prefix of this kind of bucket (`login`, `recovery`, ...).
    name: &'static str,
    shared: Option<Redis>,
    local: Buckets<K>,
}

impl<K: Hash + Eq + Copy + Display> Limiter<K> {
    pub fn new(name: &'static str, limit: RateLimit, shared: Option<Redis>) -> Self {
        Self {
            name,
            shared,
            local: Buckets::new(limit),
        }
    }

    fn key(&self, redis: &Redis, key: K) -> String {
        format!("um:{}:rate:{}:{key}", redis.namespace, self.name)
    }

    /// Takes a token for `key`, or says how many seconds until there is one.
    pub async fn take(&self, key: K) -> Result<(), u64> {
        if let Some(redis) = &self.shared {
            match redis
                .call(&self.key(redis, key), self.local.limit(), "take")
                .await
            {
                Ok(0) => return Ok(()),
                Ok(wait_ms) => return Err(wait_ms.div_ceil(1000).max(1)),
                Err(error) => {
                    tracing::warn!(%error, bucket = self.name, "Redis unavailable: limiting per instance");
                }
            }
        }
        self.local.take(key)
    }

    /// Gives back a token taken by [`Limiter::take`].
    pub async fn give_back(&self, key: K) {
        if let Some(redis) = &self.shared {
            match redis
                .call(&self.key(redis, key), self.local.limit(), "give")
                .await
            {
                Ok(_) => return,
                Err(error) => {
                    tracing::warn!(%error, bucket = self.name, "Redis unavailable: limiting per instance");
                }
            }
        }
        self.local.give_back(key);
    }

    /// Forgets this instance's idle buckets (Redis expires its own).
    pub fn sweep(&self) {
        self.local.sweep();
    }
}
