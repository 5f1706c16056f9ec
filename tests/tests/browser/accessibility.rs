//! Accessibility, checked the way an auditor's tool does: axe-core (npm, installed by
//! `cargo xtask test` into `target/tools`) runs in Chromium on every screen, in light
//! and dark, and no serious or critical violation may show. Also what axe cannot see:
//! the skip link is the first Tab stop and lands in the `main` landmark, and a form
//! sent with mistakes puts the focus on the first field to fix.

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::emulation::{MediaFeature, SetEmulatedMediaParams};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use harness::PASSWORD;

use super::{
    Chromium, WAIT, click, click_in_dialog, find, focused, go_to, log_in, press, spawn_app, testid,
    wait_path, wait_text, workspace_root,
};

const AXE: &str = "target/tools/node_modules/axe-core/axe.min.js";

/// Runs axe on the page as it is and fails on any serious or critical violation.
async fn assert_accessible(page: &Page, screen: &str) {
    let path = workspace_root().join(AXE);
    let axe = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "axe-core is missing at {}: `cargo xtask test` installs it",
            path.display()
        )
    });
    page.evaluate_expression(axe).await.expect("axe loads");
    let run = EvaluateParams::builder()
        .expression(
            "axe.run(document, { resultTypes: ['violations'] }).then(result => result.violations \
             .filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))",
        )
        .await_promise(true)
        .return_by_value(true)
        .build()
        .unwrap();
    let violations: Vec<String> = page
        .evaluate_expression(run)
        .await
        .expect("axe runs")
        .into_value()
        .expect("a list of violations");
    assert!(violations.is_empty(), "{screen}: {violations:#?}");
}

/// Waits until the element with test id `id` (or tag name) has the focus.
async fn wait_focus(page: &Page, id: &str) {
    let started = std::time::Instant::now();
    while focused(page).await != id {
        assert!(
            started.elapsed() < WAIT,
            "{id} never got the focus (it is on {})",
            focused(page).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Light or dark, as the system setting would ask.
async fn color_scheme(page: &Page, scheme: &str) {
    let params = SetEmulatedMediaParams::builder()
        .features(vec![MediaFeature::new("prefers-color-scheme", scheme)])
        .build();
    page.execute(params).await.unwrap();
}

/// Checks the screen in both colour schemes.
async fn assert_accessible_both_ways(page: &Page, screen: &str) {
    for scheme in ["light", "dark"] {
        color_scheme(page, scheme).await;
        assert_accessible(page, &format!("{screen} ({scheme})")).await;
    }
    color_scheme(page, "light").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_passes_axe_with_nothing_serious() {
    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    let (_, bob) = app.member(&admin, "bob", "user").await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    let base = app.address.clone();

    // Signed out: the skip link is the first stop and takes the keyboard to `main`.
    find(&page, &testid("login-form")).await;
    press(&page, "Tab", 9).await;
    assert_eq!(focused(&page).await, "skip-link");
    press(&page, "Enter", 13).await;
    wait_focus(&page, "MAIN").await;
    assert_accessible_both_ways(&page, "login").await;
    // A form sent empty: the first field to fix has the focus.
    click(&page, "login-submit").await;
    wait_text(
        &page,
        &testid("error-username"),
        "Username or email is required.",
    )
    .await;
    wait_focus(&page, "input-username").await;
    assert_accessible(&page, "login with errors").await;
    for (path, ready) in [("/signup", "input-first_name"), ("/forgot", "forgot-form")] {
        go_to(&page, &format!("{base}{path}")).await;
        find(&page, &testid(ready)).await;
        assert_accessible_both_ways(&page, path).await;
    }
    go_to(&page, &format!("{base}/login")).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("summary"), "of 2").await;
    press(&page, "Tab", 9).await;
    assert_eq!(focused(&page).await, "skip-link");
    // Every signed-in screen, each once it has its content.
    let screens = [
        ("/", "user-row-bob"),
        ("/users/new", "input-first_name"),
        (&*format!("/users/{}/edit", bob.id), "picture-editor"),
        ("/profile", "picture-editor"),
        ("/sessions", "session"),
        ("/invitations", "invite-form"),
        ("/audit", "audit-row"),
        ("/api-keys", "api-key-form"),
        ("/users/import", "import-file"),
        ("/webhooks", "webhook-form"),
        ("/no/such/page", "not-found"),
    ];
    for (path, ready) in screens {
        go_to(&page, &format!("{base}{path}")).await;
        find(&page, &testid(ready)).await;
        assert_accessible_both_ways(&page, path).await;
    }
    // The list with a row ticked (the bulk bar shows) and a confirmation open.
    go_to(&page, &format!("{base}/")).await;
    click(&page, "select-bob").await;
    find(&page, &testid("bulk-bar")).await;
    click(&page, "bulk-delete").await;
    find(&page, &testid("confirm-message")).await;
    assert_accessible(&page, "bulk confirmation").await;
    click_in_dialog(&page, "confirm-cancel").await;
    chromium.assert_quiet(&[]).await;
}
