//! Passkeys in the app, with Chromium's virtual authenticator (the DevTools
//! protocol's `WebAuthn` domain: CTAP2, internal, resident keys, user verification)
//! on `http://localhost:<port>` (WebAuthn refuses IP addresses): a user adds a named
//! passkey from the profile and keeps the recovery codes it brings, signs in with it
//! alone, gives it as the second factor after the password, and removes it.

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::web_authn::{
    AddVirtualAuthenticatorParams, AuthenticatorProtocol, AuthenticatorTransport, Ctap2Version,
    EnableParams, GetCredentialsParams, VirtualAuthenticatorOptions,
};
use harness::PASSWORD;

use super::{
    Chromium, click, click_in_dialog, fill, find, log_in, spawn_app, testid, wait_gone, wait_text,
};

/// A platform authenticator that holds discoverable keys and verifies its user (a
/// fingerprint that always matches). Returns its id.
async fn virtual_authenticator(page: &Page) -> String {
    page.execute(EnableParams::default())
        .await
        .expect("WebAuthn.enable");
    let options = VirtualAuthenticatorOptions::builder()
        .protocol(AuthenticatorProtocol::Ctap2)
        .ctap2_version(Ctap2Version::Ctap21)
        .transport(AuthenticatorTransport::Internal)
        .has_resident_key(true)
        .has_user_verification(true)
        .is_user_verified(true)
        .automatic_presence_simulation(true)
        .build()
        .expect("authenticator options");
    let added = page
        .execute(AddVirtualAuthenticatorParams::new(options))
        .await
        .expect("WebAuthn.addVirtualAuthenticator");
    added.result.authenticator_id.inner().clone()
}

/// The keys the authenticator holds, and whether each is discoverable.
async fn held_keys(page: &Page, authenticator: &str) -> Vec<bool> {
    let credentials = page
        .execute(GetCredentialsParams::new(authenticator.to_owned()))
        .await
        .expect("WebAuthn.getCredentials");
    credentials
        .result
        .credentials
        .iter()
        .map(|c| c.is_resident_credential)
        .collect()
}

async fn log_out(page: &Page) {
    click(page, "logout").await;
    find(page, &testid("login-form")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_adds_a_passkey_and_signs_in_with_it() {
    let app = spawn_app(|_| {}).await;
    let (_admin, _) = app.admin().await;
    let base = app.address.replace("127.0.0.1", "localhost");
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{base}/login")).await;
    let authenticator = virtual_authenticator(&page).await;
    log_in(&page, "admin", PASSWORD).await;
    click(&page, "nav-profile").await;
    find(&page, &testid("passkeys-empty")).await;

    // A named passkey; as the first second factor it brings recovery codes.
    fill(&page, "passkey-name", "Work laptop").await;
    click(&page, "passkey-add").await;
    wait_text(&page, &testid("recovery-codes"), "not shown again").await;
    click(&page, "recovery-done").await;
    wait_gone(&page, &testid("recovery-codes")).await;
    wait_text(&page, &testid("passkey-name"), "Work laptop").await;
    assert_eq!(
        held_keys(&page, &authenticator).await,
        vec![true],
        "one discoverable key"
    );

    // It signs in alone: no name, no password.
    log_out(&page).await;
    click(&page, "passkey-login").await;
    wait_text(&page, &testid("current-user"), "admin").await;

    // After the password, it is the second factor.
    log_out(&page).await;
    log_in(&page, "admin", PASSWORD).await;
    find(&page, &testid("mfa-form")).await;
    click(&page, "use-passkey").await;
    wait_text(&page, &testid("current-user"), "admin").await;

    // Removed, it is gone from the list and from sign-in.
    click(&page, "nav-profile").await;
    wait_text(&page, &testid("passkey-name"), "Work laptop").await;
    click(&page, "passkey-remove").await;
    click_in_dialog(&page, "confirm-ok").await;
    wait_text(
        &page,
        &testid("toast-success"),
        "Removed the passkey Work laptop",
    )
    .await;
    find(&page, &testid("passkeys-empty")).await;
    log_out(&page).await;
    click(&page, "passkey-login").await;
    wait_text(&page, &testid("login-error"), "not accepted").await;
    // The refused sign-in the test provoked.
    chromium
        .assert_quiet(&["/api/v1/auth/passkeys/login/finish"])
        .await;
}
