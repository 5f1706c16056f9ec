//! Limits a stranger cannot turn against the owner, and no silent losses: the
//! lockout spares known devices, recovery codes survive a stranger's requests,
//! throttles hold under bursts, hashing stays fair, mail and growth are bounded,
//! legacy hashes of every passlib scheme work.

use std::time::{Duration, Instant};

use backend::auth::lockout::LockoutPolicy;
use backend::http::throttle::RateLimit;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{LockoutState, SessionInfo};

use harness::*;

const WRONG: &str = "not the password at all";

fn lockout(threshold: u32) -> LockoutPolicy {
    LockoutPolicy {
        threshold,
        base: chrono::Duration::seconds(600),
        max: chrono::Duration::seconds(900),
    }
}

db_test!(
    a_strangers_guesses_leave_the_owners_known_browser_able_to_log_in,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout = lockout(3))
            .spawn()
            .await;
        let (admin, _) = app.admin().await;
        let (owner, bob) = app.member(&admin, "bob", "user").await;
        owner.logout().await;

        // 50 guesses from clients that never logged in to the account.
        let stranger = app.client();
        for _ in 0..50 {
            assert_eq!(
                stranger.login("bob", WRONG).await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            stranger.login("bob", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED,
            "unknown clients are locked out, the right password too"
        );
        // The owner's browser kept its device cookie from the first login.
        owner.login_ok("bob", PASSWORD).await;

        // An API client that keeps its device token gets the same.
        let res = app
            .client_without_origin()
            .post(
                "/api/v1/auth/token",
                &json!({"username": "admin", "password": PASSWORD}),
            )
            .await;
        let first: Value = json(res).await;
        let device = first["device_token"]
            .as_str()
            .expect("a device token")
            .to_owned();
        for _ in 0..5 {
            app.client().login("admin", WRONG).await;
        }
        let res = app
            .client_without_origin()
            .post(
                "/api/v1/auth/token",
                &json!({"username": "admin", "password": PASSWORD, "device_token": device}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "a known API client gets in");

        // Admins see both: the lock for unknown clients and the devices.
        let state: LockoutState = json(
            admin
                .get(&format!("/api/v1/users/{}/lockout", bob.id))
                .await,
        )
        .await;
        assert!(state.locked_until.is_some(), "{state:?}");
        assert_eq!(state.devices.len(), 1);
        assert!(state.devices[0].locked_until.is_none());

        // A known device has a small budget of its own.
        for _ in 0..5 {
            owner.login("bob", WRONG).await;
        }
        assert_eq!(
            owner.login("bob", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED,
            "the device's own lock"
        );
        assert_eq!(
            admin.account_action(bob.id, "unlock").await.status(),
            StatusCode::OK
        );
        owner.login_ok("bob", PASSWORD).await;
        app.client().login_ok("bob", PASSWORD).await;
    }
);

db_test!(
    a_strangers_recovery_requests_do_not_cancel_the_owners_code,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (_, bob) = app.member(&admin, "bob", "user").await;
        let email = bob.email.clone().unwrap();

        let owner = app.client();
        let (request_id, code) = app.requested_code(&owner, &email, 1).await;

        // A stranger asks again and again and guesses codes without a request id.
        for _ in 0..3 {
            app.client().forgot("email", &email).await;
        }
        for guess in ["000001", "000002", "000003", "000004", "000005", "000006"] {
            if guess != code {
                app.client().verify_otp(&email, guess).await;
            }
        }
        let res = owner.verify_otp_for(&email, &code, &request_id).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "the owner's request keeps its own budget"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_failures_from_one_address_get_no_more_than_the_burst() {
    let app = TestApp::builder(Backend::Sqlite)
        .with(|s| {
            s.limits.rate = RateLimit {
                per_minute: 1,
                burst: 10,
            }
        })
        .spawn()
        .await;
    let attempts = (0..60).map(|i| {
        let client = app.client();
        async move { client.login(&format!("nobody{i}"), WRONG).await.status() }
    });
    let statuses = futures::future::join_all(attempts).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked <= 10,
        "{checked} failures got through a burst of 10"
    );
    assert_eq!(checked + refused, 60, "{statuses:?}");
}

/// Runs alone (see `.config/nextest.toml`): it measures time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timing_one_accounts_hashing_flood_leaves_logins_fast() {
    let app = TestApp::builder(Backend::Sqlite)
        .with(|s| {
            s.limits.rate = RateLimit {
                per_minute: 60,
                burst: 30,
            }
        })
        .spawn()
        .await;
    let (admin, _) = app.admin().await;
    let (flooder, _) = app.member(&admin, "mallory", "user").await;
    let (_, _) = app.member(&admin, "bob", "user").await;
    let flood = (0..100).map(|i| {
        let flooder = flooder.clone();
        async move {
            let change = json!({"security_question": "Colour?", "security_answer": format!("teal {i}"), "current_password": PASSWORD});
            flooder.update_me(&change).await.status()
        }
    });
    let flood = tokio::spawn(futures::future::join_all(flood));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    app.client().login_ok("bob", PASSWORD).await;
    let took = started.elapsed();
    let statuses = flood.await.unwrap();
    assert!(
        took < Duration::from_secs(1),
        "a login took {took:?} during the flood"
    );
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "the account's hashing budget refused the flood: {statuses:?}"
    );
}

