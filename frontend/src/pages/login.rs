//! Log in, then go where the user was headed (`?next=`); `?notice=` says why they are
//! here.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{FieldErrors, LoginRequest};

use crate::api;
use crate::components::form::{Field, SubmitButton};
use crate::hooks::{Failure, use_form_action};
use crate::nav::safe_next;
use crate::session::use_session;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);

    // Signed in (just now, or already): go where the user was headed.
    Effect::new(move |_| {
        if session.user.with(Option::is_some) {
            let next = query.with_untracked(|q| safe_next(q.get("next").as_deref()));
            navigate(&next, Default::default());
        }
    });

    let login = use_form_action(
        errors,
        Failure::Alert(failure),
        |request: LoginRequest| async move { api::login(&request).await },
        move |user| {
            session.expired.set(false);
            session.user.set(Some(user));
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
        <main class="auth-page" id="main" tabindex="-1">
            <form class="card auth-card" on:submit=on_submit data-testid="login-form" novalidate>
                <h1>"Log in"</h1>
                {move || notice().map(|n| view! { <p class="notice" role="status" data-testid="login-notice">{n}</p> })}
                {move || failure.get().map(|f| view! { <p class="alert" role="alert" data-testid="login-error">{f}</p> })}
                <Field label="Username or email" name="username" value=username errors=errors autocomplete="username" required=true/>
                <Field label="Password" name="password" value=password errors=errors kind="password" autocomplete="current-password" required=true/>
                <SubmitButton label="Log in" pending=login.pending() testid="login-submit"/>
                <p class="links">
                    <A href="/forgot" attr:data-testid="link-forgot">"Forgot your password?"</A>
                    " · "
                    <A href="/signup" attr:data-testid="link-signup">"Create an account"</A>
                </p>
            </form>
        </main>
    }
}
