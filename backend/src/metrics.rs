//! Prometheus metrics (`GET /metrics`, text format). The collectors are process-wide,
//! like the allocator or the thread pools they describe: any layer records into them
//! with the functions here, and the HTTP layer renders them.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

struct Collectors {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    hashing_in_use: IntGauge,
    hashing_time: Histogram,
    hashing_wait: HistogramVec,
    hashing_refused: IntCounterVec,
    refusals: IntCounterVec,
    login_failures: IntCounterVec,
    db_pool: IntGaugeVec,
    db_acquire: Histogram,
    mail: IntGaugeVec,
}

/// Request latencies worth telling apart: a cached read, a query, an argon2 hash,
/// a queue.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// `metric` (its definition is a constant of this file, so valid), registered.
fn registered<M: Collector + Clone + 'static>(
    registry: &Registry,
    metric: prometheus::Result<M>,
) -> M {
    let metric = metric.expect("a valid metric definition");
    registry
        .register(Box::new(metric.clone()))
        .expect("each name registered once");
    metric
}

static METRICS: LazyLock<Collectors> = LazyLock::new(|| {
    let registry = Registry::new();
    let timing =
        |name: &str, help: &str| HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
    let histogram = |name: &str, help: &str, labels: &[&str]| {
        registered(&registry, HistogramVec::new(timing(name, help), labels))
    };
    let counter = |name: &str, help: &str, labels: &[&str]| {
        registered(&registry, IntCounterVec::new(Opts::new(name, help), labels))
    };
    let gauges = |name: &str, help: &str, labels: &[&str]| {
        registered(&registry, IntGaugeVec::new(Opts::new(name, help), labels))
    };
    let db_acquire = registered(
        &registry,
        Histogram::with_opts(timing(
            "db_pool_acquire_seconds",
            "Time to get a pool connection, sampled at each scrape",
        )),
    );
    let hashing_in_use = registered(
        &registry,
        IntGauge::new(
            "password_hashing_permits_in_use",
            "Password hashes running on the hashing threads now",
        ),
    );
    let hashing_time = registered(
        &registry,
        Histogram::with_opts(timing(
            "password_hashing_seconds",
            "Time a password hash or check ran on its hashing thread",
        )),
    );
    Collectors {
        requests: counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status",
            &["method", "route", "status"],
        ),
        latency: histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            &["method", "route"],
        ),
        hashing_in_use,
        hashing_time,
        hashing_wait: histogram(
            "password_hashing_queue_wait_seconds",
            "Time a password hash waited for a permit, by lane",
            &["lane"],
        ),
        hashing_refused: counter(
            "password_hashing_saturated_total",
            "Hashes refused (503) after waiting too long for a permit, by lane",
            &["lane"],
        ),
        refusals: counter(
            "throttle_refusals_total",
            "Requests refused with 429 by a rate limit, by limit",
            &["limit"],
        ),
        login_failures: counter(
            "login_failures_total",
            "Failed logins, by reason (locked = refused by a lockout)",
            &["reason"],
        ),
        db_pool: gauges(
            "db_pool_connections",
            "Database pool connections, by state (idle, in_use, max)",
            &["state"],
        ),
        db_acquire,
        mail: gauges(
            "mail_queue",
            "Outgoing mail: queued by lane, and dropped or failed since start",
            &["state"],
        ),
        registry,
    }
});

/// A request answered.
pub fn request(method: &str, route: &str, status: u16, took: Duration) {
    let m = &*METRICS;
    m.requests
        .with_label_values(&[method, route, &status.to_string()])
        .inc();
    m.latency
        .with_label_values(&[method, route])
        .observe(took.as_secs_f64());
}

/// A password hash got its permit after `waited`; returns a guard counting it as
/// running until dropped.
pub fn hashing_started(lane: &str, waited: Duration) -> HashingGuard {
    METRICS
        .hashing_wait
        .with_label_values(&[lane])
        .observe(waited.as_secs_f64());
    METRICS.hashing_in_use.inc();
    HashingGuard {
        since: std::time::Instant::now(),
    }
}

/// A password hash that waited too long for a permit.
pub fn hashing_saturated(lane: &str) {
    METRICS.hashing_refused.with_label_values(&[lane]).inc();
}

/// Counts a running hash in `password_hashing_permits_in_use` while alive, and its
/// time in `password_hashing_seconds` when dropped (after the hash, on its thread).
#[must_use]
pub struct HashingGuard {
    since: std::time::Instant,
}

impl Drop for HashingGuard {
    fn drop(&mut self) {
        METRICS.hashing_in_use.dec();
        METRICS
            .hashing_time
            .observe(self.since.elapsed().as_secs_f64());
    }
}

/// A request refused by the rate limit `limit`.
pub fn throttled(limit: &str) {
    METRICS.refusals.with_label_values(&[limit]).inc();
}

/// A failed login, and why.
pub fn login_failed(reason: &str) {
    METRICS.login_failures.with_label_values(&[reason]).inc();
}

/// The pool as a scrape found it: connections idle, in use and allowed, and how long
/// getting one took (`None`: it could not be had).
pub fn db_pool(idle: u64, in_use: u64, max: u64, acquire: Option<Duration>) {
    for (state, n) in [("idle", idle), ("in_use", in_use), ("max", max)] {
        METRICS
            .db_pool
            .with_label_values(&[state])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    if let Some(took) = acquire {
        METRICS.db_acquire.observe(took.as_secs_f64());
    }
}

/// The mail queues as a scrape found them.
pub fn mail(states: &[(&str, u64)]) {
    for (state, n) in states {
        METRICS
            .mail
            .with_label_values(&[state])
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
}

/// Everything, in the Prometheus text format.
pub fn render() -> String {
    let mut out = Vec::new();
    let families = METRICS.registry.gather();
    if TextEncoder::new().encode(&families, &mut out).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}
