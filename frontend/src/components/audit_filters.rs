//! The audit trail's filter form. It edits copies of the URL's filters; "Apply" hands
//! them back to be put in the URL.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::{AuditAction, AuditQuery};

use crate::components::audit::action_label;

/// Filters for `query` (the URL's); `on_apply` gets the filters to show.
#[component]
pub fn AuditFilters(query: Memo<AuditQuery>, on_apply: Callback<AuditQuery>) -> impl IntoView {
    let [actor, target, action, from, to] = std::array::from_fn(|_| RwSignal::new(String::new()));
    // Loading the page and back/forward change the URL: keep the form in step.
    Effect::new(move |_| {
        let now = query.get();
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
        on_apply.run(AuditQuery {
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
        on_apply.run(AuditQuery::default());
    };
    view! {
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
                        <option value=a.as_str()>{action_label(*a)}</option>
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
    }
}
