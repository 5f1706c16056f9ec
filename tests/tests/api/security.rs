//! Cross-site request rules, CORS, session expiry and renewal, error hygiene.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use harness::*;

/// A cookie-authenticated request built by hand, so each header can be varied.
async fn cookie_put(
    app: &TestApp,
    cookie: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> reqwest::Response {
    let mut req = app
        .client_without_origin()
        .http
        .request(Method::PUT, format!("{}/api/v1/auth/me", app.address))
        .header("Cookie", cookie)
        .body(body.to_owned());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

db_test!(
    cookie_requests_need_an_allowed_origin_and_json,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        let cookie =
            cookie_pair(&session_set_cookie(&client.login("ada", PASSWORD).await).unwrap());
        let body = r#"{"first_name":"Changed"}"#;
        let own = app.address.as_str();
        let own_page = format!("{own}/profile");
        let json_ct = ("Content-Type", "application/json");

        for (why, headers, expected) in [
            ("no Origin or Referer", vec![json_ct], StatusCode::FORBIDDEN),
            (
                "foreign Origin",
                vec![json_ct, ("Origin", "https://evil.example")],
                StatusCode::FORBIDDEN,
            ),
            (
                "foreign Referer",
                vec![json_ct, ("Referer", "https://evil.example/x")],
                StatusCode::FORBIDDEN,
            ),
            (
                "form content type",
                vec![
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Origin", own),
                ],
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "text/plain",
                vec![("Content-Type", "text/plain"), ("Origin", own)],
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "no content type",
                vec![("Origin", own)],
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
        ] {
            let (status, _) = error_of(cookie_put(&app, &cookie, &headers, body).await).await;
            assert_eq!(status, expected, "{why}");
        }
        let me: Value = json(client.me().await).await;
        assert_ne!(me["first_name"], "Changed", "nothing changed");

        let ok = cookie_put(&app, &cookie, &[json_ct, ("Referer", &own_page)], body).await;
        assert_eq!(
            ok.status(),
            StatusCode::OK,
            "a same-origin Referer is enough"
        );
        let ok = cookie_put(
            &app,
            &cookie,
            &[
                ("Content-Type", "application/json; charset=utf-8"),
                ("Origin", own),
            ],
            body,
        )
        .await;
        assert_eq!(ok.status(), StatusCode::OK);

        let res = app
            .client_without_origin()
            .http
            .post(format!("{}/api/v1/auth/logout", app.address))
            .header("Cookie", &cookie)
            .header(CONTENT_TYPE, "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "logout is a state change too"
        );
        assert_eq!(client.me().await.status(), StatusCode::OK);
    }
);

db_test!(foreign_origins_cannot_log_in_or_sign_up, |db| async move {
    let app = TestApp::spawn(db).await;
    app.client().signup_ok(&account("ada")).await;
    let http = &app.client_without_origin().http;
    let res = http
        .post(format!("{}/api/v1/auth/login", app.address))
        .header(ORIGIN, "https://evil.example")
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, _) = error_of(res).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        app.client_without_origin()
            .login("ada", PASSWORD)
            .await
            .status()
            .is_success(),
        "clients that send no Origin (curl, servers) are fine"
    );
});

db_test!(
    configured_origins_get_cors_with_credentials,
    |db| async move {
        let spa = "http://localhost:5173";
        let app = TestApp::builder(db)
            .with(|s| s.http.allowed_origins = vec![spa.to_owned()])
            .spawn()
            .await;
        app.client().signup_ok(&account("ada")).await;
        let http = &app.client_without_origin().http;
        let preflight = http
            .request(
                Method::OPTIONS,
                format!("{}/api/v1/auth/login", app.address),
            )
            .header(ORIGIN, spa)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success());
        let h = preflight.headers();
        assert_eq!(h["access-control-allow-origin"], spa);
        assert_eq!(h["access-control-allow-credentials"], "true");

        let res = http
            .post(format!("{}/api/v1/auth/login", app.address))
            .header(ORIGIN, spa)
            .json(&json!({"username": "ada", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["access-control-allow-origin"], spa);

        let res = http
            .get(format!("{}/health", app.address))
            .header(ORIGIN, "https://evil.example")
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("access-control-allow-origin").is_none());
    }
);

db_test!(sessions_expire_after_the_configured_ttl, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.session.ttl = Duration::from_secs(2))
        .spawn()
        .await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let login = client.login("ada", PASSWORD).await;
    assert!(session_set_cookie(&login).unwrap().contains("Max-Age=2"));
    let token = app.client_without_origin().token("ada", PASSWORD).await;
    let bearer = app.client_without_origin().with_bearer(&token);
    assert_eq!(bearer.me().await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let cookie = cookie_pair(&session_set_cookie(&login).unwrap());
    assert_eq!(
        app.me_with_cookie(&cookie).await,
        StatusCode::UNAUTHORIZED,
        "the server-side session expired"
    );
    assert_eq!(bearer.me().await.status(), StatusCode::UNAUTHORIZED);
});

