//! An account's lockout as admins see it: the lock that failed logins from unknown
//! clients set, and each known device's own (a stranger's guesses lock out strangers
//! only, so the account's owner may be locked on one device and not on another).

use leptos::prelude::*;
use shared::{DeviceState, LockoutState};

use crate::api::ApiError;
use crate::components::async_view::AsyncView;
use crate::format;

/// Whether anything in `state` refuses logins now: a locked device counts even when
/// the account is not locked for unknown clients.
pub fn any_device_locked(state: &LockoutState) -> bool {
    state.devices.iter().any(|d| d.locked_until.is_some())
}

/// "Locked for unknown clients until …", or how many of their logins failed.
fn unknown_clients(state: &LockoutState) -> String {
    match (state.locked_until, state.failed_logins) {
        (Some(until), _) => format!("Locked for unknown clients until {}.", format::time(until)),
        (None, 0) => "No failed logins from unknown clients.".to_owned(),
        (None, 1) => "1 failed login from unknown clients.".to_owned(),
        (None, n) => format!("{n} failed logins from unknown clients."),
    }
}

fn device_line(device: &DeviceState) -> String {
    let seen = format!(
        "First seen {}, last used {}",
        format::time(device.created_at),
        format::time(device.last_used_at)
    );
    match (device.locked_until, device.failed_logins) {
        (Some(until), _) => format!("{seen} · locked until {}", format::time(until)),
        (None, 0) => seen,
        (None, n) => format!("{seen} · {n} failed"),
    }
}

#[component]
pub fn LockoutView(lockout: LocalResource<Result<LockoutState, ApiError>>) -> impl IntoView {
    view! {
        <div class="lockout" data-testid="lockout-state">
            <AsyncView resource=lockout loading="Loading the lockout…" error_testid="lockout-error" let:state>
                <p data-testid="lockout-unknown">{unknown_clients(&state)}</p>
                <h3>"Known devices"</h3>
                {if state.devices.is_empty() {
                    view! { <p class="hint">"No browser or app has logged in to this account yet."</p> }.into_any()
                } else {
                    let rows = state.devices.iter().map(|device| view! {
                        <li data-testid="device-row" data-locked=device.locked_until.is_some().to_string()>
                            {device_line(device)}
                        </li>
                    }).collect_view();
                    view! { <ul class="devices">{rows}</ul> }.into_any()
                }}
            </AsyncView>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn device(locked_until: Option<DateTime<Utc>>, failed_logins: i32) -> DeviceState {
        DeviceState {
            created_at: at("2026-11-20T08:00:00Z"),
            last_used_at: at("2026-11-24T09:30:00Z"),
            failed_logins,
            locked_until,
        }
    }

    #[test]
    fn the_lock_for_unknown_clients_reads_as_text() {
        let mut state = LockoutState {
            failed_logins: 0,
            locked_until: None,
            devices: vec![device(None, 0)],
        };
        assert_eq!(
            unknown_clients(&state),
            "No failed logins from unknown clients."
        );
        state.failed_logins = 2;
        assert_eq!(
            unknown_clients(&state),
            "2 failed logins from unknown clients."
        );
        state.locked_until = Some(at("2026-11-24T10:00:00Z"));
        assert_eq!(
            unknown_clients(&state),
            "Locked for unknown clients until 2026-11-24 10:00 UTC."
        );
        assert!(!any_device_locked(&state), "the owner's device is not");
    }

    #[test]
    fn devices_say_when_they_were_seen_and_whether_they_are_locked() {
        assert_eq!(
            device_line(&device(None, 0)),
            "First seen 2026-11-20 08:00 UTC, last used 2026-11-24 09:30 UTC"
        );
        assert!(device_line(&device(None, 2)).ends_with(" · 2 failed"));
        let locked = device(Some(at("2026-11-24T10:00:00Z")), 5);
        assert!(device_line(&locked).ends_with(" · locked until 2026-11-24 10:00 UTC"));
        let state = LockoutState {
            failed_logins: 0,
            locked_until: None,
            devices: vec![device(None, 0), locked],
        };
        assert!(any_device_locked(&state));
    }
}
