//! "Send a new code" on the screens that mail one (password recovery, email
//! verification), with a pause after each code: a second click must not cost the
//! account one of its few mails an hour.

use std::time::Duration;

use leptos::prelude::*;

use crate::hooks::{Timer, use_timer};

/// Seconds before another code may be requested.
const RESEND_COOLDOWN: u32 = 30;

/// Seconds left before another code may be requested, counted down by a timer that
/// the screen owns (it stops when the screen goes).
#[derive(Clone, Copy)]
pub struct Cooldown {
    seconds: RwSignal<u32>,
    tick: Timer,
}

impl Cooldown {
    pub fn new() -> Self {
        Self {
            seconds: RwSignal::new(0),
            tick: use_timer(),
        }
    }

    pub fn start(self) {
        self.seconds.set(RESEND_COOLDOWN);
        self.schedule_tick();
    }

    fn schedule_tick(self) {
        self.tick.schedule(Duration::from_secs(1), move || {
            self.seconds.update(|s| *s = s.saturating_sub(1));
            if self.seconds.get_untracked() > 0 {
                self.schedule_tick();
            }
        });
    }

    fn seconds_left(self) -> u32 {
        self.seconds.get()
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
