//! Request middleware: refusing foreign origins, throttling the routes that guess
//! secrets or send mail, and sending renewed session cookies.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, HttpMessage, Responder, Route, web};

use crate::http::cookie::RenewedCookie;
use crate::http::error::ApiError;
use crate::http::origins::origin_header;
use crate::http::state::AppState;
use crate::http::throttle::{Bucket, bucket_key};

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

/// A POST route behind the per-IP throttle. Each route module lists its own, and
/// both the registration and the OpenAPI document's 429 responses read that list.
pub struct Throttled {
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
        let route = web::post()
            .to(handler)
            .wrap(from_fn(move |req, next| limit(bucket, req, next)));
        Self {
            path,
            bucket,
            route,
        }
    }
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
    if let Err(seconds) = state.throttles.admit(bucket, ip) {
        tracing::warn!(%ip, ?bucket, "rate limited");
        return Ok(ApiError::TooManyRequests(seconds).respond(req));
    }
    let res = next.call(req).await?;
    state
        .throttles
        .answered(bucket, ip, res.status().is_client_error());
    Ok(res.map_into_left_body())
}
