//! Log in, then go where the user was headed (`?next=`); `?notice=` says why they are
//! here. An account with a second factor is asked for it in a second step.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{
    FieldErrors, LoginRequest, MfaChallenge, MfaMethod, MfaVerifyRequest, SessionState, User,
};

use crate::api::{self, ApiError, LoginAnswer};
use crate::components::form::{Field, SubmitButton};
use crate::hooks::{Failure, after_answer, use_form_action, use_mounted};
use crate::nav::safe_next;
use crate::session::{Session, use_session};
use crate::webauthn;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let navigate = use_navigate();
    let challenge = RwSignal::new(None::<MfaChallenge>);

    // Signed in (just now, or already): go where the user was headed.
    Effect::new(move |_| {
        if session.user.with(Option::is_some) {
            let next = query.with_untracked(|q| safe_next(q.get("next").as_deref()));
            navigate(&next, Default::default());
        }
    });

    view! {
        <main class="auth-page" id="main" tabindex="-1">
            {move || match challenge.get() {
                Some(asked) => view! { <SecondStep challenge=asked on_back=move || challenge.set(None)/> }.into_any(),
                None => view! { <PasswordStep challenge=challenge/> }.into_any(),
            }}
        </main>
    }
}

/// The first step: name and password.
#[component]
fn PasswordStep(challenge: RwSignal<Option<MfaChallenge>>) -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let login = use_form_action(
        errors,
        Failure::Alert(failure),
        |request: LoginRequest| async move { api::login(&request).await },
        move |answer| match answer {
            LoginAnswer::LoggedIn(user) => signed_in(session, *user),
            LoginAnswer::SecondFactor(asked) => after_answer(move || challenge.set(Some(asked))),
        },
    );
    let on_submit = login.on_submit(move || {
        let request = LoginRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
            // The browser's device cookie stands in for it.
            device_token: None,
        };
        request.validate().map(|()| request)
    });
    let notice = move || {
        query.with(|q| match q.get("notice").as_deref() {
            Some("expired") => Some("Your session has expired. Please log in again."),
            Some("reset") => Some("Your password was changed. Log in with your new password."),
            Some("created") => Some(
                "Your account was created, and we emailed a code to confirm your address. \
                 Log in to enter it.",
            ),
            _ => None,
        })
    };
    view! {
        <form class="card auth-card" on:submit=on_submit data-testid="login-form" novalidate>
            <h1>"Log in"</h1>
            {move || notice().map(|n| view! { <p class="notice" role="status" data-testid="login-notice">{n}</p> })}
            {move || failure.get().map(|f| view! { <p class="alert" role="alert" data-testid="login-error">{f}</p> })}
            <Field label="Username or email" name="username" value=username errors=errors autocomplete="username" required=true/>
            <Field label="Password" name="password" value=password errors=errors kind="password" autocomplete="current-password" required=true/>
            <SubmitButton label="Log in" pending=login.pending() testid="login-submit"/>
            {webauthn::supported().then(|| view! {
                <PasskeyButton label="Sign in with a passkey" testid="passkey-login" failure=failure sign=passkey_sign_in/>
            })}
            <p class="links">
                <A href="/forgot" attr:data-testid="link-forgot">"Forgot your password?"</A>
                " · "
                <A href="/signup" attr:data-testid="link-signup">"Create an account"</A>
            </p>
        </form>
    }
}

/// A passkey button: `sign` runs the whole ceremony and answers the account, which
/// then signs the app in; a failure is shown in `failure`.
#[component]
fn PasskeyButton<F, Fut>(
    label: &'static str,
    testid: &'static str,
    failure: RwSignal<Option<String>>,
    sign: F,
) -> impl IntoView
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<User, ApiError>> + 'static,
{
    let session = use_session();
    let mounted = use_mounted();
    let run = Action::new_local(move |(): &()| {
        let (answer, mounted) = (sign(), mounted.clone());
        async move {
            let answer = answer.await;
            if !mounted.get() {
                return;
            }
            match answer {
                Ok(user) => signed_in(session, user),
                Err(e) => failure.set(Some(e.message())),
            }
        }
    });
    let pending = run.pending();
    view! {
        <button type="button" class="button wide" data-testid=testid
            disabled=move || pending.get() on:click=move |_| { failure.set(None); run.dispatch(()); }>
            {label}
        </button>
    }
}

