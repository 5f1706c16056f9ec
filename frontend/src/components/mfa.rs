//! Two-factor sign-in on the profile: set up an authenticator app (QR code, the
//! secret for typing in, a first code), the recovery codes shown once (copy,
//! download), new codes, and turning it off. The enrolment alone is also the whole
//! screen for an account `MFA_REQUIRED` covers until it has a second factor.

use leptos::prelude::*;
use shared::{
    FieldErrors, MfaSummary, ReauthRequest, RecoveryCodes, TotpConfirmRequest, TotpDisableRequest,
    TotpSetup, User,
};

use crate::api;
use crate::components::form::{Field, SubmitButton};
use crate::components::passkeys::PasskeysPanel;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, after_answer, use_form_action};
use crate::session::{Session, use_session};
use crate::share;

/// Reads the account again, so its `mfa` summary (and the session's restriction)
/// follow a change. The screen is drawn anew then, so new recovery codes are put
/// away first.
pub fn refresh_session(session: Session) {
    leptos::task::spawn_local(async move {
        if let Ok(state) = api::session_state().await {
            session.set_state(state);
        }
    });
}

/// The profile's section: what is on, and the forms to change it.
#[component]
pub fn SecondFactorPanel() -> impl IntoView {
    let session = use_session();
    let put_away = move || refresh_session(session);
    let summary = move || {
        session
            .user
            .with(|u| u.as_ref().and_then(|u: &User| u.mfa).unwrap_or_default())
    };
    let codes = RwSignal::new(None::<Vec<String>>);
    view! {
        <section class="card" data-testid="mfa-panel" aria-labelledby="mfa-heading">
            <h2 id="mfa-heading">"Two-factor sign-in"</h2>
            {move || match codes.get() {
                Some(list) => view! { <RecoveryCodesCard codes=list on_done=move || {
                    codes.set(None);
                    put_away();
                }/> }.into_any(),
                None if summary().totp => view! { <TotpOn summary=summary() codes=codes/> }.into_any(),
                None => view! { <TotpEnrolment codes=codes/> }.into_any(),
            }}
        </section>
        <PasskeysPanel codes=codes/>
    }
}

/// Off: a password opens the setup, the app's first code turns it on.
#[component]
pub fn TotpEnrolment(codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let setup = RwSignal::new(None::<TotpSetup>);
    view! {
        <p data-testid="totp-status">"Off. With an authenticator app, signing in also asks for the code it shows."</p>
        {move || match setup.get() {
            None => view! { <StartSetup setup=setup/> }.into_any(),
            Some(found) => view! { <ConfirmSetup setup=found codes=codes/> }.into_any(),
        }}
    }
}

#[component]
fn StartSetup(setup: RwSignal<Option<TotpSetup>>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let start = use_form_action(
        errors,
        Failure::Toast,
        |request: ReauthRequest| async move { api::totp_setup(&request).await },
        move |found: TotpSetup| after_answer(move || setup.set(Some(found))),
    );
    let on_submit = start.on_submit(move || {
        let request = ReauthRequest {
            current_password: password.get_untracked(),
        };
        request.validate().map(|()| request)
    });
    view! {
        <form on:submit=on_submit data-testid="totp-start-form" novalidate>
            <Field label="Your password" name="current_password" id="totp-password" value=password errors=errors kind="password" autocomplete="current-password" required=true/>
            <SubmitButton label="Set up an authenticator app" pending=start.pending() testid="totp-start"/>
        </form>
    }
}

#[component]
fn ConfirmSetup(setup: TotpSetup, codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let toasts = use_toasts();
    let code = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let confirm = use_form_action(
        errors,
        Failure::Toast,
        |request: TotpConfirmRequest| async move { api::totp_confirm(&request).await },
        move |answer: RecoveryCodes| {
            toasts.success("Two-factor sign-in is on.");
            after_answer(move || codes.set(Some(answer.recovery_codes)));
        },
    );
    let on_submit = confirm.on_submit(move || {
        let request = TotpConfirmRequest {
            code: code.get_untracked(),
        };
        request.validate().map(|_| request)
    });
    view! {
        <ol class="steps">
            <li>"Scan this code with your authenticator app:"
                <div class="qr" data-testid="totp-qr" role="img" aria-label="QR code of the secret" inner_html=setup.qr_svg></div>
            </li>
            <li>"Or type this key into it: " <code class="secret" data-testid="totp-secret">{setup.secret}</code></li>
            <li>"Enter the code the app shows:"</li>
        </ol>
        <form on:submit=on_submit data-testid="totp-confirm-form" novalidate>
            <Field label="Code from the app" name="code" id="totp-code" value=code errors=errors autocomplete="one-time-code" required=true/>
            <SubmitButton label="Turn on" pending=confirm.pending() testid="totp-confirm"/>
        </form>
    }
}

