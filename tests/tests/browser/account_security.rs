//! Account security in the browser: confirming an address (a new account's, then a
//! changed one), sign-up by invitation, and a login link that tries to send the user
//! to another site.

use chromiumoxide::Page;
use harness::subjects::{EMAIL_CHANGE_REQUESTED, EMAIL_CODE, INVITATION};
use harness::{PASSWORD, account};
use shared::{SignupMode, SignupRequest};

use super::{
    Chromium, click, fill, fill_account, find, log_in, screenshot, spawn_app, testid, wait_gone,
    wait_path, wait_text,
};

/// `[data-testid="email-state"][data-state="…"]`.
fn email_state(state: &str) -> String {
    format!("[data-testid=\"email-state\"][data-state=\"{state}\"]")
}

/// The value of the input named `name` (through its test id).
async fn input_value(page: &Page, name: &str) -> String {
    let script = format!("document.querySelector('[data-testid=\"input-{name}\"]').value");
    page.evaluate(script).await.unwrap().into_value().unwrap()
}

/// Whether `id` is on the page now (for things that must not be).
async fn present(page: &Page, id: &str) -> bool {
    page.find_element(testid(id)).await.is_ok()
}

/// On the code screen (`/verify-email`): enters `code` and waits until the address
/// `address` shows as verified.
async fn enter_code(page: &Page, code: &str, address: &str) {
    fill(page, "code", code).await;
    click(page, "verify-submit").await;
    wait_text(
        page,
        &email_state("verified"),
        &format!("Your address {address} is verified"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_accounts_verify_their_email() {
    let app = spawn_app(|_| {}).await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/signup", app.address)).await;
    let ada = account("ada");
    fill_account(&page, &ada).await;
    click(&page, "signup-submit").await;
    wait_text(&page, &testid("login-notice"), "emailed a code").await;
    log_in(&page, "ada", PASSWORD).await;

    // Until the code comes back, the signed-in pages remind of it.
    let reminder = format!("we sent a code to {}", ada.email);
    wait_text(&page, &testid("verify-banner"), &reminder).await;
    screenshot(&page, "verify-banner").await;
    click(&page, "verify-link").await;
    wait_path(&page, "/verify-email").await;
    wait_text(&page, &email_state("unverified"), &ada.email).await;
    // The shared rule checks the code's shape before anything is sent.
    fill(&page, "code", "12345").await;
    click(&page, "verify-submit").await;
    wait_text(&page, &testid("error-code"), "6 digits").await;
    screenshot(&page, "verify-email").await;
    // A new code replaces the first, and the button waits before sending another.
    click(&page, "resend-email-code").await;
    wait_text(&page, &testid("toast-success"), "A new code is on its way").await;
    wait_text(&page, &testid("resend-email-code"), "Send a new code in").await;
    let codes = app.mail.wait_for_subject(&ada.email, EMAIL_CODE, 2).await;
    let (first, second) = (codes[0].code(), codes[1].code());
    if first != second {
        fill(&page, "code", &first).await;
        click(&page, "verify-submit").await;
        wait_text(&page, &testid("error-code"), "is wrong or has expired").await;
    }
    enter_code(&page, &second, &ada.email).await;
    wait_text(&page, &testid("toast-success"), "is confirmed").await;
    click(&page, "nav-profile").await;
    wait_text(&page, &email_state("verified"), &ada.email).await;
    assert!(!present(&page, "verify-banner").await, "nothing to confirm");

    // A new address needs the password, and only waits for its code.
    let new_address = "ada.lovelace@example.org";
    fill(&page, "email", new_address).await;
    click(&page, "save-profile").await;
    wait_text(&page, &testid("error-current_password"), "is required").await;
    fill(&page, "current_password", PASSWORD).await;
    click(&page, "save-profile").await;
    wait_text(
        &page,
        &testid("toast-success"),
        &format!("We sent a code to {new_address}"),
    )
    .await;
    wait_text(&page, &email_state("pending"), "is waiting for its code").await;
    wait_text(&page, &testid("verify-banner"), new_address).await;
    screenshot(&page, "profile-pending-email").await;
    // The old address hears of it at once.
    let notice = app
        .mail
        .wait_for_subject(&ada.email, EMAIL_CHANGE_REQUESTED, 1)
        .await;
    assert!(notice[0].text.contains(new_address), "{}", notice[0].text);

    click(&page, "verify-link").await;
    wait_path(&page, "/verify-email").await;
    wait_text(&page, &email_state("pending"), new_address).await;
    enter_code(&page, &app.email_code(new_address).await, new_address).await;
    click(&page, "nav-profile").await;
    wait_text(&page, &email_state("verified"), new_address).await;
    assert_eq!(input_value(&page, "email").await, new_address);
    assert!(!present(&page, "verify-banner").await, "nothing to confirm");
    // Refused on purpose: a replaced code, and a new address without the password.
    chromium
        .assert_quiet(&["/api/v1/auth/email/verify", "/api/v1/auth/me"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_invites_and_the_invitee_signs_up() {
    let app = spawn_app(|s| s.accounts.signup = SignupMode::Invite).await;
    // The first account (the admin) may sign up whatever the mode.
    app.admin().await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_text(&page, &testid("summary"), "of 1").await;
    click(&page, "nav-invitations").await;
    wait_path(&page, "/invitations").await;
    find(&page, &testid("empty-state")).await;
    let address = "grace@example.com";
    fill(&page, "email", address).await;
    click(&page, "invite-submit").await;
    wait_text(&page, &testid("invitation-row"), address).await;
    screenshot(&page, "invitations").await;
    let code = app.mail.wait_for_subject(address, INVITATION, 1).await[0].code();

    // The invitee, in a browser of their own: the form asks for the code.
    let mut theirs = Chromium::launch().await;
    let invitee = theirs.open(&format!("{}/signup", app.address)).await;
    find(&invitee, &testid("input-invitation_code")).await;
    let grace = SignupRequest {
        email: address.to_owned(),
        ..account("grace")
    };
    fill_account(&invitee, &grace).await;
    click(&invitee, "signup-submit").await;
    wait_text(&invitee, &testid("signup-error"), "by invitation").await;
    screenshot(&invitee, "signup-invite-refused").await;
    fill(&invitee, "invitation_code", &code).await;
    click(&invitee, "signup-submit").await;
    wait_path(&invitee, "/login?notice=created").await;
    log_in(&invitee, "grace", PASSWORD).await;
    wait_text(&invitee, &testid("current-user"), "grace").await;
    wait_text(&invitee, &testid("summary"), "of 2").await;
    // The invitation's code came back from the address: nothing left to confirm.
    assert!(!present(&invitee, "verify-banner").await);

    // Used, the invitation is gone from the list; another one can be withdrawn.
    click(&page, "nav-users").await;
    wait_text(&page, &testid("summary"), "of 2").await;
    click(&page, "nav-invitations").await;
    find(&page, &testid("empty-state")).await;
    fill(&page, "email", "hopper@example.com").await;
    click(&page, "invite-submit").await;
    wait_text(&page, &testid("invitation-row"), "hopper@example.com").await;
    click(&page, "revoke-invitation").await;
    wait_text(&page, &testid("toast-success"), "Withdrew").await;
    wait_gone(&page, &testid("invitation-row")).await;
    chromium.assert_quiet(&[]).await;
    // Refused on purpose: the sign-up without the invitation's code.
    theirs.assert_quiet(&["/api/v1/auth/signup"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signup_form_follows_the_policy() {
    let closed = spawn_app(|s| s.accounts.signup = SignupMode::Closed).await;
    closed.admin().await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/signup", closed.address)).await;
    wait_text(&page, &testid("signup-closed"), "Sign-up is closed").await;
    assert!(!present(&page, "signup-form").await);

    // An invitation link fills in its code and address; the domains are named.
    let invite = spawn_app(|s| {
        s.accounts.signup = SignupMode::Invite;
        s.accounts.email_domains = vec!["example.com".to_owned()];
    })
    .await;
    invite.admin().await;
    let page = chromium
        .open(&format!(
            "{}/signup?code=042917&email=grace%40example.com",
            invite.address
        ))
        .await;
    wait_text(&page, &testid("email-domains"), "example.com").await;
    find(&page, &testid("input-invitation_code")).await;
    assert_eq!(input_value(&page, "invitation_code").await, "042917");
    assert_eq!(input_value(&page, "email").await, "grace@example.com");
    assert!(
        !present(&page, "input-setup_token").await,
        "a loopback instance"
    );
    chromium.assert_quiet(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_parameter_cannot_leave_the_origin() {
    let app = spawn_app(|_| {}).await;
    app.admin().await;
    let mut chromium = Chromium::launch().await;
    // As they stand in the address bar; the app reads them decoded.
    let nexts = [
        "/%5Cevil.example",
        "//evil.example",
        "https://evil.example",
        "/%252F%252Fevil.example",
        "/%09/evil.example",
    ];
    for (i, next) in nexts.into_iter().enumerate() {
        let page = chromium
            .open(&format!("{}/login?next={next}", app.address))
            .await;
        // Signed in already, the login page leaves at once for `next`.
        if i == 0 {
            log_in(&page, "admin", PASSWORD).await;
        }
        find(&page, &testid("summary")).await;
        let [origin, path]: [String; 2] = page
            .evaluate("[location.origin, location.pathname + location.search]")
            .await
            .unwrap()
            .into_value()
            .unwrap();
        assert_eq!(
            (origin.as_str(), path.as_str()),
            (app.address.as_str(), "/"),
            "{next}"
        );
    }
    chromium.assert_quiet(&[]).await;
}
