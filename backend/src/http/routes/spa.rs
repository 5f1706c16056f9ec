//! The browser app: files from `STATIC_DIR` at `/`, and `index.html` for every other
//! path outside the API, so deep links (`/users/7/edit`) load the app, which routes
//! them itself.
//!
//! The build (`cargo xtask`) writes a brotli and a gzip copy beside each bundle file;
//! a browser that accepts one gets it as it is, with no compression per request.
//! Bundle names carry a content hash, so they are cached for good; `index.html`,
//! which names them, is revalidated on every load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_files::{Files, NamedFile, file_extension_to_mime};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{
    AcceptEncoding, CACHE_CONTROL, ContentEncoding, Encoding, Header, HeaderValue, VARY,
};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{Next, from_fn};
use actix_web::mime::Mime;
use actix_web::{Error, HttpResponse, web};

/// How long a browser may keep a file whose name changes with its content.
const HASHED: &str = "public, max-age=31536000, immutable";
/// Everything else is asked about again (a cheap 304 while unchanged).
const REVALIDATE: &str = "no-cache";

/// Registers the app if `dir` holds a build; the API works either way.
pub fn configure(dir: &Path) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let index = dir.join("index.html");
    let dir = dir.to_path_buf();
    move |cfg| {
        if !index.is_file() {
            return;
        }
        let compressed = Arc::new(Precompressed::scan(&dir));
        let files = Files::new("/", &dir)
            .index_file("index.html")
            .prefer_utf8(true)
            .default_handler(fn_service(move |req: ServiceRequest| {
                let index = index.clone();
                async move { serve_index(req, index).await }
            }));
        cfg.service(
            web::scope("")
                .wrap(from_fn(move |req, next| {
                    serve_file(Arc::clone(&compressed), req, next)
                }))
                .service(files),
        );
    }
}

/// Whether `dir` holds a build of the app.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

/// What no file answers: the app's page, which routes the path itself. A bundle name
/// that is not there (a page from before a deployment asking for its old bundle) is a
/// 404, never the page in the bundle's place.
async fn serve_index(req: ServiceRequest, index: PathBuf) -> actix_web::Result<ServiceResponse> {
    let (req, _) = req.into_parts();
    let res = if is_hashed(req.path()) {
        HttpResponse::NotFound().finish()
    } else {
        NamedFile::open_async(index).await?.into_response(&req)
    };
    Ok(ServiceResponse::new(req, res))
}

/// A file of the build, sent precompressed when the browser accepts that, and marked
/// for caching by its name.
async fn serve_file(
    compressed: Arc<Precompressed>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let mut res = match compressed.variant(&req) {
        Some(copy) => {
            let file = NamedFile::open_async(copy.path).await?;
            let (http, _) = req.into_parts();
            let res = file
                .set_content_type(copy.mime)
                .set_content_encoding(copy.encoding)
                .into_response(&http);
            ServiceResponse::new(http, res)
        }
        None => next.call(req).await?.map_into_boxed_body(),
    };
    let path = res.request().path();
    let found = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let cache = if found && is_hashed(path) {
        HASHED
    } else {
        REVALIDATE
    };
    let varies = compressed.has(path);
    let headers = res.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if varies {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
    Ok(res)
}

/// The brotli and gzip copies the build wrote, by the path of the file they hold.
#[derive(Debug, Default)]
struct Precompressed(HashMap<String, Copies>);

#[derive(Debug)]
struct Copies {
    /// The type of the original, not of the compressed file.
    mime: Mime,
    brotli: Option<PathBuf>,
    gzip: Option<PathBuf>,
}

/// The copy chosen for a request.
struct Chosen {
    path: PathBuf,
    mime: Mime,
    encoding: ContentEncoding,
}

impl Precompressed {
    /// Looks once, at start: the build does not change under a running server.
    fn scan(dir: &Path) -> Self {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Self::default();
        };
        let mut found = HashMap::new();
        for path in entries.filter_map(|e| Some(e.ok()?.path())) {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let copy = |suffix: &str| {
                let copy = dir.join(format!("{name}.{suffix}"));
                copy.is_file().then_some(copy)
            };
            let (brotli, gzip) = (copy("br"), copy("gz"));
            if path.is_file() && (brotli.is_some() || gzip.is_some()) {
                let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                let mime = file_extension_to_mime(extension);
                found.insert(format!("/{name}"), Copies { mime, brotli, gzip });
            }
        }
        Self(found)
    }

    fn has(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }

    /// The copy to send for `req`, if one suits what it accepts.
    fn variant(&self, req: &ServiceRequest) -> Option<Chosen> {
        // Other methods go on to the files service, which refuses them.
        if !matches!(*req.method(), Method::GET | Method::HEAD) {
            return None;
        }
        let copies = self.0.get(req.path())?;
        let accepted = AcceptEncoding::parse(req).ok()?;
        let offered = [
            copies.brotli.as_ref().map(|_| Encoding::brotli()),
            copies.gzip.as_ref().map(|_| Encoding::gzip()),
            Some(Encoding::identity()),
        ];
        let (path, encoding) = match accepted.negotiate(offered.iter().flatten())? {
            e if e == Encoding::brotli() => (copies.brotli.as_ref()?, ContentEncoding::Brotli),
            e if e == Encoding::gzip() => (copies.gzip.as_ref()?, ContentEncoding::Gzip),
            _ => return None,
        };
        Some(Chosen {
            path: path.clone(),
            mime: copies.mime.clone(),
            encoding,
        })
    }
}

/// Whether the file name at `path` carries Trunk's content hash
/// (`frontend-0123456789abcdef_bg.wasm`): 16 or more hex digits after the last `-`.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('-').is_some_and(|(_, tail)| {
        let digits = tail.chars().take_while(char::is_ascii_hexdigit).count();
        digits >= 16 && tail[digits..].starts_with(['_', '.'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunks_hashed_names_are_recognised() {
        for hashed in [
            "/frontend-0123456789abcdef_bg.wasm",
            "/frontend-0123456789abcdef.js",
            "/style-fedcba9876543210ab.css",
        ] {
            assert!(is_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/users/7/edit",
            "/favicon.ico",
            "/my-style.css",
            "/frontend-0123456789abcdef",
        ] {
            assert!(!is_hashed(plain), "{plain}");
        }
    }
}
