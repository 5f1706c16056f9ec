//! My profile: own details and password.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::{ChangePasswordRequest, FieldErrors, UpdateProfileRequest};

use crate::api;
use crate::components::form::{Field, StrengthMeter, SubmitButton};
use crate::components::toast::use_toasts;
use crate::pages::signup::{ProfileFields, ProfileForm};
use crate::session::use_session;

#[component]
pub fn ProfilePage() -> impl IntoView {
    // The route guard renders this page only for a signed-in user.
    use_session()
        .user
        .get_untracked()
        .map(|me| view! { <ProfileForms me=me/> })
}

#[component]
fn ProfileForms(me: shared::User) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let form = ProfileForm::from_user(&me);
    let question = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());

    let save = Action::new_local(move |request: &UpdateProfileRequest| {
        let request = request.clone();
        async move {
            match api::update_me(&request).await {
                Ok(user) => {
                    session.user.set(Some(user));
                    question.set(String::new());
                    answer.set(String::new());
                    toasts.success("Your profile was saved.");
                }
                Err(e) => {
                    errors.set(e.fields());
                    toasts.error(e.message());
                }
            }
        }
    });
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        if save.pending().get_untracked() {
            return;
        }
        let optional =
            |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        let request = UpdateProfileRequest {
            security_question: optional(question),
            security_answer: optional(answer),
            ..form.request()
        };
        match request.validate() {
            Ok(_) => {
                save.dispatch(request);
            }
            Err(fields) => errors.set(fields),
        }
    };

    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let password_errors = RwSignal::new(FieldErrors::new());
    let change = Action::new_local(move |request: &ChangePasswordRequest| {
        let request = request.clone();
        async move {
            match api::change_password(&request).await {
                Ok(()) => {
                    current.set(String::new());
                    new_password.set(String::new());
                    toasts.success("Password changed. Your other sessions were signed out.");
                }
                Err(e) => {
                    password_errors.set(e.fields());
                    toasts.error(e.message());
                }
            }
        }
    });
    let on_change = move |ev: SubmitEvent| {
        ev.prevent_default();
        if change.pending().get_untracked() {
            return;
        }
        let request = ChangePasswordRequest {
            current_password: current.get_untracked(),
            new_password: new_password.get_untracked(),
        };
        let Some(me) = session.user.get_untracked() else {
            return;
        };
        match request.validate(&me) {
            Ok(_) => {
                change.dispatch(request);
            }
            Err(fields) => password_errors.set(fields),
        }
    };

    view! {
        <section class="page narrow">
            <h1>"My profile"</h1>
            <form class="card" on:submit=on_save data-testid="profile-form" novalidate>
                <h2>"Details"</h2>
                <ProfileFields form=form errors=errors/>
                <Field label="New security question (optional)" name="security_question" value=question errors=errors/>
                <Field label="Its answer" name="security_answer" value=answer errors=errors kind="password"/>
                <div class="actions">
                    <SubmitButton label="Save profile" pending=save.pending().into() testid="save-profile"/>
                </div>
            </form>
            <form class="card" on:submit=on_change data-testid="password-form" novalidate>
                <h2>"Change password"</h2>
                <Field label="Current password" name="current_password" value=current errors=password_errors
                    kind="password" autocomplete="current-password" required=true/>
                <Field label="New password" name="new_password" value=new_password errors=password_errors
                    kind="password" autocomplete="new-password" required=true/>
                <StrengthMeter password=new_password user_inputs=form.known_words()/>
                <div class="actions">
                    <SubmitButton label="Change password" pending=change.pending().into() testid="change-password"/>
                </div>
            </form>
        </section>
    }
}
