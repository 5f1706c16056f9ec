//! The integrator's screens and safeguards in the app: an admin makes an API key,
//! sees its secret once, and revokes it; an edit made against an account someone else
//! changed meanwhile overwrites nothing and says to reload.

use harness::PASSWORD;
use reqwest::StatusCode;
use serde_json::json;

use super::{
    Chromium, click, click_in_dialog, fill, find, go_to, log_in, spawn_app, testid, wait_gone,
    wait_path, wait_text,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_makes_an_api_key_sees_it_once_and_revokes_it() {
    let app = spawn_app(|_| {}).await;
    let (_admin, _) = app.admin().await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    click(&page, "nav-api-keys").await;
    wait_path(&page, "/api-keys").await;
    find(&page, &testid("empty-state")).await;

    // Without the password nothing is sent; with it, the key and its secret appear.
    fill(&page, "name", "HR sync").await;
    click(&page, "scope-users-write").await;
    click(&page, "api-key-submit").await;
    wait_text(&page, &testid("error-current_password"), "is required").await;
    fill(&page, "current_password", PASSWORD).await;
    click(&page, "api-key-submit").await;
    wait_text(&page, &testid("new-secret"), "will not be shown again").await;
    let secret: String = page
        .evaluate("document.querySelector('[data-testid=secret-value]').value")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(secret.starts_with("umk_"), "{secret}");
    wait_text(&page, &testid("api-key-row"), "users:read, users:write").await;
    wait_text(&page, &testid("api-key-row"), &secret[..8]).await;

    // The secret works as a bearer credential, for what its scopes allow.
    let integration = app.client_without_origin().with_bearer(&secret);
    assert_eq!(
        integration.get("/api/v1/users").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        integration.get("/api/v1/audit").await.status(),
        StatusCode::FORBIDDEN
    );
    click(&page, "secret-done").await;
    wait_gone(&page, &testid("new-secret")).await;
    go_to(&page, &format!("{}/api-keys", app.address)).await;
    wait_text(&page, &testid("api-key-row"), "127.0.0.1").await;

    click(&page, "revoke-api-key").await;
    wait_text(&page, &testid("confirm-message"), "Revoke HR sync?").await;
    click_in_dialog(&page, "confirm-ok").await;
    wait_text(&page, &testid("toast-success"), "Revoked the key HR sync.").await;
    wait_text(&page, &testid("api-key-state"), "Revoked").await;
    wait_gone(&page, &testid("revoke-api-key")).await;
    assert_eq!(
        integration.get("/api/v1/users").await.status(),
        StatusCode::UNAUTHORIZED
    );
    chromium.assert_quiet(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_an_account_changed_meanwhile_asks_to_reload() {
    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    let (_, bob) = app.member(&admin, "bob", "user").await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    let edit = format!("{}/users/{}/edit", app.address, bob.id);
    go_to(&page, &edit).await;
    find(&page, &testid("user-form")).await;

    // Another admin renames bob while the form is open.
    let res = admin
        .update_user(bob.id, &json!({"last_name": "Meanwhile"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    fill(&page, "first_name", "Robert").await;
    click(&page, "save-user").await;
    wait_text(&page, &testid("toast-error"), "changed since you loaded it").await;
    let now = admin.user_ok(bob.id).await;
    assert_eq!(
        (now.first_name.as_str(), now.last_name.as_str()),
        (bob.first_name.as_str(), "Meanwhile")
    );

    // Reloaded, the form shows the other change, and saving keeps both.
    go_to(&page, &edit).await;
    find(&page, &testid("user-form")).await;
    fill(&page, "first_name", "Robert").await;
    click(&page, "save-user").await;
    wait_path(&page, "/").await;
    let now = admin.user_ok(bob.id).await;
    assert_eq!(
        (now.first_name.as_str(), now.last_name.as_str()),
        ("Robert", "Meanwhile")
    );
    // The 412 is the only refused request of the journey.
    chromium
        .assert_quiet(&[&*format!("/api/v1/users/{}", bob.id)])
        .await;
}
