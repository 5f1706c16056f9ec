//! Two-factor login with an authenticator app: enrolment, the second login step
//! (cookie and bearer), replays, clock skew, the attempt budget and the lockout,
//! recovery codes, turning it off, an admin's reset, `MFA_REQUIRED`, and password
//! recovery that does not get around it. Codes are computed from the secret the
//! server hands out, as an authenticator app would.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{MfaChallenge, MfaRequired, RecoveryCodes, SessionState, User};

use harness::*;

/// Turns TOTP on for `client`'s account (password [`PASSWORD`]) with the code of
/// `step`.
async fn enrol(client: &Client, step: u64) -> (Authenticator, Vec<String>) {
    client.enrol_totp(PASSWORD, step).await
}

/// A login that must answer 202; returns its `mfa_token`.
async fn first_step(client: &Client, username: &str) -> String {
    let res = client.login(username, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "login of {username}");
    assert!(
        session_set_cookie(&res).is_none(),
        "no session before the code"
    );
    let challenge: MfaChallenge = json(res).await;
    assert!(challenge.mfa_required);
    challenge.mfa_token
}

async fn verify(client: &Client, body: Value) -> reqwest::Response {
    client.post("/api/v1/auth/mfa/verify", &body).await
}

async fn error_code(res: reqwest::Response) -> String {
    let body: Value = json(res).await;
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

db_test!(
    an_app_code_completes_the_login_once_within_one_step_of_skew,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        app.signup_verified(&client, &account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let step = fresh_step().await;

        let setup = client.totp_setup_ok(PASSWORD).await;
        assert_eq!(setup.secret.len(), 32, "160 bits in base32");
        assert!(
            setup.otpauth_uri.starts_with("otpauth://totp/")
                && setup.otpauth_uri.contains("ada")
                && setup.otpauth_uri.contains("issuer=User%20Management")
                && setup
                    .otpauth_uri
                    .contains(&format!("secret={}", setup.secret)),
            "{}",
            setup.otpauth_uri
        );
        assert!(setup.qr_svg.contains("<svg"), "an inline SVG");
        // Not on until confirmed: the login still takes the password alone.
        app.client().login_ok("ada", PASSWORD).await;

        let totp = Authenticator::new(&setup.secret);
        let wrong = client
            .post(
                "/api/v1/auth/mfa/totp/confirm",
                &json!({"code": totp.code(step, 5)}),
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        // The code of the step before (a phone's clock a little behind).
        let res = client
            .post(
                "/api/v1/auth/mfa/totp/confirm",
                &json!({"code": totp.code(step, -1)}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let codes: RecoveryCodes = json(res).await;
        assert_eq!(codes.recovery_codes.len(), 10);
        let me: User = json(client.me().await).await;
        let mfa = me.mfa.unwrap();
        assert!(mfa.totp && mfa.recovery_codes_left == 10 && mfa.passkeys == 0);
        app.mail
            .wait_for_subject("ada@example.com", "Two-factor sign-in", 1)
            .await;

        // The login now asks for the code.
        let browser = app.client();
        let token = first_step(&browser, "ada").await;
        assert_eq!(browser.me().await.status(), StatusCode::UNAUTHORIZED);
        let res = verify(
            &browser,
            json!({"mfa_token": token, "code": totp.code(step, 0)}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(session_set_cookie(&res).is_some());
        let user: User = json(res).await;
        assert_eq!(user.username, "ada");
        assert_eq!(browser.me().await.status(), StatusCode::OK);

        // The token is spent, and the same code (a replay) does not open another login.
        let again = verify(
            &browser,
            json!({"mfa_token": token, "code": totp.code(step, 0)}),
        )
        .await;
        assert_eq!(error_code(again).await, "mfa_token_invalid");
        let other = app.client();
        let token = first_step(&other, "ada").await;
        let replay = verify(
            &other,
            json!({"mfa_token": token, "code": totp.code(step, 0)}),
        )
        .await;
        assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(replay).await, "invalid_code");
        // Two steps out is outside the skew; the next step (a clock ahead) is inside.
        let far = verify(
            &other,
            json!({"mfa_token": token, "code": totp.code(step, 2)}),
        )
        .await;
        assert_eq!(error_code(far).await, "invalid_code");
        let ahead = verify(
            &other,
            json!({"mfa_token": token, "code": totp.code(step, 1)}),
        )
        .await;
        assert_eq!(ahead.status(), StatusCode::OK);

        // A bearer login is completed with a bearer token.
        let res = app
            .client()
            .post(
                "/api/v1/auth/token",
                &json!({"username": "ada", "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let token = json::<MfaChallenge>(res).await.mfa_token;
        let res = verify(
            &app.client(),
            json!({"mfa_token": token, "recovery_code": codes.recovery_codes[0]}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(session_set_cookie(&res).is_none());
        let body: Value = json(res).await;
        let bearer = body["access_token"].as_str().unwrap();
        let me = app.client().with_bearer(bearer).me().await;
        assert_eq!(me.status(), StatusCode::OK);

        let trail = audit_actions(&client).await;
        for action in ["mfa_enabled", "recovery_code_used"] {
            assert!(trail.iter().any(|a| a == action), "{action} in {trail:?}");
        }
    }
);

db_test!(
    each_login_step_allows_five_attempts_and_wrong_codes_count_toward_the_lockout,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout.threshold = 8)
            .spawn()
            .await;
        let (admin, _) = app.admin().await;
        let (client, user) = app.member(&admin, "grace", "user").await;
        let step = fresh_step().await;
        let (totp, _) = enrol(&client, step).await;

        let token = first_step(&app.client(), "grace").await;
        for _ in 0..5 {
            let res = verify(&client, json!({"mfa_token": token, "code": "000000"})).await;
            assert_eq!(error_code(res).await, "invalid_code");
        }
        let sixth = verify(
            &client,
            json!({"mfa_token": token, "code": totp.code(step, 1)}),
        )
        .await;
        assert_eq!(sixth.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            error_code(sixth).await,
            "mfa_token_invalid",
            "the budget is spent"
        );

        // A right password gives its own attempt back, but wrong codes stay counted
        // until a second factor passes: three more from unknown clients reach the
        // threshold of 8, the account locks for them, and even the right code cannot
        // finish such a login then.
        let token = first_step(&app.client(), "grace").await;
        for _ in 0..3 {
            let res = verify(&client, json!({"mfa_token": token, "code": "999999"})).await;
            assert_eq!(error_code(res).await, "invalid_code");
        }
        let locked = verify(
            &client,
            json!({"mfa_token": token, "code": totp.code(step, 1)}),
        )
        .await;
        assert_eq!(error_code(locked).await, "mfa_token_invalid");
        let shown = admin.user_ok(user.id).await;
        assert!(
            shown.locked_until.is_some(),
            "wrong codes locked the account"
        );

        // For unknown clients: the owner's own browser (its device cookie) still logs
        // in, its codes counting on that device.
        let token = first_step(&client, "grace").await;
        let res = verify(
            &client,
            json!({"mfa_token": token, "code": totp.code(step, 1)}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
);

db_test!(
    recovery_codes_are_single_use_and_renewing_them_voids_the_old_set,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        app.signup_verified(&client, &account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let (_, codes) = enrol(&client, fresh_step().await).await;

        let token = first_step(&app.client(), "ada").await;
        // As typed: any case, without the dash.
        let typed = codes[3].replace('-', "").to_uppercase();
        let res = verify(
            &app.client(),
            json!({"mfa_token": token, "recovery_code": typed}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let token = first_step(&app.client(), "ada").await;
        let reused = verify(
            &app.client(),
            json!({"mfa_token": token, "recovery_code": codes[3]}),
        )
        .await;
        assert_eq!(
            error_code(reused).await,
            "invalid_code",
            "a code works once"
        );
        let me: User = json(client.me().await).await;
        assert_eq!(me.mfa.unwrap().recovery_codes_left, 9);

        let wrong = client
            .post(
                "/api/v1/auth/mfa/recovery-codes",
                &json!({"current_password": "not it at all"}),
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        let res = client
            .post(
                "/api/v1/auth/mfa/recovery-codes",
                &json!({"current_password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let renewed: RecoveryCodes = json(res).await;
        assert_eq!(renewed.recovery_codes.len(), 10);
        let old = verify(
            &app.client(),
            json!({"mfa_token": token, "recovery_code": codes[4]}),
        )
        .await;
        assert_eq!(error_code(old).await, "invalid_code", "the old set is void");
        let new = verify(
            &app.client(),
            json!({"mfa_token": token, "recovery_code": renewed.recovery_codes[0]}),
        )
        .await;
        assert_eq!(new.status(), StatusCode::OK);
    }
);

db_test!(
    turning_it_off_needs_the_password_and_a_code,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        app.signup_verified(&client, &account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let step = fresh_step().await;
        let (totp, codes) = enrol(&client, step).await;
        let disable = |body: Value| {
            let client = client.clone();
            async move {
                client
                    .request(reqwest::Method::DELETE, "/api/v1/auth/mfa/totp")
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let no_code = disable(json!({"current_password": PASSWORD, "code": ""})).await;
        assert_eq!(no_code.status(), StatusCode::BAD_REQUEST);
        let bad_password =
            disable(json!({"current_password": "wrong password here", "code": totp.code(step, 1)}))
                .await;
        assert_eq!(bad_password.status(), StatusCode::BAD_REQUEST);
        let bad_code = disable(json!({"current_password": PASSWORD, "code": "123123"})).await;
        assert_eq!(bad_code.status(), StatusCode::BAD_REQUEST);
        let me: User = json(client.me().await).await;
        assert!(me.mfa.unwrap().totp, "still on after refusals");

        // A recovery code does it too (and is spent, and audited).
        let off = disable(json!({"current_password": PASSWORD, "code": codes[0]})).await;
        assert_eq!(off.status(), StatusCode::NO_CONTENT);
        let me: User = json(client.me().await).await;
        assert_eq!(me.mfa.unwrap(), shared::MfaSummary::default());
        app.client().login_ok("ada", PASSWORD).await;
        app.mail
            .wait_for_subject("ada@example.com", "Two-factor sign-in", 2)
            .await;
        let trail = audit_actions(&client).await;
        for action in ["mfa_disabled", "recovery_code_used"] {
            assert!(trail.iter().any(|a| a == action), "{action} in {trail:?}");
        }
    }
);

db_test!(an_admin_resets_a_users_second_factors, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (client, user) = app.member(&admin, "grace", "user").await;
    enrol(&client, fresh_step().await).await;
    assert!(
        admin.user_ok(user.id).await.mfa.unwrap().totp,
        "admins see it"
    );
    let (other, _) = app.member(&admin, "hopper", "user").await;
    let path = format!("/api/v1/users/{}/mfa", user.id);
    assert_eq!(other.delete(&path).await.status(), StatusCode::FORBIDDEN);
    let grace_seen: Value = json(other.get_user(user.id).await).await;
    assert!(
        grace_seen.get("mfa").is_none(),
        "others do not: {grace_seen}"
    );
    assert!(first_step(&app.client(), "grace").await.len() > 20);

    assert_eq!(admin.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        admin.user_ok(user.id).await.mfa.unwrap(),
        shared::MfaSummary::default()
    );
    app.client().login_ok("grace", PASSWORD).await;
    app.mail
        .wait_for_subject("grace@example.com", "Two-factor sign-in", 2)
        .await;
    let trail = audit_actions(&admin).await;
    assert!(trail.iter().any(|a| a == "mfa_reset"), "{trail:?}");
    assert_eq!(
        admin.delete("/api/v1/users/999999/mfa").await.status(),
        StatusCode::NOT_FOUND
    );
});

db_test!(
    mfa_required_for_admins_restricts_their_sessions_until_they_enrol,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.accounts.mfa_required = MfaRequired::Admins)
            .spawn()
            .await;
        // The first admin signs up and logs in with the password: a restricted session.
        let (admin, _) = app.admin().await;
        let state: SessionState = json(admin.get("/api/v1/auth/session").await).await;
        assert!(state.mfa_enrolment_required);
        assert!(state.user.is_some());
        assert_eq!(admin.me().await.status(), StatusCode::OK);
        let res = admin.get("/api/v1/users").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(error_code(res).await, "mfa_enrolment_required");
        let res = admin.update_me(&json!({"first_name": "Ada"})).await;
        assert_eq!(error_code(res).await, "mfa_enrolment_required");
        // A bearer session of the same account is held to the same rule.
        let bearer = app
            .client()
            .with_bearer(&app.client().token("admin", PASSWORD).await);
        assert_eq!(
            bearer.get("/api/v1/users").await.status(),
            StatusCode::FORBIDDEN
        );

        // Enrolment opens everything, in this very session.
        enrol(&admin, fresh_step().await).await;
        let state: SessionState = json(admin.get("/api/v1/auth/session").await).await;
        assert!(!state.mfa_enrolment_required);
        assert_eq!(admin.get("/api/v1/users").await.status(), StatusCode::OK);

        // Users are not covered; a new admin is, until it enrols too.
        let (user, _) = app.member(&admin, "grace", "user").await;
        assert_eq!(user.get("/api/v1/users").await.status(), StatusCode::OK);
        let (second, _) = app.member(&admin, "hopper", "admin").await;
        assert_eq!(
            second.get("/api/v1/users").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(second.logout().await.status(), StatusCode::NO_CONTENT);
        assert_eq!(second.me().await.status(), StatusCode::UNAUTHORIZED);
    }
);

db_test!(
    password_recovery_does_not_get_around_the_second_factor,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        app.signup_verified(&client, &account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        enrol(&client, fresh_step().await).await;

        let (_, code) = app
            .requested_code(&app.client(), "ada@example.com", 1)
            .await;
        let stranger = app.client();
        let flow = stranger.flow_token_ok("ada@example.com", &code).await;
        let reset = stranger.reset_token_ok(&flow).await;
        let new_password = "copper lantern orbit 9921";
        assert_eq!(
            stranger.reset(&reset, new_password).await.status(),
            StatusCode::NO_CONTENT
        );
        let res = stranger.login("ada", new_password).await;
        assert_eq!(
            res.status(),
            StatusCode::ACCEPTED,
            "the new password, then the code"
        );
        assert_eq!(stranger.me().await.status(), StatusCode::UNAUTHORIZED);
    }
);

/// The actions of the trail, newest first.
async fn audit_actions(admin: &Client) -> Vec<String> {
    audit_events(admin, "")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}
