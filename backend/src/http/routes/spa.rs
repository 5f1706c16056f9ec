//! The browser app: files from `STATIC_DIR` at `/`, and `index.html` for every other
//! path outside the API, so deep links (`/users/7/edit`) load the app, which routes
//! them itself.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::web;

/// Registers the app if `dir` holds a build; the API works either way.
pub fn configure(dir: &Path) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let index = dir.join("index.html");
    let dir = dir.to_path_buf();
    move |cfg| {
        if !index.is_file() {
            return;
        }
        cfg.service(
            Files::new("/", &dir)
                .index_file("index.html")
                .prefer_utf8(true)
                .default_handler(fn_service(move |req: ServiceRequest| {
                    let index = index.clone();
                    async move { serve_index(req, index).await }
                })),
        );
    }
}

/// Whether `dir` holds a build of the app.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

async fn serve_index(req: ServiceRequest, index: PathBuf) -> actix_web::Result<ServiceResponse> {
    let (req, _) = req.into_parts();
    let mut res = NamedFile::open_async(index).await?.into_response(&req);
    // The page names hashed bundles; it must never be cached, they can be.
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(ServiceResponse::new(req, res))
}
