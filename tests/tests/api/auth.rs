//! Signup, login, logout, tokens and the caller's own account.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{Role, User};

use harness::*;

db_test!(
    first_signup_becomes_admin_later_ones_users,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let first = client.signup_ok(&account("first")).await;
        let second = client.signup_ok(&account("second")).await;
        assert_eq!(first.role, Role::Admin);
        assert_eq!(second.role, Role::User);
        assert!(first.last_login_at.is_none());
    }
);

db_test!(signup_returns_the_user_without_secrets, |db| async move {
    let app = TestApp::spawn(db).await;
    let mut req = account("ada");
    req.username = "Ada".into();
    req.mobile = "+1 (555) 010-2030".into();
    let res = app.client().signup(&req).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "avatar_url",
            "created_at",
            "disabled_at",
            "email",
            "email_verified",
            "first_name",
            "id",
            "last_login_at",
            "last_name",
            "locked_until",
            "mfa",
            "mobile",
            "role",
            "updated_at",
            "username"
        ]
    );
    assert_eq!(body["username"], "ada", "usernames are stored lower-case");
    assert_eq!(body["mobile"], "+15550102030", "separators are dropped");
    let text = body.to_string();
    assert!(
        !text.contains(PASSWORD)
            && !text.contains("argon2")
            && !text.to_lowercase().contains("rex")
    );
});

db_test!(
    signup_rejects_each_invalid_field_with_a_message,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let cases: &[(&str, &str, Value)] = &[
            ("first_name", "empty first name", json!("  ")),
            ("last_name", "51-character last name", json!("x".repeat(51))),
            ("username", "too short", json!("ab")),
            ("username", "illegal character", json!("ada!")),
            ("email", "no @", json!("ada.example.com")),
            ("mobile", "too few digits", json!("12345")),
            ("mobile", "letters", json!("+1555abc1234")),
            ("password", "too short", json!("short")),
            ("password", "common password", json!("password123456")),
            ("password", "over 128 characters", json!("x".repeat(129))),
            ("security_question", "missing", json!("")),
            ("security_answer", "missing", json!(" ")),
        ];
        for (field, why, value) in cases {
            let mut body = serde_json::to_value(account("valid")).unwrap();
            body[*field] = value.clone();
            let (status, error) = error_of(client.post("/api/v1/auth/signup", &body).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{why}");
            assert_eq!(error["code"], "validation_failed", "{why}");
            assert!(error["fields"][field].is_string(), "{why}: {error}");
            assert_eq!(
                error["fields"].as_object().unwrap().len(),
                1,
                "{why}: only {field} is wrong: {error}"
            );
        }
        let (status, error) = error_of(client.post("/api/v1/auth/signup", &json!({})).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            error["fields"].as_object().unwrap().len(),
            8,
            "every missing field is named"
        );

        let mut same = account("valid");
        same.security_answer = same.password.to_uppercase();
        let (_, error) = error_of(client.signup(&same).await).await;
        assert_eq!(
            error["fields"]["security_answer"],
            "must not be the same as the password"
        );

        let mut personal = account("marguerite");
        personal.password = "marguerite1234".into();
        let (_, error) = error_of(client.signup(&personal).await).await;
        assert!(
            error["fields"]["password"]
                .as_str()
                .unwrap()
                .contains("too easy"),
            "{error}"
        );

        assert_eq!(
            client.get("/api/v1/users").await.status(),
            StatusCode::UNAUTHORIZED,
            "nothing was created"
        );
        client.signup_ok(&account("valid")).await;
    }
);

db_test!(
    duplicates_are_409_naming_the_field_case_insensitively,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let original = client.signup_ok(&account("ada")).await;
        let cases = [
            ("username", {
                let mut a = account("other");
                a.username = "ADA".into();
                a
            }),
            ("email", {
                let mut a = account("other");
                a.email = original.email.clone().unwrap().to_uppercase();
                a
            }),
            ("mobile", {
                let mut a = account("other");
                a.mobile = original.mobile.clone().unwrap();
                a
            }),
        ];
        let mut everything = account("ada");
        everything.mobile = original.mobile.clone().unwrap();
        let (status, error) = error_of(client.signup(&everything).await).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let fields = error["fields"].as_object().unwrap();
        assert_eq!(fields.len(), 3, "every taken field is named: {error}");
        for (field, req) in cases {
            let (status, error) = error_of(client.signup(&req).await).await;
            assert_eq!(status, StatusCode::CONFLICT, "{field}");
            assert_eq!(error["code"], "conflict");
            assert!(error["fields"][field].is_string(), "{field}: {error}");
        }
    }
);