/// On: new recovery codes, or turning it off.
#[component]
fn TotpOn(summary: MfaSummary, codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let renew = use_form_action(
        errors,
        Failure::Toast,
        |request: ReauthRequest| async move { api::renew_recovery_codes(&request).await },
        move |answer: RecoveryCodes| after_answer(move || codes.set(Some(answer.recovery_codes))),
    );
    let on_renew = renew.on_submit(move || {
        let request = ReauthRequest {
            current_password: password.get_untracked(),
        };
        request.validate().map(|()| request)
    });
    view! {
        <p data-testid="totp-status">
            {format!("On with an authenticator app. Recovery codes left: {}.", summary.recovery_codes_left)}
        </p>
        <form on:submit=on_renew data-testid="recovery-renew-form" novalidate>
            <Field label="Your password" name="current_password" id="renew-password" value=password errors=errors kind="password" autocomplete="current-password" required=true/>
            <SubmitButton label="Make new recovery codes" pending=renew.pending() testid="recovery-renew"/>
        </form>
        <TurnOff/>
    }
}

#[component]
fn TurnOff() -> impl IntoView {
    let toasts = use_toasts();
    let session = use_session();
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let off = use_form_action(
        errors,
        Failure::Toast,
        |request: TotpDisableRequest| async move { api::totp_disable(&request).await },
        move |()| {
            toasts.success("Two-factor sign-in is off.");
            refresh_session(session);
        },
    );
    let on_submit = off.on_submit(move || {
        let request = TotpDisableRequest {
            current_password: password.get_untracked(),
            code: code.get_untracked(),
        };
        request.validate().map(|_| request)
    });
    view! {
        <form on:submit=on_submit data-testid="totp-disable-form" novalidate>
            <h3>"Turn off"</h3>
            <Field label="Your password" name="current_password" id="disable-password" value=password errors=errors kind="password" autocomplete="current-password" required=true/>
            <Field label="Code from the app, or a recovery code" name="code" id="disable-code" value=code errors=errors autocomplete="one-time-code" required=true/>
            <SubmitButton label="Turn off two-factor sign-in" pending=off.pending() testid="totp-disable"/>
        </form>
    }
}

/// `codes` as a text file to download.
fn codes_file(codes: &[String]) -> Option<String> {
    let text = format!(
        "Recovery codes: each signs you in once instead of a code from your app.\n\n{}\n",
        codes.join("\n")
    );
    share::file_url(&text, "text/plain")
}

/// The recovery codes, this once: copy them or download them.
#[component]
fn RecoveryCodesCard(codes: Vec<String>, on_done: impl Fn() + 'static) -> impl IntoView {
    let toasts = use_toasts();
    let href = codes_file(&codes);
    if let Some(url) = href.clone() {
        on_cleanup(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
    }
    let text = codes.join("\n");
    let copy = move |_| {
        share::copy(
            &text,
            toasts,
            "Copied the recovery codes.",
            "Could not copy: select the codes and copy them.",
        );
    };
    view! {
        <div class="notice" role="status" data-testid="recovery-codes">
            <p>"Keep these recovery codes somewhere safe. Each signs you in once if you lose your phone; they are not shown again."</p>
            <ul class="codes">
                {codes.into_iter().map(|c| view! { <li><code data-testid="recovery-code">{c}</code></li> }).collect_view()}
            </ul>
            <div class="actions">
                <button type="button" class="button" data-testid="recovery-copy" on:click=copy>"Copy"</button>
                {href.map(|href| view! { <a class="button" href=href download="recovery-codes.txt" data-testid="recovery-download">"Download"</a> })}
                <button type="button" class="button primary" data-testid="recovery-done" on:click=move |_| on_done()>"I have saved them"</button>
            </div>
        </div>
    }
}

/// The whole screen for an account that must set up a second factor first.
#[component]
pub fn EnrolmentRequired() -> impl IntoView {
    let codes = RwSignal::new(None::<Vec<String>>);
    let session = use_session();
    view! {
        <section class="page narrow" data-testid="mfa-enrolment">
            <h1>"Set up two-factor sign-in"</h1>
            <p>"Your administrator requires a second factor for your account. Set one up to continue."</p>
            <div class="card">
                {move || match codes.get() {
                    Some(list) => view! {
                        <RecoveryCodesCard codes=list on_done=move || {
                            codes.set(None);
                            refresh_session(session);
                        }/>
                    }.into_any(),
                    None => view! { <TotpEnrolment codes=codes/> }.into_any(),
                }}
            </div>
            <PasskeysPanel codes=codes/>
        </section>
    }
}
