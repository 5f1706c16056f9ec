//! API keys (admins; the route guard sees to that): make a key for an integration
//! with a name, scopes and an expiry, see its secret once, and revoke keys. Making one
//! asks for the current password.

use chrono::Duration;
use leptos::prelude::*;
use shared::{ApiKey, ApiScope, CreateApiKeyRequest, CreatedApiKey, FieldErrors};

use crate::api;
use crate::components::async_view::AsyncView;
use crate::components::confirm::ConfirmDialog;
use crate::components::form::{Field, SubmitButton};
use crate::components::toast::use_toasts;
use crate::format;
use crate::hooks::{Failure, use_form_action};
use crate::share;

/// The expiry choices: days from now, `0` for none.
const EXPIRIES: &[(&str, i64)] = &[
    ("Never", 0),
    ("In 30 days", 30),
    ("In 90 days", 90),
    ("In a year", 365),
];

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let toasts = use_toasts();
    let created = RwSignal::new(None::<CreatedApiKey>);
    let asked = RwSignal::new(None::<ApiKey>);
    let revoke = Action::new_local(move |key: &ApiKey| {
        let (id, name) = (key.id, key.name.clone());
        async move {
            match api::revoke_api_key(id).await {
                Ok(()) => toasts.success(format!("Revoked the key {name}.")),
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let revoked = revoke.version();
    let keys = LocalResource::new(move || {
        created.track();
        revoked.track();
        api::list_api_keys()
    });
    let busy = revoke.pending();
    let on_revoke = Callback::new(move |key| asked.set(Some(key)));
    let confirm_message = Signal::derive(move || {
        asked.with(|key| {
            key.as_ref().map_or_else(String::new, |key| {
                format!(
                    "Revoke {}? Integrations using it stop working at once.",
                    key.name
                )
            })
        })
    });

    view! {
        <section class="page">
            <h1>"API keys"</h1>
            <p class="lead">"Keys let other systems call this API as you, within the scopes you give them: "
                <code>"Authorization: Bearer umk_…"</code></p>
            {move || created.get().map(|made| view! { <NewSecret made=made on_done=Callback::new(move |()| created.set(None))/> })}
            <NewKeyForm on_made=Callback::new(move |made| created.set(Some(made)))/>
            <AsyncView resource=keys loading="Loading keys…" let:list>
                {if list.is_empty() {
                    view! { <p class="empty" data-testid="empty-state">"No API keys yet."</p> }.into_any()
                } else {
                    view! { <KeyTable keys=list busy=busy.into() on_revoke=on_revoke/> }.into_any()
                }}
            </AsyncView>
            <ConfirmDialog open=asked title="Revoke API key" message=confirm_message confirm_label="Revoke"
                on_confirm=Callback::new(move |key| { revoke.dispatch(key); })/>
        </section>
    }
}

/// Name, scopes, expiry and the current password; `on_made` gets the new key.
#[component]
fn NewKeyForm(on_made: Callback<CreatedApiKey>) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec![ApiScope::UsersRead]);
    let expires_in = RwSignal::new(90_i64);
    let current_password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let create = use_form_action(
        errors,
        Failure::Toast,
        |request: CreateApiKeyRequest| async move { api::create_api_key(&request).await },
        move |made: CreatedApiKey| {
            name.set(String::new());
            current_password.set(String::new());
            toasts.success(format!("Made the key {}.", made.key.name));
            on_made.run(made);
        },
    );
    let on_submit = create.on_submit(move || {
        let days = expires_in.get_untracked();
        let request = CreateApiKeyRequest {
            name: name.get_untracked(),
            scopes: scopes.get_untracked(),
            expires_at: (days > 0).then(|| format::now() + Duration::days(days)),
            current_password: current_password.get_untracked(),
        };
        request.validate(format::now()).map(|_| request)
    });
    view! {
        <form class="card narrow" on:submit=on_submit data-testid="api-key-form" novalidate>
            <Field label="Name" name="name" value=name errors=errors required=true
                hint="What uses the key, e.g. “HR sync”"/>
            <ScopeChoice scopes=scopes errors=errors/>
            <div class="field">
                <label for="field-expires">"Expires"</label>
                <select id="field-expires" name="expires" data-testid="input-expires"
                    prop:value=move || expires_in.get().to_string()
                    on:change=move |ev| expires_in.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {EXPIRIES.iter().map(|(label, days)| view! {
                        <option value=days.to_string()>{*label}</option>
                    }).collect_view()}
                </select>
            </div>
            <Field label="Current password" name="current_password" value=current_password errors=errors
                kind="password" autocomplete="current-password" required=true
                hint="Making a key needs your password"/>
            <div class="actions">
                <SubmitButton label="Make key" pending=create.pending() testid="api-key-submit"/>
            </div>
        </form>
    }
}

/// One checkbox per scope.
#[component]
fn ScopeChoice(scopes: RwSignal<Vec<ApiScope>>, errors: RwSignal<FieldErrors>) -> impl IntoView {
    view! {
        <fieldset class="field scopes" aria-describedby="scopes-hint">
            <legend>"Scopes"</legend>
            {ApiScope::ALL.iter().map(|&scope| view! {
                <label class="check">
                    <input type="checkbox" name="scopes" value=scope.as_str()
                        data-testid=format!("scope-{}", scope.as_str().replace(':', "-"))
                        prop:checked=move || scopes.with(|s| s.contains(&scope))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            scopes.update(|s| {
                                s.retain(|x| *x != scope);
                                if on { s.push(scope); }
                            });
                        }/>
                    <span><code>{scope.as_str()}</code>" — "{scope.description()}</span>
                </label>
            }).collect_view()}
            <p class="hint" id="scopes-hint">"A key can never do more than you can"</p>
            {move || errors.with(|e| e.get("scopes").cloned()).map(|message| view! {
                <p class="error" role="alert">{format!("Scopes {message}.")}</p>
            })}
        </fieldset>
    }
}