db_test!(
    concurrent_signups_with_one_username_create_exactly_one,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let attempts = (0..8).map(|i| {
            let client = client.clone();
            let mut req = account("racer");
            req.email = format!("racer{i}@example.com");
            async move { client.signup(&req).await.status() }
        });
        let statuses = futures::future::join_all(attempts).await;
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let conflicts = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((created, conflicts), (1, 7), "{statuses:?}");
    }
);

db_test!(login_sets_a_hardened_session_cookie, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let res = client.login("ada", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = session_set_cookie(&res).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=1800"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "loopback over http: no Secure flag"
    );
    let user: User = res.json().await.unwrap();
    assert!(user.last_login_at.is_some());
    let me: User = json(client.me().await).await;
    assert_eq!(me.username, "ada");
});

db_test!(login_by_email_and_any_username_case, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    client.login_ok("ADA", PASSWORD).await;
    client.login_ok("Ada@Example.com", PASSWORD).await;
});

db_test!(login_failures_are_indistinguishable, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let wrong_password = client.login("ada", "not the right password").await;
    let unknown_user = client.login("nobody", PASSWORD).await;
    assert!(session_set_cookie(&wrong_password).is_none());
    let a = error_of(wrong_password).await;
    let b = error_of(unknown_user).await;
    assert_eq!(a.0, StatusCode::UNAUTHORIZED);
    assert_eq!(a, b, "same status and body");
    let (status, error) = error_of(client.post("/api/v1/auth/login", &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["fields"]["username"].is_string() && error["fields"]["password"].is_string());
});

db_test!(
    logout_revokes_the_session_and_clears_the_cookie,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        let login = client.login("ada", PASSWORD).await;
        let captured = cookie_pair(&session_set_cookie(&login).unwrap());

        let res = client.logout().await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let cleared = session_set_cookie(&res).expect("the cookie is cleared");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert_eq!(client.me().await.status(), StatusCode::UNAUTHORIZED);

        assert_eq!(
            app.me_with_cookie(&captured).await,
            StatusCode::UNAUTHORIZED,
            "a captured cookie is dead after logout"
        );
    }
);

db_test!(
    bearer_tokens_work_everywhere_and_skip_origin_checks,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        app.member(&admin, "bob", "user").await;
        let token = app.client_without_origin().token("admin", PASSWORD).await;
        let api = app.client_without_origin().with_bearer(&token);

        let me: User = json(api.me().await).await;
        assert_eq!(me.username, "admin");
        let page: Value = json(api.get("/api/v1/users?q=bob").await).await;
        let bob_id = page["items"][0]["id"].as_i64().unwrap();
        let res = api
            .request(reqwest::Method::DELETE, &format!("/api/v1/users/{bob_id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::NO_CONTENT,
            "no Origin, no content type: bearer is exempt"
        );

        let res = app
            .client_without_origin()
            .post(
                "/api/v1/auth/token",
                &json!({"username": "admin", "password": "wrong password!"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        let body: Value = json(
            app.client_without_origin()
                .post(
                    "/api/v1/auth/token",
                    &json!({"username": "admin", "password": PASSWORD}),
                )
                .await,
        )
        .await;
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 1800);

        let res = api.logout().await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            api.me().await.status(),
            StatusCode::UNAUTHORIZED,
            "logout revokes the token"
        );
    }
);

db_test!(forged_and_malformed_tokens_are_refused, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let token = client.token("ada", PASSWORD).await;
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, _signature) = rest.split_once('.').unwrap();

    let none_alg = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let bad_signature = format!("{header}.{payload}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    for (why, bad) in [
        ("alg none", none_alg.as_str()),
        ("bad signature", bad_signature.as_str()),
        ("garbage", "not-a-jwt"),
        ("empty", ""),
    ] {
        let res = app.client_without_origin().with_bearer(bad).me().await;
        let (status, error) = error_of(res).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(error["code"], "unauthorized");
    }
    // The same claims (so the same live session) signed with another key.
    let claims: Value = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .unwrap()
        .claims;
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another secret of at least 32 bytes!"),
    )
    .unwrap();
    let res = app.client_without_origin().with_bearer(&forged).me().await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "signed with another secret"
    );
    assert_eq!(
        app.client_without_origin()
            .with_bearer(&token)
            .me()
            .await
            .status(),
        StatusCode::OK,
        "while the genuine token works"
    );
});

