//! The audit events table, used by the audit page and a user's timeline.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde_json::Value;
use shared::{AuditAction, AuditEvent, Outcome};

use crate::format;

/// `{"fields": ["email"], "reason": "locked"}` -> "fields: email · reason: locked".
pub fn describe(detail: &Value) -> String {
    let Some(object) = detail.as_object() else {
        return detail.to_string();
    };
    object
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!("{}: {value}", key.replace('_', " "))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `password_change` -> "password change".
pub fn action_label(action: AuditAction) -> String {
    action.as_str().replace('_', " ")
}

/// "×3", and when the last of them happened, for an event that stands for several
/// (a failure repeated from one source is recorded once).
pub fn repeats(count: u32, last_at: Option<DateTime<Utc>>) -> Option<(String, String)> {
    (count > 1).then(|| {
        let title = match last_at {
            Some(at) => format!("{count} times, the last at {}", format::time(at)),
            None => format!("{count} times"),
        };
        (format!("×{count}"), title)
    })
}

fn party(id: Option<i32>, name: &Option<String>) -> String {
    match (name, id) {
        (Some(name), _) => name.clone(),
        (None, Some(id)) => format!("#{id}"),
        (None, None) => "—".to_owned(),
    }
}

#[component]
pub fn AuditTable(events: Vec<AuditEvent>) -> impl IntoView {
    let rows = events
        .into_iter()
        .map(|event| {
            let outcome_class = match event.outcome {
                Outcome::Success => "badge badge-ok",
                Outcome::Failure => "badge badge-danger",
            };
            let detail = event.detail.as_ref().map(describe).unwrap_or_default();
            let repeated = repeats(event.repeats, event.last_at).map(|(label, title)| {
                view! { <span class="badge badge-warn repeats" data-testid="audit-repeats" title=title>{label}</span> }
            });
            view! {
                <tr data-testid="audit-row" data-action=event.action.as_str()>
                    <td data-label="Time">{format::time(event.at)}</td>
                    <td data-label="Action"><code>{action_label(event.action)}</code>{repeated}</td>
                    <td data-label="Outcome"><span class=outcome_class>{event.outcome.as_str()}</span></td>
                    <td data-label="Actor">{party(event.actor_id, &event.actor)}</td>
                    <td data-label="Target">{party(event.target_id, &event.target)}</td>
                    <td data-label="From" title=event.user_agent.clone().unwrap_or_default()>
                        {event.ip.clone().unwrap_or_else(|| "—".to_owned())}
                    </td>
                    <td data-label="Details" class="detail">{detail}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="users audit">
            <thead>
                <tr>
                    <th scope="col">"Time"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col">"Actor"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"Details"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_read_as_text() {
        let detail = serde_json::json!({"fields": ["first_name", "email"], "was_locked": true});
        assert_eq!(
            describe(&detail),
            "fields: first_name, email · was locked: true"
        );
    }

    #[test]
    fn repeated_events_say_how_often_and_when_last() {
        let last = DateTime::parse_from_rfc3339("2026-11-24T09:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(repeats(1, None), None);
        assert_eq!(
            repeats(4, Some(last)),
            Some((
                "×4".to_owned(),
                "4 times, the last at 2026-11-24 09:30 UTC".to_owned()
            ))
        );
        assert_eq!(repeats(2, None).unwrap().1, "2 times");
    }
}
