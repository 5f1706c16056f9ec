//! Cross-site request checks. Browsers attach the session cookie to requests from any
//! site unless told otherwise, so a cookie-authenticated change must prove it comes
//! from an allowed origin and carries JSON (which a plain HTML form cannot send).

use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, mime};

use crate::http::error::ApiError;

#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins {
    /// Origins besides the app's own, normalised (`scheme://host[:port]`).
    extra: Vec<String>,
}

impl AllowedOrigins {
    pub fn new(extra: Vec<String>) -> Self {
        Self { extra }
    }

    pub fn extra(&self) -> &[String] {
        &self.extra
    }

    /// The app's own origin (same host as the request was sent to) or a configured one.
    pub fn allows(&self, origin: &str, headers: &HeaderMap) -> bool {
        let Ok(origin) = normalize_origin(origin) else {
            return false;
        };
        if self.extra.contains(&origin) {
            return true;
        }
        let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| host.eq_ignore_ascii_case(authority))
    }
}

/// The `Origin` a browser sent, unless it is absent or opaque (`null`).
pub fn origin_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && *v != "null")
}

/// For cookie-authenticated POST/PUT/PATCH/DELETE: an allowed `Origin` (or, failing
/// that, `Referer`) and a JSON content type.
pub fn check_cookie_request(req: &HttpRequest, origins: &AllowedOrigins) -> Result<(), ApiError> {
    let headers = req.headers();
    let source = origin_header(headers).map(str::to_owned).or_else(|| {
        let referer = headers.get(header::REFERER)?.to_str().ok()?;
        Some(
            url::Url::parse(referer)
                .ok()?
                .origin()
                .ascii_serialization(),
        )
    });
    match source {
        Some(origin) if origins.allows(&origin, headers) => {}
        Some(_) => return Err(ApiError::Forbidden("Cross-site request refused.")),
        None => {
            return Err(ApiError::Forbidden(
                "Requests authenticated by the session cookie must send an Origin header.",
            ));
        }
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == "application/json");
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(())
}

/// `https://Example.com/` -> `https://example.com`; anything but `scheme://host[:port]`
/// is refused.
pub fn normalize_origin(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|_| raw.to_owned())?;
    let valid = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.username().is_empty();
    if !valid {
        return Err(raw.to_owned());
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::normalize_origin;

    #[test]
    fn origins_are_normalized() {
        assert_eq!(
            normalize_origin("https://App.Example.com/").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert!(normalize_origin("https://x.com/path").is_err());
    }
}
