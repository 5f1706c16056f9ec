//! My profile: own details and password.

use leptos::prelude::*;
use shared::{FieldErrors, UpdateProfileRequest, User};

use crate::api;
use crate::components::account_fields::{ProfileFields, ProfileForm};
use crate::components::form::{Field, SubmitButton};
use crate::components::password_form::PasswordForm;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};
use crate::session::use_session;

#[component]
pub fn ProfilePage() -> impl IntoView {
    // The route guard renders this page only for a signed-in user.
    use_session().user.get_untracked().map(|me| {
        let form = ProfileForm::from_user(&me);
        view! {
            <section class="page narrow">
                <h1>"My profile"</h1>
                <DetailsForm form=form/>
                <PasswordForm user_inputs=form.known_words()/>
            </section>
        }
    })
}

#[component]
fn DetailsForm(form: ProfileForm) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let question = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let save = use_form_action(
        errors,
        Failure::Toast,
        |request: UpdateProfileRequest| async move { api::update_me(&request).await },
        move |user: User| {
            session.user.set(Some(user));
            question.set(String::new());
            answer.set(String::new());
            toasts.success("Your profile was saved.");
        },
    );
    let on_submit = save.on_submit(move || {
        let optional =
            |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        let request = UpdateProfileRequest {
            security_question: optional(question),
            security_answer: optional(answer),
            ..form.request()
        };
        request.validate().map(|_| request)
    });
    view! {
        <form class="card" on:submit=on_submit data-testid="profile-form" novalidate>
            <h2>"Details"</h2>
            <ProfileFields form=form errors=errors/>
            <Field label="New security question (optional)" name="security_question" value=question errors=errors/>
            <Field label="Its answer" name="security_answer" value=answer errors=errors kind="password"/>
            <div class="actions">
                <SubmitButton label="Save profile" pending=save.pending() testid="save-profile"/>
            </div>
        </form>
    }
}
