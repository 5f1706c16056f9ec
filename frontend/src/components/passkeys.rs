//! Passkeys on the profile: the list (name, added, last used), adding one (a name,
//! then the browser's own prompt) and removing one. The first passkey of an account
//! without an authenticator app turns two-factor sign-in on and brings recovery
//! codes, shown by the panel above.

use leptos::prelude::*;
use shared::{FieldErrors, NewPasskey, Passkey, PasskeyRegisterStart};

use crate::api;
use crate::components::async_view::AsyncView;
use crate::components::confirm::ConfirmDialog;
use crate::components::form::{Field, SubmitButton};
use crate::components::mfa::refresh_session;
use crate::components::toast::use_toasts;
use crate::format;
use crate::hooks::{Failure, use_form_action};
use crate::session::use_session;
use crate::webauthn;

/// The profile's passkeys; new recovery codes go to `codes`.
#[component]
pub fn PasskeysPanel(codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let toasts = use_toasts();
    let session = use_session();
    let added = RwSignal::new(0_u32);
    let asked = RwSignal::new(None::<Passkey>);
    let remove = Action::new_local(move |key: &Passkey| {
        let (id, name) = (key.id, key.name.clone());
        async move {
            match api::remove_passkey(id).await {
                Ok(()) => {
                    toasts.success(format!("Removed the passkey {name}."));
                    refresh_session(session);
                }
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let removed = remove.version();
    let keys = LocalResource::new(move || {
        added.track();
        removed.track();
        api::passkeys()
    });
    let on_added = Callback::new(move |made: NewPasskey| {
        added.update(|n| *n += 1);
        if made.recovery_codes.is_empty() {
            refresh_session(session);
        } else {
            // The account is drawn anew once the codes are put away.
            codes.set(Some(made.recovery_codes));
        }
    });
    let message = Signal::derive(move || {
        asked.with(|key| {
            key.as_ref().map_or_else(String::new, |key| {
                format!(
                    "Remove the passkey {}? It will no longer sign you in.",
                    key.name
                )
            })
        })
    });
    view! {
        <section class="card" data-testid="passkeys-panel" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <p>"A passkey signs you in with your fingerprint, face or device PIN, without a password. It also serves as the second factor."</p>
            <AsyncView resource=keys loading="Loading passkeys…" let:list>
                <PasskeyList keys=list on_remove=Callback::new(move |key| asked.set(Some(key)))/>
            </AsyncView>
            {if webauthn::supported() {
                view! { <AddPasskey on_added=on_added/> }.into_any()
            } else {
                view! { <p class="hint">"This browser cannot create passkeys."</p> }.into_any()
            }}
            <ConfirmDialog open=asked title="Remove passkey" message=message confirm_label="Remove"
                on_confirm=Callback::new(move |key| { remove.dispatch(key); })/>
        </section>
    }
}

#[component]
fn PasskeyList(keys: Vec<Passkey>, on_remove: Callback<Passkey>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="empty" data-testid="passkeys-empty">"No passkeys yet."</p> }
            .into_any();
    }
    view! {
        <ul class="passkeys" data-testid="passkeys">
            {keys.into_iter().map(|key| {
                let used = format::time_or_never(key.last_used_at);
                let added = format::time(key.created_at);
                let name = key.name.clone();
                view! {
                    <li data-testid="passkey">
                        <strong data-testid="passkey-name">{name.clone()}</strong>
                        <span class="hint">{format!(" added {added}, last used {used}")}</span>
                        <button type="button" class="button small danger" data-testid="passkey-remove"
                            aria-label=format!("Remove the passkey {name}")
                            on:click=move |_| on_remove.run(key.clone())>"Remove"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A name, then the browser's prompt.
#[component]
fn AddPasskey(on_added: Callback<NewPasskey>) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let add = use_form_action(
        errors,
        Failure::Toast,
        |name: String| async move { api::add_passkey(name).await },
        move |made: NewPasskey| {
            toasts.success(format!("Added the passkey {}.", made.passkey.name));
            name.set(String::new());
            on_added.run(made);
        },
    );
    let on_submit = add.on_submit(move || {
        let request = PasskeyRegisterStart {
            name: Some(name.get_untracked()),
        };
        request.validate()
    });
    view! {
        <form on:submit=on_submit data-testid="passkey-form" novalidate>
            <Field label="Name of the new passkey" name="name" id="passkey-name" value=name errors=errors
                hint="Which device or key it is, e.g. “Laptop”"/>
            <SubmitButton label="Add a passkey" pending=add.pending() testid="passkey-add"/>
        </form>
    }
}
