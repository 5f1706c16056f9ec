//! The list's admin tools in the app: tick several users and act on all of them with
//! one confirmation naming how many, and export the list as shown to CSV.

use harness::PASSWORD;

use super::{
    Chromium, click, click_in_dialog, fill_search, find, log_in, spawn_app, testid, wait_gone,
    wait_path, wait_text,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_act_on_several_users_at_once_and_export_the_list() {
    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    for name in ["bob", "carol", "dave"] {
        app.member(&admin, name, "user").await;
    }
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("summary"), "of 4").await;

    // Two ticked: one question naming both, one answer for both.
    click(&page, "select-bob").await;
    click(&page, "select-carol").await;
    wait_text(&page, &testid("selected-count"), "2 users").await;
    click(&page, "bulk-disable").await;
    wait_text(&page, &testid("confirm-message"), "Disable 2 users?").await;
    click_in_dialog(&page, "confirm-ok").await;
    wait_text(&page, &testid("toast-success"), "Disabled 2 users.").await;
    wait_gone(&page, &testid("bulk-bar")).await;
    for name in ["bob", "carol"] {
        find(
            &page,
            &format!(
                "{} {}",
                testid(&format!("user-row-{name}")),
                testid("disabled-badge")
            ),
        )
        .await;
    }
    assert!(
        page.find_element(format!(
            "{} {}",
            testid("user-row-dave"),
            testid("disabled-badge")
        ))
        .await
        .is_err()
    );

    // Everyone on the page, the admin included: the admin's own row is refused, and
    // the message says so.
    click(&page, "select-all").await;
    wait_text(&page, &testid("selected-count"), "4 users").await;
    click(&page, "bulk-set-role").await;
    wait_text(
        &page,
        &testid("confirm-message"),
        "Give 4 users the role admin?",
    )
    .await;
    click_in_dialog(&page, "confirm-cancel").await;
    wait_text(&page, &testid("selected-count"), "4 users").await;
    click(&page, "bulk-disable").await;
    click_in_dialog(&page, "confirm-ok").await;
    wait_text(&page, &testid("toast-error"), "Disabled 3 of 4 users.").await;
    wait_text(
        &page,
        &testid("toast-error"),
        "You cannot disable your own account.",
    )
    .await;

    // The export link follows the list as shown: its search, its order, every page.
    fill_search(&page, "carol").await;
    wait_text(&page, &testid("summary"), "of 1").await;
    let href = find(&page, &testid("export-csv"))
        .await
        .attribute("href")
        .await
        .unwrap()
        .unwrap();
    assert!(href.starts_with("/api/v1/users/export.csv?"), "{href}");
    assert!(href.contains("q=carol"), "{href}");
    let script = format!(
        "fetch({}).then(r => r.text())",
        serde_json::to_string(&href).unwrap()
    );
    let csv: String = page.evaluate(script).await.unwrap().into_value().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("username,email,first_name"), "{csv}");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("carol,carol@example.com,"), "{csv}");
    chromium.assert_quiet(&[]).await;
}
