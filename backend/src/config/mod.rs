//! Typed settings read from the environment (and an optional `.env`), in sections that
//! start-up and the CLI hand down to the layer each one configures. Bad values stop
//! start-up with one line naming the variable; secrets never appear in `Debug`.

mod env;
pub mod secret;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use shared::{DirectoryVisibility, MfaRequired, SignupMode};

pub use self::env::{ConfigError, Env};
use crate::auth::lockout::LockoutPolicy;
use crate::db::DatabaseSettings;
use crate::http::client_ip::TrustedProxies;
use crate::http::origins::normalize_origin;
use crate::integrations::webhooks::WebhookSettings;
use crate::mail::MailSettings;
use crate::rate::RateLimit;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Shown in mail.
    pub app_name: String,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub session: SessionSettings,
    /// Failed logins before an account locks, and how long it stays locked.
    pub lockout: LockoutPolicy,
    pub limits: Limits,
    /// The Redis every instance shares rate limits through (`REDIS_URL`); none keeps
    /// them per instance.
    pub redis_url: Option<SecretString>,
    pub mail: MailSettings,
    pub recovery: RecoverySettings,
    pub accounts: AccountSettings,
    pub paths: Paths,
    /// Where webhooks may go and how they are retried (`WEBHOOK_ALLOW_PRIVATE`).
    pub webhooks: WebhookSettings,
    /// How often expired rows are purged and idle buckets forgotten (not an
    /// environment variable; tests shorten it).
    pub maintenance_every: Duration,
}

/// How the server listens and whom it believes.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub bind_addr: SocketAddr,
    /// The address people use (`PUBLIC_URL`, an origin such as
    /// `https://users.example.com`): the only Host served, the origin of the CSRF
    /// check, and HTTPS (secure cookie, HSTS) when it is `https`.
    pub public_url: Option<url::Url>,
    /// `Secure` and the `__Host-` prefix on the session cookie, and HSTS.
    pub cookie_secure: bool,
    /// Origins allowed besides the app's own (CORS and the CSRF origin check).
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// The bearer token `GET /metrics` asks of scrapers that are not on this machine
    /// (`METRICS_TOKEN`); without one, only loopback clients may scrape.
    pub metrics_token: Option<SecretString>,
}

#[derive(Clone)]
pub struct SessionSettings {
    /// Signs session tokens and keys the recovery codes' HMAC.
    pub jwt_secret: SecretString,
    /// Lifetime of a token; cookies renew while the user is active.
    pub ttl: Duration,
    /// A login never lasts longer than this, however active.
    pub absolute_ttl: Duration,
    /// Live sessions one account may have; a new one beyond that ends the oldest.
    pub max_per_account: u32,
}

impl std::fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSettings")
            .field("ttl", &self.ttl)
            .field("absolute_ttl", &self.absolute_ttl)
            .finish_non_exhaustive()
    }
}

impl HttpSettings {
    /// Whether people other than this machine's users can reach the server: a
    /// non-loopback bind, or a public URL that is not loopback (a same-host proxy).
    pub fn exposed(&self) -> bool {
        let public_host_is_local = self.public_url.as_ref().is_none_or(|url| match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => true,
        });
        !self.bind_addr.ip().is_loopback() || !public_host_is_local
    }
}

/// Who may join and what users see of each other.
#[derive(Debug, Clone, Default)]
pub struct AccountSettings {
    pub signup: SignupMode,
    /// Lower-case; empty allows any domain.
    pub email_domains: Vec<String>,
    pub directory: DirectoryVisibility,
    /// Who must have a second factor (`MFA_REQUIRED`).
    pub mfa_required: MfaRequired,
}

