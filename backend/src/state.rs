//! What every handler shares: the database pool and the auth services.

use sea_orm::DatabaseConnection;

use crate::auth::cookie::SessionCookie;
use crate::auth::lockout::LockoutPolicy;
use crate::auth::origin::AllowedOrigins;
use crate::auth::password::Passwords;
use crate::auth::session::Lifetimes;
use crate::auth::token::Tokens;
use crate::client::{ClientInfo, TrustedProxies};
use crate::mail::Mailer;
use crate::recovery::Recovery;
use crate::throttle::Throttles;

pub struct AppState {
    pub db: DatabaseConnection,
    pub passwords: Passwords,
    pub tokens: Tokens,
    pub lifetimes: Lifetimes,
    pub cookie: SessionCookie,
    pub origins: AllowedOrigins,
    pub mailer: Mailer,
    pub recovery: Recovery,
    pub lockout: LockoutPolicy,
    pub proxies: TrustedProxies,
    pub throttles: Throttles,
}

impl AppState {
    /// The caller's address and user agent, for sessions and the audit trail.
    pub fn client(&self, req: &actix_web::HttpRequest) -> ClientInfo {
        ClientInfo::of(req, &self.proxies)
    }
}
