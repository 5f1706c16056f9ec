//! Acting on several users at once: the selection the table's checkboxes fill, the
//! bar of actions it brings up, and the one confirmation that names how many.

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::{BulkAction, BulkRequest, BulkResponse, Role};

use crate::api;
use crate::components::confirm::ConfirmDialog;
use crate::components::toast::use_toasts;

/// The ids of the users ticked in the table.
pub type Selection = RwSignal<BTreeSet<i32>>;

/// The actions for the `selected` users, each asking once before it runs. `done` runs
/// after each answer (the list reloads on it).
#[component]
pub fn BulkBar(selected: Selection, done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let asking = RwSignal::new(None::<BulkRequest>);
    let role = RwSignal::new(Role::Admin);
    let run = Action::new_local(move |request: &BulkRequest| {
        let request = request.clone();
        async move { (request.action, api::bulk(&request).await) }
    });
    Effect::new(move |_| {
        let Some((action, answer)) = run.value().get() else {
            return;
        };
        match answer {
            Ok(answer) => {
                let (message, all) = outcome(action, &answer);
                if all {
                    toasts.success(message);
                } else {
                    toasts.error(message);
                }
                selected.set(BTreeSet::new());
            }
            Err(e) => toasts.error(e.message()),
        }
        done.run(());
    });
    let ask = move |action: BulkAction| {
        asking.set(Some(BulkRequest {
            action,
            ids: selected.with_untracked(|s| s.iter().copied().collect()),
            role: (action == BulkAction::SetRole).then(|| role.get_untracked()),
        }));
    };
    let message =
        Signal::derive(move || asking.with(|r| r.as_ref().map(question).unwrap_or_default()));
    let count = move || selected.with(BTreeSet::len);
    let busy = move || run.pending().get();
    view! {
        <Show when=move || !selected.with(BTreeSet::is_empty)>
            <div class="bulk-bar" role="region" aria-label="Selected users" data-testid="bulk-bar">
                <strong data-testid="selected-count">{move || users(count())}" selected"</strong>
                <button type="button" class="button small" data-testid="bulk-disable" disabled=busy
                    on:click=move |_| ask(BulkAction::Disable)>"Disable"</button>
                <button type="button" class="button small" data-testid="bulk-enable" disabled=busy
                    on:click=move |_| ask(BulkAction::Enable)>"Enable"</button>
                <span class="bulk-role">
                    <label for="bulk-role" class="sr-only">"New role"</label>
                    <select id="bulk-role" data-testid="bulk-role"
                        on:change=move |ev| {
                            if let Ok(value) = Role::parse(&event_target_value(&ev)) {
                                role.set(value);
                            }
                        }>
                        {Role::ALL.iter().map(|r| view! {
                            <option value=r.as_str() selected=*r == Role::Admin>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                    <button type="button" class="button small" data-testid="bulk-set-role" disabled=busy
                        on:click=move |_| ask(BulkAction::SetRole)>"Change role"</button>
                </span>
                <button type="button" class="button small danger" data-testid="bulk-delete" disabled=busy
                    on:click=move |_| ask(BulkAction::Delete)>"Delete"</button>
                <button type="button" class="button small ghost" data-testid="bulk-clear"
                    on:click=move |_| selected.set(BTreeSet::new())>"Clear selection"</button>
            </div>
        </Show>
        <ConfirmDialog open=asking title="Change several users" message=message confirm_label="Yes, go ahead"
            on_confirm=Callback::new(move |request: BulkRequest| { run.dispatch(request); })/>
    }
}

/// "1 user", "3 users".
fn users(n: usize) -> String {
    match n {
        1 => "1 user".to_owned(),
        n => format!("{n} users"),
    }
}

/// The confirmation's question, naming how many.
fn question(request: &BulkRequest) -> String {
    let n = users(request.ids.len());
    match (request.action, request.role) {
        (BulkAction::Disable, _) => {
            format!("Disable {n}? They are logged out and cannot log in until enabled again.")
        }
        (BulkAction::Enable, _) => format!("Enable {n}? They can log in again."),
        (BulkAction::Delete, _) => format!("Delete {n}? This cannot be undone."),
        (BulkAction::SetRole, role) => format!(
            "Give {n} the role {}? Their sessions end.",
            role.unwrap_or(Role::User).as_str()
        ),
    }
}

/// What to tell the admin, and whether everything was done.
fn outcome(action: BulkAction, answer: &BulkResponse) -> (String, bool) {
    let verb = match action {
        BulkAction::Disable => "Disabled",
        BulkAction::Enable => "Enabled",
        BulkAction::Delete => "Deleted",
        BulkAction::SetRole => "Changed the role of",
    };
    let asked = answer.results.len();
    if answer.failed == 0 {
        return (format!("{verb} {}.", users(asked)), true);
    }
    let reasons: Vec<String> = answer
        .results
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| e.message.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    (
        format!(
            "{verb} {} of {}. Not done for {}: {}",
            answer.done,
            users(asked),
            answer.failed,
            reasons.join(" ")
        ),
        false,
    )
}

#[cfg(test)]
mod tests {
    use shared::{BulkOutcome, ErrorBody};

    use super::*;

    #[test]
    fn the_outcome_names_how_many_and_why_some_were_not_done() {
        let ok = |id| BulkOutcome {
            id,
            ok: true,
            error: None,
        };
        let answer = BulkResponse {
            results: vec![ok(1), ok(2)],
            done: 2,
            failed: 0,
        };
        assert_eq!(
            outcome(BulkAction::Disable, &answer),
            ("Disabled 2 users.".to_owned(), true)
        );
        let refused = BulkOutcome {
            id: 3,
            ok: false,
            error: Some(ErrorBody {
                code: "conflict".into(),
                message: "You cannot disable your own account.".into(),
                fields: None,
            }),
        };
        let answer = BulkResponse {
            results: vec![ok(1), refused],
            done: 1,
            failed: 1,
        };
        assert_eq!(
            outcome(BulkAction::Disable, &answer).0,
            "Disabled 1 of 2 users. Not done for 1: You cannot disable your own account."
        );
    }
}
