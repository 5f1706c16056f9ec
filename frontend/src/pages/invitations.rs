//! Invitations (admins; the route guard sees to that): invite an address to sign up,
//! and withdraw the invitations not used yet. The list reloads after each change.

use leptos::prelude::*;
use shared::{CreateInvitationRequest, FieldErrors, Invitation};

use crate::api;
use crate::components::async_view::AsyncView;
use crate::components::form::{Field, SubmitButton};
use crate::components::toast::use_toasts;
use crate::format;
use crate::hooks::{Failure, use_form_action};

#[component]
pub fn InvitationsPage() -> impl IntoView {
    let toasts = use_toasts();
    let email = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let invite = use_form_action(
        errors,
        Failure::Toast,
        |request: CreateInvitationRequest| async move { api::create_invitation(&request).await },
        move |sent: Invitation| {
            email.set(String::new());
            toasts.success(format!("Invited {}: the code is on its way.", sent.email));
        },
    );
    let on_submit = invite.on_submit(move || {
        let request = CreateInvitationRequest {
            email: email.get_untracked(),
        };
        request.validate().map(|_| request)
    });
    let revoke = Action::new_local(move |invitation: &Invitation| {
        let (id, address) = (invitation.id, invitation.email.clone());
        async move {
            match api::revoke_invitation(id).await {
                Ok(()) => toasts.success(format!("Withdrew the invitation of {address}.")),
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let (invited, revoked) = (invite.version(), revoke.version());
    let invitations = LocalResource::new(move || {
        invited.track();
        revoked.track();
        api::list_invitations()
    });
    let busy = revoke.pending();
    let on_revoke = Callback::new(move |invitation| {
        revoke.dispatch(invitation);
    });

    view! {
        <section class="page narrow">
            <h1>"Invitations"</h1>
            <form class="card" on:submit=on_submit data-testid="invite-form" novalidate>
                <Field label="Email address to invite" name="email" value=email errors=errors kind="email" required=true
                    hint="We mail it a 6-digit code to sign up with; inviting it again sends a new code"/>
                <div class="actions">
                    <SubmitButton label="Send invitation" pending=invite.pending() testid="invite-submit"/>
                </div>
            </form>
            <AsyncView resource=invitations loading="Loading invitations…" let:list>
                {if list.is_empty() {
                    view! { <p class="empty" data-testid="empty-state">"No open invitations."</p> }.into_any()
                } else {
                    view! { <InvitationTable invitations=list busy=busy.into() on_revoke=on_revoke/> }.into_any()
                }}
            </AsyncView>
        </section>
    }
}

/// The open invitations, newest first; "Withdraw" hands one to `on_revoke`.
#[component]
fn InvitationTable(
    invitations: Vec<Invitation>,
    busy: Signal<bool>,
    on_revoke: Callback<Invitation>,
) -> impl IntoView {
    let rows = invitations
        .into_iter()
        .map(|invitation| {
            let target = invitation.clone();
            let email = invitation.email;
            view! {
                <tr data-testid="invitation-row" data-email=email.clone()>
                    <td data-label="Email"><strong>{email.clone()}</strong></td>
                    <td data-label="Invited by">{invitation.invited_by.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Sent">{format::time(invitation.created_at)}</td>
                    <td data-label="Expires">{format::time(invitation.expires_at)}</td>
                    <td class="row-actions">
                        <button type="button" class="button small danger" data-testid="revoke-invitation"
                            disabled=move || busy.get() on:click=move |_| on_revoke.run(target.clone())>
                            "Withdraw"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="users">
            <thead>
                <tr>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Invited by"</th>
                    <th scope="col">"Sent"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
