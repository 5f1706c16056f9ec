//! What every handler shares: the database pool and the services built at start-up.

use std::sync::atomic::AtomicBool;

use sea_orm::DatabaseConnection;
use shared::DirectoryVisibility;

use crate::accounts::email::EmailCodes;
use crate::accounts::registration::Registration;
use crate::auth::Auth;
use crate::auth::codes::Codes;
use crate::avatars::Processor;
use crate::http::client_ip::TrustedProxies;
use crate::http::cookie::SessionCookie;
use crate::http::origins::{AllowedHosts, AllowedOrigins};
use crate::http::throttle::Throttles;
use crate::integrations::idempotency::Idempotency;
use crate::integrations::webhooks::Deliverer;
use crate::mail::notices::Notices;
use crate::recovery::Recovery;

pub struct AppState {
    pub db: DatabaseConnection,
    /// Passwords, lockout, tokens and sessions.
    pub auth: Auth,
    /// The app's keyed codes (invitations; the rest keep their own handle).
    pub codes: Codes,
    pub cookie: SessionCookie,
    pub origins: AllowedOrigins,
    pub hosts: AllowedHosts,
    pub notices: Notices,
    pub recovery: Recovery,
    pub email_codes: EmailCodes,
    pub registration: Registration,
    /// Sends the webhook outbox (woken after each change).
    pub webhooks: Deliverer,
    /// The first answers to requests sent with an `Idempotency-Key`.
    pub idempotency: Idempotency,
    /// Turns uploaded profile pictures into the stored ones, a bounded number at once.
    pub pictures: Processor,
    /// What users who are not admins see of other accounts.
    pub directory: DirectoryVisibility,
    pub proxies: TrustedProxies,
    pub throttles: Throttles,
    /// What `/metrics` asks of scrapers not on this machine (`METRICS_TOKEN`).
    pub metrics_token: Option<secrecy::SecretString>,
    /// Set once the "proxy without TRUSTED_PROXIES" warning was logged.
    pub warned_about_proxy: AtomicBool,
}
