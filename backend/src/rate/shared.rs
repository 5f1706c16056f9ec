//! Token buckets every instance shares, in Redis (`REDIS_URL`): the same refill rule
//! as [`Buckets`], run as one Lua script per call so parallel requests on any
//! instance take from one bucket atomically, with Redis's clock (instances' clocks
//! may differ). A bucket's key expires once it would be full again, so Redis holds
//! only active clients.
//!
//! When Redis cannot answer within [`CALL_TIMEOUT`], the call falls back to this
//! instance's own bucket, and Redis is left alone for [`PAUSE_AFTER_FAILURE`] (one
//! warning per outage): a Redis outage weakens the limit to per instance for its
//! duration, costs a request at most the timeout, and never refuses or fails one.
//! The script reads Redis's clock (`TIME`) before writing: Redis 5 or later.

use std::fmt::Display;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// The longest a request waits for Redis (reconnecting included).
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How long Redis is skipped after it failed to answer.
pub const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// A connection to the Redis every instance uses; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    connection: ConnectionManager,
    script: Arc<redis::Script>,
    /// Keeps deployments sharing one Redis apart (derived from their shared secret).
    namespace: String,
    /// Until when (ms since the epoch) Redis is skipped; 0 while it answers.
    paused_until: Arc<AtomicU64>,
}

fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

impl Redis {
    /// Connects to `url` (fails at start-up when it cannot: a configured Redis that
    /// is missing is a deployment error). Calls time out after 250 ms.
    pub async fn connect(url: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            connection,
            script: Arc::new(redis::Script::new(SCRIPT)),
            namespace: String::new(),
            paused_until: Arc::default(),
        })
    }

    /// The same connection, with keys under `namespace`.
    pub fn namespaced(self, namespace: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            ..self
        }
    }

    /// Runs the script on `key`; `None` when Redis did not answer in time (or is
    /// paused after such a failure).
    async fn call(&self, bucket: &str, key: &str, limit: RateLimit, op: &str) -> Option<u64> {
        if now_ms() < self.paused_until.load(Ordering::Relaxed) {
            return None;
        }
        let capacity = f64::from(limit.burst.max(1));
        let per_ms = f64::from(limit.per_minute.max(1)) / 60_000.0;
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(key);
        invocation.arg(capacity).arg(per_ms).arg(op);
        let answer = tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async(&mut connection));
        let error = match answer.await {
            Ok(Ok(wait_ms)) => return Some(wait_ms),
            Ok(Err(error)) => error.to_string(),
            Err(_) => "no answer in time".to_owned(),
        };
        let pause = u64::try_from(PAUSE_AFTER_FAILURE.as_millis()).unwrap_or(u64::MAX);
        let previous = self.paused_until.swap(now_ms() + pause, Ordering::Relaxed);
        if previous == 0 {
            tracing::warn!(%error, bucket, "Redis unavailable: limiting per instance");
        }
        None
    }

    /// Notes that Redis answered again after an outage.
    fn answered(&self) {
        if self.paused_until.swap(0, Ordering::Relaxed) != 0 {
            tracing::info!("Redis answers again: limits shared by every instance");
        }
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
            let limit = self.local.limit();
            if let Some(wait_ms) = redis
                .call(self.name, &self.key(redis, key), limit, "take")
                .await
            {
                redis.answered();
                return match wait_ms {
                    0 => Ok(()),
                    ms => Err(ms.div_ceil(1000).max(1)),
                };
            }
        }
        self.local.take(key)
    }

    /// Gives back a token taken by [`Limiter::take`].
    pub async fn give_back(&self, key: K) {
        if let Some(redis) = &self.shared {
            let limit = self.local.limit();
            if redis
                .call(self.name, &self.key(redis, key), limit, "give")
                .await
                .is_some()
            {
                redis.answered();
                return;
            }
        }
        self.local.give_back(key);
    }

    /// Forgets this instance's idle buckets (Redis expires its own).
    pub fn sweep(&self) {
        self.local.sweep();
    }
}
