//! Builds the application from [`Settings`]: database, migrations, listener, routes.

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::ErrorHandlers;
use actix_web::{App, HttpServer, http, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::auth::cookie::SessionCookie;
use crate::auth::origin::AllowedOrigins;
use crate::auth::password::Passwords;
use crate::auth::session::{self, Lifetimes};
use crate::auth::token::Tokens;
use crate::config::{Settings, secret_bytes};
use crate::mail::{Mailer, Transport};
use crate::recovery::Recovery;
use crate::security_headers::SecurityHeaders;
use crate::state::AppState;
use crate::throttle::Throttles;
use crate::{database, error, routes};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects, migrates and binds `settings.bind_addr` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = database::connect(&settings).await?;
        database::migrate(&db).await?;
        let listener = TcpListener::bind(settings.bind_addr)
            .with_context(|| format!("could not listen on {} (BIND_ADDR)", settings.bind_addr))?;
        let port = listener.local_addr()?.port();

        let transport = Transport::from_settings(
            settings.smtp_url.as_ref(),
            settings.smtp_timeout,
            settings.data_dir.join("outbox"),
        )?;
        if let Transport::Outbox(dir) = &transport {
            tracing::info!(
                outbox = %dir.display(),
                "SMTP_URL is not set: mail is written to the outbox folder instead of sent"
            );
        }
        let state = web::Data::new(AppState {
            mailer: Mailer::start(transport, settings.mail_from.clone()),
            recovery: Recovery::new(
                secret_bytes(&settings.jwt_secret),
                settings.otp_ttl,
                settings.app_name.clone(),
            ),
            db: db.clone(),
            passwords: Passwords::for_this_machine(),
            tokens: Tokens::new(secret_bytes(&settings.jwt_secret)),
            lifetimes: Lifetimes {
                ttl: chrono::Duration::from_std(settings.session_ttl)?,
                absolute: chrono::Duration::from_std(settings.session_absolute_ttl)?,
            },
            cookie: SessionCookie::new(settings.cookie_secure),
            origins: AllowedOrigins::new(settings.allowed_origins.clone()),
            lockout: settings.lockout,
            proxies: settings.trusted_proxies.clone(),
            throttles: Throttles::new(settings.rate_limit),
        });
        let json_limit = settings.json_limit;
        let static_dir = settings.static_dir.clone();
        if routes::spa::is_built(&static_dir) {
            tracing::info!(dir = %static_dir.display(), "serving the browser app");
        } else {
            tracing::warn!(
                dir = %static_dir.display(),
                "the browser app is not built (run `cargo xtask run`); serving the API only"
            );
        }
        let headers = SecurityHeaders::new(&static_dir, settings.cookie_secure);
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(json_limit)
                        .error_handler(error::json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .wrap(cors(app_state.origins.extra()))
                .wrap(headers.middleware())
                .wrap(ErrorHandlers::new().default_handler(error::envelope_other_errors))
                .wrap(TracingLogger::default())
                .configure(routes::configure)
                .configure(routes::spa::configure(&static_dir))
        })
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server stops (Ctrl-C / SIGTERM in production), meanwhile
    /// purging expired sessions and forgetting idle throttling buckets.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state;
        let maintenance = tokio::spawn(async move {
            let mut every = tokio::time::interval(MAINTENANCE_EVERY);
            loop {
                every.tick().await;
                state.throttles.forget_idle();
                match session::purge_expired(&state.db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "expired sessions removed"),
                    Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
                }
            }
        });
        let result = self.server.await;
        maintenance.abort();
        result
    }
}

/// How often expired sessions and idle throttling buckets are cleared.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Cross-origin access for the configured origins only, with credentials. Requests
/// from other origins are not blocked here: they get no CORS headers, and the origin
/// check answers state changes with a JSON 403.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .supports_credentials()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([http::header::CONTENT_TYPE, http::header::AUTHORIZATION])
        .block_on_origin_mismatch(false)
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
