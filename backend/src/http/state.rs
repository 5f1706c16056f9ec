//! What every handler shares: the database pool and the services built at start-up.

use sea_orm::DatabaseConnection;

use crate::auth::Auth;
use crate::http::client_ip::TrustedProxies;
use crate::http::cookie::SessionCookie;
use crate::http::origins::AllowedOrigins;
use crate::http::throttle::Throttles;
use crate::mail::Mailer;
use crate::mail::templates::Templates;
use crate::recovery::Recovery;

pub struct AppState {
    pub db: DatabaseConnection,
    /// Passwords, lockout, tokens and sessions.
    pub auth: Auth,
    pub cookie: SessionCookie,
    pub origins: AllowedOrigins,
    pub mailer: Mailer,
    pub templates: Templates,
    pub recovery: Recovery,
    pub proxies: TrustedProxies,
    pub throttles: Throttles,
}
