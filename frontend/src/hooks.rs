//! Logic that several screens share: sending a form, and keeping a list's query in
//! the URL.

use std::future::Future;
use std::rc::Rc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::FieldErrors;

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
    let on_success = Rc::new(on_success);
    let action = Action::new_local(move |request: &Request| {
        let answer = send(request.clone());
        let on_success = on_success.clone();
        async move {
            match answer.await {
                Ok(answer) => on_success(answer),
                Err(e) => {
                    errors.set(e.fields());
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
            match prepare() {
                Ok(request) => self.dispatch(request),
                Err(fields) => self.errors.set(fields),
            }
        }
    }
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