db_test!(
    password_change_notices_stop_at_the_budget,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        app.signup_verified(&client, &account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let other = "copper kettle morning 77";
        let mut current = PASSWORD;
        for _ in 0..7 {
            let next = if current == PASSWORD { other } else { PASSWORD };
            let res = client.change_password(current, next).await;
            assert_eq!(
                res.status(),
                StatusCode::NO_CONTENT,
                "the change itself always works"
            );
            current = next;
        }
        app.mail
            .wait_for_subject("ada@example.com", subjects::PASSWORD_CHANGED, 5)
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            app.mail
                .received_with_subject(subjects::PASSWORD_CHANGED)
                .len(),
            5,
            "no more than 5 notices an hour"
        );
    }
);

db_test!(old_audit_events_are_purged, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| {
            s.limits.audit_retention_days = 30;
            s.maintenance_every = Duration::from_millis(300);
        })
        .spawn()
        .await;
    let (admin, _) = app.admin().await;
    app.client().login("nobody", WRONG).await;
    // Age every event but the admin's own by 40 days.
    let db = sea_orm::Database::connect(app.database_url())
        .await
        .unwrap();
    let old = (chrono::Utc::now() - chrono::Duration::days(40)).format("%Y-%m-%d %H:%M:%S");
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!(
            "UPDATE audit_events SET at = '{old}' WHERE action = 'login' AND outcome = 'failure'"
        ),
    )
    .await
    .unwrap();
    let started = Instant::now();
    loop {
        let failures = audit_events(&admin, "action=login").await;
        if failures.iter().all(|e| e["outcome"] != "failure") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not purged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !audit_events(&admin, "action=signup").await.is_empty(),
        "recent events stay"
    );
});

db_test!(the_51st_session_ends_the_oldest, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let mut tokens = Vec::new();
    for _ in 0..51 {
        tokens.push(client.token("ada", PASSWORD).await);
        // Whole seconds order the sessions; the first must be the oldest.
        if tokens.len() == 1 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
    }
    let first = client.with_bearer(&tokens[0]);
    assert_eq!(
        first.me().await.status(),
        StatusCode::UNAUTHORIZED,
        "evicted"
    );
    let newest = client.with_bearer(&tokens[50]);
    let res = newest.get("/api/v1/auth/sessions?per_page=20").await;
    assert_eq!(res.headers()["x-total-count"], "50");
    let page: Vec<SessionInfo> = json(res).await;
    assert_eq!(page.len(), 20);
    let second: Vec<SessionInfo> =
        json(newest.get("/api/v1/auth/sessions?per_page=20&page=3").await).await;
    assert_eq!(second.len(), 10);
});

db_test!(ready_shows_the_mail_queues, |db| async move {
    let app = TestApp::spawn(db).await;
    let ready: Value = json(app.client().get("/ready").await).await;
    assert_eq!(ready["status"], "ready");
    for field in ["codes_queued", "notices_queued", "capacity", "dropped"] {
        assert!(ready["mail"][field].is_u64(), "{field}: {ready}");
    }
});

db_test!(
    re_authentication_counts_on_the_sessions_device_not_the_strangers_lock,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout = lockout(3))
            .spawn()
            .await;
        let (admin, _) = app.admin().await;
        let (owner, _) = app.member(&admin, "bob", "user").await;
        for _ in 0..10 {
            app.client().login("bob", WRONG).await;
        }
        assert_eq!(
            app.client().login("bob", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED,
            "locked for unknown clients"
        );
        // The owner's session was opened from a known browser: changing the
        // password there checks the current one against that browser's count.
        let new = "a brand new passphrase 7391";
        assert_eq!(
            owner.change_password(PASSWORD, new).await.status(),
            StatusCode::NO_CONTENT
        );
        owner
            .me()
            .await
            .error_for_status()
            .expect("a fresh session");
    }
);

