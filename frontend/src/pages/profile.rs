//! My profile: own details (with the state of the address), password, and
//! two-factor sign-in.

use leptos::prelude::*;
use shared::{FieldErrors, UpdateProfileRequest, User};

use crate::api;
use crate::components::account_fields::{
    CurrentPasswordField, ProfileFields, ProfileForm, non_empty,
};
use crate::components::avatar::PictureEditor;
use crate::components::email_state::newly_requested;
use crate::components::form::{Field, SubmitButton};
use crate::components::mfa::SecondFactorPanel;
use crate::components::password_form::PasswordForm;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};
use crate::session::use_session;

#[component]
pub fn ProfilePage() -> impl IntoView {
    // The route guard renders this page only for a signed-in user.
    let session = use_session();
    session.user.get_untracked().map(|me| {
        let form = ProfileForm::from_user(&me);
        let on_picture = Callback::new(move |user: User| session.user.set(Some(user)));
        view! {
            <section class="page narrow">
                <h1>"My profile"</h1>
                <PictureEditor user=me on_change=on_picture/>
                <DetailsForm form=form/>
                <PasswordForm user_inputs=form.known_words()/>
                <SecondFactorPanel/>
            </section>
        }
    })
}

/// What a saved profile means: a new address is only asked for.
fn saved_message(before: Option<&User>, after: &User) -> String {
    let requested = before.and_then(|before| newly_requested(before, after));
    match (requested, after.email.as_deref()) {
        (Some(new), Some(old)) => format!(
            "Your profile was saved. We sent a code to {new}; {old} stays your address until you enter it."
        ),
        _ => "Your profile was saved.".to_owned(),
    }
}

#[component]
fn DetailsForm(form: ProfileForm) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let question = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let current_password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let save = use_form_action(
        errors,
        Failure::Toast,
        |request: UpdateProfileRequest| async move { api::update_me(&request).await },
        move |user: User| {
            let message = session
                .user
                .with_untracked(|me| saved_message(me.as_ref(), &user));
            session.user.set(Some(user));
            for secret in [question, answer, current_password] {
                secret.set(String::new());
            }
            toasts.success(message);
        },
    );
    let on_submit = save.on_submit(move || {
        let request = UpdateProfileRequest {
            security_question: non_empty(question),
            security_answer: non_empty(answer),
            current_password: non_empty(current_password),
            ..form.request()
        };
        request.validate().map(|_| request)
    });
    view! {
        <form class="card" on:submit=on_submit data-testid="profile-form" novalidate>
            <h2>"Details"</h2>
            <ProfileFields form=form errors=errors account=session.user/>
            <Field label="New security question (optional)" name="security_question" value=question errors=errors/>
            <Field label="Its answer" name="security_answer" value=answer errors=errors kind="password"/>
            <CurrentPasswordField value=current_password errors=errors/>
            <div class="actions">
                <SubmitButton label="Save profile" pending=save.pending() testid="save-profile"/>
            </div>
        </form>
    }
}
