//! Abuse resistance: per-account lockout, per-IP throttling, security headers,
//! request limits and disabled accounts.

use std::time::Duration;

use backend::auth::lockout::LockoutPolicy;
use backend::http::client_ip::TrustedProxies;
use backend::http::throttle::RateLimit;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::json;
use shared::User;

use harness::*;

const WRONG: &str = "not the password at all";

fn lockout(threshold: u32, base_seconds: i64, max_seconds: i64) -> LockoutPolicy {
    LockoutPolicy {
        threshold,
        base: chrono::Duration::seconds(base_seconds),
        max: chrono::Duration::seconds(max_seconds),
    }
}

db_test!(
    lockout_refuses_even_the_right_password_until_an_admin_unlocks,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout = lockout(3, 600, 900))
            .spawn()
            .await;
        let (admin, _) = app.admin().await;
        let (_, bob) = app.member(&admin, "bob", "user").await;
        let client = app.client();

        let wrong_body = error_of(client.login("bob", WRONG).await).await;
        for _ in 0..2 {
            assert_eq!(
                client.login("bob", WRONG).await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let locked = admin.user_ok(bob.id).await;
        assert!(locked.locked_until.is_some_and(|until| until > Utc::now()));

        let locked_body = error_of(client.login("bob", PASSWORD).await).await;
        assert_eq!(
            locked_body, wrong_body,
            "a locked account gets exactly the wrong-password answer"
        );
        let res = client
            .post(
                "/api/v1/auth/token",
                &json!({"username": "bob", "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "tokens too");

        let events = audit_events(&admin, &format!("action=lockout&target={}", bob.id)).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["detail"]["failures"], 3);
        let refused = audit_events(&admin, &format!("action=login&target={}", bob.id)).await;
        assert!(
            refused
                .iter()
                .any(|e| e["outcome"] == "failure" && e["detail"]["reason"] == "locked"),
            "{refused:?}"
        );

        // Users cannot unlock; admins can.
        let (member, _) = app.member(&admin, "carol", "user").await;
        let path = format!("/api/v1/users/{}/unlock", bob.id);
        assert_eq!(
            member.post(&path, &json!({})).await.status(),
            StatusCode::FORBIDDEN
        );
        let unlocked: User = json(admin.post(&path, &json!({})).await).await;
        assert_eq!(unlocked.locked_until, None);
        client.login_ok("bob", PASSWORD).await;
        assert_eq!(
            audit_events(&admin, &format!("action=unlock&target={}", bob.id))
                .await
                .len(),
            1
        );
    }
);

db_test!(a_success_clears_the_failure_count, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.lockout = lockout(3, 600, 900))
        .spawn()
        .await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    for _ in 0..2 {
        client.login("ada", WRONG).await;
    }
    client.login_ok("ada", PASSWORD).await;
    for _ in 0..2 {
        client.login("ada", WRONG).await;
    }
    client.login_ok("ada", PASSWORD).await;
});

db_test!(lockout_waits_grow_after_each_failure, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.lockout = lockout(2, 2, 60))
        .spawn()
        .await;
    let (admin, _) = app.admin().await;
    let (_, bob) = app.member(&admin, "bob", "user").await;
    let client = app.client();
    let wait_of = |user: &User| {
        (user.locked_until.expect("locked") - Utc::now()).num_milliseconds() as f64 / 1000.0
    };

    client.login("bob", WRONG).await;
    client.login("bob", WRONG).await;
    let first = wait_of(&admin.user_ok(bob.id).await);
    assert!((0.5..=2.5).contains(&first), "first lock ~2 s: {first}");

    // Once the lock lapses, the next failure locks again for twice as long.
    let until = admin.user_ok(bob.id).await.locked_until.unwrap();
    sleep_until(until).await;
    client.login("bob", WRONG).await;
    let second = wait_of(&admin.user_ok(bob.id).await);
    assert!((2.5..=4.5).contains(&second), "second lock ~4 s: {second}");
});

