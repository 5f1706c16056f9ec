//! The OpenAPI document at `/api/v1/openapi.json` and Swagger UI at `/docs`.

use std::sync::OnceLock;

use actix_web::http::header::CONTENT_SECURITY_POLICY;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::openapi;
use crate::http::security_headers::docs_policy;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        }),
    )
    .service(
        // The one place that needs inline styles (see `security_headers::docs_policy`);
        // the app-wide middleware keeps a CSP that is already set.
        web::scope("/docs")
            .wrap(DefaultHeaders::new().add((CONTENT_SECURITY_POLICY, docs_policy())))
            .service(SwaggerUi::new("/{_:.*}").config(Config::from("/api/v1/openapi.json"))),
    );
}

pub async fn openapi_json() -> HttpResponse {
    static SPEC: OnceLock<String> = OnceLock::new();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(SPEC.get_or_init(openapi::to_json).clone())
}
