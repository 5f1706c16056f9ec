//! Two-factor sign-in in the app: a user turns on an authenticator app from the
//! profile (the secret read off the screen, as someone typing it into their phone
//! would), keeps the recovery codes, and signs in with a code and with a recovery
//! code; an admin `MFA_REQUIRED` covers is held at the enrolment screen until done,
//! then resets another account's second factor.

use harness::{Authenticator, PASSWORD, fresh_step};
use shared::MfaRequired;

use super::{Chromium, click, fill, find, log_in, spawn_app, testid, wait_gone, wait_text};

async fn text_of(page: &chromiumoxide::Page, id: &str) -> String {
    find(page, &testid(id))
        .await
        .inner_text()
        .await
        .unwrap()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

async fn log_out(page: &chromiumoxide::Page) {
    click(page, "logout").await;
    find(page, &testid("login-form")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_turns_on_an_authenticator_app_and_signs_in_with_it() {
    let app = spawn_app(|_| {}).await;
    let (_admin, _) = app.admin().await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    click(&page, "nav-profile").await;
    wait_text(&page, &testid("totp-status"), "Off").await;

    // The password opens the setup: a QR code and the key to type in.
    fill(&page, "totp-password", PASSWORD).await;
    click(&page, "totp-start").await;
    find(&page, &format!("{} svg", testid("totp-qr"))).await;
    let secret = text_of(&page, "totp-secret").await;
    let totp = Authenticator::new(&secret);
    let step = fresh_step().await;
    fill(&page, "totp-code", "000000").await;
    click(&page, "totp-confirm").await;
    wait_text(&page, &testid("error-totp-code"), "wrong").await;
    fill(&page, "totp-code", &totp.code(step, 0)).await;
    click(&page, "totp-confirm").await;

    // The recovery codes, once, with a download.
    wait_text(&page, &testid("recovery-codes"), "not shown again").await;
    let codes = page.find_elements(testid("recovery-code")).await.unwrap();
    assert_eq!(codes.len(), 10);
    let recovery = codes[0].inner_text().await.unwrap().unwrap();
    let download = find(&page, &testid("recovery-download")).await;
    assert_eq!(
        download.attribute("download").await.unwrap().as_deref(),
        Some("recovery-codes.txt")
    );
    click(&page, "recovery-done").await;
    wait_gone(&page, &testid("recovery-codes")).await;
    wait_text(&page, &testid("totp-status"), "Recovery codes left: 10").await;

    // Signing in now asks for the code.
    log_out(&page).await;
    log_in(&page, "admin", PASSWORD).await;
    find(&page, &testid("mfa-form")).await;
    fill(&page, "mfa-code", "123456").await;
    click(&page, "mfa-submit").await;
    wait_text(&page, &testid("mfa-error"), "wrong").await;
    fill(&page, "mfa-code", &totp.code(step, 1)).await;
    click(&page, "mfa-submit").await;
    wait_text(&page, &testid("current-user"), "admin").await;

    // Or for a recovery code instead.
    log_out(&page).await;
    log_in(&page, "admin", PASSWORD).await;
    click(&page, "use-recovery-code").await;
    fill(&page, "mfa-code", &recovery).await;
    click(&page, "mfa-submit").await;
    wait_text(&page, &testid("current-user"), "admin").await;
    click(&page, "nav-profile").await;
    wait_text(&page, &testid("totp-status"), "Recovery codes left: 9").await;
    // The wrong codes the test typed, refused.
    chromium
        .assert_quiet(&["/api/v1/auth/mfa/totp/confirm", "/api/v1/auth/mfa/verify"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_required_to_enrol_does_so_first_and_resets_another_account() {
    let app = spawn_app(|s| s.accounts.mfa_required = MfaRequired::Admins).await;
    // The first admin enrols over the API; bob has an app too; carol, a new admin,
    // has nothing yet.
    let (admin, _) = app.admin().await;
    admin.enrol_totp(PASSWORD, fresh_step().await).await;
    let (member, bob) = app.member(&admin, "bob", "user").await;
    member.enrol_totp(PASSWORD, fresh_step().await).await;
    app.member(&admin, "carol", "admin").await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "carol", PASSWORD).await;

    // Nothing but the enrolment until it is done, wherever the admin goes.
    wait_text(&page, &testid("mfa-enrolment"), "requires a second factor").await;
    click(&page, "nav-audit").await;
    find(&page, &testid("mfa-enrolment")).await;
    fill(&page, "totp-password", PASSWORD).await;
    click(&page, "totp-start").await;
    let totp = Authenticator::new(&text_of(&page, "totp-secret").await);
    fill(&page, "totp-code", &totp.code(fresh_step().await, 0)).await;
    click(&page, "totp-confirm").await;
    wait_text(&page, &testid("recovery-codes"), "not shown again").await;
    click(&page, "recovery-done").await;
    wait_gone(&page, &testid("mfa-enrolment")).await;

    // The admin's reset on bob's account panel.
    click(&page, "nav-users").await;
    super::go_to(&page, &format!("{}/users/{}/edit", app.address, bob.id)).await;
    click(&page, "reset-mfa").await;
    wait_text(
        &page,
        &testid("toast-success"),
        "Reset the two-factor sign-in of bob",
    )
    .await;
    wait_gone(&page, &testid("reset-mfa")).await;
    assert!(!admin.user_ok(bob.id).await.mfa.unwrap().totp);
    chromium.assert_quiet(&[]).await;
}
