//! `GET /metrics`: what an operator's Prometheus scrapes, and who may.

use reqwest::StatusCode;
use secrecy::SecretString;

use harness::*;

/// The value of the sample `series` (name and labels exactly as written), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

async fn scrape(client: &Client) -> String {
    let res = client.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    res.text().await.unwrap()
}

db_test!(
    metrics_count_requests_hashing_refusals_and_the_pool,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, me) = app.admin().await;
        let before = scrape(&app.client()).await;
        let route = r#"http_requests_total{method="GET",route="/api/v1/users/{id}",status="200"}"#;
        let seen = sample(&before, route).unwrap_or(0.0);
        for _ in 0..3 {
            assert_eq!(
                admin
                    .get(&format!("/api/v1/users/{}", me.id))
                    .await
                    .status(),
                StatusCode::OK
            );
        }
        let stranger = app.client();
        let res = stranger
            .login(&me.username, "not the password at all")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // A made-up method is one "other" series, not a new one per token.
        let odd = reqwest::Method::from_bytes(b"BREW").unwrap();
        stranger
            .request(odd, "/api/v1/auth/me")
            .send()
            .await
            .unwrap();

        let after = scrape(&app.client()).await;
        assert!(!after.contains("BREW"), "{after}");
        assert!(after.contains(r#"method="other""#), "{after}");
        // Counted under the route template, not one series per id.
        assert_eq!(sample(&after, route), Some(seen + 3.0), "{after}");
        assert!(!after.contains(&format!("/api/v1/users/{}\"", me.id)));
        assert!(
            sample(
                &after,
                r#"http_request_duration_seconds_count{method="GET",route="/api/v1/users/{id}"}"#
            )
            .is_some_and(|n| n >= 3.0)
        );
        assert!(
            sample(&after, r#"login_failures_total{reason="wrong_password"}"#)
                .is_some_and(|n| n >= 1.0),
            "{after}"
        );
        // Each login hashed after waiting for a permit; none runs now.
        assert!(
            sample(
                &after,
                r#"password_hashing_queue_wait_seconds_count{lane="login"}"#
            )
            .is_some_and(|n| n >= 1.0),
            "{after}"
        );
        assert_eq!(sample(&after, "password_hashing_permits_in_use"), Some(0.0));
        // And each took the time of an argon2id check (well over a millisecond).
        let hashes = sample(&after, "password_hashing_seconds_count").unwrap_or(0.0);
        let hashing = sample(&after, "password_hashing_seconds_sum").unwrap_or(0.0);
        assert!(hashes >= 1.0, "{after}");
        assert!(hashing / hashes > 0.001, "{after}");
        assert!(sample(&after, r#"db_pool_connections{state="max"}"#).is_some_and(|n| n >= 1.0));
        assert!(sample(&after, "db_pool_acquire_seconds_count").is_some_and(|n| n >= 1.0));
        assert_eq!(sample(&after, r#"mail_queue{state="failed"}"#), Some(0.0));
    }
);

db_test!(a_metrics_token_admits_only_its_bearer, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.http.metrics_token = Some(SecretString::from("scrape-me-0123456789")))
        .spawn()
        .await;
    let client = app.client();
    let with = |token: &'static str| {
        let client = client.clone();
        async move {
            client
                .http
                .get(format!("{}/metrics", client.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(with("scrape-me-0123456789").await, StatusCode::OK);
    assert_eq!(with("scrape-me-0123456780").await, StatusCode::NOT_FOUND);
});
