//! Your sessions: where you are logged in, and ending the ones you do not recognise.

use leptos::prelude::*;
use shared::{SessionInfo, SessionKind};

use crate::api;
use crate::components::async_view::AsyncView;
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
    match session.kind {
        SessionKind::Bearer => format!("API token · {short}"),
        SessionKind::Cookie => short,
    }
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let toasts = use_toasts();
    let revoke = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            match api::revoke_session(&id).await {
                Ok(()) => toasts.success("Session ended."),
                Err(e) => toasts.error(e.message()),
            }
        }
    });
    let revoke_others = Action::new_local(move |_: &()| async move {
        match api::revoke_other_sessions().await {
            Ok(done) => toasts.success(format!("Ended {} other session(s).", done.revoked)),
            Err(e) => toasts.error(e.message()),
        }
    });
    let (revoked, others_revoked) = (revoke.version(), revoke_others.version());
    let sessions = LocalResource::new(move || {
        revoked.track();
        others_revoked.track();
        async move { api::list_sessions().await }
    });
    let (ending, ending_others) = (revoke.pending(), revoke_others.pending());
    let busy = Signal::derive(move || ending.get() || ending_others.get());

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
            <AsyncView resource=sessions let:list>
                <ul class="sessions" data-testid="sessions">
                    {list.into_iter().map(|s| view! {
                        <SessionItem session=s busy=busy on_end=Callback::new(move |id| { revoke.dispatch(id); })/>
                    }).collect_view()}
                </ul>
            </AsyncView>
        </section>
    }
}

/// One session; `on_end` gets its id when "End" is pressed (the current one has none).
#[component]
fn SessionItem(
    session: SessionInfo,
    busy: Signal<bool>,
    on_end: Callback<String>,
) -> impl IntoView {
    let current = session.current;
    let id = session.id.clone();
    view! {
        <li class="card session" data-testid="session" data-current=current.to_string()>
            <div>
                <strong>{device(&session)}</strong>
                {current.then(|| view! { <span class="badge badge-ok">"This device"</span> })}
                <small class="hint">
                    {format!("{} · signed in {} · last seen {}",
                        session.ip.clone().unwrap_or_else(|| "unknown address".into()),
                        format::time(session.created_at), format::time(session.last_seen_at))}
                </small>
            </div>
            {(!current).then(|| view! {
                <button type="button" class="button small" data-testid="revoke-session"
                    disabled=busy on:click=move |_| on_end.run(id.clone())>
                    "End"
                </button>
            })}
        </li>
    }
}