impl SessionSettings {
    /// The secret's bytes, for the token keys.
    pub fn secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

/// What one client may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Per client IP: failed logins, tokens and signups; recovery requests.
    pub rate: RateLimit,
    /// Per API key: every request it makes.
    pub api_key_rate: RateLimit,
    /// Largest accepted JSON body.
    pub json_body: usize,
    /// Audit events older than this many days are purged.
    pub audit_retention_days: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct RecoverySettings {
    /// Lifetime of a recovery code and of each recovery step's token.
    pub code_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct Paths {
    /// Where the embedded database, the generated JWT secret and similar files live.
    pub data_dir: PathBuf,
    /// The built browser app (`trunk build` output), served at `/`.
    pub static_dir: PathBuf,
}

impl Settings {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds settings from any key lookup; unset and empty mean "use the default".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let paths = Paths {
            data_dir: PathBuf::from(env.string_or("DATA_DIR", || "data".to_owned())),
            static_dir: PathBuf::from(env.string_or("STATIC_DIR", || "frontend/dist".to_owned())),
        };
        let app_name = env.string_or("APP_NAME", || "User Management".to_owned());
        let http = http(&env)?;
        Ok(Self {
            database: database(&env, &paths)?,
            mail: mail(&env, &app_name, &http)?,
            http,
            session: session(&env, &paths)?,
            lockout: lockout(&env)?,
            limits: Limits {
                rate: RateLimit {
                    per_minute: env.count("RATE_LIMIT_PER_MINUTE", 60, 1_000_000)?,
                    burst: env.count("RATE_LIMIT_BURST", 30, 1_000_000)?,
                },
                api_key_rate: RateLimit {
                    per_minute: env.count("API_KEY_RATE_PER_MINUTE", 600, 1_000_000)?,
                    burst: env.count("API_KEY_RATE_BURST", 100, 1_000_000)?,
                },
                json_body: 64 * 1024,
                audit_retention_days: env.count("AUDIT_RETENTION_DAYS", 365, 36_500)?,
            },
            redis_url: env.parsed(
                "REDIS_URL",
                || None,
                |url| {
                    url.starts_with("redis://")
                        .then(|| Some(SecretString::from(url.to_owned())))
                },
                "must start with redis:// (TLS is not supported), e.g. redis://127.0.0.1:6379",
            )?,
            maintenance_every: Duration::from_secs(10 * 60),
            webhooks: WebhookSettings {
                allow_private: env.flag("WEBHOOK_ALLOW_PRIVATE", false)?,
                ..WebhookSettings::default()
            },
            accounts: accounts(&env)?,
            recovery: RecoverySettings {
                code_ttl: env.seconds("OTP_TTL_SECONDS", 600, 24 * 60 * 60)?,
            },
            paths,
            app_name,
        })
    }
}

fn database<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    paths: &Paths,
) -> Result<DatabaseSettings, ConfigError> {
    let url = env.string_or("DATABASE_URL", || {
        format!("sqlite://{}/users.db?mode=rwc", paths.data_dir.display())
    });
    if !(url.starts_with("sqlite:") || url.starts_with("mysql:")) {
        return Err(ConfigError::new(
            "DATABASE_URL",
            "must start with sqlite:// or mysql://",
        ));
    }
    // SQLite runs each connection on a thread of its own, with its own page cache and
    // allocator arena, and queries it in-process: two per core keep every core busy
    // (writes take turns anyway). A MySQL connection mostly waits on the network.
    let max_connections = if url.starts_with("sqlite:") {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        u32::try_from(2 * cores).unwrap_or(u32::MAX).clamp(2, 10)
    } else {
        10
    };
    Ok(DatabaseSettings {
        url,
        // A 503 within 2 s of a database going away, processing included.
        timeout: Duration::from_millis(1500),
        max_connections,
    })
}

fn http<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<HttpSettings, ConfigError> {
    let bind_addr: SocketAddr = env.parsed(
        "BIND_ADDR",
        || SocketAddr::from(([127, 0, 0, 1], 8080)),
        |raw| raw.parse().ok(),
        "must be host:port, e.g. 127.0.0.1:8080",
    )?;
    let allowed_origins = env.list(
        "ALLOWED_ORIGINS",
        |entry| normalize_origin(entry).ok(),
        |bad| format!("'{bad}' is not an origin like https://app.example.com"),
    )?;
    let proxies = env.list("TRUSTED_PROXIES", TrustedProxies::parse_entry, |bad| {
        format!("'{bad}' is not an IP address or network like 10.0.0.0/8")
    })?;
    let public_url = env.parsed(
        "PUBLIC_URL",
        || None,
        |raw| {
            normalize_origin(raw)
                .ok()
                .and_then(|origin| url::Url::parse(&origin).ok())
                .map(Some)
        },
        "must be the origin people use, like https://users.example.com (no path)",
    )?;
    let https = public_url.as_ref().map(|url| url.scheme() == "https");
    let cookie_secure = env.flag(
        "COOKIE_SECURE",
        https.unwrap_or(!bind_addr.ip().is_loopback()),
    )?;
    if https == Some(true) && !cookie_secure {
        return Err(ConfigError::new(
            "COOKIE_SECURE",
            "must be true when PUBLIC_URL is https",
        ));
    }
    let metrics_token = env.parsed(
        "METRICS_TOKEN",
        || None,
        |token| (token.len() >= 16).then(|| Some(SecretString::from(token.to_owned()))),
        "must be at least 16 characters (a random token the scraper sends as a bearer token)",
    )?;
    Ok(HttpSettings {
        cookie_secure,
        bind_addr,
        public_url,
        allowed_origins,
        trusted_proxies: TrustedProxies::new(proxies),
        metrics_token,
    })
}

