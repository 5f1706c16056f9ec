//! Profile pictures: an account's picture, or its initials when it has none (or the
//! picture fails to load), and the control to upload, replace or remove one.

use leptos::prelude::*;
use shared::User;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement, Url};

use crate::api;
use crate::components::toast::use_toasts;
use crate::hooks::{Failure, use_form_action};

/// The largest file the server takes (its own check is the one that counts).
const MAX_PICTURE_BYTES: f64 = 5.0 * 1024.0 * 1024.0;
/// What the file picker offers; the server recognises the format by the content.
const ACCEPTED: &str = "image/jpeg,image/png,image/webp,image/gif";

/// How large a picture is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AvatarSize {
    /// In the header, the list and the cards: the 64 px picture.
    Small,
    /// On the account page: the 256 px picture.
    Large,
}

impl AvatarSize {
    fn pixels(self) -> u32 {
        match self {
            Self::Small => 64,
            Self::Large => 256,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::Small => "avatar",
            Self::Large => "avatar avatar-large",
        }
    }
}

/// `user`'s picture. Decorative (`alt=""`): the name is always written beside it.
#[component]
pub fn Avatar(user: User, #[prop(default = AvatarSize::Small)] size: AvatarSize) -> impl IntoView {
    let failed = RwSignal::new(false);
    let src = user
        .avatar_url
        .as_ref()
        .map(|url| format!("{url}&size={}", size.pixels()));
    let initials = initials(&user);
    // One of eight background colours, the same for an account wherever it shows.
    let hue = format!("{} initials hue-{}", size.class(), user.id.rem_euclid(8));
    move || match (&src, failed.get()) {
        (Some(src), false) => view! {
            <img class=size.class() src=src.clone() alt="" loading="lazy" decoding="async"
                width=size.pixels() height=size.pixels() data-testid="avatar"
                on:error=move |_| failed.set(true)/>
        }
        .into_any(),
        _ => view! {
            <span class=hue.clone() aria-hidden="true" data-testid="avatar-initials">
                {initials.clone()}
            </span>
        }
        .into_any(),
    }
}

/// The first letters of the first and last name (of the username, if both are empty).
fn initials(user: &User) -> String {
    let first = |s: &str| {
        s.chars()
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
    };
    let letters: String = [first(&user.first_name), first(&user.last_name)]
        .into_iter()
        .flatten()
        .collect();
    if letters.is_empty() {
        first(&user.username).unwrap_or_default()
    } else {
        letters
    }
}

/// A picture chosen but not sent yet, with the address of its preview.
struct Chosen {
    file: File,
    preview: String,
}

impl Drop for Chosen {
    /// The preview's address holds the file in memory until revoked.
    fn drop(&mut self) {
        let _ = Url::revoke_object_url(&self.preview);
    }
}

/// Choose, preview and upload a picture for `user`, or remove theirs. `on_change`
/// gets the account as it is after the change.
#[component]
pub fn PictureEditor(user: User, on_change: Callback<User>) -> impl IntoView {
    let toasts = use_toasts();
    let id = user.id;
    let current = RwSignal::new(user);
    let chosen = StoredValue::new_local(None::<Chosen>);
    // What the preview shows; the file itself stays in `chosen`.
    let preview = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let errors = RwSignal::new(shared::FieldErrors::new());
    let clear = move || {
        chosen.set_value(None);
        preview.set(None);
    };
    let changed = move |user: User, message: &str| {
        clear();
        current.set(user.clone());
        on_change.run(user);
        toasts.success(message);
    };
    let upload = use_form_action(
        errors,
        Failure::Alert(problem),
        move |()| {
            let file = chosen.with_value(|c| c.as_ref().map(|c| c.file.clone()));
            async move {
                match file {
                    Some(file) => api::upload_avatar(id, &file).await,
                    None => Err(api::ApiError::Network("Choose a picture first.".to_owned())),
                }
            }
        },
        move |user: User| changed(user, "The picture was saved."),
    );
    let remove = use_form_action(
        errors,
        Failure::Alert(problem),
        move |()| async move { api::remove_avatar(id).await },
        move |()| {
            let user = User {
                avatar_url: None,
                ..current.get_untracked()
            };
            changed(user, "The picture was removed.");
        },
    );
    let on_pick = move |ev: leptos::ev::Event| pick(&ev, chosen, preview, problem);
    on_cleanup(move || chosen.set_value(None));
    let busy = move || upload.pending().get() || remove.pending().get();
    view! {
        <div class="picture-editor" data-testid="picture-editor">
            {move || match preview.get() {
                Some(url) => view! {
                    <img class="avatar avatar-large" src=url alt="The picture you chose"
                        width="256" height="256" data-testid="picture-preview"/>
                }.into_any(),
                None => view! { <Avatar user=current.get() size=AvatarSize::Large/> }.into_any(),
            }}
            <div class="picture-actions">
                <label class="button small file-button">
                    {move || if current.with(|u| u.avatar_url.is_some()) { "Replace picture" } else { "Choose a picture" }}
                    <input type="file" class="sr-only" accept=ACCEPTED data-testid="picture-input"
                        aria-describedby="picture-hint" on:change=on_pick/>
                </label>
                <Show when=move || preview.with(Option::is_some)>
                    <button type="button" class="button small primary" data-testid="picture-upload"
                        disabled=busy on:click=move |_| upload.dispatch(())>"Upload"</button>
                    <button type="button" class="button small ghost" data-testid="picture-cancel"
                        disabled=busy on:click=move |_| clear()>"Cancel"</button>
                </Show>
                <Show when=move || preview.with(Option::is_none) && current.with(|u| u.avatar_url.is_some())>
                    <button type="button" class="button small danger" data-testid="picture-remove"
                        disabled=busy on:click=move |_| remove.dispatch(())>"Remove picture"</button>
                </Show>
            </div>
            <p class="hint" id="picture-hint">"A JPEG, PNG, WebP or GIF image of up to 5 MB. It is cropped to a square."</p>
            {move || problem.get().map(|message| view! {
                <p class="alert" role="alert" data-testid="picture-error">{message}</p>
            })}
        </div>
    }
}

/// Takes the file just chosen into `chosen` and its preview, or says why not.
fn pick(
    ev: &leptos::ev::Event,
    chosen: StoredValue<Option<Chosen>, LocalStorage>,
    preview: RwSignal<Option<String>>,
    problem: RwSignal<Option<String>>,
) {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    else {
        return;
    };
    let file = input.files().and_then(|files| files.get(0));
    // The same file may be chosen again after a refusal.
    input.set_value("");
    let Some(file) = file else { return };
    let checked = check(&file);
    problem.set(checked.clone().err());
    // The new choice replaces the old one, or (refused) clears it.
    chosen.set_value(None);
    preview.set(None);
    if checked.is_err() {
        return;
    }
    let Ok(url) = Url::create_object_url_with_blob(&file) else {
        return;
    };
    preview.set(Some(url.clone()));
    chosen.set_value(Some(Chosen { file, preview: url }));
}

/// What the browser can tell before sending: the size, and a type the picker would
/// offer (files dropped in by other means may be anything).
fn check(file: &File) -> Result<(), String> {
    if file.size() > MAX_PICTURE_BYTES {
        return Err(format!(
            "The picture is {:.1} MB; choose one of up to 5 MB.",
            file.size() / 1024.0 / 1024.0
        ));
    }
    let kind = file.type_();
    if !kind.is_empty() && !ACCEPTED.split(',').any(|accepted| accepted == kind) {
        return Err("Choose a JPEG, PNG, WebP or GIF image.".to_owned());
    }
    Ok(())
}
