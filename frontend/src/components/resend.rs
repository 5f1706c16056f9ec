//! "Send a new code" on the screens that mail one (password recovery, email
//! verification), with a pause after each code: a second click must not cost the
//! account one of its few mails an hour.

use leptos::prelude::*;

/// Seconds before another code may be requested.
const RESEND_COOLDOWN: u32 = 30;

/// Seconds left before another code may be requested.
#[derive(Clone, Copy)]
pub struct Cooldown(RwSignal<u32>);

impl Cooldown {
    pub fn new() -> Self {
        Self(RwSignal::new(0))
    }

    pub fn start(self) {
        fn schedule(cooldown: RwSignal<u32>) {
            set_timeout(
                move || {
                    cooldown.update(|c| *c = c.saturating_sub(1));
                    if cooldown.get_untracked() > 0 {
                        schedule(cooldown);
                    }
                },
                std::time::Duration::from_secs(1),
            );
        }
        self.0.set(RESEND_COOLDOWN);
        schedule(self.0);
    }

    fn seconds_left(self) -> u32 {
        self.0.get()
    }
}

/// The button: `on_resend` runs on a click, unless `cooldown` runs or `busy` holds.
#[component]
pub fn ResendButton(
    cooldown: Cooldown,
    #[prop(into)] busy: Signal<bool>,
    on_resend: Callback<()>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <button type="button" class="button ghost" data-testid=testid
            disabled=move || { cooldown.seconds_left() > 0 || busy.get() }
            on:click=move |_| on_resend.run(())>
            {move || match cooldown.seconds_left() {
                0 => "Send a new code".to_owned(),
                s => format!("Send a new code in {s} s"),
            }}
        </button>
    }
}
