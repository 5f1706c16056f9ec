//! Logic that several screens share: sending a form, keeping a list's query in the
//! URL, and the timers and answers that must not outlive their screen.
//!
//! A screen that is gone has its signals disposed, and reading one of them panics.
//! So nothing started by a screen may run after it: timers are cleared and answers
//! dropped when the component that started them is cleaned up.

use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::FieldErrors;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlFormElement};

use crate::api::ApiError;
use crate::components::toast::use_toasts;
use crate::query::UrlQuery;

/// Where the message of a refused submission goes; the field-level messages always go
/// under their fields.
#[derive(Clone, Copy)]
pub enum Failure {
    /// A toast: the form is long and the fields say what to fix.
    Toast,
    /// An alert inside the form, cleared when the form is sent again.
    Alert(RwSignal<Option<String>>),
}

/// A form's write to the server: checked by the shared validator first, and never sent
/// twice at once.
pub struct FormAction<Request: 'static> {
    action: Action<Request, ()>,
    pending: Memo<bool>,
    errors: RwSignal<FieldErrors>,
    failure: Failure,
    /// The form last submitted, whose first invalid field gets the focus.
    form: StoredValue<Option<HtmlFormElement>, LocalStorage>,
}

impl<Request> Clone for FormAction<Request> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Request> Copy for FormAction<Request> {}

/// `send` makes the call; `on_success` gets its answer. A failure puts the server's
/// field messages into `errors` and its message where `failure` says.
pub fn use_form_action<Request, Answer, Fut>(
    errors: RwSignal<FieldErrors>,
    failure: Failure,
    send: impl Fn(Request) -> Fut + 'static,
    on_success: impl Fn(Answer) + 'static,
) -> FormAction<Request>
where
    Request: Clone + Send + Sync + 'static,
    Answer: 'static,
    Fut: Future<Output = Result<Answer, ApiError>> + 'static,
{
    let toasts = use_toasts();
    let mounted = use_mounted();
    let form = StoredValue::new_local(None::<HtmlFormElement>);
    let on_success = Rc::new(on_success);
    let action = Action::new_local(move |request: &Request| {
        let answer = send(request.clone());
        let (on_success, mounted) = (on_success.clone(), mounted.clone());
        async move {
            let answer = answer.await;
            // Left before the answer came: the screen it was for is gone.
            if !mounted.get() {
                return;
            }
            match answer {
                Ok(answer) => on_success(answer),
                Err(e) => {
                    errors.set(e.fields());
                    form.with_value(|form| focus_first_invalid(form.as_ref()));
                    match failure {
                        Failure::Toast => toasts.error(e.message()),
                        Failure::Alert(alert) => alert.set(Some(e.message())),
                    }
                }
            }
        }
    });
    FormAction {
        action,
        pending: action.pending(),
        errors,
        failure,
        form,
    }
}

impl<Request> FormAction<Request>
where
    Request: Clone + Send + Sync + 'static,
{
    pub fn pending(&self) -> Signal<bool> {
        self.pending.into()
    }

    /// Moves with each submission that was sent: for lists to reload on.
    pub fn version(&self) -> RwSignal<usize> {
        self.action.version()
    }

    /// Sends `request` unchecked: for repeating a request that already passed.
    pub fn dispatch(&self, request: Request) {
        self.action.dispatch(request);
    }

    /// The form's submit handler. `prepare` builds the request from the form and runs
    /// the shared validator on it, so the form shows the server's own messages before
    /// anything is sent.
    pub fn on_submit(
        self,
        prepare: impl Fn() -> Result<Request, FieldErrors> + 'static,
    ) -> impl Fn(SubmitEvent) + 'static {
        move |ev: SubmitEvent| {
            ev.prevent_default();
            if self.pending.get_untracked() {
                return;
            }
            if let Failure::Alert(alert) = self.failure {
                alert.set(None);
            }
            let form = ev
                .target()
                .and_then(|t| t.dyn_into::<HtmlFormElement>().ok());
            self.form.set_value(form.clone());
            match prepare() {
                Ok(request) => self.dispatch(request),
                Err(fields) => {
                    self.errors.set(fields);
                    focus_first_invalid(form.as_ref());
                }
            }
        }
    }
}

/// Moves the focus to the first field of `form` marked invalid, once the messages
/// are on screen, so a keyboard or screen-reader user lands where the fixing starts.
fn focus_first_invalid(form: Option<&HtmlFormElement>) {
    let Some(form) = form.cloned() else { return };
    request_animation_frame(move || {
        let first = form
            .query_selector("[aria-invalid='true']")
            .ok()
            .flatten()
            .and_then(|field| field.dyn_into::<HtmlElement>().ok());
        if let Some(field) = first {
            let _ = field.focus();
        }
    });
}

/// A list's query as the URL at `path` holds it (so reload and back/forward restore
/// the list), and a function that puts another one there.
pub fn use_url_query<Q>(path: &'static str) -> (Memo<Q>, impl Fn(&Q) + Copy + Send + Sync)
where
    Q: UrlQuery + PartialEq + Send + Sync + 'static,
{
    let map = use_query_map();
    let query = Memo::new(move |_| map.with(Q::from_map));
    let navigate = StoredValue::new_local(use_navigate());
    let set = move |next: &Q| {
        let url = format!("{path}{}", next.to_query_string());
        navigate.with_value(|navigate| navigate(&url, Default::default()));
    };
    (query, set)
}

/// Whether the component that called [`use_mounted`] is still on screen.
#[derive(Clone)]
pub struct Mounted(Arc<AtomicBool>);

impl Mounted {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Turns false when the calling component is cleaned up: for an answer that arrives
/// after its screen has gone.
pub fn use_mounted() -> Mounted {
    let mounted = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&mounted);
    on_cleanup(move || flag.store(false, Ordering::Relaxed));
    Mounted(mounted)
}

/// A timer owned by the component that made it ([`use_timer`]): one call pending at
/// most, so scheduling again replaces it (a debounce), and none left once the component
/// is cleaned up.
#[derive(Clone, Copy)]
pub struct Timer(StoredValue<Option<TimeoutHandle>>);

/// A [`Timer`] that the calling component owns.
pub fn use_timer() -> Timer {
    let timer = Timer(StoredValue::new(None));
    // Cleanups run before the owner's values are dropped: the handle is still there.
    on_cleanup(move || timer.cancel());
    timer
}

impl Timer {
    /// Runs `call` after `delay`, in place of the call pending (if any).
    pub fn schedule(self, delay: Duration, call: impl FnOnce() + 'static) {
        if self.0.is_disposed() {
            return;
        }
        self.cancel();
        let pending = self.0;
        let handle = set_timeout_with_handle(
            move || {
                pending.set_value(None);
                call();
            },
            delay,
        );
        self.0.set_value(handle.ok());
    }

    /// Drops the pending call.
    pub fn cancel(self) {
        if let Some(handle) = self.0.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    }
}

/// Runs `change` once the answer being handled has settled: for a success that
/// replaces the very form that sent it (the next step of a flow). The form's action
/// still writes its state when its handler returns, so its component must outlive
/// that.
pub fn after_answer(change: impl FnOnce() + 'static) {
    leptos::task::spawn_local(async move { change() });
}
