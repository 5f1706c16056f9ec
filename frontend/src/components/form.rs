//! Form building blocks: labelled inputs with their error, a submit button that shows
//! a spinner and cannot be pressed twice, and the password strength meter.

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;
use shared::validate::Password;
use shared::{FieldErrors, PasswordStrengthRequest, Strength};

use crate::api;

/// How long typing must pause before the strength meter asks the server.
const STRENGTH_DELAY_MS: u32 = 250;

/// A labelled input bound to `value`, with its hint and the message for `name` from
/// `errors` underneath, both tied to the input with `aria-describedby` (so a screen
/// reader reads them with the field). The server's field messages are fragments ("is
/// required"); the field says them as sentences with its label as the subject.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<FieldErrors>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
    /// Names the element ids and test ids instead of `name`, for a second form on
    /// the page with a field of the same name (ids must be unique).
    #[prop(optional)]
    id: Option<&'static str>,
    /// A strength meter under the field gives the advice: the message leaves it out.
    #[prop(optional)]
    advised: bool,
) -> impl IntoView {
    let stem = id.unwrap_or(name);
    let id = format!("field-{stem}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = match hint {
        Some(_) => format!("{hint_id} {error_id}"),
        None => error_id.clone(),
    };
    let error = move || errors.with(|e| e.get(name).cloned());
    let message = move || {
        error()
            .map(|m| sentence(label, &m, advised))
            .unwrap_or_default()
    };
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    errors.update(|e| {
                        e.remove(name);
                    });
                }
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=described_by
                data-testid=format!("input-{stem}")
            />
            {hint.map(|h| view! { <small class="hint" id=hint_id>{h}</small> })}
            <small class="error" id=error_id data-testid=format!("error-{stem}")>{message}</small>
        </div>
    }
}

/// `message` as a sentence: a fragment ("is required") gets the field's `label` as its
/// subject ("Email is required."). With `advised`, advice after a colon is left to
/// the strength meter.
pub fn sentence(label: &str, message: &str, advised: bool) -> String {
    let (message, cut) = match message.split_once(": ") {
        Some((verdict, _)) if advised => (verdict, true),
        _ => (message, false),
    };
    let subject = label.split(" (").next().unwrap_or(label);
    let mut text = if message.starts_with(|c: char| c.is_lowercase()) {
        format!("{subject} {message}")
    } else {
        message.to_owned()
    };
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    if cut {
        text.push_str(" The advice below says how to make it stronger.");
    }
    text
}

/// A submit button, disabled with a spinner while `pending`.
#[component]
pub fn SubmitButton(
    label: &'static str,
    pending: Signal<bool>,
    #[prop(default = "submit")] testid: &'static str,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="button primary"
            class:danger=danger
            disabled=move || pending.get()
            aria-busy=move || if pending.get() { "true" } else { "false" }
            data-testid=testid
        >
            <Show when=move || pending.get()>
                <span class="spinner" aria-hidden="true"></span>
            </Show>
            {label}
        </button>
    }
}

/// zxcvbn's verdict on the password being typed. The estimator runs on the server
/// (its dictionaries would triple the bundle): the meter asks once typing pauses and
/// shows the newest answer only.
#[component]
pub fn StrengthMeter(
    password: RwSignal<String>,
    #[prop(into)] user_inputs: Signal<Vec<String>>,
) -> impl IntoView {
    let strength = RwSignal::new(None::<Strength>);
    Effect::new(move |_| {
        let request = PasswordStrengthRequest {
            password: password.get(),
            user_inputs: user_inputs.get(),
        };
        if request.password.is_empty() || Password::parse(&request.password, &[]).is_err() {
            // Too short or too long: the field's own message says why.
            strength.set(None);
            return;
        }
        // The next keystroke reruns the effect, which cancels this call (so only the
        // newest answer shows); leaving the form cancels it too.
        spawn_local_scoped_with_cancellation(async move {
            TimeoutFuture::new(STRENGTH_DELAY_MS).await;
            let answer = api::password_strength(&request).await.ok();
            strength.set(answer);
        });
    });
    let score = move || strength.with(|s| s.as_ref().map_or(0, |s| s.score));
    let label = move || match strength.with(|s| s.as_ref().map(|s| s.score)) {
        None => "",
        Some(0 | 1) => "Very weak",
        Some(2) => "Weak",
        Some(3) => "Strong",
        Some(_) => "Very strong",
    };
    let advice = move || {
        strength.with(|s| {
            s.as_ref()
                .filter(|s| !s.acceptable())
                .and_then(|s| s.feedback.clone())
        })
    };
    view! {
        <div class="strength" data-testid="strength-meter"
            data-score=move || strength.with(|s| s.as_ref().map(|s| s.score.to_string()))>
            <div class="strength-bar">
                <div class=move || {
                    let shown = if strength.with(Option::is_some) { " shown" } else { "" };
                    format!("strength-fill{shown} score-{}", score())
                }></div>
            </div>
            <small aria-live="polite">{label}</small>
        </div>
        <Show when=move || advice().is_some()>
            <small class="hint strength-advice" data-testid="strength-advice">{advice}</small>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn field_messages_read_as_sentences() {
        assert_eq!(
            sentence("Email", "is required", false),
            "Email is required."
        );
        assert_eq!(
            sentence(
                "New password (optional)",
                "is too easy to guess: add a word",
                true
            ),
            "New password is too easy to guess. The advice below says how to make it stronger."
        );
        assert_eq!(
            sentence("Password", "is too easy to guess: add a word", false),
            "Password is too easy to guess: add a word."
        );
        assert_eq!(
            sentence("Code", "The code is wrong or has expired.", false),
            "The code is wrong or has expired."
        );
    }
}