/// "Sign in with a passkey": no name, no password; the browser offers the passkeys
/// it holds for this site.
async fn passkey_sign_in() -> Result<User, ApiError> {
    api::passkey_login().await.map_err(|e| match e {
        ApiError::Unauthorized(_) => ApiError::Browser(
            "That passkey was not accepted: it may have been removed from its account.".to_owned(),
        ),
        other => other,
    })
}

/// A login is complete: learn what the session may do (an account `MFA_REQUIRED`
/// covers may have to enrol first), then sign the app in.
fn signed_in(session: Session, user: User) {
    session.expired.set(false);
    leptos::task::spawn_local(async move {
        match api::session_state().await {
            Ok(state) => session.set_state(state),
            // The server will say what the session may do on the next call.
            Err(_) => session.set_state(SessionState {
                user: Some(user),
                mfa_enrolment_required: false,
            }),
        }
    });
}

/// The second step: a code from the app, a recovery code, or a passkey.
#[component]
fn SecondStep(challenge: MfaChallenge, on_back: impl Fn() + 'static) -> impl IntoView {
    let session = use_session();
    let code = RwSignal::new(String::new());
    let recovery = RwSignal::new(!challenge.methods.contains(&MfaMethod::Totp));
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let verify = use_form_action(
        errors,
        Failure::Alert(failure),
        |request: MfaVerifyRequest| async move { api::verify_second_factor(&request).await },
        move |user| signed_in(session, user),
    );
    let token = challenge.mfa_token.clone();
    let passkey_token = challenge.mfa_token.clone();
    let passkey = challenge.webauthn.clone().filter(|_| webauthn::supported());
    let on_submit = verify.on_submit(move || {
        let typed = Some(code.get_untracked());
        let request = if recovery.get_untracked() {
            MfaVerifyRequest {
                mfa_token: token.clone(),
                recovery_code: typed,
                ..Default::default()
            }
        } else {
            MfaVerifyRequest {
                mfa_token: token.clone(),
                code: typed,
                ..Default::default()
            }
        };
        request.validate().map(|_| request)
    });
    let can_switch = challenge.methods.contains(&MfaMethod::Totp)
        && challenge.methods.contains(&MfaMethod::RecoveryCode);
    let switch = move |_| {
        recovery.update(|r| *r = !*r);
        code.set(String::new());
        errors.set(FieldErrors::new());
    };
    view! {
        <form class="card auth-card" on:submit=on_submit data-testid="mfa-form" novalidate>
            <h1>"Two-factor sign-in"</h1>
            {move || failure.get().map(|f| view! { <p class="alert" role="alert" data-testid="mfa-error">{f}</p> })}
            {move || if recovery.get() {
                view! { <Field label="Recovery code" name="recovery_code" id="mfa-code" value=code errors=errors autocomplete="off" required=true/> }.into_any()
            } else {
                view! { <Field label="Code from your authenticator app" name="code" id="mfa-code" value=code errors=errors autocomplete="one-time-code" required=true/> }.into_any()
            }}
            <SubmitButton label="Verify" pending=verify.pending() testid="mfa-submit"/>
            {passkey.map(|options| {
                let token = passkey_token.clone();
                let sign = move || api::verify_with_passkey(token.clone(), options.clone());
                view! { <PasskeyButton label="Use a passkey" testid="use-passkey" failure=failure sign=sign/> }
            })}
            <p class="links">
                {can_switch.then(|| view! {
                    <button type="button" class="link" data-testid="use-recovery-code" on:click=switch>
                        {move || if recovery.get() { "Use the app's code" } else { "Use a recovery code" }}
                    </button>
                    " · "
                })}
                <button type="button" class="link" data-testid="mfa-back" on:click=move |_| on_back()>"Start over"</button>
            </p>
        </form>
    }
}
