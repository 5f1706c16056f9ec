//! Lockout that spares the owner: a stranger's wrong guesses lock the account for
//! unknown clients only, while the browser its owner logged in from before (it holds
//! the device cookie) still gets in. The admin sees both kinds of lock on the
//! account's page, and lifts them.

use std::time::Instant;

use chromiumoxide::Page;
use harness::{Client, PASSWORD, account};
use reqwest::StatusCode;
use shared::{LockoutState, User};

use super::{
    Chromium, WAIT, click, find, go_to, log_in, screenshot, spawn_app, testid, wait_gone,
    wait_path, wait_text,
};

/// Failures before a lock, for unknown clients and (at most this) for a device.
const THRESHOLD: u32 = 3;
const WRONG: &str = "not the password at all";

/// `[data-testid="device-row"][data-locked="…"]`.
fn device_row(locked: bool) -> String {
    format!("[data-testid=\"device-row\"][data-locked=\"{locked}\"]")
}

/// Creates the plain user `name` through `admin`; nobody logs in as them yet.
async fn create_user(admin: &Client, name: &str) -> User {
    let mut body = serde_json::to_value(account(name)).unwrap();
    body["role"] = "user".into();
    let res = admin.create_user(&body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "create {name}");
    res.json().await.unwrap()
}

/// Polls account `id`'s lockout through the API until `done` holds for it.
async fn wait_lockout(admin: &Client, id: i32, done: impl Fn(&LockoutState) -> bool) {
    let started = Instant::now();
    loop {
        let res = admin.get(&format!("/api/v1/users/{id}/lockout")).await;
        assert_eq!(res.status(), StatusCode::OK, "lockout of {id}");
        let state: LockoutState = res.json().await.unwrap();
        if done(&state) {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "the lockout never got there: {state:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Sends a wrong password from `page`'s login form and waits until the server counted
/// it as failure `n` of the page's device and the form can be sent again.
async fn guess_from_browser(admin: &Client, page: &Page, id: i32, n: u32) {
    log_in(page, "bob", WRONG).await;
    wait_lockout(admin, id, |s| {
        s.devices
            .iter()
            .any(|d| i64::from(d.failed_logins) == i64::from(n))
    })
    .await;
    find(page, "[data-testid=\"login-submit\"][aria-busy=\"false\"]").await;
    find(page, &testid("login-error")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_guesses_do_not_lock_the_owner_out() {
    let app = spawn_app(|s| s.lockout.threshold = THRESHOLD).await;
    let (admin, _) = app.admin().await;
    let bob = create_user(&admin, "bob").await;

    // Bob logs in once from his browser, which keeps the device cookie.
    let mut bobs = Chromium::launch().await;
    let page = bobs.open(&format!("{}/login", app.address)).await;
    log_in(&page, "bob", PASSWORD).await;
    wait_text(&page, &testid("current-user"), "bob").await;
    let cookies = bobs.browser.get_cookies().await.unwrap();
    assert!(
        cookies
            .iter()
            .any(|c| c.name == "device" && c.http_only && c.path == "/api/v1/auth"),
        "an HttpOnly device cookie for the auth endpoints: {:?}",
        cookies.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    click(&page, "logout").await;
    wait_path(&page, "/login").await;

    // A stranger, a client that never logged in to bob, guesses well past the
    // threshold: bob is locked for unknown clients.
    let stranger = app.client();
    for _ in 0..THRESHOLD + 2 {
        assert_eq!(
            stranger.login("bob", WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Bob's browser is a known device with its own budget: he gets in. The stranger
    // does not, even with the right password.
    log_in(&page, "bob", PASSWORD).await;
    wait_text(&page, &testid("current-user"), "bob").await;
    assert_eq!(
        stranger.login("bob", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "still locked for unknown clients"
    );

    // The admin sees the lock for unknown clients and bob's one device, unlocked.
    let mut admins = Chromium::launch().await;
    let bobs_page = format!("{}/users/{}/edit", app.address, bob.id);
    let desk = admins.open(&format!("{}/login", app.address)).await;
    log_in(&desk, "admin", PASSWORD).await;
    wait_text(&desk, &testid("current-user"), "admin").await;
    go_to(&desk, &bobs_page).await;
    wait_text(
        &desk,
        &testid("lockout-state"),
        "Locked for unknown clients until",
    )
    .await;
    wait_text(
        &desk,
        &testid("account-status"),
        "Locked after failed logins",
    )
    .await;
    let devices = desk.find_elements(testid("device-row")).await.unwrap();
    assert_eq!(devices.len(), 1, "bob logged in from one browser");
    find(&desk, &device_row(false)).await;
    // The stranger's wrong passwords are one row in the timeline, not three.
    let repeats = "[data-testid=\"timeline\"] [data-testid=\"audit-repeats\"]";
    wait_text(&desk, repeats, "×3").await;
    let title = find(&desk, repeats).await.attribute("title").await.unwrap();
    let title = title.unwrap_or_default();
    assert!(title.contains("the last at"), "{title}");
    screenshot(&desk, "lockout-unknown-clients").await;

    // Unlocking lifts it; the panel reloads after the action.
    click(&desk, "unlock-user").await;
    wait_text(
        &desk,
        &testid("lockout-unknown"),
        "No failed logins from unknown clients",
    )
    .await;
    wait_text(&desk, &testid("account-status"), "Active").await;
    wait_gone(&desk, &testid("unlock-user")).await;
    app.client().login_ok("bob", PASSWORD).await;

    // Bob's own browser has a small budget of its own: his wrong passwords lock that
    // device, which the admin sees and unlocks too.
    click(&page, "logout").await;
    wait_path(&page, "/login").await;
    for n in 1..=THRESHOLD {
        guess_from_browser(&admin, &page, bob.id, n).await;
    }
    go_to(&desk, &bobs_page).await;
    wait_text(&desk, &device_row(true), "locked until").await;
    wait_text(&desk, &testid("account-status"), "a device is locked").await;
    screenshot(&desk, "lockout-device").await;
    click(&desk, "unlock-user").await;
    wait_gone(&desk, &device_row(true)).await;
    wait_gone(&desk, &testid("unlock-user")).await;
    log_in(&page, "bob", PASSWORD).await;
    wait_text(&page, &testid("current-user"), "bob").await;
    // Refused on purpose: the wrong passwords.
    bobs.assert_quiet(&["/api/v1/auth/login"]).await;
    admins.assert_quiet(&[]).await;
}
