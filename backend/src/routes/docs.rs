//! The OpenAPI document at `/api/v1/openapi.json` and Swagger UI at `/docs`.

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::openapi;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        }),
    )
    .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/api/v1/openapi.json")));
}

pub async fn openapi_json() -> HttpResponse {
    static SPEC: OnceLock<String> = OnceLock::new();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(SPEC.get_or_init(openapi::to_json).clone())
}
