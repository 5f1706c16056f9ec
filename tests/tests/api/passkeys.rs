//! Passkeys over the API, with a software authenticator (`harness::SoftPasskey`):
//! registering one (a discoverable key with user verification, named, audited and
//! mailed; the first brings recovery codes), signing in with it alone, giving it as
//! the second factor, and everything refused changing nothing: another origin, no
//! user verification, a replayed or unknown assertion, another account's ceremony.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{MfaChallenge, MfaMethod, MfaSummary, NewPasskey, Passkey, User};

use harness::*;

/// The origin a browser at the app would report (WebAuthn refuses IP addresses).
fn origin(app: &TestApp) -> String {
    app.address.replace("127.0.0.1", "localhost")
}

/// `client`'s account registers `key` under `name`.
async fn register(client: &Client, key: &mut SoftPasskey, name: &str) -> reqwest::Response {
    let res = client
        .post(
            "/api/v1/auth/passkeys/register/start",
            &json!({ "name": name }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "register/start");
    let options: Value = json(res).await;
    let credential = key.register(&options);
    client
        .post(
            "/api/v1/auth/passkeys/register/finish",
            &json!({ "credential": credential }),
        )
        .await
}

/// A passkey sign-in of a fresh client with `key`.
async fn passkey_login(app: &TestApp, key: &mut SoftPasskey) -> (Client, reqwest::Response) {
    let client = app.client();
    let res = client
        .post("/api/v1/auth/passkeys/login/start", &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "login/start");
    let options: Value = json(res).await;
    let assertion = key.sign(&options);
    let res = client
        .post("/api/v1/auth/passkeys/login/finish", &assertion)
        .await;
    (client, res)
}

async fn summary(client: &Client) -> MfaSummary {
    let me: User = json(client.me().await).await;
    me.mfa.expect("one's own summary")
}

db_test!(
    a_passkey_is_registered_and_then_signs_in_without_a_password,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let options: Value = json(
            admin
                .post("/api/v1/auth/passkeys/register/start", &json!({}))
                .await,
        )
        .await;
        let public_key = &options["publicKey"];
        assert_eq!(public_key["rp"]["id"], "localhost", "{options}");
        assert_eq!(public_key["user"]["name"], "admin");
        let selection = &public_key["authenticatorSelection"];
        assert_eq!(
            selection["residentKey"], "required",
            "discoverable: {options}"
        );
        assert_eq!(selection["userVerification"], "required");

        let mut key = SoftPasskey::new(&origin(&app));
        let res = register(&admin, &mut key, "Laptop").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let made: NewPasskey = json(res).await;
        assert_eq!(made.passkey.name, "Laptop");
        assert_eq!(made.recovery_codes.len(), 10, "the first second factor");
        let expected = MfaSummary {
            totp: false,
            passkeys: 1,
            recovery_codes_left: 10,
        };
        assert_eq!(summary(&admin).await, expected);
        let list: Vec<Passkey> = json(admin.get("/api/v1/auth/passkeys").await).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].last_used_at, None);

        // The same key again is refused by the browser (excluded) and by the server.
        let again = register(&admin, &mut key, "Twice").await;
        assert_eq!(again.status(), StatusCode::CONFLICT);

        // The passkey alone signs in: no password, no second step.
        let (client, res) = passkey_login(&app, &mut key).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(session_set_cookie(&res).is_some(), "a session cookie");
        let me: User = json(res).await;
        assert_eq!(me.username, "admin");
        assert_eq!(client.me().await.status(), StatusCode::OK);
        let list: Vec<Passkey> = json(admin.get("/api/v1/auth/passkeys").await).await;
        assert!(list[0].last_used_at.is_some(), "its use is recorded");

        // The password now asks for the second factor, a passkey among them.
        let res = app.client().login("admin", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let challenge: MfaChallenge = json(res).await;
        assert!(challenge.methods.contains(&MfaMethod::Webauthn));
        assert!(challenge.webauthn.is_some());

        let trail = audit_events(&admin, "action=passkey_added").await;
        assert_eq!(trail.len(), 1, "{trail:?}");
        app.mail
            .wait_for_subject("admin@example.com", "Two-factor sign-in", 1)
            .await;
    }
);

