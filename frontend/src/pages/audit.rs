//! The audit trail (admins): filters and pages live in the URL, like the dashboard.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{AuditAction, AuditQuery};

use crate::api;
use crate::components::audit::AuditTable;
use crate::format::range_summary;
use crate::session::use_session;

#[component]
pub fn AuditPage() -> impl IntoView {
    let session = use_session();
    let navigate = StoredValue::new_local(use_navigate());
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|q| AuditQuery {
            page: q.get("page"),
            per_page: q.get("per_page"),
            actor: q.get("actor"),
            target: q.get("target"),
            action: q.get("action"),
            from: q.get("from"),
            to: q.get("to"),
        })
    });
    let go = move |next: AuditQuery| {
        let url = format!(
            "/audit{}",
            api::to_query(&[
                ("page", &next.page),
                ("actor", &next.actor),
                ("target", &next.target),
                ("action", &next.action),
                ("from", &next.from),
                ("to", &next.to),
            ])
        );
        navigate.with_value(|navigate| navigate(&url, Default::default()));
    };
    let events = LocalResource::new(move || {
        let query = params.get();
        async move { api::list_audit(&query).await }
    });

    // The form edits copies of the URL's filters; "Apply" puts them back in the URL.
    let [actor, target, action, from, to] = std::array::from_fn(|_| RwSignal::new(String::new()));
    // Loading the page and back/forward change the URL: keep the form in step.
    Effect::new(move |_| {
        let now = params.get();
        for (signal, value) in [
            (actor, now.actor),
            (target, now.target),
            (action, now.action),
            (from, now.from),
            (to, now.to),
        ] {
            signal.set(value.unwrap_or_default());
        }
    });
    let set = |value: String| (!value.trim().is_empty()).then(|| value.trim().to_owned());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        go(AuditQuery {
            actor: set(actor.get_untracked()),
            target: set(target.get_untracked()),
            action: set(action.get_untracked()),
            from: set(from.get_untracked()),
            to: set(to.get_untracked()),
            ..AuditQuery::default()
        });
    };
    let clear = move |_| {
        for signal in [actor, target, action, from, to] {
            signal.set(String::new());
        }
        go(AuditQuery::default());
    };
    let to_page = move |page: u64| {
        let mut next = params.get_untracked();
        next.page = Some(page.to_string());
        go(next);
    };

    view! {
        <section class="page">
            <div class="page-head"><h1>"Audit trail"</h1></div>
            <Show when=move || session.is_admin() fallback=|| view! { <p class="alert">"Only admins can read the audit trail."</p> }>
                <form class="toolbar filters" on:submit=on_submit data-testid="audit-filters">
                    <label>"Actor"
                        <input type="text" placeholder="username or id" data-testid="filter-actor"
                            prop:value=move || actor.get() on:input=move |ev| actor.set(event_target_value(&ev))/>
                    </label>
                    <label>"Target"
                        <input type="text" placeholder="username or id" data-testid="filter-target"
                            prop:value=move || target.get() on:input=move |ev| target.set(event_target_value(&ev))/>
                    </label>
                    <label>"Action"
                        <select data-testid="filter-action" prop:value=move || action.get()
                            on:change=move |ev| action.set(event_target_value(&ev))>
                            <option value="">"Any action"</option>
                            {AuditAction::ALL.iter().map(|a| view! {
                                <option value=a.as_str()>{a.as_str().replace('_', " ")}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>"From"
                        <input type="date" data-testid="filter-from"
                            prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))/>
                    </label>
                    <label>"To"
                        <input type="date" data-testid="filter-to"
                            prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev))/>
                    </label>
                    <div class="filter-actions">
                        <button type="submit" class="button primary" data-testid="apply-filters">"Apply"</button>
                        <button type="button" class="button" on:click=clear>"Clear"</button>
                    </div>
                </form>
                <Transition fallback=|| view! { <p class="loading"><span class="spinner"></span>" Loading events…"</p> }>
                    {move || events.get().map(|result| match result {
                        Ok(page) => {
                            let info = range_summary(page.page, page.per_page, page.items.len(), page.total, "events");
                            let (current, last) = (page.page, page.total.div_ceil(page.per_page).max(1));
                            let body = if page.items.is_empty() {
                                view! { <p class="empty" data-testid="empty-state">"No events match."</p> }.into_any()
                            } else {
                                view! { <AuditTable events=page.items/> }.into_any()
                            };
                            view! {
                                <p class="summary" data-testid="audit-summary">{info}</p>
                                {body}
                                <nav class="pager" aria-label="Pages">
                                    <button type="button" class="button" disabled={ current <= 1 }
                                        on:click=move |_| to_page(current - 1)>"Previous"</button>
                                    <span>{format!("Page {current} of {last}")}</span>
                                    <button type="button" class="button" disabled={ current >= last }
                                        on:click=move |_| to_page(current + 1)>"Next"</button>
                                </nav>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="alert" role="alert" data-testid="audit-error">{e.message()}</p> }.into_any(),
                    })}
                </Transition>
            </Show>
        </section>
    }
}

/// The newest events about one account, for its page; reloads when `changes` moves.
#[component]
pub fn Timeline(user_id: i32, changes: RwSignal<u32>) -> impl IntoView {
    let events = LocalResource::new(move || {
        changes.track();
        async move {
            let query = AuditQuery {
                target: Some(user_id.to_string()),
                per_page: Some(TIMELINE_LENGTH.to_string()),
                ..AuditQuery::default()
            };
            api::list_audit(&query).await
        }
    });
    view! {
        <section class="card timeline" data-testid="timeline">
            <div class="page-head">
                <h2>"Activity"</h2>
                <a class="button small" href=format!("/audit?target={user_id}")>"All events"</a>
            </div>
            <Transition fallback=|| view! { <p class="loading"><span class="spinner"></span>" Loading…"</p> }>
                {move || events.get().map(|result| match result {
                    Ok(page) if page.items.is_empty() => view! { <p class="empty">"No events yet."</p> }.into_any(),
                    Ok(page) => view! { <AuditTable events=page.items/> }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{e.message()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// Events shown on an account's page.
const TIMELINE_LENGTH: u64 = 20;