/// The new key's secret, shown once, with a copy button.
#[component]
fn NewSecret(made: CreatedApiKey, on_done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let secret = made.secret.clone();
    let copy = move |_| {
        share::copy(
            &secret,
            toasts,
            "Copied the key.",
            "Could not copy: select the key and copy it.",
        );
    };
    view! {
        <div class="card notice" role="status" data-testid="new-secret">
            <h2>{format!("Your new key “{}”", made.key.name)}</h2>
            <p>"Copy it now: it is not stored and will not be shown again."</p>
            <input type="text" readonly class="secret" aria-label="The new API key" data-testid="secret-value"
                prop:value=made.secret.clone() on:focus=|ev| {
                    use wasm_bindgen::JsCast;
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        input.select();
                    }
                }/>
            <div class="actions">
                <button type="button" class="button primary" data-testid="copy-secret" on:click=copy>"Copy"</button>
                <button type="button" class="button" data-testid="secret-done" on:click=move |_| on_done.run(())>"Done"</button>
            </div>
        </div>
    }
}

/// Every key, newest first; live ones can be revoked.
#[component]
fn KeyTable(keys: Vec<ApiKey>, busy: Signal<bool>, on_revoke: Callback<ApiKey>) -> impl IntoView {
    let now = format::now();
    let rows = keys
        .into_iter()
        .map(|key| {
            let target = key.clone();
            let scopes = key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            let state = match (key.revoked_at, key.expires_at) {
                (Some(at), _) => format!("Revoked {}", format::time(at)),
                (None, Some(at)) if at <= now => format!("Expired {}", format::time(at)),
                (None, Some(at)) => format!("Until {}", format::time(at)),
                (None, None) => "No expiry".to_owned(),
            };
            let live = key.revoked_at.is_none() && key.expires_at.is_none_or(|at| at > now);
            let used = match (key.last_used_at, key.last_used_ip) {
                (Some(at), Some(ip)) => format!("{} from {ip}", format::time(at)),
                (at, _) => format::time_or_never(at),
            };
            view! {
                <tr data-testid="api-key-row" data-name=key.name.clone() class:muted=!live>
                    <td data-label="Name"><strong>{key.name.clone()}</strong><br/><code>{key.hint}</code></td>
                    <td data-label="Scopes">{scopes}</td>
                    <td data-label="Made by">{key.owner}</td>
                    <td data-label="Last used">{used}</td>
                    <td data-label="Status" data-testid="api-key-state">{state}</td>
                    <td class="row-actions">
                        {live.then(|| view! {
                            <button type="button" class="button small danger" data-testid="revoke-api-key"
                                disabled=move || busy.get() on:click=move |_| on_revoke.run(target.clone())>
                                "Revoke"
                            </button>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="users">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Scopes"</th>
                    <th scope="col">"Made by"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
