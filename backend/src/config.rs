//! Typed settings read from the environment (and an optional `.env`). Bad values stop
//! start-up with one line naming the variable; secrets never appear in `Debug`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::lockout::LockoutPolicy;
use crate::client::TrustedProxies;

/// Shortest accepted `JWT_SECRET`, in bytes (HS256 wants at least its 256-bit output).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind_addr: SocketAddr,
    /// Where the embedded database, the generated JWT secret and similar files live.
    pub data_dir: PathBuf,
    pub jwt_secret: SecretString,
    /// Lifetime of a token; cookies renew while the user is active.
    pub session_ttl: Duration,
    /// A login never lasts longer than this, however active.
    pub session_absolute_ttl: Duration,
    pub cookie_secure: bool,
    /// Origins allowed besides the app's own (CORS and the CSRF origin check).
    pub allowed_origins: Vec<String>,
    /// Connect and acquire timeout of the database pool.
    pub db_timeout: Duration,
    pub db_max_connections: u32,
    /// Largest accepted JSON body.
    pub json_limit: usize,
    /// Outgoing mail server; `None` selects the development mailer (`DATA_DIR/outbox`).
    pub smtp_url: Option<SecretString>,
    pub smtp_timeout: Duration,
    pub mail_from: lettre::message::Mailbox,
    /// Lifetime of a recovery code and of each recovery step's token.
    pub otp_ttl: Duration,
    /// Shown in mail.
    pub app_name: String,
    /// The built browser app (`trunk build` output), served at `/`.
    pub static_dir: PathBuf,
    /// Failed logins before an account locks, and how long it stays locked.
    pub lockout: LockoutPolicy,
    /// Per client IP: failed logins, tokens and signups; recovery requests.
    pub rate_limit: RateLimit,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

