//! Form building blocks: labelled inputs with their error, a submit button that shows
//! a spinner and cannot be pressed twice, and the password strength meter.

use leptos::prelude::*;
use shared::FieldErrors;
use shared::validate::Password;

/// A labelled input bound to `value`, with the message for `name` from `errors`
/// underneath (announced to screen readers through `aria-describedby`).
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
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let error = move || errors.with(|e| e.get(name).cloned());
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
                aria-describedby=error_id.clone()
                data-testid=format!("input-{name}")
            />
            {hint.map(|h| view! { <small class="hint">{h}</small> })}
            <small class="error" id=error_id data-testid=format!("error-{name}")>
                {move || error().unwrap_or_default()}
            </small>
        </div>
    }
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

/// zxcvbn's verdict on the password being typed, with the same rules as the server.
#[component]
pub fn StrengthMeter(
    password: RwSignal<String>,
    #[prop(into)] user_inputs: Signal<Vec<String>>,
) -> impl IntoView {
    let strength = Memo::new(move |_| {
        let inputs = user_inputs.get();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        password.with(|p| Password::strength(p, &inputs))
    });
    let label = move || match (password.with(String::len), strength.get().score) {
        (0, _) => "",
        (_, 0 | 1) => "Very weak",
        (_, 2) => "Weak",
        (_, 3) => "Strong",
        _ => "Very strong",
    };
    view! {
        <div class="strength" data-testid="strength-meter" data-score=move || strength.get().score>
            <div class="strength-bar">
                <div class=move || format!("strength-fill score-{}", strength.get().score)
                    style:width=move || {
                        if password.with(String::is_empty) { "0%".to_owned() } else {
                            format!("{}%", (u32::from(strength.get().score) + 1) * 20)
                        }
                    }
                ></div>
            </div>
            <small>{label}</small>
        </div>
    }
}
