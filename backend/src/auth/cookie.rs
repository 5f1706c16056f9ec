//! The one place the session cookie is built and cleared.

use actix_web::cookie::{Cookie, SameSite, time};

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

    pub fn build(&self, token: String, max_age_seconds: i64) -> Cookie<'static> {
        Cookie::build(self.name(), token)
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .secure(self.secure)
            .max_age(time::Duration::seconds(max_age_seconds.max(0)))
            .finish()
    }

    pub fn clear(&self) -> Cookie<'static> {
        let mut cookie = self.build(String::new(), 0);
        cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
        cookie
    }
}
