//! Edit a user (admins: anyone, role included; users: themselves). Admins also get
//! the account's controls and its recent activity. One's own account asks for the
//! current password, as the profile does. A save carries the version the form was
//! loaded at (`If-Match`): if another admin changed the account meanwhile, nothing is
//! overwritten and the toast asks to reload.

use leptos::Params;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params};
use leptos_router::params::Params;
use shared::{FieldErrors, UpdateProfileRequest, UpdateUserRequest, User};

use crate::api;
use crate::components::account_controls::{AccountControl, AccountControls};
use crate::components::account_fields::{
    CurrentPasswordField, ProfileFields, ProfileForm, RoleSelect, non_empty,
};
use crate::components::async_view::AsyncView;
use crate::components::avatar::PictureEditor;
use crate::components::email_state::newly_requested;
use crate::components::form::{Field, StrengthMeter, SubmitButton};
use crate::components::timeline::Timeline;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};
use crate::session::use_session;

/// `/users/:id/edit`; an id that is not a number finds no user.
#[derive(Params, Clone, PartialEq)]
struct UserPath {
    id: Option<i32>,
}

#[component]
pub fn EditUserPage() -> impl IntoView {
    let session = use_session();
    let path = use_params::<UserPath>();
    let user = LocalResource::new(move || {
        let id = path.with(|p| p.as_ref().ok().and_then(|p| p.id));
        async move {
            match id {
                Some(id) => api::get_user_versioned(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <section class="page narrow">
            <h1>"Edit user"</h1>
            <AsyncView resource=user let:found>
                {match found {
                    Some((user, etag)) => {
                        let (id, admin) = (user.id, session.is_admin());
                        let other = session.user_id() != Some(id);
                        let control = AccountControl::new(user.clone());
                        let version = RwSignal::new(etag);
                        // This page's own changes (picture, status) make a new version.
                        let refresh = move || {
                            leptos::task::spawn_local(async move {
                                if let Ok((_, etag)) = api::get_user_versioned(id).await {
                                    version.try_set(etag);
                                }
                            });
                        };
                        let controlled = control.version();
                        Effect::new(move |seen: Option<usize>| {
                            let now = controlled.get();
                            if seen.is_some_and(|seen| seen != now) {
                                refresh();
                            }
                            now
                        });
                        // One's own picture also shows in the header.
                        let on_picture = Callback::new(move |changed: User| {
                            if !other {
                                session.user.set(Some(changed));
                            }
                            refresh();
                        });
                        view! {
                            <PictureEditor user=user.clone() on_change=on_picture/>
                            <EditUserForm user=user version=version/>
                            {(admin && other).then(|| view! { <AccountControls control=control/> })}
                            {admin.then(|| view! { <Timeline user_id=id version=control.version()/> })}
                        }.into_any()
                    }
                    None => view! { <p class="alert">"No such user."</p> }.into_any(),
                }}
            </AsyncView>
        </section>
    }
}

/// "Saved bob.", and where a new address's code went.
fn saved_message(before: &User, after: &User) -> String {
    match (newly_requested(before, after), after.email.as_deref()) {
        (Some(new), Some(old)) => format!(
            "Saved {}. A code went to {new}; {old} stays in use until the code is entered.",
            after.username
        ),
        _ => format!("Saved {}.", after.username),
    }
}

#[component]
fn EditUserForm(user: User, version: RwSignal<Option<String>>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let is_admin = session.is_admin();
    let own = session.user_id() == Some(user.id);
    let form = ProfileForm::from_user(&user);
    let role = RwSignal::new(user.role);
    let password = RwSignal::new(String::new());
    let current_password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let (id, before) = (user.id, StoredValue::new(user.clone()));
    let save = use_form_action(
        errors,
        Failure::Toast,
        move |request: UpdateUserRequest| {
            let version = version.get_untracked();
            async move { api::update_user(id, &request, version.as_deref()).await }
        },
        move |updated: User| {
            if session.user_id() == Some(updated.id) {
                session.user.set(Some(updated.clone()));
            }
            toasts.success(before.with_value(|before| saved_message(before, &updated)));
            navigate("/", Default::default());
        },
    );
    let on_submit = save.on_submit(move || {
        let request = UpdateUserRequest {
            profile: UpdateProfileRequest {
                current_password: non_empty(current_password),
                ..form.request()
            },
            role: is_admin.then(|| role.get_untracked()),
            password: Some(password.get_untracked()).filter(|p| is_admin && !p.is_empty()),
        };
        before
            .with_value(|user| request.validate(user))
            .map(|_| request)
    });
    view! {
        <form class="card" on:submit=on_submit data-testid="user-form" novalidate>
            <ProfileFields form=form errors=errors account=Signal::stored(Some(user))/>
            {is_admin.then(|| view! {
                <RoleSelect role=role/>
                <Field label="New password (optional)" name="password" value=password errors=errors kind="password"
                    autocomplete="new-password" hint="Leave empty to keep the current password" advised=true/>
                <StrengthMeter password=password user_inputs=form.known_words()/>
            })}
            {own.then(|| view! { <CurrentPasswordField value=current_password errors=errors sets_password=is_admin/> })}
            <div class="actions">
                <A href="/" attr:class="button" attr:data-testid="cancel">"Cancel"</A>
                <SubmitButton label="Save" pending=save.pending() testid="save-user"/>
            </div>
        </form>
    }
}
