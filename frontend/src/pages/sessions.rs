//! Your sessions: where you are logged in, and ending the ones you do not recognise.

use leptos::prelude::*;
use shared::SessionInfo;

use crate::api;
use crate::components::icons::{Icon, IconName};
use crate::components::toast::use_toasts;
use crate::format;

/// "Firefox on Linux"-style text is guesswork; the raw user agent, shortened, is not.
fn device(session: &SessionInfo) -> String {
    let agent = session
        .user_agent
        .clone()
        .unwrap_or_else(|| "Unknown client".to_owned());
    let short: String = agent.chars().take(80).collect();
    if session.kind == "bearer" {
        format!("API token · {short}")
    } else {
        short
    }
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let toasts = use_toasts();
    let changed = RwSignal::new(0u32);
    let sessions = LocalResource::new(move || {
        changed.track();
        async move { api::list_sessions().await }
    });
    let revoke = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            match api::revoke_session(&id).await {
                Ok(()) => {
                    toasts.success("Session ended.");
                    changed.update(|n| *n += 1);
                }
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let revoke_others = Action::new_local(move |_: &()| async move {
        match api::revoke_other_sessions().await {
            Ok(done) => {
                toasts.success(format!("Ended {} other session(s).", done.revoked));
                changed.update(|n| *n += 1);
            }
            Err(e) => toasts.error(e.message()),
        }
    });
    let busy = move || revoke.pending().get() || revoke_others.pending().get();

    view! {
        <section class="page narrow">
            <div class="page-head">
                <h1>"Sessions"</h1>
                <button type="button" class="button danger" data-testid="revoke-others"
                    disabled=busy on:click=move |_| { revoke_others.dispatch(()); }>
                    <Icon name=IconName::LogOut/>" Log out everywhere else"
                </button>
            </div>
            <p class="hint">"Browsers and API tokens logged in to your account. End any you do not recognise, then change your password."</p>
            <Transition fallback=|| view! { <p class="loading"><span class="spinner"></span>" Loading…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Ok(list) => view! {
                        <ul class="sessions" data-testid="sessions">
                            {list.into_iter().map(|s| {
                                let id = s.id.clone();
                                let current = s.current;
                                view! {
                                    <li class="card session" data-testid="session" data-current=current.to_string()>
                                        <div>
                                            <strong>{device(&s)}</strong>
                                            {current.then(|| view! { <span class="badge badge-ok">"This device"</span> })}
                                            <small class="hint">
                                                {format!("{} · signed in {} · last seen {}",
                                                    s.ip.clone().unwrap_or_else(|| "unknown address".into()),
                                                    format::time(s.created_at), format::time(s.last_seen_at))}
                                            </small>
                                        </div>
                                        {(!current).then(|| view! {
                                            <button type="button" class="button small" data-testid="revoke-session"
                                                disabled=busy on:click=move |_| { revoke.dispatch(id.clone()); }>
                                                "End"
                                            </button>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{e.message()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
