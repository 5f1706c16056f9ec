//! Cross-site request checks. Browsers attach the session cookie to requests from any
//! site unless told otherwise, so a cookie-authenticated change must prove it comes
//! from an allowed origin and carries JSON (which a plain HTML form cannot send).

use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, mime};

use crate::http::error::{ApiError, SEND_JSON};

#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins {
    /// The app's own origin when `PUBLIC_URL` names it; else it is whatever host the
    /// request was sent to.
    own: Option<String>,
    /// Origins besides the app's own, normalised (`scheme://host[:port]`).
    extra: Vec<String>,
}

impl AllowedOrigins {
    pub fn new(own: Option<&url::Url>, extra: Vec<String>) -> Self {
        Self {
            own: own.map(|url| url.origin().ascii_serialization()),
            extra,
        }
    }

    pub fn extra(&self) -> &[String] {
        &self.extra
    }

    /// The app's own origin (`PUBLIC_URL`, or the host the request was sent to) or a
    /// configured one.
    pub fn allows(&self, origin: &str, headers: &HeaderMap) -> bool {
        let Ok(origin) = normalize_origin(origin) else {
            return false;
        };
        if self.extra.contains(&origin) {
            return true;
        }
        if let Some(own) = &self.own {
            return *own == origin;
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
/// that, `Referer`) and a JSON content type (or a picture's, for an upload).
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
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok());
    // JSON, a picture's own type or CSV: none is a type a plain form may send.
    let not_a_form = content_type.is_some_and(|m| {
        m.essence_str() == "application/json"
            || m.type_() == mime::IMAGE
            || m.essence_str() == "application/octet-stream"
            || m.essence_str() == "text/csv"
    });
    if !not_a_form {
        return Err(ApiError::UnsupportedMediaType(SEND_JSON));
    }
    Ok(())
}

/// The Host names the server answers for. A name it does not know is refused, so a
/// page on another site cannot reach it by pointing its own name at this address (DNS
/// rebinding).
#[derive(Debug, Clone)]
pub enum AllowedHosts {
    /// Only the host (and port) of `PUBLIC_URL`.
    Public { host: String, port: u16 },
    /// A loopback bind without `PUBLIC_URL`: only loopback names and addresses.
    Loopback,
    /// A public bind without `PUBLIC_URL`: whatever the client asks for.
    Any,
}

impl AllowedHosts {
    pub fn new(public_url: Option<&url::Url>, loopback_bind: bool) -> Self {
        match public_url {
            Some(url) => Self::Public {
                host: url.host_str().unwrap_or_default().to_ascii_lowercase(),
                port: url.port_or_known_default().unwrap_or(443),
            },
            None if loopback_bind => Self::Loopback,
            None => Self::Any,
        }
    }

    /// Whether a request with this `Host` value is for this server.
    pub fn allows(&self, host_header: Option<&str>) -> bool {
        if matches!(self, Self::Any) {
            return true;
        }
        let Some((host, port)) = host_header.and_then(split_host) else {
            return false;
        };
        match self {
            Self::Public {
                host: expected,
                port: expected_port,
            } => host == *expected && port.is_none_or(|p| p == *expected_port),
            Self::Loopback => {
                host == "localhost"
                    || host.ends_with(".localhost")
                    || host
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            Self::Any => true,
        }
    }
}

/// `Example.com:8080` -> (`example.com`, 8080); `[::1]` -> (`[::1]`, none).
fn split_host(raw: &str) -> Option<(String, Option<u16>)> {
    let raw = raw.trim().to_ascii_lowercase();
    let (host, port) = match raw.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host.to_owned(), Some(port.parse().ok()?))
        }
        _ => (raw, None),
    };
    (!host.is_empty()).then_some((host, port))
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
    use super::*;

    #[test]
    fn hosts_follow_the_public_url_or_stay_on_loopback() {
        let url = url::Url::parse("https://users.example.com").unwrap();
        let public = AllowedHosts::new(Some(&url), true);
        assert!(public.allows(Some("users.example.com")));
        assert!(public.allows(Some("Users.Example.com:443")));
        assert!(!public.allows(Some("users.example.com:8443")));
        assert!(!public.allows(Some("evil.example")));
        assert!(!public.allows(None));
        let local = AllowedHosts::new(None, true);
        for ok in ["localhost:8080", "127.0.0.1:9", "[::1]:80", "app.localhost"] {
            assert!(local.allows(Some(ok)), "{ok}");
        }
        for rebound in ["evil.example:8080", "10.0.0.1", "localhost.evil.example"] {
            assert!(!local.allows(Some(rebound)), "{rebound}");
        }
        assert!(AllowedHosts::new(None, false).allows(Some("anything")));
    }

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
