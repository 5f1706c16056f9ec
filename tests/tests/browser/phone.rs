//! Every screen on a 360 px phone: nothing wider than the screen, every control a
//! finger can hit (at least 24 x 24 px, WCAG 2.2's target size), and the list's
//! sort, search, paging and row actions working on the cards.

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use harness::PASSWORD;

use super::{
    Chromium, click, click_in_dialog, fill_search, find, go_to, log_in, spawn_app, testid,
    wait_gone, wait_path, wait_text,
};

/// What is wrong with the screen at this width: how far it scrolls sideways, and the
/// controls smaller than 24 px (links inside running text are exempt, as in WCAG).
async fn phone_problems(page: &Page) -> (i64, Vec<String>) {
    let overflow: i64 = page
        .evaluate("document.documentElement.scrollWidth - window.innerWidth")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    let small: Vec<String> = page
        .evaluate(
            "[...document.querySelectorAll('button, a[href], input, select, [role=button]')] \
             .filter(e => !e.closest('.sr-only, dialog:not([open])') && !e.closest('p, small, li > span')) \
             .map(e => [e, e.getBoundingClientRect()]) \
             .filter(([e, r]) => r.width > 0 && r.height > 0 && (r.width < 24 || r.height < 24)) \
             .map(([e, r]) => `${e.dataset.testid || e.tagName + ' ' + e.textContent.trim()} ${Math.round(r.width)}x${Math.round(r.height)}`)",
        )
        .await
        .unwrap()
        .into_value()
        .unwrap();
    (overflow, small)
}

pub(super) async fn assert_fits(page: &Page, screen: &str) {
    let (overflow, small) = phone_problems(page).await;
    assert!(overflow <= 0, "{screen} is {overflow}px too wide at 360px");
    assert!(small.is_empty(), "{screen}: too small to tap: {small:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_fits_a_360px_phone_and_the_list_works_there() {
    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    let mut bob = None;
    // Two pages of cards.
    for i in 0..22 {
        let name = format!("user{i:02}");
        let (_, user) = app.member(&admin, &name, "user").await;
        bob.get_or_insert(user);
    }
    let bob = bob.unwrap();
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    page.execute(SetDeviceMetricsOverrideParams::new(360, 740, 2.0, true))
        .await
        .unwrap();
    let base = app.address.clone();
    for (path, ready) in [
        ("/login", "login-form"),
        ("/signup", "input-first_name"),
        ("/forgot", "forgot-form"),
    ] {
        go_to(&page, &format!("{base}{path}")).await;
        find(&page, &testid(ready)).await;
        assert_fits(&page, path).await;
    }
    go_to(&page, &format!("{base}/login")).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("summary"), "of 23").await;
    assert_fits(&page, "/").await;
    for (path, ready) in [
        ("/users/new", "input-first_name"),
        (&*format!("/users/{}/edit", bob.id), "account-controls"),
        ("/profile", "picture-editor"),
        ("/sessions", "session"),
        ("/invitations", "invite-form"),
        ("/audit", "audit-row"),
        ("/api-keys", "api-key-form"),
        ("/users/import", "import-file"),
        ("/webhooks", "webhook-form"),
        ("/no/such/page", "not-found"),
    ] {
        go_to(&page, &format!("{base}{path}")).await;
        find(&page, &testid(ready)).await;
        assert_fits(&page, path).await;
    }

    // The cards: sorted by the toolbar's control, paged, searched, acted on.
    go_to(&page, &format!("{base}/")).await;
    wait_text(&page, &testid("summary"), "Showing 1–20 of 23").await;
    find(&page, &testid("sort-select"))
        .await
        .call_js_fn(
            "function() { this.value = '-username'; \
             this.dispatchEvent(new Event('change', {bubbles: true})); }",
            false,
        )
        .await
        .unwrap();
    wait_path(&page, "/?sort=-username").await;
    find(
        &page,
        &format!(
            "{} ~ {}",
            testid("user-row-user21"),
            testid("user-row-user20")
        ),
    )
    .await;
    click(&page, "next-page").await;
    wait_text(&page, &testid("summary"), "Showing 21–23 of 23").await;
    find(&page, &testid("user-row-admin")).await;
    assert_fits(&page, "/ (page 2)").await;
    click(&page, "prev-page").await;
    wait_text(&page, &testid("summary"), "Showing 1–20 of 23").await;

    fill_search(&page, "user07").await;
    wait_text(&page, &testid("summary"), "of 1").await;
    click(&page, "delete-user").await;
    click_in_dialog(&page, "confirm-ok").await;
    wait_text(&page, &testid("toast-success"), "Deleted user07").await;
    wait_gone(&page, &testid("user-row-user07")).await;

    go_to(&page, &format!("{base}/?q=user08")).await;
    click(&page, "select-user08").await;
    click(&page, "bulk-disable").await;
    click_in_dialog(&page, "confirm-ok").await;
    find(
        &page,
        &format!("{} {}", testid("user-row-user08"), testid("disabled-badge")),
    )
    .await;
    click(&page, "edit-user").await;
    wait_path(&page, "/users/").await;
    find(&page, &testid("account-controls")).await;
    chromium.assert_quiet(&[]).await;
}