db_test!(a_passkey_serves_as_the_second_factor, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    admin.enrol_totp(PASSWORD, fresh_step().await).await;
    let mut key = SoftPasskey::new(&origin(&app));
    let made: NewPasskey = json(register(&admin, &mut key, "Phone").await).await;
    assert!(made.recovery_codes.is_empty(), "TOTP brought them already");

    let client = app.client();
    let challenge: MfaChallenge = json(client.login("admin", PASSWORD).await).await;
    let options = serde_json::to_value(challenge.webauthn.expect("passkey options")).unwrap();
    // What the key signs for a look-alike site, or an unknown key, passes nothing.
    key.origin = "http://localhost.evil:1".to_owned();
    let phished = key.sign(&options);
    key.origin = origin(&app);
    let unknown = SoftPasskey::new(&origin(&app)).sign(&options);
    for assertion in [phished, unknown] {
        let res = client
            .post(
                "/api/v1/auth/mfa/verify",
                &json!({ "mfa_token": challenge.mfa_token, "webauthn": assertion }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = client
        .post(
            "/api/v1/auth/mfa/verify",
            &json!({ "mfa_token": challenge.mfa_token, "webauthn": key.sign(&options) }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(client.me().await.status(), StatusCode::OK);
});

db_test!(refused_passkeys_change_nothing, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (member, _) = app.member(&admin, "grace", "user").await;

    // Made at another origin, or without user verification: not registered.
    let mut elsewhere = SoftPasskey::new("http://localhost.evil:1");
    assert_eq!(
        register(&admin, &mut elsewhere, "x").await.status(),
        StatusCode::BAD_REQUEST
    );
    let mut no_pin = SoftPasskey::new(&origin(&app));
    no_pin.verifies_user = false;
    assert_eq!(
        register(&admin, &mut no_pin, "x").await.status(),
        StatusCode::BAD_REQUEST
    );
    // Not a credential at all; a name too long.
    let res = admin
        .post(
            "/api/v1/auth/passkeys/register/finish",
            &json!({"credential": {"id": 1}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = admin
        .post(
            "/api/v1/auth/passkeys/register/start",
            &json!({"name": "n".repeat(65)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Another account's registration cannot be finished by this one.
    let options: Value = json(
        admin
            .post("/api/v1/auth/passkeys/register/start", &json!({}))
            .await,
    )
    .await;
    let mut key = SoftPasskey::new(&origin(&app));
    let res = member
        .post(
            "/api/v1/auth/passkeys/register/finish",
            &key.register(&options),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(summary(&admin).await, MfaSummary::default());
    assert_eq!(summary(&member).await, MfaSummary::default());
    // ... and left it to its own account, which finishes it.
    let res = admin
        .post(
            "/api/v1/auth/passkeys/register/finish",
            &key.register(&options),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Registered properly, then misused at sign-in.
    let mut key = SoftPasskey::new(&origin(&app));
    assert_eq!(
        register(&member, &mut key, "Key").await.status(),
        StatusCode::CREATED
    );
    let client = app.client();
    let options: Value = json(
        client
            .post(
                "/api/v1/auth/passkeys/login/start",
                &json!({"username": "grace"}),
            )
            .await,
    )
    .await;
    let assertion = key.sign(&options);
    let ok = client
        .post("/api/v1/auth/passkeys/login/finish", &assertion)
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let replayed = app
        .client()
        .post("/api/v1/auth/passkeys/login/finish", &assertion)
        .await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "single-use");
    key.verifies_user = false;
    let (_, res) = passkey_login(&app, &mut key).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "no user verification"
    );
    let mut stranger = SoftPasskey::new(&origin(&app));
    let (outsider, res) = passkey_login(&app, &mut stranger).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "an unknown key");
    assert_eq!(outsider.me().await.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client()
        .post("/api/v1/auth/passkeys/login/finish", &json!({"nope": true}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("serde") && !body.contains("missing field"),
        "{body}"
    );
});

db_test!(
    removing_the_last_passkey_turns_two_factor_sign_in_off,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (member, user) = app.member(&admin, "grace", "user").await;
        let mut key = SoftPasskey::new(&origin(&app));
        let made: NewPasskey = json(register(&member, &mut key, "Key").await).await;
        let path = format!("/api/v1/auth/passkeys/{}", made.passkey.id);
        assert_eq!(
            admin.delete(&path).await.status(),
            StatusCode::NOT_FOUND,
            "not theirs"
        );
        assert_eq!(summary(&member).await.passkeys, 1);

        assert_eq!(member.delete(&path).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(summary(&member).await, MfaSummary::default());
        app.client().login_ok("grace", PASSWORD).await;
        let (_, res) = passkey_login(&app, &mut key).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "removed keys sign nothing"
        );
        let trail = audit_events(&admin, "action=passkey_removed").await;
        assert_eq!(trail.len(), 1, "{trail:?}");

        // An admin's reset removes passkeys too.
        let mut key = SoftPasskey::new(&origin(&app));
        register(&member, &mut key, "Key 2").await;
        let reset = format!("/api/v1/users/{}/mfa", user.id);
        assert_eq!(admin.delete(&reset).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            admin.user_ok(user.id).await.mfa.unwrap(),
            MfaSummary::default()
        );
        let list: Vec<Passkey> = json(member.get("/api/v1/auth/passkeys").await).await;
        assert!(list.is_empty());
        let (_, res) = passkey_login(&app, &mut key).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
);
