//! Builds the application from [`Settings`]: database, migrations, services, listener.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::accounts::{self, email::EmailCodes, registration::Registration};
use crate::auth::codes::Codes;
use crate::auth::mfa::Mfa;
use crate::auth::passkeys::Passkeys;
use crate::auth::password::Passwords;
use crate::auth::session::{self, Lifetimes};
use crate::auth::token::Tokens;
use crate::auth::{Auth, FailureFloor};
use crate::config::{Settings, secret};
use crate::http::cookie::SessionCookie;
use crate::http::origins::{AllowedHosts, AllowedOrigins};
use crate::http::state::AppState;
use crate::http::throttle::{Redis, Throttles};
use crate::http::{self, ServerOptions};
use crate::integrations::idempotency::Idempotency;
use crate::integrations::webhooks::Deliverer;
use crate::mail::budget;
use crate::mail::notices::Notices;
use crate::mail::templates::Templates;
use crate::mail::{Mailer, Transport};
use crate::rate::Buckets;
use crate::recovery::{self, Recovery};
use crate::{audit, avatars, db};

pub struct Application {
    port: u16,
    server: http::Server,
    state: Arc<AppState>,
    maintenance_every: Duration,
    audit_retention_days: u32,
}

impl Application {
    /// Connects, migrates and binds `settings.http.bind_addr` (port 0 picks a free
    /// port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = db::connect(&settings.database).await?;
        db::migrate(&db).await?;
        let bind_addr = settings.http.bind_addr;
        let listener = TcpListener::bind(bind_addr)
            .with_context(|| format!("could not listen on {bind_addr} (BIND_ADDR)"))?;
        let port = listener.local_addr()?.port();
        let redis = match &settings.redis_url {
            Some(url) => Some(
                Redis::connect(url.expose_secret())
                    .await
                    .context("could not connect to Redis (REDIS_URL)")?,
            ),
            None => None,
        };
        let state = Arc::new(state(&settings, db, redis)?);
        announce_setup_token(&settings, &state).await?;
        calibrate_failure_floor(&state).await?;
        let options = ServerOptions {
            static_dir: &settings.paths.static_dir,
            json_limit: settings.limits.json_body,
            https: settings.http.cookie_secure,
        };
        let server = http::serve(listener, state.clone(), options)?;
        Ok(Self {
            port,
            server,
            state,
            maintenance_every: settings.maintenance_every,
            audit_retention_days: settings.limits.audit_retention_days,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server stops (Ctrl-C / SIGTERM in production), meanwhile
    /// purging what expires (sessions, audit events past retention, mail budgets)
    /// and forgetting idle throttling buckets.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state;
        let deliveries = tokio::spawn(state.webhooks.clone().run());
        let (every, retention) = (self.maintenance_every, self.audit_retention_days);
        let maintenance = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                maintain(&state, retention).await;
            }
        });
        let result = self.server.await;
        maintenance.abort();
        deliveries.abort();
        result
    }
}

/// One round of housekeeping; failures are logged and retried next round.
async fn maintain(state: &AppState, audit_retention_days: u32) {
    state.throttles.forget_idle();
    state.auth.logins.sweep();
    let db = &state.db;
    let purged = [
        ("expired sessions", session::purge_expired(db).await),
        (
            "audit events past retention",
            audit::purge_older_than(db, audit_retention_days, 20).await,
        ),
        ("ended mail budgets", budget::purge_expired(db).await),
        (
            "idempotency answers past 24 h",
            Idempotency::purge_expired(db).await,
        ),
        (
            "expired recovery codes",
            recovery::store::purge_expired_codes(db).await,
        ),
        (
            "expired second-factor challenges",
            state.auth.mfa.purge_expired().await,
        ),
        (
            "expired passkey ceremonies",
            state.auth.passkeys.purge_expired().await,
        ),
    ];
    for (what, result) in purged {
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "{what} removed"),
            Err(e) => tracing::warn!(error = %e, "could not remove {what}"),
        }
    }
}