fn accounts<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<AccountSettings, ConfigError> {
    let signup = env.parsed(
        "SIGNUP_MODE",
        SignupMode::default,
        |raw| SignupMode::parse(raw).ok(),
        "must be one of: open, invite, closed",
    )?;
    let directory = env.parsed(
        "DIRECTORY_VISIBILITY",
        DirectoryVisibility::default,
        |raw| DirectoryVisibility::parse(raw).ok(),
        "must be one of: none, names, full",
    )?;
    let email_domains = env.list(
        "SIGNUP_EMAIL_DOMAINS",
        |entry| {
            let domain = entry.trim_start_matches('@').to_lowercase();
            shared::validate::Email::parse(&format!("x@{domain}"))
                .is_ok()
                .then_some(domain)
        },
        |bad| format!("'{bad}' is not a mail domain like example.com"),
    )?;
    let mfa_required = env.parsed(
        "MFA_REQUIRED",
        MfaRequired::default,
        |raw| MfaRequired::parse(raw).ok(),
        "must be one of: off, admins, everyone",
    )?;
    Ok(AccountSettings {
        signup,
        email_domains,
        directory,
        mfa_required,
    })
}

fn session<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    paths: &Paths,
) -> Result<SessionSettings, ConfigError> {
    let jwt_secret = match env.get("JWT_SECRET") {
        Some(secret) => {
            secret::check_secret_length(&secret).map_err(|m| ConfigError::new("JWT_SECRET", m))?;
            SecretString::from(secret)
        }
        None => secret::load_or_create_secret(&paths.data_dir.join("jwt_secret"))
            .map_err(|m| ConfigError::new("JWT_SECRET", m))?,
    };
    Ok(SessionSettings {
        jwt_secret,
        ttl: env.minutes("SESSION_TTL_MINUTES", 30, 24 * 60)?,
        absolute_ttl: Duration::from_secs(12 * 60 * 60),
        max_per_account: env.count("SESSIONS_PER_ACCOUNT", 50, 1000)?,
    })
}

fn lockout<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<LockoutPolicy, ConfigError> {
    let wait = |key, default| -> Result<chrono::Duration, ConfigError> {
        let wait = env.seconds(key, default, 24 * 60 * 60)?;
        Ok(chrono::Duration::from_std(wait).expect("at most a day"))
    };
    let lockout = LockoutPolicy {
        threshold: env.count("LOCKOUT_THRESHOLD", 10, 1000)?,
        base: wait("LOCKOUT_BASE_SECONDS", 60)?,
        max: wait("LOCKOUT_MAX_SECONDS", 15 * 60)?,
    };
    if lockout.max < lockout.base {
        return Err(ConfigError::new(
            "LOCKOUT_MAX_SECONDS",
            "must be at least LOCKOUT_BASE_SECONDS",
        ));
    }
    Ok(lockout)
}

