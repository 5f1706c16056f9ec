//! An authenticator app for tests: RFC 6238 codes (the `totp-rs` crate) from the
//! secret the server hands out at `POST /auth/mfa/totp/setup`, and the calls that turn
//! two-factor sign-in on.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::json;
use shared::{RecoveryCodes, TotpSetup};
use totp_rs::{Builder, Secret, Totp};

use crate::{Client, json};

const STEP: u64 = 30;

/// An app holding one secret.
pub struct Authenticator(Totp);

impl Authenticator {
    pub fn new(secret: &str) -> Self {
        let bytes = Secret::try_from_base32(secret).expect("a base32 secret");
        Self(Builder::new().with_secret(bytes).build().expect("a TOTP"))
    }

    /// The code of the step `offset` steps from `step`.
    pub fn code(&self, step: u64, offset: i64) -> String {
        let at = step.checked_add_signed(offset).expect("a step after 1970") * STEP;
        self.0.generate(at).to_string()
    }
}

/// The current 30 s step, waiting first if it ends within 8 s, so a test's codes do
/// not straddle a step boundary.
pub async fn fresh_step() -> u64 {
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    };
    let left = STEP - now() % STEP;
    if left < 8 {
        tokio::time::sleep(Duration::from_secs(left + 1)).await;
    }
    now() / STEP
}

impl Client {
    /// `POST /auth/mfa/totp/setup` with `password`, which must succeed.
    pub async fn totp_setup_ok(&self, password: &str) -> TotpSetup {
        let res = self
            .post(
                "/api/v1/auth/mfa/totp/setup",
                &json!({"current_password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "TOTP setup");
        json(res).await
    }

    /// Turns TOTP on with the code of `step`: the app and the recovery codes.
    pub async fn enrol_totp(&self, password: &str, step: u64) -> (Authenticator, Vec<String>) {
        let setup = self.totp_setup_ok(password).await;
        let app = Authenticator::new(&setup.secret);
        let res = self
            .post(
                "/api/v1/auth/mfa/totp/confirm",
                &json!({"code": app.code(step, 0)}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "TOTP confirm");
        let codes: RecoveryCodes = json(res).await;
        (app, codes.recovery_codes)
    }
}