/// The services every request shares, each from its section of the settings.
fn state(
    settings: &Settings,
    db: sea_orm::DatabaseConnection,
    redis: Option<Redis>,
) -> anyhow::Result<AppState> {
    let transport =
        Transport::from_settings(&settings.mail, settings.paths.data_dir.join("outbox"))?;
    if let Transport::Outbox(dir) = &transport {
        tracing::info!(
            outbox = %dir.display(),
            "SMTP_URL is not set: mail is written to the outbox folder instead of sent"
        );
    }
    let secret = settings.session.secret_bytes();
    let codes = Codes::new(secret);
    // Instances sharing the secret share the buckets; other deployments on the same
    // Redis do not.
    let shared = redis.map(|r| r.namespaced(&codes.derived("rate-limits")[..12]));
    let throttles = Throttles::new(settings.limits.rate, settings.limits.api_key_rate, shared);
    let auth = Auth {
        db: db.clone(),
        passwords: Passwords::for_this_machine(),
        lockout: settings.lockout,
        tokens: Tokens::new(secret),
        lifetimes: Lifetimes {
            ttl: chrono::Duration::from_std(settings.session.ttl)?,
            absolute: chrono::Duration::from_std(settings.session.absolute_ttl)?,
            max_per_account: settings.session.max_per_account,
        },
        codes: codes.clone(),
        failure_floor: FailureFloor::default(),
        logins: Arc::new(Buckets::new(settings.limits.rate.successful_logins())),
        mfa: Mfa::new(
            db.clone(),
            codes.derived_key("totp-seal"),
            settings.app_name.clone(),
            settings.accounts.mfa_required,
        ),
        passkeys: Passkeys::new(
            db.clone(),
            settings.http.public_url.as_ref(),
            &settings.app_name,
        ),
    };
    let http = &settings.http;
    let code_ttl = settings.recovery.code_ttl;
    Ok(AppState {
        notices: Notices {
            mailer: Mailer::start(transport, settings.mail.from.clone()),
            templates: Templates {
                app_name: settings.app_name.clone(),
                code_ttl,
                public_url: http
                    .public_url
                    .as_ref()
                    .map(|url| url.origin().ascii_serialization()),
            },
        },
        recovery: Recovery::new(codes.clone(), code_ttl),
        email_codes: EmailCodes::new(codes.clone(), code_ttl),
        registration: Registration {
            mode: settings.accounts.signup,
            email_domains: settings.accounts.email_domains.clone(),
            // Derived from the secret, so every instance sharing it prints the same.
            setup_token: http.exposed().then(|| codes.derived("setup-token")),
        },
        directory: settings.accounts.directory,
        // One picture at a time: each decode may take 64 MiB, and uploads are rare.
        pictures: avatars::Processor::new(1),
        webhooks: Deliverer::new(db.clone(), settings.webhooks.clone()),
        idempotency: Idempotency::new(
            codes.derived_key("idempotency-seal"),
            codes.derived_key("idempotency-fingerprint").to_vec(),
        ),
        codes,
        db,
        auth,
        cookie: SessionCookie::new(http.cookie_secure),
        origins: AllowedOrigins::new(http.public_url.as_ref(), http.allowed_origins.clone()),
        hosts: AllowedHosts::new(http.public_url.as_ref(), http.bind_addr.ip().is_loopback()),
        proxies: http.trusted_proxies.clone(),
        metrics_token: http.metrics_token.clone(),
        throttles,
        warned_about_proxy: Default::default(),
    })
}

/// While accounts keep slower legacy hashes, failed logins take as long as checking
/// one (see `auth::FailureFloor`): measured here on a sample of stored ones (the
/// slowest counts), and raised whenever a slower one is checked.
async fn calibrate_failure_floor(state: &AppState) -> anyhow::Result<()> {
    const SAMPLE: u64 = 8;
    let legacy = accounts::some_legacy_hashes(&state.db, SAMPLE).await?;
    if legacy.is_empty() {
        return Ok(());
    }
    // Side by side, as many at once as there are hashing permits: start-up waits
    // for the slowest, not the sum.
    let lane = crate::auth::password::Lane::General;
    let checks = legacy.into_iter().map(|stored| {
        let guess = secrecy::SecretString::from("not the password".to_owned());
        state.auth.passwords.verify_timed(lane, guess, Some(stored))
    });
    for (_, took) in futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
    {
        state.auth.failure_floor.raise(took);
    }
    tracing::info!(
        floor_ms = state.auth.failure_floor.get().as_millis(),
        "legacy password hashes remain: failed logins take at least as long as checking one"
    );
    Ok(())
}

/// On an instance reachable from the network that has no admin yet, the first
/// sign-up needs the setup token: it is printed here (not logged) and written to
/// `DATA_DIR/setup_token`, readable by this user only. Once an admin exists the file
/// goes.
async fn announce_setup_token(settings: &Settings, state: &AppState) -> anyhow::Result<()> {
    let path = settings.paths.data_dir.join("setup_token");
    let token = match &state.registration.setup_token {
        Some(token) if !accounts::first_admin_settled(&state.db).await? => token,
        _ => {
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
    };
    secret::replace_private(&path, token)
        .with_context(|| format!("could not write the setup token to {}", path.display()))?;
    eprintln!(
        "This instance has no admin yet. Sign up the first account with this setup token \
         (also in {}):\n\n    {token}\n",
        path.display()
    );
    tracing::warn!(path = %path.display(), "no admin yet: the first sign-up needs the setup token");
    Ok(())
}
