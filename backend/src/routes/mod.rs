//! Every HTTP route, composed from one `configure` per area.

pub mod audit;
pub mod auth;
pub mod docs;
pub mod health;
pub mod password;
pub mod spa;
pub mod users;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::origin::refuse_foreign_origins;
use crate::auth::renew_session_cookie;

/// The API, docs and probes; the browser app is added by [`spa::configure`] last so
/// that it only answers what nothing else does.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(docs::configure)
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(renew_session_cookie))
                .wrap(from_fn(refuse_foreign_origins))
                .route("/openapi.json", web::get().to(docs::openapi_json))
                .configure(auth::configure)
                .configure(password::configure)
                .configure(users::configure)
                .configure(audit::configure),
        );
}
