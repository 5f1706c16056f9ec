//! The integrator's screens and safeguards in the app: an admin makes an API key,
//! sees its secret once, and revokes it; an edit made against an account someone else
//! changed meanwhile overwrites nothing and says to reload.

use harness::{PASSWORD, WebhookReceiver};
use reqwest::StatusCode;
use serde_json::json;

use super::pictures::choose_file;
use super::{
    Chromium, TempDir, click, click_in_dialog, fill, find, go_to, log_in, spawn_app, testid,
    wait_gone, wait_path, wait_text,
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
    wait_text(&page, &testid("summary"), "of 2").await;
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
    wait_text(&page, &testid("toast-success"), "Saved bob.").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_csv_goes_up_in_pieces_with_a_dry_run_and_a_report() {
    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    let dir = TempDir(std::env::temp_dir().join(format!("um-import-{}", harness::unique())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let hash = bcrypt::hash("imported passphrase 42", 4).unwrap();
    let mut csv = String::from("username,email,first_name,last_name,mobile,role,password_hash\n");
    for n in 0..2_500 {
        csv.push_str(&format!(
            "pat{n},pat{n}@example.com,Pat,Row{n},+1444{n:07},user,{hash}\n"
        ));
    }
    csv.push_str("broken,not-an-email,Bad,Row,+14449999999,user,\n");
    let file = dir.0.join("people.csv");
    std::fs::write(&file, csv).unwrap();

    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    click(&page, "import-csv").await;
    wait_path(&page, "/users/import").await;
    choose_file(&page, &testid("import-file"), &file).await;

    click(&page, "import-dry-run").await;
    wait_text(
        &page,
        &testid("import-report"),
        "Dry run: nothing was written",
    )
    .await;
    wait_text(
        &page,
        &testid("import-counts"),
        "2500 created, 0 updated, 1 skipped",
    )
    .await;
    // Lines count through the pieces: the bad row is the file's line 2,502.
    wait_text(&page, &testid("import-skipped"), "2502").await;
    assert_eq!(admin.list_users_ok("").await.total, 1);

    click(&page, "import-run").await;
    wait_text(&page, &testid("import-report"), "Imported").await;
    wait_text(
        &page,
        &testid("import-counts"),
        "2500 created, 0 updated, 1 skipped",
    )
    .await;
    assert_eq!(admin.list_users_ok("").await.total, 2_501);
    let href = find(&page, &testid("import-download"))
        .await
        .attribute("href")
        .await
        .unwrap()
        .unwrap();
    assert!(href.starts_with("blob:"), "{href}");
    // The page's CSP lets no script read a blob: back; what the link holds is
    // `ImportReport::to_csv` (checked by the API test): here, that it is offered.
    let name = find(&page, &testid("import-download"))
        .await
        .attribute("download")
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("import-report.csv"));
    chromium.assert_quiet(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_registers_a_webhook_and_reads_its_deliveries() {
    let app = spawn_app(|s| s.webhooks.allow_private = true).await;
    let (admin, _) = app.admin().await;
    let receiver = WebhookReceiver::start(0).await;
    let url = receiver.url.clone();
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    click(&page, "nav-webhooks").await;
    wait_path(&page, "/webhooks").await;
    find(&page, &testid("empty-state")).await;
    fill(&page, "url", &url).await;
    click(&page, "webhook-submit").await;
    wait_text(&page, &testid("webhook-secret"), "shown this once").await;
    let secret: String = page
        .evaluate("document.querySelector('[data-testid=webhook-secret-value]').value")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(secret.starts_with("whsec_"));
    click(&page, "webhook-secret-done").await;
    wait_text(&page, &testid("webhook"), &url).await;

    // A change made elsewhere is delivered and listed; resending sends it again.
    app.member(&admin, "bob", "user").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    go_to(&page, &format!("{}/webhooks", app.address)).await;
    wait_text(
        &page,
        "[data-testid=delivery][data-status=delivered]",
        "user.created",
    )
    .await;
    click(&page, "resend-delivery").await;
    wait_text(&page, &testid("toast-success"), "Sent again.").await;

    click(&page, "remove-webhook").await;
    wait_text(&page, &testid("confirm-message"), "Remove the webhook").await;
    click_in_dialog(&page, "confirm-ok").await;
    wait_text(&page, &testid("toast-success"), "Removed the webhook").await;
    find(&page, &testid("empty-state")).await;
    chromium.assert_quiet(&[]).await;
}