db_test!(
    active_cookie_sessions_are_renewed_past_half_their_life,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.session.ttl = Duration::from_secs(4))
            .spawn()
            .await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let early = client.me().await;
        assert!(
            session_set_cookie(&early).is_none(),
            "no renewal in the first half"
        );
        tokio::time::sleep(Duration::from_millis(2600)).await;
        let renewed = client.me().await;
        let cookie = session_set_cookie(&renewed).expect("renewed in the second half");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        tokio::time::sleep(Duration::from_millis(2600)).await;
        assert_eq!(
            client.me().await.status(),
            StatusCode::OK,
            "5.2 s after login, alive thanks to the renewal"
        );
    }
);

db_test!(renewal_stops_at_the_absolute_lifetime, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| {
            s.session.ttl = Duration::from_secs(4);
            s.session.absolute_ttl = Duration::from_secs(5);
        })
        .spawn()
        .await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    client.login_ok("ada", PASSWORD).await;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(2600)).await;
        let _ = client.me().await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(client.me().await.status(), StatusCode::UNAUTHORIZED);
});

db_test!(
    bad_bodies_get_json_errors_and_change_nothing,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let url = format!("{}/api/v1/auth/signup", app.address);
        let cases = [
            (
                "malformed JSON",
                "application/json",
                "{\"username\": ".to_owned(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "wrong type",
                "application/json",
                r#"{"username": 42}"#.to_owned(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "not JSON at all",
                "text/plain",
                "hello".to_owned(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "too large",
                "application/json",
                format!(r#"{{"first_name": "{}"}}"#, "x".repeat(70_000)),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (why, content_type, body, expected) in cases {
            let res = client
                .http
                .post(&url)
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, _) = error_of(res).await;
            assert_eq!(status, expected, "{why}");
        }
        let res = client.http.post(&url).body("{}").send().await.unwrap();
        assert_eq!(
            error_of(res).await.0,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "missing content type"
        );
        for (method, path, expected) in [
            (Method::GET, "/api/v1/nothing-here", StatusCode::NOT_FOUND),
            (Method::GET, "/nothing-here", StatusCode::NOT_FOUND),
            (Method::GET, "/api/v1/auth/login", StatusCode::NOT_FOUND),
        ] {
            let res = client.request(method, path).send().await.unwrap();
            assert_eq!(error_of(res).await.0, expected, "{path}");
        }
        let (status, error) = error_of(client.me().await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
        client.signup_ok(&account("ada")).await;
    }
);

db_test!(responses_never_leak_internals, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let mut dupe = account("ada");
    dupe.email = "other@example.com".into();
    let probes = vec![
        client.signup(&dupe).await,
        client
            .post(
                "/api/v1/auth/login",
                &json!({"username": "' OR 1=1 --", "password": "x"}),
            )
            .await,
        client
            .get("/api/v1/users?q=%27%3B%20DROP%20TABLE%20users%3B%20--")
            .await,
        client
            .request(Method::POST, "/api/v1/auth/signup")
            .header(CONTENT_TYPE, "application/json")
            .body("[1,2")
            .send()
            .await
            .unwrap(),
        client
            .request(Method::POST, "/api/v1/auth/signup")
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"username": {"$ne": null}}"#)
            .send()
            .await
            .unwrap(),
    ];
    for res in probes {
        let status = res.status();
        let text = res.text().await.unwrap();
        for needle in [
            "sql",
            "SQL",
            "sqlx",
            "sea_orm",
            "Duplicate entry",
            "UNIQUE constraint",
            "/work/",
            ".rs:",
            "panicked",
            "users_username_key",
            "line 1 column",
        ] {
            assert!(!text.contains(needle), "{status} leaks {needle:?}: {text}");
        }
        assert!(status.is_client_error(), "{status}: {text}");
    }
    client.login_ok("ada", PASSWORD).await;
    assert_eq!(
        json::<Value>(client.get("/api/v1/users").await).await["total"],
        1,
        "the users table survived"
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_database_gives_fast_503s() {
    let (relay, app) = TestApp::behind_relay().await;
    let (admin, _) = app.admin().await;
    assert_eq!(admin.get("/ready").await.status(), StatusCode::OK);

    relay.cut();
    for path in ["/ready", "/api/v1/users"] {
        let started = std::time::Instant::now();
        let (status, error) = error_of(admin.get(path).await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {error}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        admin.get("/health").await.status(),
        StatusCode::OK,
        "liveness does not need the database"
    );
    // Reconnect so the test database can be dropped through the relay.
    relay.restore();
}
