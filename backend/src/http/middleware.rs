//! Request middleware: refusing foreign origins, throttling the routes that guess
//! secrets or send mail, and sending renewed session cookies.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, HttpMessage, Responder, Route, web};

use crate::http::cookie::RenewedCookie;
use crate::http::error::ApiError;
use crate::http::origins::origin_header;
use crate::http::state::AppState;
use crate::http::throttle::{Bucket, bucket_key};

/// Refuses requests for a Host this server does not answer for (421): another name
/// pointed at this address (DNS rebinding) reaches nothing. The probes answer any
/// Host, as load balancers call them by address. Also warns, once, when a local proxy
/// seems to forward requests that `TRUSTED_PROXIES` does not cover.
pub async fn check_host<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let probe = matches!(req.path(), "/health" | "/ready" | "/metrics");
    let host = requested_host(&state, &req);
    if !probe && !state.hosts.allows(host.as_deref()) {
        tracing::warn!(
            host = host.as_deref().unwrap_or("(none)"),
            "request for another host refused"
        );
        return Ok(ApiError::Misdirected.respond(req));
    }
    warn_about_untrusted_proxy(&state, &req);
    Ok(next.call(req).await?.map_into_left_body())
}

/// The Host the client asked for: `X-Forwarded-Host` when a trusted proxy sent it
/// (proxies often rewrite `Host` to the upstream address), else `Host` (or the HTTP/2
/// authority). Anyone else's `X-Forwarded-Host` is ignored: a rebinding page may set
/// it freely.
fn requested_host(state: &AppState, req: &ServiceRequest) -> Option<String> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let peer = req.peer_addr().map(|a| a.ip());
    let from_proxy = peer.is_some_and(|ip| state.proxies.trusts(ip));
    from_proxy
        .then(|| header("x-forwarded-host"))
        .flatten()
        .or_else(|| header("host"))
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
}

/// A loopback peer sending `X-Forwarded-For` is a proxy on this machine; without
/// `TRUSTED_PROXIES` every client behind it shares one throttle bucket and one
/// recorded address.
fn warn_about_untrusted_proxy(state: &AppState, req: &ServiceRequest) {
    use std::sync::atomic::Ordering;
    let from_local_proxy = req.peer_addr().is_some_and(|a| a.ip().is_loopback())
        && req.headers().contains_key("x-forwarded-for");
    if from_local_proxy
        && state.proxies.is_empty()
        && !state.warned_about_proxy.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            "requests arrive through a proxy on this machine (X-Forwarded-For) but \
             TRUSTED_PROXIES is empty: every client shares one throttle bucket and one \
             address; set TRUSTED_PROXIES=127.0.0.1 (and PUBLIC_URL)"
        );
    }
}

/// Refuses any state-changing request that a browser marked as coming from a
/// foreign origin, authenticated or not (this also stops login CSRF).
pub async fn refuse_foreign_origins<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if !req.method().is_safe()
        && let Some(origin) = origin_header(req.headers())
        && let Some(state) = req.app_data::<web::Data<AppState>>()
        && !state.origins.allows(origin, req.headers())
    {
        return Ok(ApiError::Forbidden("Cross-site request refused.").respond(req));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Adds a renewed session cookie to successful responses, unless the handler set the
/// session cookie itself (login, logout, password change).
pub async fn renew_session_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let renewed = res.request().extensions_mut().remove::<RenewedCookie>();
    if let Some(RenewedCookie(cookie)) = renewed {
        let handler_set_it = res.response().cookies().any(|c| c.name() == cookie.name());
        if res.status().is_success() && !handler_set_it {
            res.response_mut().add_cookie(&cookie)?;
        }
    }
    Ok(res)
}

/// A route behind the per-IP throttle. Each route module lists its own, and both the
/// registration and the OpenAPI document's 429 responses read that list.
pub struct Throttled {
    pub method: Method,
    /// Within the module's scope, e.g. `/login`.
    pub path: &'static str,
    pub bucket: Bucket,
    pub route: Route,
}

impl Throttled {
    /// A POST route to `handler` that draws from `bucket` first.
    pub fn post<F, Args>(path: &'static str, bucket: Bucket, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::POST, path, bucket, handler)
    }

    /// A PUT route to `handler` that draws from `bucket` first.
    pub fn put<F, Args>(path: &'static str, bucket: Bucket, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::PUT, path, bucket, handler)
    }

    /// A DELETE route to `handler` that draws from `bucket` first.
    pub fn delete<F, Args>(path: &'static str, bucket: Bucket, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self::new(Method::DELETE, path, bucket, handler)
    }

    fn new<F, Args>(method: Method, path: &'static str, bucket: Bucket, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = web::method(method.clone())
            .to(handler)
            .wrap(from_fn(move |req, next| limit(bucket, req, next)));
        Self {
            method,
            path,
            bucket,
            route,
        }
    }
}

/// A scope at `path` holding `routes`, for the module to add its other routes to.
pub fn throttled_scope(path: &str, routes: Vec<Throttled>) -> actix_web::Scope {
    routes
        .into_iter()
        .fold(web::scope(path), |scope, t| scope.route(t.path, t.route))
}

async fn limit<B: MessageBody + 'static>(
    bucket: Bucket,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let peer = req.peer_addr().map(|a| a.ip());
    let Some(ip) = state.proxies.client_ip(peer, req.headers()).map(bucket_key) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if let Err(seconds) = state.throttles.admit(bucket, ip).await {
        tracing::warn!(%ip, ?bucket, "rate limited");
        return Ok(ApiError::TooManyRequests(seconds).respond(req));
    }
    let res = next.call(req).await?;
    state
        .throttles
        .answered(bucket, ip, res.status().is_success())
        .await;
    Ok(res.map_into_left_body())
}

/// Counts and times every request under its route template (`/api/v1/users/{id}`,
/// "other" for the browser app's files), so ids in paths never multiply the series.
pub async fn record_metrics<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = std::time::Instant::now();
    // Clients may send any method token: only the ones routes use become labels.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let res = next.call(req).await?;
    let route = res.request().match_pattern();
    crate::metrics::request(
        method,
        route.as_deref().unwrap_or("other"),
        res.status().as_u16(),
        started.elapsed(),
    );
    Ok(res)
}