db_test!(a_new_password_lifts_the_devices_locks, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.lockout = lockout(3))
        .spawn()
        .await;
    let (admin, _) = app.admin().await;
    let (owner, bob) = app.member(&admin, "bob", "user").await;
    owner.logout().await;
    for _ in 0..5 {
        owner.login("bob", WRONG).await;
    }
    assert_eq!(
        owner.login("bob", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the device is locked"
    );
    let new = "a brand new passphrase 7391";
    let res = admin.update_user(bob.id, &json!({"password": new})).await;
    assert_eq!(res.status(), StatusCode::OK);
    owner.login_ok("bob", new).await;
});

db_test!(
    a_flood_of_successful_logins_is_limited_per_account_and_device,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| {
                s.limits.rate = RateLimit {
                    per_minute: 60,
                    burst: 30,
                }
            })
            .spawn()
            .await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        client.logout().await;
        app.client().signup_ok(&account("bob")).await;
        let owner = app.client();
        owner.login_ok("ada", PASSWORD).await;

        // A script with ada's password and no device token: a third of the burst.
        let script = app.client_without_origin();
        let started = Instant::now();
        let mut statuses = Vec::new();
        for _ in 0..14 {
            let res = script
                .post(
                    "/api/v1/auth/token",
                    &json!({"username": "ada", "password": PASSWORD}),
                )
                .await;
            statuses.push(res.status());
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                assert!(res.headers().contains_key("retry-after"));
            }
        }
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        // 10 at once, then one every 2 s (30 a minute).
        let refilled = (started.elapsed().as_secs_f64() / 2.0).ceil() as usize;
        assert!((10..=10 + refilled).contains(&ok), "{statuses:?}");
        assert!(
            statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
            "14 in a row get past the budget: {statuses:?}"
        );
        // The owner's known browser and other accounts are not held up.
        owner.login_ok("ada", PASSWORD).await;
        app.client().login_ok("bob", PASSWORD).await;
    }
);

db_test!(
    asking_for_codes_does_not_refill_the_guessers_budget,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (_, bob) = app.member(&admin, "bob", "user").await;
        let email = bob.email.clone().unwrap();
        let owner = app.client();
        let (request_id, code) = app.requested_code(&owner, &email, 1).await;

        // A stranger spends the budget for codes without a request id...
        let stranger = app.client();
        for guess in ["000001", "000002", "000003", "000004", "000005", "000006"] {
            if guess != code {
                stranger.verify_otp(&email, guess).await;
            }
        }
        // ...then asks for a new code: the newest code, typed without its request's
        // id, is refused all the same.
        let newest = app.mailed_code(&stranger, &email, 2).await.code();
        assert_eq!(
            stranger.verify_otp(&email, &newest).await.status(),
            StatusCode::BAD_REQUEST
        );
        let res = owner.verify_otp_for(&email, &code, &request_id).await;
        assert_eq!(res.status(), StatusCode::OK, "the owner's own code works");
    }
);

db_test!(
    a_success_between_failures_keeps_them_apart_in_the_trail,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (owner, bob) = app.member(&admin, "bob", "user").await;
        owner.logout().await;
        owner.login("bob", WRONG).await;
        owner.login("bob", WRONG).await;
        owner.login_ok("bob", PASSWORD).await;
        owner.login("bob", WRONG).await;
        let logins = audit_events(&admin, &format!("action=login&target={}", bob.id)).await;
        let shape: Vec<(String, u64)> = logins
            .iter()
            .map(|e| {
                let outcome = e["outcome"].as_str().unwrap().to_owned();
                (outcome, e["repeats"].as_u64().unwrap())
            })
            .collect();
        // Newest first: the last failure, the login, the two failures before it
        // (and the login `member` made).
        let expected: Vec<(String, u64)> = [
            ("failure", 1),
            ("success", 1),
            ("failure", 2),
            ("success", 1),
        ]
        .iter()
        .map(|(o, n)| ((*o).to_owned(), *n))
        .collect();
        assert_eq!(shape, expected);
    }
);
