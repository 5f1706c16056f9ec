//! The OpenAPI 3.1 document, generated from the handlers' annotations. The committed
//! copy in `openapi/openapi.json` is `backend openapi`'s output; a test fails when
//! they differ.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::http::{routes, scopes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "User Management API",
        description = "Accounts, sessions and roles. Browsers authenticate with the HttpOnly \
            session cookie set by `POST /api/v1/auth/login`; other clients send \
            `Authorization: Bearer <token>` from `POST /api/v1/auth/token`, or an API key \
            (`Authorization: Bearer umk_...`, made by an admin at `POST /api/v1/api-keys`), which \
            may call only the routes of its scopes. Cookie-authenticated \
            POST/PUT/DELETE requests must send an allowed `Origin` and `Content-Type: application/json`. \
            Every error has the body `{\"error\": {\"code\", \"message\", \"fields\"?}}`.",
        license(name = "MIT"),
    ),
    paths(
        routes::auth::signup,
        routes::auth::login,
        routes::auth::logout,
        routes::auth::token,
        routes::auth::me,
        routes::auth::session_state,
        routes::auth::update_me,
        routes::auth::change_password,
        routes::auth::password_strength,
        routes::auth::signup_options,
        routes::auth::verify_email,
        routes::auth::resend_email_code,
        routes::mfa::verify,
        routes::mfa::totp_setup,
        routes::mfa::totp_confirm,
        routes::mfa::totp_disable,
        routes::mfa::renew_recovery_codes,
        routes::mfa::reset_user_mfa,
        routes::passkeys::register_start,
        routes::passkeys::register_finish,
        routes::passkeys::list,
        routes::passkeys::remove,
        routes::passkeys::login_start,
        routes::passkeys::login_finish,
        routes::sessions::list_sessions,
        routes::sessions::revoke_session,
        routes::sessions::revoke_other_sessions,
        routes::recovery::forgot,
        routes::recovery::verify_otp,
        routes::recovery::answer,
        routes::recovery::reset,
        routes::users::list_users,
        routes::users::create_user,
        routes::users::get_user,
        routes::users::update_user,
        routes::users::delete_user,
        routes::users::disable_user,
        routes::users::enable_user,
        routes::users::unlock_user,
        routes::users::lockout_state,
        routes::export::export_users,
        routes::bulk::bulk_action,
        routes::import::import_users,
        routes::avatars::upload_avatar,
        routes::avatars::avatar,
        routes::avatars::remove_avatar,
        routes::sessions::revoke_user_sessions,
        routes::invitations::create_invitation,
        routes::invitations::list_invitations,
        routes::invitations::revoke_invitation,
        routes::api_keys::create_api_key,
        routes::api_keys::list_api_keys,
        routes::api_keys::revoke_api_key,
        routes::webhooks::create_webhook,
        routes::webhooks::list_webhooks,
        routes::webhooks::delete_webhook,
        routes::webhooks::list_deliveries,
        routes::webhooks::resend_delivery,
        routes::audit::list_events,
        routes::health::health,
        routes::health::ready,
        routes::health::metrics,
    ),
    components(schemas(shared::ErrorResponse, shared::AuditAction)),
    tags(
        (name = "auth", description = "Signup, login, tokens and your own account"),
        (name = "password", description = "Password recovery: emailed code, security question, new password"),
        (name = "users", description = "Account management"),
        (name = "audit", description = "The audit trail (admins)"),
        (name = "integrations", description = "API keys and webhooks for third-party systems (admins)"),
        (name = "health", description = "Liveness and readiness probes"),
    ),
    modifiers(&SecuritySchemes, &KeyScopes, &CommonErrors),
)]
pub struct ApiDoc;

/// The document as generated, then made plain for client generators (see
/// `http/client_schemas.rs`).
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    super::client_schemas::rewrite(&mut doc);
    serde_json::from_value(doc).expect("the rewritten document is still OpenAPI")
}

pub fn to_json() -> String {
    spec()
        .to_pretty_json()
        .expect("the OpenAPI document always serialises")
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "session",
                "Session cookie set by POST /api/v1/auth/login (named __Host-session when served over HTTPS)",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Token from POST /api/v1/auth/token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("umk_")
                    .description(Some(
                        "An API key from POST /api/v1/api-keys; each operation lists the scope it needs",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "METRICS_TOKEN, for scrapers not on the server's machine",
                    ))
                    .build(),
            ),
        );
    }
}

/// Names, on each operation open to API keys, the scope it needs (from the one table
/// in `http::scopes`), and the 403 a key without it gets.
struct KeyScopes;

impl Modify for KeyScopes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (method, template, scope) in scopes::routes() {
            let Some(item) = openapi.paths.paths.get_mut(template) else {
                continue;
            };
            let operation = match method {
                "GET" => item.get.as_mut(),
                "PUT" => item.put.as_mut(),
                "POST" => item.post.as_mut(),
                "DELETE" => item.delete.as_mut(),
                _ => None,
            };
            if let Some(operation) = operation {
                operation
                    .security
                    .get_or_insert_with(Vec::new)
                    .push(SecurityRequirement::new("api_key", [scope.as_str()]));
                operation
                    .responses
                    .responses
                    .entry("403".to_owned())
                    .or_insert_with(|| {
                        RefOr::T(error_response("An API key without the scope this needs"))
                    });
            }
        }
    }
}

/// Adds the error statuses that whole classes of operations share, so each handler
/// lists only its own: body errors for every JSON body, 401/403/415 for every
/// authenticated operation, 500/503 wherever the database is used, 429 where the
/// per-IP throttle applies.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use actix_web::http::Method;
        let throttled_routes = routes::throttled_routes();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let uses_database = path != "/health";
            let operations = [
                (&mut item.get, Method::GET),
                (&mut item.put, Method::PUT),
                (&mut item.post, Method::POST),
                (&mut item.delete, Method::DELETE),
            ];
            for (operation, method) in operations {
                let changes_state = method != Method::GET;
                let throttled = throttled_routes.contains(&(method, path.clone()));
                if let Some(operation) = operation.as_mut() {
                    add_common_errors(operation, changes_state, uses_database);
                    if throttled {
                        operation.responses.responses.insert(
                            "429".to_owned(),
                            RefOr::T(error_response(
                                "Too many requests from this address; retry after `Retry-After` seconds",
                            )),
                        );
                    }
                }
            }
        }
    }
}

fn add_common_errors(op: &mut Operation, changes_state: bool, uses_database: bool) {
    let requirements = op.security.as_deref().unwrap_or_default();
    let authenticated = !requirements.is_empty();
    // An empty requirement (`security(())`) makes authentication optional: no 401.
    let optional = requirements.iter().any(|r| {
        serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
    });
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(description)));
    };
    if json_body {
        add("400", "Malformed JSON or invalid fields");
        add("413", "The request body is too large");
        add("415", "The body is not `application/json`");
        add("422", "The JSON does not have the expected shape");
    }
    if authenticated {
        if !optional {
            add("401", "Not logged in, or the session ended or expired");
        }
        if changes_state {
            add(
                "403",
                "Cross-site request refused (cookie requests need an allowed Origin)",
            );
            add(
                "415",
                "Cookie-authenticated changes must be sent as `application/json`",
            );
        }
    } else if changes_state {
        add(
            "403",
            "Cross-site request refused (an Origin that is not allowed)",
        );
    }
    if uses_database {
        add("500", "Unexpected server error (details are only logged)");
        add("503", "The database is unavailable; retry shortly");
    }
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorResponse")))
                .build(),
        )
        .build()
}