fn mail<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    app_name: &str,
    http: &HttpSettings,
) -> Result<MailSettings, ConfigError> {
    let smtp_url = env.parsed(
        "SMTP_URL",
        || None,
        |url| {
            (url.starts_with("smtp://") || url.starts_with("smtps://"))
                .then(|| Some(SecretString::from(url.to_owned())))
        },
        "must start with smtp:// or smtps://, e.g. smtps://user:pass@smtp.example.com:465",
    )?;
    match &smtp_url {
        Some(url) if sends_credentials_in_clear(url.expose_secret()) => {
            return Err(ConfigError::new(
                "SMTP_URL",
                "would send its password unencrypted to a remote server: use smtps:// or add ?tls=required",
            ));
        }
        None if http.exposed() => {
            return Err(ConfigError::new(
                "SMTP_URL",
                "must be set when the server is reachable from the network (BIND_ADDR or \
                 PUBLIC_URL): the development outbox only writes mail, codes included, to DATA_DIR",
            ));
        }
        _ => {}
    }
    let from = env
        .string_or("MAIL_FROM", || format!("{app_name} <no-reply@localhost>"))
        .parse()
        .map_err(|_| {
            ConfigError::new(
                "MAIL_FROM",
                "must be an address like App <no-reply@example.com>",
            )
        })?;
    Ok(MailSettings {
        smtp_url,
        timeout: env.seconds("SMTP_TIMEOUT_SECONDS", 10, 300)?,
        from,
    })
}