/// A token bucket per client IP: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url_password(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("data_dir", &self.data_dir)
            .field("session_ttl", &self.session_ttl)
            .field("cookie_secure", &self.cookie_secure)
            .field("allowed_origins", &self.allowed_origins)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "***"))
            .field("mail_from", &self.mail_from.to_string())
            .field("otp_ttl", &self.otp_ttl)
            .field("static_dir", &self.static_dir)
            .field("lockout", &self.lockout)
            .field("rate_limit", &self.rate_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// `mysql://app:secret@db/x` -> `mysql://app:***@db/x`.
pub fn redact_url_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

impl Settings {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds settings from any key lookup; unset and empty mean "use the default".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let database_url = match get("DATABASE_URL") {
            Some(url) => url,
            None => format!("sqlite://{}/users.db?mode=rwc", data_dir.display()),
        };
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("mysql:")) {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must start with sqlite:// or mysql://",
            ));
        }

        let bind_addr: SocketAddr = get("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
            .parse()
            .map_err(|_| ConfigError::new("BIND_ADDR", "must be host:port, e.g. 127.0.0.1:8080"))?;

        let minutes = |key: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match get(key) {
                None => Ok(Duration::from_secs(default * 60)),
                Some(raw) => match raw.parse::<u64>() {
                    Ok(m) if (1..=24 * 60).contains(&m) => Ok(Duration::from_secs(m * 60)),
                    _ => Err(ConfigError::new(
                        key,
                        "must be a whole number of minutes from 1 to 1440",
                    )),
                },
            }
        };
        let session_ttl = minutes("SESSION_TTL_MINUTES", 30)?;

        let cookie_secure = match get("COOKIE_SECURE") {
            None => !bind_addr.ip().is_loopback(),
            Some(raw) => parse_bool(&raw)
                .ok_or_else(|| ConfigError::new("COOKIE_SECURE", "must be true or false"))?,
        };

        let allowed_origins = match get("ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(normalize_origin)
                .collect::<Result<_, _>>()
                .map_err(|bad| {
                    ConfigError::new(
                        "ALLOWED_ORIGINS",
                        format!("'{bad}' is not an origin like https://app.example.com"),
                    )
                })?,
        };

        let jwt_secret = match get("JWT_SECRET") {
            Some(secret) => {
                check_secret_length(&secret).map_err(|m| ConfigError::new("JWT_SECRET", m))?;
                SecretString::from(secret)
            }
            None => load_or_create_secret(&data_dir.join("jwt_secret"))
                .map_err(|m| ConfigError::new("JWT_SECRET", m))?,
        };

        let seconds =
            |key: &'static str, default: u64, max: u64| -> Result<Duration, ConfigError> {
                match get(key) {
                    None => Ok(Duration::from_secs(default)),
                    Some(raw) => match raw.parse::<u64>() {
                        Ok(s) if (1..=max).contains(&s) => Ok(Duration::from_secs(s)),
                        _ => Err(ConfigError::new(
                            key,
                            format!("must be a whole number of seconds from 1 to {max}"),
                        )),
                    },
                }
            };
        let smtp_url = match get("SMTP_URL") {
            None => None,
            Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
                Some(SecretString::from(url))
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "SMTP_URL",
                    "must start with smtp:// or smtps://, e.g. smtps://user:pass@smtp.example.com:465",
                ));
            }
        };
        let app_name = get("APP_NAME").unwrap_or_else(|| "User Management".to_owned());
        let mail_from = get("MAIL_FROM")
            .unwrap_or_else(|| format!("{app_name} <no-reply@localhost>"))
            .parse()
            .map_err(|_| {
                ConfigError::new(
                    "MAIL_FROM",
                    "must be an address like App <no-reply@example.com>",
                )
            })?;

        let count = |key: &'static str, default: u32, max: u32| -> Result<u32, ConfigError> {
            match get(key) {
                None => Ok(default),
                Some(raw) => match raw.parse::<u32>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(ConfigError::new(
                        key,
                        format!("must be a whole number from 1 to {max}"),
                    )),
                },
            }
        };
        let lockout_wait = |key, default| -> Result<chrono::Duration, ConfigError> {
            let wait = seconds(key, default, 24 * 60 * 60)?;
            Ok(chrono::Duration::from_std(wait).expect("at most a day"))
        };
        let lockout = LockoutPolicy {
            threshold: count("LOCKOUT_THRESHOLD", 10, 1000)?,
            base: lockout_wait("LOCKOUT_BASE_SECONDS", 60)?,
            max: lockout_wait("LOCKOUT_MAX_SECONDS", 15 * 60)?,
        };
        if lockout.max < lockout.base {
            return Err(ConfigError::new(
                "LOCKOUT_MAX_SECONDS",
                "must be at least LOCKOUT_BASE_SECONDS",
            ));
        }
        let rate_limit = RateLimit {
            per_minute: count("RATE_LIMIT_PER_MINUTE", 60, 1_000_000)?,
            burst: count("RATE_LIMIT_BURST", 30, 1_000_000)?,
        };
        let trusted_proxies = TrustedProxies::parse(&get("TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|bad| {
                ConfigError::new(
                    "TRUSTED_PROXIES",
                    format!("'{bad}' is not an IP address or network like 10.0.0.0/8"),
                )
            })?;

        Ok(Self {
            lockout,
            rate_limit,
            trusted_proxies,
            static_dir: PathBuf::from(
                get("STATIC_DIR").unwrap_or_else(|| "frontend/dist".to_owned()),
            ),
            smtp_url,
            smtp_timeout: seconds("SMTP_TIMEOUT_SECONDS", 10, 300)?,
            mail_from,
            otp_ttl: seconds("OTP_TTL_SECONDS", 600, 24 * 60 * 60)?,
            app_name,
            database_url,
            bind_addr,
            data_dir,
            jwt_secret,
            session_ttl,
            session_absolute_ttl: Duration::from_secs(12 * 60 * 60),
            cookie_secure,
            allowed_origins,
            db_timeout: Duration::from_secs(2),
            db_max_connections: 10,
            json_limit: 64 * 1024,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `https://Example.com/` -> `https://example.com`; anything but scheme://host[:port]
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

fn check_secret_length(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "must be at least {MIN_SECRET_BYTES} bytes (got {}); generate one with `openssl rand -hex 32`",
            secret.len()
        ));
    }
    Ok(())
}

/// Keeps sessions valid across restarts of a setup that never configured a secret.
fn load_or_create_secret(path: &Path) -> Result<SecretString, String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        check_secret_length(&existing)
            .map_err(|m| format!("the generated secret in {} {m}", path.display()))?;
        return Ok(SecretString::from(existing));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &secret).map_err(|e| {
        format!(
            "not set, and a generated one could not be saved to {}: {e}",
            path.display()
        )
    })?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is not set: generated a random secret and saved it; set JWT_SECRET for production"
    );
    Ok(SecretString::from(secret))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

/// The secret's bytes, for the token keys.
pub fn secret_bytes(secret: &SecretString) -> &[u8] {
    secret.expose_secret().as_bytes()
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
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.session_ttl, Duration::from_secs(30 * 60));
        assert!(!s.cookie_secure, "loopback bind means plain http is fine");
        assert!(
            s.database_url.starts_with("sqlite://")
                && s.database_url.ends_with("users.db?mode=rwc")
        );
        let again = settings(&[("DATA_DIR", s.data_dir.to_str().unwrap())]).unwrap();
        assert_eq!(
            again.jwt_secret.expose_secret(),
            s.jwt_secret.expose_secret(),
            "a generated secret is kept across restarts"
        );
        std::fs::remove_dir_all(&s.data_dir).unwrap();
    }

    #[test]
    fn public_bind_means_secure_cookie() {
        let s = settings(&[("BIND_ADDR", "0.0.0.0:80"), ("JWT_SECRET", &"k".repeat(32))]).unwrap();
        assert!(s.cookie_secure);
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
