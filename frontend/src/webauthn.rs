//! The browser's side of a passkey ceremony: the server's JSON options go through
//! `PublicKeyCredential.parseCreationOptionsFromJSON` (or `...RequestOptions...`)
//! into `navigator.credentials.create()` (or `.get()`), and the credential comes back
//! as `credential.toJSON()`. These are the browser's own WebAuthn JSON methods, so no
//! binary field is converted here.

use js_sys::{Function, JSON, Object, Promise, Reflect};
use shared::PasskeyOptions;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api::ApiError;

/// Whether this browser can use passkeys with JSON options.
pub fn supported() -> bool {
    public_key_credential()
        .and_then(|pkc| method(&pkc, "parseRequestOptionsFromJSON"))
        .is_some()
}

/// Creates a passkey with `options` (a registration).
pub async fn create(options: &PasskeyOptions) -> Result<serde_json::Value, ApiError> {
    ceremony("create", "parseCreationOptionsFromJSON", options).await
}

/// Signs `options`' challenge with a passkey (a sign-in, or a second factor).
pub async fn get(options: &PasskeyOptions) -> Result<serde_json::Value, ApiError> {
    ceremony("get", "parseRequestOptionsFromJSON", options).await
}

fn public_key_credential() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &"PublicKeyCredential".into())
        .ok()
        .filter(|value| !value.is_undefined())
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &name.into()).ok()?.dyn_into().ok()
}

fn unsupported() -> ApiError {
    ApiError::Browser("This browser cannot use passkeys.".to_owned())
}

async fn ceremony(
    call: &str,
    parse: &str,
    options: &PasskeyOptions,
) -> Result<serde_json::Value, ApiError> {
    let pkc = public_key_credential().ok_or_else(unsupported)?;
    let parse = method(&pkc, parse).ok_or_else(unsupported)?;
    let json = serde_json::to_string(&options.public_key).map_err(|_| unsupported())?;
    let json = JSON::parse(&json).map_err(|_| unsupported())?;
    let public_key = parse.call1(&pkc, &json).map_err(|_| unsupported())?;
    let request = Object::new();
    Reflect::set(&request, &"publicKey".into(), &public_key).map_err(|_| unsupported())?;
    let credentials = Reflect::get(
        &web_sys::window().ok_or_else(unsupported)?.navigator(),
        &"credentials".into(),
    )
    .map_err(|_| unsupported())?;
    let start = method(&credentials, call).ok_or_else(unsupported)?;
    let promise: Promise = start
        .call1(&credentials, &request)
        .and_then(JsCast::dyn_into)
        .map_err(|_| unsupported())?;
    let credential = JsFuture::from(promise)
        .await
        .map_err(|error| declined(&error))?;
    let to_json = method(&credential, "toJSON").ok_or_else(unsupported)?;
    let value = to_json.call0(&credential).map_err(|_| unsupported())?;
    let text: String = JSON::stringify(&value).map_err(|_| unsupported())?.into();
    serde_json::from_str(&text).map_err(|_| unsupported())
}

/// What a refused ceremony means to the user (cancelled, timed out, no key).
fn declined(error: &JsValue) -> ApiError {
    let name = Reflect::get(error, &"name".into())
        .ok()
        .and_then(|name| name.as_string())
        .unwrap_or_default();
    let message = match name.as_str() {
        "InvalidStateError" => "This passkey is registered already.",
        "NotAllowedError" => "No passkey was used: it was cancelled or timed out.",
        "SecurityError" => "Passkeys do not work at this address: open the app at its own name.",
        _ => "The passkey could not be used.",
    };
    ApiError::Browser(message.to_owned())
}