db_test!(update_me_changes_only_profile_fields, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, admin_user) = app.admin().await;
    let (bob, bob_user) = app.member(&admin, "bob", "user").await;

    let res = bob
        .update_me(&json!({"first_name": "Robert", "role": "admin", "id": 1}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: User = res.json().await.unwrap();
    assert_eq!(me.first_name, "Robert");
    assert_eq!(me.role, Role::User, "role in PUT /auth/me changes nothing");
    assert_eq!(me.id, bob_user.id);
    assert_eq!(me.last_name, bob_user.last_name, "absent fields stay");
    assert!(me.updated_at >= bob_user.updated_at);

    let res = bob
        .update_me(&json!({"email": "Robert@Example.org", "current_password": PASSWORD}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: User = res.json().await.unwrap();
    assert_eq!(
        me.pending_email.as_deref(),
        Some("robert@example.org"),
        "emails are stored lower-case, and held until verified"
    );
    assert_eq!(me.email, bob_user.email, "the old address stays until then");

    // Someone else's address: the same answer, and its holder is told.
    let admin_email = admin_user.email.clone().unwrap();
    let res = bob
        .update_me(&json!({"email": admin_email.to_uppercase(), "current_password": PASSWORD}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: User = res.json().await.unwrap();
    assert_eq!(me.pending_email.as_deref(), Some(admin_email.as_str()));
    app.mail
        .wait_for_subject(&admin_email, subjects::ADDRESS_IN_USE, 1)
        .await;

    let (status, error) = error_of(bob.update_me(&json!({"mobile": "call me"})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["fields"]["mobile"].is_string());

    let (status, error) = error_of(
        bob.update_me(&json!({"security_question": "Favourite colour?"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["fields"]["security_answer"].is_string(),
        "a new question needs its answer"
    );
    let change = json!({"security_question": "Favourite colour?", "security_answer": "teal", "current_password": PASSWORD});
    let res = bob.update_me(&change).await;
    assert_eq!(res.status(), StatusCode::OK);
});

db_test!(password_change_ends_every_old_session, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let login = client.login("ada", PASSWORD).await;
    let captured = cookie_pair(&session_set_cookie(&login).unwrap());
    let other_device = app.client();
    other_device.login_ok("ada", PASSWORD).await;
    let token = app.client_without_origin().token("ada", PASSWORD).await;
    let new_password = "tangerine lighthouse 9081";

    let (status, error) = error_of(
        client
            .post(
                "/api/v1/auth/password",
                &json!({"current_password": "wrong one, sorry", "new_password": new_password}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["fields"]["current_password"], "is incorrect");

    let (status, error) = error_of(client.change_password(PASSWORD, "adaadaadaada1").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["fields"]["new_password"].is_string());

    let res = client.change_password(PASSWORD, new_password).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        session_set_cookie(&res).is_some(),
        "the caller gets a fresh session"
    );
    assert_eq!(
        client.me().await.status(),
        StatusCode::OK,
        "and stays logged in"
    );

    assert_eq!(other_device.me().await.status(), StatusCode::UNAUTHORIZED);
    let bearer = app.client_without_origin().with_bearer(&token);
    assert_eq!(bearer.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.me_with_cookie(&captured).await,
        StatusCode::UNAUTHORIZED,
        "the captured cookie is dead"
    );

    assert_eq!(
        app.client().login("ada", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.client().login_ok("ada", new_password).await;
});

db_test!(
    concurrent_first_signups_make_exactly_one_admin,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let signups = (0..6).map(|i| {
            let client = client.clone();
            async move { client.signup_ok(&account(&format!("early{i}"))).await }
        });
        let users = futures::future::join_all(signups).await;
        let admins = users.iter().filter(|u| u.role == Role::Admin).count();
        assert_eq!(admins, 1, "{users:?}");
        let later = client.signup_ok(&account("later")).await;
        assert_eq!(later.role, Role::User);
    }
);

db_test!(
    logout_without_a_session_still_clears_the_cookie,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        assert_eq!(client.logout().await.status(), StatusCode::NO_CONTENT);
        let again = client.logout().await;
        assert_eq!(again.status(), StatusCode::NO_CONTENT, "idempotent");
        assert!(session_set_cookie(&again).unwrap().contains("Max-Age=0"));
        assert_eq!(app.client().logout().await.status(), StatusCode::NO_CONTENT);
    }
);

db_test!(
    the_session_state_answers_200_signed_in_or_out,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let state = |res: reqwest::Response| async move {
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["cache-control"], "no-store");
            let body: Value = json(res).await;
            body["user"]["username"].as_str().map(str::to_owned)
        };

        // Nobody logged in: an answer, not a 401.
        assert_eq!(state(client.get("/api/v1/auth/session").await).await, None);
        client.signup_ok(&account("ada")).await;
        let login = client.login("ada", PASSWORD).await;
        let cookie = cookie_pair(&session_set_cookie(&login).expect("a session cookie"));
        let session = client.get("/api/v1/auth/session").await;
        assert_eq!(state(session).await.as_deref(), Some("ada"));
        let token = client.token("ada", PASSWORD).await;
        let bearer = app.client().with_bearer(&token);
        let session = bearer.get("/api/v1/auth/session").await;
        assert_eq!(state(session).await.as_deref(), Some("ada"));

        // A cookie whose session has ended is no session, and is cleared.
        assert_eq!(
            app.logout_with_cookie(&cookie).await,
            StatusCode::NO_CONTENT
        );
        let stale = app
            .client()
            .request(reqwest::Method::GET, "/api/v1/auth/session")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let cleared = session_set_cookie(&stale).expect("the ended cookie is cleared");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert_eq!(state(stale).await, None);
        // A token that is no token is no session either.
        let forged = app.client().with_bearer("not-a-token");
        assert_eq!(state(forged.get("/api/v1/auth/session").await).await, None);
    }
);

db_test!(
    other_authorization_schemes_leave_the_cookie_in_charge,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let res = client
            .request(reqwest::Method::GET, "/api/v1/auth/me")
            .header("Authorization", "Basic cHJveHk6cGFzcw==")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
);

db_test!(secure_cookies_use_the_host_prefix, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.http.cookie_secure = true)
        .spawn()
        .await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let res = client.login("ada", PASSWORD).await;
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-session="))
        .expect("a __Host-session cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(
        !cookie.contains("Domain="),
        "__Host- cookies have no Domain"
    );
});

/// The estimator touches no table, so one backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_strength_scores_like_the_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let client = app.client();
    let score = |res: Value| (res["score"].as_u64().unwrap(), res["feedback"].clone());

    let weak: Value = json(
        client
            .post(
                "/api/v1/auth/password-strength",
                &json!({"password": "password1234"}),
            )
            .await,
    )
    .await;
    let (weak_score, advice) = score(weak);
    assert!(weak_score < 3, "a common password scores below the policy");
    assert!(advice.as_str().is_some_and(|a| !a.is_empty()), "{advice}");

    let strong: Value = json(
        client
            .post(
                "/api/v1/auth/password-strength",
                &json!({"password": PASSWORD}),
            )
            .await,
    )
    .await;
    assert!(score(strong).0 >= 3, "the test password passes the policy");

    // The account's own names count as known words, as on signup.
    let own_name = json!({"password": "adalovelace1815", "user_inputs": ["adalovelace"]});
    let res = client
        .post("/api/v1/auth/password-strength", &own_name)
        .await;
    assert!(score(json::<Value>(res).await).0 < 3);

    let (status, body) = error_of(
        client
            .post(
                "/api/v1/auth/password-strength",
                &json!({"password": "x".repeat(1025)}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["fields"]["password"], "must be at most 128 characters");
}
