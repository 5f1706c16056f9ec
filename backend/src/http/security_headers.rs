//! Headers every response carries: a strict Content-Security-Policy that the WASM app
//! and Swagger UI run under, `nosniff`, a referrer policy, no framing, and HSTS when
//! the cookie is `Secure` (the site is served over HTTPS).

use std::path::Path;

use actix_web::middleware::DefaultHeaders;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The headers of one application, computed once at start-up.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    csp: String,
    hsts: bool,
}

impl SecurityHeaders {
    /// `hsts`: the site is served over HTTPS (`COOKIE_SECURE`).
    pub fn new(static_dir: &Path, hsts: bool) -> Self {
        Self {
            csp: content_security_policy(&app_script_hashes(static_dir), "style-src 'self'"),
            hsts,
        }
    }

    /// `DefaultHeaders` adds each header only where a handler did not set it.
    pub fn middleware(&self) -> DefaultHeaders {
        let mut headers = DefaultHeaders::new()
            .add(("Content-Security-Policy", self.csp.as_str()))
            .add(("X-Content-Type-Options", "nosniff"))
            .add(("Referrer-Policy", "no-referrer"))
            .add(("X-Frame-Options", "DENY"))
            .add(("Cross-Origin-Opener-Policy", "same-origin"))
            .add((
                "Permissions-Policy",
                "camera=(), microphone=(), geolocation=(), payment=()",
            ));
        if self.hsts {
            headers = headers.add(("Strict-Transport-Security", "max-age=31536000"));
        }
        headers
    }
}

/// Swagger UI (`/docs`) adds `<style>` elements at run time, so its pages allow
/// inline styles; scripts stay as strict as everywhere else.
pub fn docs_policy() -> String {
    content_security_policy(&[], "style-src 'self' 'unsafe-inline'")
}

/// Only this origin's files run; the one inline script Trunk writes into
/// `index.html` (the loader that starts the WASM) is allowed by its hash, so a
/// rebuilt app needs a restart. `wasm-unsafe-eval` lets WebAssembly compile without
/// allowing JavaScript `eval`. Swagger UI's icons are `data:` images.
fn content_security_policy(inline_script_hashes: &[String], style_src: &str) -> String {
    let mut script_src = vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()];
    script_src.extend(
        inline_script_hashes
            .iter()
            .map(|hash| format!("'sha256-{hash}'")),
    );
    [
        "default-src 'self'".to_owned(),
        format!("script-src {}", script_src.join(" ")),
        style_src.to_owned(),
        // `blob:`: the preview of a picture chosen for upload, which never leaves the page.
        "img-src 'self' data: blob:".to_owned(),
        "connect-src 'self'".to_owned(),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ]
    .join("; ")
}

/// The hashes of the app's inline scripts (none when the app is not built).
fn app_script_hashes(static_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(static_dir.join("index.html"))
        .map(|index| inline_scripts(&index).map(sha256_base64).collect())
        .unwrap_or_default()
}

/// The bodies of `<script>` elements without `src`, exactly as the browser hashes
/// them (everything between the tags).
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, rest) = rest.split_once('>')?;
        let (body, _) = rest.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

fn sha256_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_skipped() {
        let html = r#"<head><script src="/x.js"></script>
            <script type="module">import init from '/app.js';init();</script></head>"#;
        let scripts: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(scripts, ["import init from '/app.js';init();"]);
        // `echo -n "alert(1)" | openssl dgst -sha256 -binary | base64`
        assert_eq!(
            sha256_base64("alert(1)"),
            "bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI="
        );
    }
}
