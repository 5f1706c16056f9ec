//! The HTTP side of `Idempotency-Key` (see `integrations::idempotency`): read the
//! header, claim the key, run the handler once, replay its answer to retries.
//!
//! Only successes are kept. A request that failed changed nothing, so a retry simply
//! runs again (and gets the same refusal, or succeeds if the cause went away).

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::extract::{CurrentUser, Via};
use crate::http::state::AppState;
use crate::integrations::idempotency::{Begun, Claim, MAX_KEY};

/// The request header (lower case, as `HeaderName` wants it).
pub const HEADER: &str = "idempotency-key";
/// Set on an answer replayed from a first request.
pub const REPLAYED: &str = "idempotent-replayed";

/// What a handler run under a key answers: a status and a JSON body.
pub type Answer = (StatusCode, serde_json::Value);

/// The key a request carries, if any; a malformed one is a 400.
fn key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(format!(
            "Idempotency-Key must be 1-{MAX_KEY} visible ASCII characters."
        )));
    }
    Ok(Some(key.to_owned()))
}

/// Whose keys these are: an API key has its own, apart from its admin's.
fn principal(current: &CurrentUser) -> String {
    match current.via {
        Via::ApiKey(id) => format!("key:{id}"),
        Via::Cookie | Via::Bearer => format!("user:{}", current.user.id),
    }
}

fn respond((status, body): Answer) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

/// Runs `work` for `route` once per `Idempotency-Key` of `current`: a retry with the
/// same key and `body` within 24 h gets the first answer again, another body a 422,
/// a retry while the first still runs a 409. Without the header, `work` just runs.
pub async fn once<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    current: &CurrentUser,
    route: &'static str,
    body: &impl Serialize,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Answer, ApiError>>,
{
    let Some(key) = key(req)? else {
        return work().await.map(respond);
    };
    let fingerprint = serde_json::to_vec(body).map_err(anyhow::Error::from)?;
    let claim = Claim {
        principal: principal(current),
        route,
        key,
        request_hash: state.idempotency.fingerprint(&fingerprint),
    };
    let store = &state.idempotency;
    match store.begin(&state.db, &claim).await? {
        Begun::New => {}
        Begun::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(HttpResponse::build(status)
                .insert_header((REPLAYED, "true"))
                .content_type(ContentType::json())
                .body(body));
        }
        Begun::Mismatch => {
            return Err(ApiError::Unprocessable(
                "This Idempotency-Key was already used with a different request body.".to_owned(),
            ));
        }
        Begun::InProgress => {
            return Err(ApiError::Conflict(
                "A request with this Idempotency-Key is still running; retry in a moment.",
            ));
        }
    }
    match work().await {
        Ok((status, body)) => {
            if let Err(err) = store
                .finish(&state.db, &claim, status.as_u16(), &body.to_string())
                .await
            {
                // The work is done and must be answered; a retry will run it again.
                tracing::warn!(error = %err, "could not keep an idempotent answer");
                let _ = store.abandon(&state.db, &claim).await;
            }
            Ok(respond((status, body)))
        }
        Err(err) => {
            if let Err(e) = store.abandon(&state.db, &claim).await {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
            Err(err)
        }
    }
}
