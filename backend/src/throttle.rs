//! Per-client-IP throttling of the endpoints that guess secrets or send mail (login,
//! token, signup, password recovery, the strength meter): a token bucket per address,
//! in memory. Over the limit, the answer is 429 with `Retry-After`.
//!
//! Buckets are per instance; the per-account lockout, which must hold across
//! instances, lives in the database (`auth::lockout`).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, Responder, Route, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimit;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Clone)]
pub struct Throttle {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Throttle {
    pub fn new(limit: RateLimit) -> Self {
        let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            )),
        }
    }

    /// Takes one request from `ip`'s bucket, or says how many seconds until it may.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Drops buckets that are full again, so memory follows the active clients.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Which bucket a route draws from.
#[derive(Debug, Clone, Copy)]
pub enum Bucket {
    /// Login, token, signup and recovery.
    Credentials,
    /// The password-strength meter, asked while typing: a roomier bucket.
    Strength,
}

/// A POST route to `handler` that draws from `bucket` first.
pub fn post<F, Args>(bucket: Bucket, handler: F) -> Route
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::post()
        .to(handler)
        .wrap(from_fn(move |req, next| limit(bucket, req, next)))
}

async fn limit(
    bucket: Bucket,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        let peer = req.peer_addr().map(|a| a.ip());
        let throttle = match bucket {
            Bucket::Credentials => &state.throttles.credentials,
            Bucket::Strength => &state.throttles.strength,
        };
        if let Some(ip) = state.proxies.client_ip(peer, req.headers())
            && let Err(seconds) = throttle.check(ip)
        {
            tracing::warn!(%ip, ?bucket, "rate limited");
            return Err(ApiError::TooManyRequests(seconds).into());
        }
    }
    next.call(req).await
}

/// The buckets of one application.
#[derive(Clone)]
pub struct Throttles {
    pub credentials: Throttle,
    pub strength: Throttle,
}

impl Throttles {
    /// The strength meter gets four times the credentials' allowance.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            credentials: Throttle::new(limit),
            strength: Throttle::new(RateLimit {
                per_minute: limit.per_minute.saturating_mul(4),
                burst: limit.burst.saturating_mul(4),
            }),
        }
    }

    pub fn forget_idle(&self) {
        self.credentials.forget_idle();
        self.strength.forget_idle();
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
}
