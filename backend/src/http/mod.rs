//! The HTTP layer: the only code that knows actix-web or [`error::ApiError`]. Routes
//! parse requests into domain types, call the domain, and turn its answers and errors
//! into responses; middleware and extractors do what every route shares.

pub mod client_ip;
mod client_schemas;
pub mod cookie;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod openapi;
pub mod origins;
pub mod routes;
pub mod scopes;
pub mod security_headers;
pub mod state;
pub mod throttle;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::middleware::{Compress, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, http, web};
use tracing_actix_web::TracingLogger;

use self::security_headers::SecurityHeaders;
use self::state::AppState;

/// A running server; awaiting it serves until it stops (Ctrl-C, SIGTERM).
pub type Server = actix_web::dev::Server;

/// What the server is built from besides the shared state.
pub struct ServerOptions<'a> {
    /// The built browser app, served at `/` when present.
    pub static_dir: &'a Path,
    /// Largest accepted JSON body.
    pub json_limit: usize,
    /// Served over HTTPS: HSTS on.
    pub https: bool,
}

/// Serves the API, the docs, the probes and the browser app on `listener`.
pub fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    options: ServerOptions<'_>,
) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let static_dir = options.static_dir.to_path_buf();
    if routes::spa::is_built(&static_dir) {
        tracing::info!(dir = %static_dir.display(), "serving the browser app");
    } else {
        tracing::warn!(
            dir = %static_dir.display(),
            "the browser app is not built (run `cargo xtask run`); serving the API only"
        );
    }
    let headers = SecurityHeaders::new(&static_dir, options.https);
    let json_limit = options.json_limit;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(json_limit)
                    .error_handler(error::json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            // Brotli or gzip, as the client accepts: JSON and anything the build did
            // not precompress (those copies already say how they are encoded).
            .wrap(Compress::default())
            .wrap(from_fn(middleware::check_host))
            .wrap(cors(state.origins.extra()))
            .wrap(headers.middleware())
            .wrap(ErrorHandlers::new().default_handler(error::envelope_other_errors))
            .wrap(TracingLogger::default())
            .wrap(from_fn(middleware::record_metrics))
            .configure(configure)
            .configure(routes::spa::configure(&static_dir))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// The API, docs and probes; the browser app is added by [`routes::spa::configure`]
/// last so that it only answers what nothing else does.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(routes::health::configure)
        .configure(routes::docs::configure)
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(middleware::renew_session_cookie))
                .wrap(from_fn(middleware::refuse_foreign_origins))
                .route("/openapi.json", web::get().to(routes::docs::openapi_json))
                // Before `/auth` and `/users`: a scope that matches a prefix answers
                // everything under it.
                .configure(routes::sessions::configure)
                .configure(routes::auth::configure)
                .configure(routes::recovery::configure)
                .configure(routes::invitations::configure)
                .configure(routes::users::configure)
                .configure(routes::api_keys::configure)
                .configure(routes::webhooks::configure)
                .configure(routes::audit::configure),
        );
}

/// Cross-origin access for the configured origins only, with credentials. Requests
/// from other origins are not blocked here: they get no CORS headers, and the origin
/// check answers state changes with a JSON 403.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .supports_credentials()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([
            http::header::CONTENT_TYPE,
            http::header::AUTHORIZATION,
            http::header::IF_MATCH,
            http::header::HeaderName::from_static(idempotency::HEADER),
        ])
        .expose_headers([http::header::ETAG])
        .block_on_origin_mismatch(false)
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
