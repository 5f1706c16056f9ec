//! What every handler shares: the database pool and the auth services.

use sea_orm::DatabaseConnection;

use crate::auth::cookie::SessionCookie;
use crate::auth::origin::AllowedOrigins;
use crate::auth::password::Passwords;
use crate::auth::session::Lifetimes;
use crate::auth::token::Tokens;
use crate::mail::Mailer;
use crate::recovery::Recovery;

pub struct AppState {
    pub db: DatabaseConnection,
    pub passwords: Passwords,
    pub tokens: Tokens,
    pub lifetimes: Lifetimes,
    pub cookie: SessionCookie,
    pub origins: AllowedOrigins,
    pub mailer: Mailer,
    pub recovery: Recovery,
}