/// Plain `smtp://` with a user or password to a host other than this machine.
fn sends_credentials_in_clear(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    let credentials = !url.username().is_empty() || url.password().is_some();
    let tls_required = url
        .query_pairs()
        .any(|(key, value)| key == "tls" && value == "required");
    // `smtp:` is not a scheme the URL standard knows, so its IPv4 hosts come back
    // as names.
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => true,
    };
    url.scheme() == "smtp" && credentials && !tls_required && !loopback
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = std::env::temp_dir().join(format!("cfg-test-{}", rand::random::<u64>()));
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("DATA_DIR".into())
            .or_insert(dir.display().to_string());
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.http.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.session.ttl, Duration::from_secs(30 * 60));
        assert!(
            !s.http.cookie_secure,
            "loopback bind means plain http is fine"
        );
        assert!(
            s.database.url.starts_with("sqlite://")
                && s.database.url.ends_with("users.db?mode=rwc")
        );
        let again = settings(&[("DATA_DIR", s.paths.data_dir.to_str().unwrap())]).unwrap();
        assert_eq!(
            again.session.jwt_secret.expose_secret(),
            s.session.jwt_secret.expose_secret(),
            "a generated secret is kept across restarts"
        );
        std::fs::remove_dir_all(&s.paths.data_dir).unwrap();
    }

    #[test]
    fn public_bind_means_secure_cookie() {
        let s = settings(&[
            ("BIND_ADDR", "0.0.0.0:80"),
            ("JWT_SECRET", &"k".repeat(32)),
            ("SMTP_URL", "smtps://mail.example.com"),
        ])
        .unwrap();
        assert!(s.http.cookie_secure);
        assert!(s.http.exposed());
    }

    #[test]
    fn a_public_url_decides_https_whatever_the_bind() {
        let behind_proxy = settings(&[
            ("PUBLIC_URL", "https://Users.Example.com/"),
            ("SMTP_URL", "smtps://mail.example.com"),
        ])
        .unwrap();
        assert!(behind_proxy.http.cookie_secure, "https => Secure and HSTS");
        assert!(behind_proxy.http.exposed(), "a same-host proxy is public");
        assert_eq!(
            behind_proxy.http.public_url.unwrap().as_str(),
            "https://users.example.com/"
        );
        let local = settings(&[("PUBLIC_URL", "http://localhost:8080")]).unwrap();
        assert!(!local.http.cookie_secure && !local.http.exposed());
        for (vars, variable) in [
            (
                vec![("PUBLIC_URL", "https://users.example.com/app")],
                "PUBLIC_URL",
            ),
            (
                vec![
                    ("PUBLIC_URL", "https://users.example.com"),
                    ("COOKIE_SECURE", "false"),
                ],
                "COOKIE_SECURE",
            ),
            (
                vec![("PUBLIC_URL", "https://users.example.com")],
                "SMTP_URL",
            ),
            (vec![("BIND_ADDR", "0.0.0.0:8080")], "SMTP_URL"),
            (
                vec![("SMTP_URL", "smtp://app:secret@mail.example.com:587")],
                "SMTP_URL",
            ),
        ] {
            assert_eq!(settings(&vars).unwrap_err().variable, variable, "{vars:?}");
        }
        for fine in [
            "smtp://app:secret@mail.example.com:587?tls=required",
            "smtps://app:secret@mail.example.com",
            "smtp://app:secret@127.0.0.1:2525",
            "smtp://mail.example.com:25",
        ] {
            assert!(settings(&[("SMTP_URL", fine)]).is_ok(), "{fine}");
        }
    }

    #[test]
    fn signup_and_directory_settings() {
        let s = settings(&[
            ("SIGNUP_MODE", "invite"),
            ("SIGNUP_EMAIL_DOMAINS", "Example.com, @example.org"),
            ("DIRECTORY_VISIBILITY", "none"),
        ])
        .unwrap();
        assert_eq!(s.accounts.signup, SignupMode::Invite);
        assert_eq!(s.accounts.email_domains, ["example.com", "example.org"]);
        assert_eq!(s.accounts.directory, DirectoryVisibility::None);
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.accounts.signup, SignupMode::Open);
        assert_eq!(defaults.accounts.directory, DirectoryVisibility::Names);
        for (var, value) in [
            ("SIGNUP_MODE", "maybe"),
            ("DIRECTORY_VISIBILITY", "some"),
            ("SIGNUP_EMAIL_DOMAINS", "not a domain"),
        ] {
            assert_eq!(settings(&[(var, value)]).unwrap_err().variable, var);
        }
    }

    #[test]
    fn errors_name_the_variable() {
        for (var, value) in [
            ("JWT_SECRET", "too-short"),
            ("BIND_ADDR", "nowhere"),
            ("SESSION_TTL_MINUTES", "0"),
            ("SESSION_TTL_MINUTES", "ten"),
            ("COOKIE_SECURE", "maybe"),
            ("ALLOWED_ORIGINS", "https://ok.example.com,ftp://x"),
            ("DATABASE_URL", "postgres://x"),
            ("SMTP_URL", "http://mail.example.com"),
            ("MAIL_FROM", "not an address"),
            ("OTP_TTL_SECONDS", "0"),
            ("SMTP_TIMEOUT_SECONDS", "soon"),
            ("LOCKOUT_THRESHOLD", "0"),
            ("LOCKOUT_BASE_SECONDS", "-5"),
            ("RATE_LIMIT_PER_MINUTE", "lots"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var);
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn messages_stay_as_documented() {
        for (var, value, message) in [
            (
                "SESSION_TTL_MINUTES",
                "0",
                "must be a whole number of minutes from 1 to 1440",
            ),
            (
                "OTP_TTL_SECONDS",
                "0",
                "must be a whole number of seconds from 1 to 86400",
            ),
            (
                "LOCKOUT_THRESHOLD",
                "0",
                "must be a whole number from 1 to 1000",
            ),
            (
                "ALLOWED_ORIGINS",
                "https://ok.example.com,ftp://x",
                "'ftp://x' is not an origin like https://app.example.com",
            ),
            (
                "TRUSTED_PROXIES",
                "10.0.0.0/8, proxy.local",
                "'proxy.local' is not an IP address or network like 10.0.0.0/8",
            ),
            (
                "MAIL_FROM",
                "not an address",
                "must be an address like App <no-reply@example.com>",
            ),
        ] {
            assert_eq!(settings(&[(var, value)]).unwrap_err().message, message);
        }
        let reversed = settings(&[
            ("LOCKOUT_BASE_SECONDS", "600"),
            ("LOCKOUT_MAX_SECONDS", "60"),
        ]);
        assert_eq!(
            reversed.unwrap_err().to_string(),
            "LOCKOUT_MAX_SECONDS: must be at least LOCKOUT_BASE_SECONDS"
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let secret = "s".repeat(40);
        let s = settings(&[
            ("JWT_SECRET", &secret),
            ("DATABASE_URL", "mysql://app:hunter2@db:3306/users"),
            ("SMTP_URL", "smtps://mailer:smtp-pass@smtp.example.com:465"),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        for hidden in [secret.as_str(), "hunter2", "smtp-pass"] {
            assert!(!debug.contains(hidden), "{debug}");
        }
        assert!(debug.contains("mysql://app:***@db:3306/users"), "{debug}");
    }
}
