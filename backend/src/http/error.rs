//! One error type for every handler, one mapping to HTTP, one JSON envelope:
//! `{"error":{"code":"...","message":"...","fields":{...}}}`. A 500 body says nothing
//! about its cause; the log holds the cause chain.
//!
//! The policy: domain code returns its own errors ([`AccountError`], [`AuthError`],
//! [`RecoveryError`], [`HashError`], `DbErr`), which say what went wrong in its terms;
//! only here do they become statuses and messages. A refusal the client can act on
//! keeps its sentence; anything else is a 500 (or a 503 when retrying helps).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use sea_orm::DbErr;
use shared::{ErrorBody, ErrorResponse, FieldErrors};

use crate::accounts::AccountError;
use crate::auth::AuthError;
use crate::auth::mfa::MfaError;
use crate::auth::passkeys::PasskeyError;
use crate::auth::password::HashError;
use crate::avatars::{AvatarError, PictureError};
use crate::db;
use crate::recovery::RecoveryError;

/// What a JSON route answers a body of another type.
pub const SEND_JSON: &str = "Send the body as JSON with Content-Type: application/json.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A failed login. One variant for unknown user, wrong password, locked or
    /// disabled account, so they cannot be told apart.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Refused by a policy whose message is built at run time (sign-up rules).
    #[error("refused: {0}")]
    Refused(String),
    /// A Host this server does not answer for (PUBLIC_URL, or loopback names).
    #[error("misdirected request")]
    Misdirected,
    #[error("not found")]
    NotFound,
    /// Values that must be unique and are already taken by another account.
    #[error("duplicate: {0:?}")]
    Duplicate(Vec<&'static str>),
    /// A state rule such as "keep one admin".
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A body over a limit; the message says which.
    #[error("payload too large: {0}")]
    PayloadTooLarge(&'static str),
    /// Per-IP throttling; the client may retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// A body of a type the route does not take; the message says which it takes.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// An `If-Match` that no longer matches: the resource changed since it was read.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A wrong second-factor code (the login's `mfa_token` may be tried again).
    #[error("wrong second-factor code")]
    WrongCode,
    /// The second login step's `mfa_token` is unknown, expired, spent or out of
    /// attempts: log in again.
    #[error("second-factor sign-in expired")]
    MfaChallengeGone,
    /// The account must set up a second factor (`MFA_REQUIRED`) first.
    #[error("second factor required")]
    MfaEnrolmentRequired,
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// Answers `req` with this error from a middleware, as a normal response: one
    /// returned as `Err` would skip the outer middleware (security headers, CORS).
    pub fn respond<B>(self, req: ServiceRequest) -> ServiceResponse<EitherBody<B>> {
        req.into_response(self.error_response())
            .map_into_right_body()
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::from([(field.to_owned(), message.into())]))
    }

    /// This error as one part of a larger answer (an account's outcome in a bulk
    /// action): logged as a response would be, told by its envelope.
    pub fn into_body(self) -> ErrorBody {
        self.log();
        self.body()
    }

    /// The causes of failures on our side go to the log, never to the client.
    fn log(&self) {
        match self {
            // The cause chain on one line, never a stack trace: resolving one costs
            // milliseconds and tens of MiB of symbol tables.
            ApiError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "request failed")
            }
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            _ => {}
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) | ApiError::Refused(_) => "forbidden",
            ApiError::Misdirected => "misdirected_request",
            ApiError::NotFound => "not_found",
            ApiError::Duplicate(_) | ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unprocessable(_) => "unprocessable_entity",
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::WrongCode => "invalid_code",
            ApiError::MfaChallengeGone => "mfa_token_invalid",
            ApiError::MfaEnrolmentRequired => "mfa_enrolment_required",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn body(&self) -> ErrorBody {
        let (message, fields) = match self {
            ApiError::Validation(fields) => {
                ("Some fields are invalid.".to_owned(), Some(fields.clone()))
            }
            ApiError::BadRequest(message) | ApiError::Unprocessable(message) => {
                (message.clone(), None)
            }
            ApiError::InvalidCredentials => ("Invalid username or password.".to_owned(), None),
            ApiError::Unauthorized => ("Authentication required.".to_owned(), None),
            ApiError::Forbidden(why) => ((*why).to_owned(), None),
            ApiError::Refused(why) => (why.clone(), None),
            ApiError::Misdirected => (
                "This server does not answer for that host name.".to_owned(),
                None,
            ),
            ApiError::NotFound => ("Not found.".to_owned(), None),
            ApiError::Duplicate(fields) => (
                format!("Already in use: {}.", fields.join(", ")),
                Some(
                    fields
                        .iter()
                        .map(|f| ((*f).to_owned(), "is already in use".to_owned()))
                        .collect(),
                ),
            ),
            ApiError::Conflict(message) => ((*message).to_owned(), None),
            ApiError::PayloadTooLarge(message) | ApiError::UnsupportedMediaType(message) => {
                ((*message).to_owned(), None)
            }
            ApiError::TooManyRequests(seconds) => (
                format!("Too many requests; try again in {seconds} seconds."),
                None,
            ),
            ApiError::PreconditionFailed => (
                "The account changed since you loaded it: reload it and make your change again."
                    .to_owned(),
                None,
            ),
            ApiError::WrongCode => (
                "The code is wrong, or was used already: wait for the next one.".to_owned(),
                None,
            ),
            ApiError::MfaChallengeGone => (
                "This sign-in has expired or used all its attempts: log in again.".to_owned(),
                None,
            ),
            ApiError::MfaEnrolmentRequired => (
                "Set up two-factor sign-in before anything else.".to_owned(),
                None,
            ),
            ApiError::Unavailable(_) => (
                "The service is temporarily unavailable; try again shortly.".to_owned(),
                None,
            ),
            ApiError::Internal(_) => ("Something went wrong on our side.".to_owned(), None),
        };
        ErrorBody {
            code: self.code().to_owned(),
            message,
            fields,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidCredentials
            | ApiError::Unauthorized
            | ApiError::WrongCode
            | ApiError::MfaChallengeGone => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Refused(_) | ApiError::MfaEnrolmentRequired => {
                StatusCode::FORBIDDEN
            }
            ApiError::Misdirected => StatusCode::MISDIRECTED_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Duplicate(_) | ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::Unauthorized = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let ApiError::Unavailable(_) = self {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        if let ApiError::TooManyRequests(seconds) = self {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(ErrorResponse { error: self.body() })
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if let Some(field) = db::duplicate_column(&err) {
            return ApiError::Duplicate(vec![field]);
        }
        if db::is_unavailable(&err) {
            return ApiError::Unavailable(err.into());
        }
        ApiError::Internal(anyhow::Error::new(err).context("database query failed"))
    }
}

impl From<AvatarError> for ApiError {
    fn from(err: AvatarError) -> Self {
        match err {
            AvatarError::NotFound => ApiError::NotFound,
            AvatarError::Picture(PictureError::Unsupported) => {
                ApiError::UnsupportedMediaType("The file is not a JPEG, PNG, WebP or GIF image.")
            }
            AvatarError::Picture(PictureError::Damaged) => ApiError::BadRequest(
                "The image is damaged or incomplete; try saving it again.".to_owned(),
            ),
            AvatarError::Picture(PictureError::TooLarge) => ApiError::PayloadTooLarge(
                "The image has too many pixels: at most 8192 a side and about 16 megapixels.",
            ),
            AvatarError::Picture(err @ PictureError::Encode(_)) => {
                ApiError::Internal(anyhow::Error::new(err))
            }
            AvatarError::Database(err) => err.into(),
            AvatarError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Saturated => ApiError::Unavailable(err.into()),
            HashError::Failed(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::NotFound => ApiError::NotFound,
            AccountError::Duplicate(fields) => ApiError::Duplicate(fields),
            AccountError::Conflict(why) => ApiError::Conflict(why),
            AccountError::NotAllowed(why) => ApiError::Forbidden(why),
            AccountError::Refused(why) => ApiError::Refused(why),
            AccountError::Invalid(fields) => ApiError::Validation(fields),
            AccountError::WrongCode => {
                ApiError::field("code", "is wrong or has expired; ask for a new one")
            }
            AccountError::Changed => ApiError::PreconditionFailed,
            AccountError::Hashing(err) => err.into(),
            AccountError::Database(err) => err.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Invalid(fields) => ApiError::Validation(fields),
            AuthError::InvalidCredentials => ApiError::InvalidCredentials,
            AuthError::WrongCurrentPassword => ApiError::field("current_password", "is incorrect"),
            AuthError::CurrentPasswordLocked => ApiError::field(
                "current_password",
                "cannot be checked now: too many wrong passwords; try again later",
            ),
            AuthError::TooManyLogins(seconds) => ApiError::TooManyRequests(seconds),
            AuthError::Mfa(err) => err.into(),
            AuthError::Passkey(err) => err.into(),
            AuthError::Account(err) => err.into(),
            AuthError::Hashing(err) => err.into(),
            AuthError::Database(err) => err.into(),
            AuthError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<MfaError> for ApiError {
    fn from(err: MfaError) -> Self {
        match err {
            MfaError::AlreadyOn => {
                ApiError::Conflict("Two-factor sign-in with an app is already on.")
            }
            MfaError::NotSetUp => ApiError::Conflict(
                "There is nothing to confirm or turn off: set up two-factor sign-in first.",
            ),
            // At enrolment and when turning it off; the login step answers 401.
            MfaError::WrongCode => ApiError::field("code", "is wrong, or was used already"),
            MfaError::ChallengeGone => ApiError::MfaChallengeGone,
            MfaError::Database(err) => err.into(),
        }
    }
}

impl From<PasskeyError> for ApiError {
    fn from(err: PasskeyError) -> Self {
        match err {
            PasskeyError::Unavailable => ApiError::Conflict(
                "Passkeys are not available on this server: its PUBLIC_URL must name a host.",
            ),
            PasskeyError::Malformed => {
                ApiError::field("credential", "is not a WebAuthn credential")
            }
            PasskeyError::Rejected => ApiError::field(
                "credential",
                "was not accepted: start again (it may have expired)",
            ),
            PasskeyError::AlreadyRegistered => {
                ApiError::Conflict("This passkey is registered already.")
            }
            PasskeyError::NotFound => ApiError::NotFound,
            PasskeyError::Database(err) => err.into(),
        }
    }
}

impl From<RecoveryError> for ApiError {
    fn from(err: RecoveryError) -> Self {
        match err {
            RecoveryError::Invalid => ApiError::BadRequest(
                "The code or link is invalid or has expired; request a new code.".into(),
            ),
            RecoveryError::WrongAnswer => ApiError::field("security_answer", "is incorrect"),
            RecoveryError::Account(err) => err.into(),
            RecoveryError::Hashing(err) => err.into(),
            RecoveryError::Database(err) => err.into(),
        }
    }
}

/// Maps the framework's extractor errors (bad JSON, wrong content type, oversized
/// body, bad query or path) onto the envelope.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            ApiError::PayloadTooLarge("The request body is too large.")
        }
        E::ContentType => ApiError::UnsupportedMediaType(SEND_JSON),
        E::Deserialize(e) if e.is_data() => {
            // serde names the expected type; its "at line 1 column 9" suffix is noise.
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            ApiError::Unprocessable(format!(
                "The JSON body does not have the expected shape: {message}."
            ))
        }
        E::Deserialize(_) => ApiError::BadRequest("The body is not valid JSON.".to_owned()),
        _ => ApiError::BadRequest("The request body could not be read.".to_owned()),
    };
    api.into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("Invalid query string: {err}")).into()
}

pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

/// Error responses that did not come from [`ApiError`] (unknown route, wrong method,
/// middleware rejections) get the same envelope.
pub fn envelope_other_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "Not found."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed."),
        s if s.is_server_error() => ("internal_error", "Something went wrong on our side."),
        _ => ("bad_request", "The request could not be processed."),
    };
    let body = serde_json::to_string(&ErrorResponse {
        error: ErrorBody {
            code: code.to_owned(),
            message: message.to_owned(),
            fields: None,
        },
    })
    .map_err(actix_web::error::ErrorInternalServerError)?;
    let (req, mut response) = res.into_parts();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = response.set_body(body);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response)
            .map_into_boxed_body()
            .map_into_right_body(),
    ))
}