db_test!(
    a_burst_of_right_passwords_for_one_account_all_get_in,
    |db| async move {
        // More logins at once than the lockout threshold and the session cap: an
        // integration whose workers all log in with one service account at start-up.
        let app = TestApp::builder(db)
            .with(|s| {
                s.lockout = lockout(5, 600, 900);
                s.limits.rate = rate(1000, 1000);
                s.session.max_per_account = 8;
            })
            .spawn()
            .await;
        let (admin, _) = app.admin().await;
        let (before, bob) = app.member(&admin, "bob", "user").await;
        let clients: Vec<_> = (0..24).map(|_| app.client()).collect();
        let logins = clients
            .iter()
            .map(|client| async move { client.login("bob", PASSWORD).await.status() });
        let statuses = futures::future::join_all(logins).await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "every right password gets in, none is taken for a guess: {statuses:?}"
        );
        let bob_now: User = json(admin.get(&format!("/api/v1/users/{}", bob.id)).await).await;
        assert_eq!(bob_now.locked_until, None, "right passwords lock nothing");
        // The cap holds over every session bob has: the one from before and the burst's.
        let clients: Vec<_> = std::iter::once(&before).chain(&clients).collect();
        let live = futures::future::join_all(clients.iter().map(|c| c.me())).await;
        let working: Vec<_> = clients
            .iter()
            .zip(&live)
            .filter(|(_, me)| me.status() == StatusCode::OK)
            .map(|(client, _)| client)
            .collect();
        assert!(
            (1..=8).contains(&working.len()),
            "{} sessions work; the cap is 8",
            working.len()
        );
        assert_eq!(working[0].sessions_ok().await.len(), working.len());
        assert_eq!(
            app.client().login("bob", WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
);

async fn sleep_until(at: DateTime<Utc>) {
    let left = (at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(1100)).await;
}

db_test!(
    parallel_wrong_passwords_are_checked_at_most_threshold_times,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout = lockout(5, 600, 900))
            .spawn()
            .await;
        let (admin, _) = app.admin().await;
        let (_, bob) = app.member(&admin, "bob", "user").await;
        let attempts = (0..30).map(|_| {
            let client = app.client();
            async move { client.login("bob", WRONG).await.status() }
        });
        let statuses = futures::future::join_all(attempts).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED));

        let failures = audit_events(&admin, &format!("action=login&target={}", bob.id))
            .await
            .into_iter()
            .filter(|e| e["outcome"] == "failure")
            .collect::<Vec<_>>();
        // Repeated failures from one source are one row with a count.
        let times = |e: &serde_json::Value| e["repeats"].as_u64().unwrap();
        let checked: u64 = failures
            .iter()
            .filter(|e| e["detail"]["reason"] == "wrong_password")
            .map(times)
            .sum();
        assert_eq!(
            checked, 5,
            "only the threshold's worth of passwords was checked"
        );
        assert_eq!(failures.iter().map(times).sum::<u64>(), 30);
        // Runs of the same refusal are one row each; each checked password can
        // break a run of "locked" in two.
        assert!(failures.len() <= 11, "aggregated: {failures:?}");
        assert_eq!(
            app.client().login("bob", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
);

fn rate(per_minute: u32, burst: u32) -> RateLimit {
    RateLimit { per_minute, burst }
}

/// Throttling is in memory, per instance: one database backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_from_one_ip_run_into_429_with_retry_after() {
    let app = TestApp::builder(Backend::Sqlite)
        .with(|s| s.limits.rate = rate(6, 3))
        .spawn()
        .await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    // Successful logins never spend the allowance.
    for _ in 0..6 {
        client.login_ok("ada", PASSWORD).await;
    }
    // Failures do: three fit the burst; the fourth is refused before it is checked.
    for _ in 0..3 {
        assert_eq!(
            client.login("ada", WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        client.login("ada", WRONG).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Now everything from this address waits, the right password too, whatever
    // the client claims in X-Forwarded-For (no proxy is trusted here).
    let res = client
        .request(reqwest::Method::POST, "/api/v1/auth/token")
        .header("X-Forwarded-For", "198.51.100.7")
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    assert!(
        res.headers().contains_key("content-security-policy"),
        "a refusal carries the security headers too"
    );
    let (status, error) = error_of(res).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error["code"], "too_many_requests");
    assert_eq!(
        client.login("ada", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other endpoints are not throttled.
    assert_eq!(client.get("/health").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recovery_request_counts() {
    let app = TestApp::builder(Backend::Sqlite)
        .with(|s| s.limits.rate = rate(6, 3))
        .spawn()
        .await;
    let client = app.client();
    let forgot = json!({"method": "email", "identifier": "ada@example.com"});
    for _ in 0..3 {
        let res = client.post("/api/v1/password/forgot", &forgot).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let res = client
        .post(
            "/api/v1/password/verify-otp",
            &json!({"method": "email", "identifier": "ada@example.com", "otp": "123456"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let app = TestApp::builder(Backend::Sqlite)
        .with(|s| {
            s.limits.rate = rate(1, 1);
            s.http.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        })
        .spawn()
        .await;
    let client = app.client();
    let login_from = |ip: &'static str| {
        client
            .request(reqwest::Method::POST, "/api/v1/auth/login")
            .header("X-Forwarded-For", ip)
            .json(&json!({"username": "nobody", "password": WRONG}))
            .send()
    };
    assert_eq!(
        login_from("198.51.100.1").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from("198.51.100.2").await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy"
    );
    assert_eq!(
        login_from("198.51.100.1").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    for secure in [false, true] {
        let app = TestApp::builder(Backend::Sqlite)
            .with(|s| s.http.cookie_secure = secure)
            .spawn()
            .await;
        let client = app.client();
        for (path, expected) in [
            ("/health", StatusCode::OK),
            ("/api/v1/auth/me", StatusCode::UNAUTHORIZED),
            ("/api/v1/nothing-here", StatusCode::NOT_FOUND),
            ("/docs/", StatusCode::OK),
            ("/api/v1/openapi.json", StatusCode::OK),
        ] {
            let res = client.get(path).await;
            assert_eq!(res.status(), expected, "{path}");
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let csp = header("content-security-policy").expect("CSP");
            for directive in [
                "default-src 'self'",
                "script-src 'self' 'wasm-unsafe-eval'",
                "frame-ancestors 'none'",
                "object-src 'none'",
            ] {
                assert!(csp.contains(directive), "{path}: {csp}");
            }
            let script_src = csp.split(';').find(|d| d.contains("script-src")).unwrap();
            assert!(
                !script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"),
                "{path}: {csp}"
            );
            if !path.starts_with("/docs") {
                assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            }
            assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
            assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
            assert_eq!(
                header("strict-transport-security").is_some(),
                secure,
                "HSTS only when COOKIE_SECURE is on ({path})"
            );
        }
    }
}

db_test!(
    over_long_passwords_are_refused_before_hashing,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        let long = "x".repeat(2048);
        for path in ["/api/v1/auth/login", "/api/v1/auth/token"] {
            let res = client
                .post(path, &json!({"username": "ada", "password": long}))
                .await;
            let (status, error) = error_of(res).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            assert!(error["fields"]["password"].is_string(), "{error}");
        }
        let mut signup = account("bob");
        signup.password = long.clone();
        let (status, error) = error_of(client.signup(&signup).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error["fields"]["password"].is_string());
        // Nothing was counted against the account.
        client.login_ok("ada", PASSWORD).await;
    }
);

db_test!(
    disabled_accounts_cannot_log_in_until_enabled,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, admin_user) = app.admin().await;
        let (bob_client, bob) = app.member(&admin, "bob", "user").await;
        let token = app.client().token("bob", PASSWORD).await;

        let (carol, _) = app.member(&admin, "carol", "user").await;
        let disable = format!("/api/v1/users/{}/disable", bob.id);
        assert_eq!(
            carol.post(&disable, &json!({})).await.status(),
            StatusCode::FORBIDDEN
        );
        let disabled: User = json(admin.post(&disable, &json!({})).await).await;
        assert!(disabled.disabled_at.is_some());

        assert_eq!(
            bob_client.me().await.status(),
            StatusCode::UNAUTHORIZED,
            "the cookie session ended"
        );
        let bearer = app.client().with_bearer(&token);
        assert_eq!(bearer.me().await.status(), StatusCode::UNAUTHORIZED);
        let wrong = error_of(app.client().login("bob", WRONG).await).await;
        let refused = error_of(app.client().login("bob", PASSWORD).await).await;
        assert_eq!(refused, wrong, "the same 401 as a wrong password");

        // Recovery does not reopen a disabled account.
        let res = app
            .client()
            .post(
                "/api/v1/password/forgot",
                &json!({"method": "email", "identifier": bob.email}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);

        let self_disable = format!("/api/v1/users/{}/disable", admin_user.id);
        let (status, _) = error_of(admin.post(&self_disable, &json!({})).await).await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "admins cannot disable themselves"
        );

        let enabled: User = json(
            admin
                .post(&format!("/api/v1/users/{}/enable", bob.id), &json!({}))
                .await,
        )
        .await;
        assert_eq!(enabled.disabled_at, None);
        app.client().login_ok("bob", PASSWORD).await;
        let requested = eventually(|| audit_events(&admin, "action=recovery_requested")).await;
        assert_eq!(
            requested[0]["detail"]["reason"], "no_account",
            "a disabled account is not found for recovery"
        );
        assert!(
            app.mail
                .received_with_subject(subjects::RECOVERY_CODE)
                .iter()
                .all(|m| !m
                    .to
                    .iter()
                    .any(|t| t.contains(bob.email.as_deref().unwrap()))),
            "no recovery code was mailed while disabled"
        );
        for action in ["user_disabled", "user_enabled"] {
            let events = audit_events(&admin, &format!("action={action}&target={}", bob.id)).await;
            assert_eq!(events.len(), 1, "{action}");
            assert_eq!(events[0]["actor_id"], admin_user.id);
        }
    }
);

db_test!(
    a_stolen_session_cannot_guess_the_password_either,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout = lockout(3, 600, 900))
            .spawn()
            .await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let new = "saffron glacier trombone 58";
        for _ in 0..3 {
            let (status, error) = error_of(client.change_password(WRONG, new).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(error["fields"]["current_password"], "is incorrect");
        }
        let (_, error) = error_of(client.change_password(PASSWORD, new).await).await;
        assert!(
            error["fields"]["current_password"]
                .as_str()
                .unwrap()
                .contains("too many"),
            "{error}"
        );
        // They counted on the device the session was opened from.
        assert_eq!(
            client.login("ada", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED,
            "the session's device is locked for logins too"
        );
    }
);

db_test!(
    a_new_password_lifts_the_lock_and_others_do_not_see_it,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout = lockout(2, 600, 900))
            .spawn()
            .await;
        let (admin, _) = app.admin().await;
        let (_, bob) = app.member(&admin, "bob", "user").await;
        let (carol, _) = app.member(&admin, "carol", "user").await;
        for _ in 0..2 {
            app.client().login("bob", WRONG).await;
        }
        let path = format!("/api/v1/users/{}", bob.id);
        assert!(admin.user_ok(bob.id).await.locked_until.is_some());
        let seen_by_carol: User = json(carol.get(&path).await).await;
        assert_eq!(
            seen_by_carol.locked_until, None,
            "account state is for admins"
        );
        let listed: shared::UserPage = json(carol.get("/api/v1/users?q=bob").await).await;
        assert_eq!(listed.items[0].locked_until, None);

        let res = admin
            .put(&path, &json!({"password": "saffron glacier trombone 58"}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        app.client()
            .login_ok("bob", "saffron glacier trombone 58")
            .await;
    }
);

db_test!(
    a_password_typed_as_the_username_stays_out_of_the_trail,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        // Neither a password-looking name nor one shaped like a username is kept.
        for typed in ["my secret pass!", "correct.horse.battery.42"] {
            app.client().login(typed, WRONG).await;
        }
        let events = audit_events(&admin, "action=login").await;
        let failed: Vec<_> = events
            .iter()
            .filter(|e| e["outcome"] == "failure")
            .collect();
        assert_eq!(failed.len(), 2);
        for event in &failed {
            assert!(
                event["actor"].as_str().unwrap().starts_with("unknown #"),
                "{event}"
            );
        }
        assert_ne!(
            failed[0]["actor"], failed[1]["actor"],
            "names stay distinct"
        );
        let text = serde_json::to_string(&events).unwrap();
        assert!(!text.contains("secret pass") && !text.contains("horse"));
    }
);

/// `REDIS_URL` for the deployment tests: `TEST_REDIS_URL`, default the local Redis.
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// Two instances behind one address (a load balancer's round robin): with Redis they
/// share one bucket per client, so the client gets the burst once, not once per
/// instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_sharing_redis_share_the_failed_login_limit() {
    let apps = TestApp::spawn_together(Backend::Sqlite, 2, |s| {
        s.limits.rate = RateLimit {
            per_minute: 6,
            burst: 3,
        };
        s.redis_url = Some(redis_url().into());
    })
    .await;
    let clients: Vec<Client> = apps.iter().map(TestApp::client).collect();
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(clients[i % 2].login("nobody", WRONG).await.status());
    }
    let unauthorized = StatusCode::UNAUTHORIZED;
    let limited = StatusCode::TOO_MANY_REQUESTS;
    assert_eq!(
        statuses,
        [
            unauthorized,
            unauthorized,
            unauthorized,
            limited,
            limited,
            limited
        ],
        "the burst of 3 holds for the whole deployment"
    );
}

/// Redis going away (its host cut off) fails no request and costs each at most a
/// moment: the instances fall back to their own buckets until it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_fails_no_request() {
    let upstream = redis_url();
    let relay = Relay::start(upstream.trim_start_matches("redis://").to_owned()).await;
    let relayed = format!("redis://127.0.0.1:{}", relay.port);
    let app = TestApp::builder(Backend::Sqlite)
        .with(move |s| {
            s.limits.rate = RateLimit {
                per_minute: 6,
                burst: 3,
            };
            s.redis_url = Some(relayed.into());
        })
        .spawn()
        .await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    relay.cut();
    let started = std::time::Instant::now();
    client.login_ok("ada", PASSWORD).await;
    for _ in 0..3 {
        assert_eq!(
            client.login("ada", WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        client.login("ada", WRONG).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the instance's own bucket holds meanwhile"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "5 requests took {:?}",
        started.elapsed()
    );
    relay.restore();
}
