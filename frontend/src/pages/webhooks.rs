//! Webhooks (admins; the route guard sees to that): register a receiver for account
//! events, see its signing secret once, read its recent deliveries, resend one, and
//! remove it.

use leptos::prelude::*;
use shared::{
    CreateWebhookRequest, CreatedWebhook, FieldErrors, WebhookDelivery, WebhookEndpoint,
    WebhookEventType,
};

use crate::api;
use crate::components::async_view::AsyncView;
use crate::components::confirm::ConfirmDialog;
use crate::components::form::{Field, SubmitButton};
use crate::components::toast::use_toasts;
use crate::format;
use crate::hooks::{Failure, use_form_action};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let toasts = use_toasts();
    let created = RwSignal::new(None::<CreatedWebhook>);
    let asked = RwSignal::new(None::<WebhookEndpoint>);
    let remove = Action::new_local(move |endpoint: &WebhookEndpoint| {
        let (id, url) = (endpoint.id, endpoint.url.clone());
        async move {
            match api::delete_webhook(id).await {
                Ok(()) => toasts.success(format!("Removed the webhook to {url}.")),
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let removed = remove.version();
    let endpoints = LocalResource::new(move || {
        created.track();
        removed.track();
        api::list_webhooks()
    });
    let confirm_message = Signal::derive(move || {
        asked.with(|e| {
            e.as_ref().map_or_else(String::new, |e| {
                format!(
                    "Remove the webhook to {}? Its pending deliveries are dropped.",
                    e.url
                )
            })
        })
    });
    view! {
        <section class="page">
            <h1>"Webhooks"</h1>
            <p class="lead">"Receivers get each account event as a signed POST (Standard Webhooks)."</p>
            {move || created.get().map(|made| view! {
                <div class="card notice" role="status" data-testid="webhook-secret">
                    <h2>"Signing secret"</h2>
                    <p>"Verify "<code>"webhook-signature"</code>" with it. It is shown this once."</p>
                    <input type="text" readonly class="secret" aria-label="The signing secret"
                        data-testid="webhook-secret-value" prop:value=made.secret.clone()/>
                    <div class="actions">
                        <button type="button" class="button" data-testid="webhook-secret-done"
                            on:click=move |_| created.set(None)>"Done"</button>
                    </div>
                </div>
            })}
            <NewWebhookForm on_made=Callback::new(move |made| created.set(Some(made)))/>
            <AsyncView resource=endpoints loading="Loading webhooks…" let:list>
                {if list.is_empty() {
                    view! { <p class="empty" data-testid="empty-state">"No webhooks yet."</p> }.into_any()
                } else {
                    list.into_iter().map(|endpoint| view! {
                        <EndpointCard endpoint=endpoint on_remove=Callback::new(move |e| asked.set(Some(e)))/>
                    }).collect_view().into_any()
                }}
            </AsyncView>
            <ConfirmDialog open=asked title="Remove webhook" message=confirm_message confirm_label="Remove"
                on_confirm=Callback::new(move |e| { remove.dispatch(e); })/>
        </section>
    }
}

/// The address and the events; `on_made` gets the new endpoint and its secret.
#[component]
fn NewWebhookForm(on_made: Callback<CreatedWebhook>) -> impl IntoView {
    let toasts = use_toasts();
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let events = RwSignal::new(WebhookEventType::ALL.to_vec());
    let errors = RwSignal::new(FieldErrors::new());
    let create = use_form_action(
        errors,
        Failure::Toast,
        |request: CreateWebhookRequest| async move { api::create_webhook(&request).await },
        move |made: CreatedWebhook| {
            url.set(String::new());
            description.set(String::new());
            toasts.success(format!("Registered {}.", made.endpoint.url));
            on_made.run(made);
        },
    );
    let on_submit = create.on_submit(move || {
        let request = CreateWebhookRequest {
            url: url.get_untracked(),
            events: events.get_untracked(),
            description: Some(description.get_untracked()),
        };
        request.validate().map(|_| request)
    });
    view! {
        <form class="card narrow" on:submit=on_submit data-testid="webhook-form" novalidate>
            <Field label="Receiver URL" name="url" value=url errors=errors kind="url" required=true
                hint="https://, answering 2xx to acknowledge"/>
            <Field label="Description (optional)" name="description" value=description errors=errors/>
            <fieldset class="field scopes">
                <legend>"Events"</legend>
                {WebhookEventType::ALL.iter().map(|&event| view! {
                    <label class="check">
                        <input type="checkbox" name="events" value=event.as_str()
                            data-testid=format!("event-{}", event.as_str())
                            prop:checked=move || events.with(|e| e.contains(&event))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                events.update(|e| {
                                    e.retain(|x| *x != event);
                                    if on { e.push(event); }
                                });
                            }/>
                        <code>{event.as_str()}</code>
                    </label>
                }).collect_view()}
                {move || errors.with(|e| e.get("events").cloned()).map(|message| view! {
                    <p class="error" role="alert">{format!("Events {message}.")}</p>
                })}
            </fieldset>
            <div class="actions">
                <SubmitButton label="Register" pending=create.pending() testid="webhook-submit"/>
            </div>
        </form>
    }
}

/// One endpoint with its recent deliveries.
#[component]
fn EndpointCard(endpoint: WebhookEndpoint, on_remove: Callback<WebhookEndpoint>) -> impl IntoView {
    let toasts = use_toasts();
    let id = endpoint.id;
    let resend = Action::new_local(move |delivery: &i64| {
        let delivery = *delivery;
        async move {
            match api::resend_delivery(id, delivery).await {
                Ok(_) => toasts.success("Sent again."),
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let resent = resend.version();
    let deliveries = LocalResource::new(move || {
        resent.track();
        api::webhook_deliveries(id)
    });
    let events = endpoint
        .events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let target = endpoint.clone();
    view! {
        <div class="card" data-testid="webhook" data-url=endpoint.url.clone()>
            <div class="page-head">
                <h2><code>{endpoint.url.clone()}</code></h2>
                <button type="button" class="button small danger" data-testid="remove-webhook"
                    on:click=move |_| on_remove.run(target.clone())>"Remove"</button>
            </div>
            <p class="hint">{endpoint.description.clone()}" "{events}</p>
            <AsyncView resource=deliveries loading="Loading deliveries…" let:list>
                {if list.is_empty() {
                    view! { <p class="empty">"Nothing sent yet."</p> }.into_any()
                } else {
                    view! { <DeliveryTable deliveries=list on_resend=Callback::new(move |d| { resend.dispatch(d); })/> }.into_any()
                }}
            </AsyncView>
        </div>
    }
}

#[component]
fn DeliveryTable(deliveries: Vec<WebhookDelivery>, on_resend: Callback<i64>) -> impl IntoView {
    let rows = deliveries
        .into_iter()
        .map(|d| {
            let outcome = match (d.last_status, d.last_error.clone()) {
                (_, Some(error)) => error,
                (Some(status), None) => format!("HTTP {status}"),
                (None, None) => "—".to_owned(),
            };
            let id = d.id;
            view! {
                <tr data-testid="delivery" data-status=d.status.as_str()>
                    <td data-label="Event"><code>{d.event_type.as_str()}</code></td>
                    <td data-label="Status">{d.status.as_str()}</td>
                    <td data-label="Attempts">{d.attempts}</td>
                    <td data-label="Last answer">{outcome}</td>
                    <td data-label="Created">{format::time(d.created_at)}</td>
                    <td class="row-actions">
                        <button type="button" class="button small" data-testid="resend-delivery"
                            on:click=move |_| on_resend.run(id)>"Resend"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="users">
            <thead>
                <tr>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Attempts"</th>
                    <th scope="col">"Last answer"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
