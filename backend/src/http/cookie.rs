//! The one place the session cookie is built and cleared.

use actix_web::cookie::{Cookie, SameSite, time};
use chrono::{DateTime, Utc};

use crate::auth::session::Session;

/// Whole seconds from now until `at`, rounded up, so a token that lives 1800 s says
/// 1800 even when a clock second ticks over while it is issued.
fn seconds_until(at: DateTime<Utc>) -> i64 {
    let millis = (at - Utc::now()).num_milliseconds().max(0);
    (millis + 999) / 1000
}

/// Seconds from a session's start to its end (both whole seconds).
pub fn lifetime(session: &Session) -> i64 {
    (session.expires_at - session.created_at).num_seconds()
}

#[derive(Debug, Clone)]
pub struct SessionCookie {
    secure: bool,
}

impl SessionCookie {
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    /// `__Host-` binds the cookie to this exact host over HTTPS; browsers only accept
    /// that prefix together with `Secure` and `Path=/`.
    pub fn name(&self) -> &'static str {
        if self.secure {
            "__Host-session"
        } else {
            "session"
        }
    }

    /// The cookie carrying `token` for a session that now ends at `expires_at` (a
    /// renewal).
    pub fn for_session(&self, token: String, expires_at: DateTime<Utc>) -> Cookie<'static> {
        self.build(token, seconds_until(expires_at))
    }

    /// The cookie for a session just opened: it lives exactly as long as the session,
    /// whatever the request spent after opening it.
    pub fn for_new_session(&self, token: String, session: &Session) -> Cookie<'static> {
        self.build(token, lifetime(session))
    }

    fn build(&self, token: String, max_age_seconds: i64) -> Cookie<'static> {
        Cookie::build(self.name(), token)
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .secure(self.secure)
            .max_age(time::Duration::seconds(max_age_seconds.max(0)))
            .finish()
    }

    /// The device cookie: a browser that logged in keeps it (a year; only the auth
    /// endpoints see it), so its failures count on its own budget (see
    /// `auth::devices`).
    pub fn device_name(&self) -> &'static str {
        if self.secure {
            "__Secure-device"
        } else {
            "device"
        }
    }

    pub fn device(&self, token: &str) -> Cookie<'static> {
        Cookie::build(self.device_name(), token.to_owned())
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/api/v1/auth")
            .secure(self.secure)
            .max_age(time::Duration::days(365))
            .finish()
    }

    pub fn clear(&self) -> Cookie<'static> {
        let mut cookie = self.build(String::new(), 0);
        cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
        cookie
    }
}

/// A fresh session cookie the authentication minted for a renewed session; the
/// renewal middleware (`middleware::renew_session_cookie`) sends it.
pub struct RenewedCookie(pub Cookie<'static>);
