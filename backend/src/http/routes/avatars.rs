//! `/api/v1/users/{id}/avatar`: profile pictures. Everyone who may see an account may
//! see its picture; the account itself and admins may set or remove it.

use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use shared::{AuditAction, ErrorResponse, User};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::{self, policy};
use crate::audit::{self, ClientInfo};
use crate::avatars::{self, Size, picture};
use crate::http::error::ApiError;
use crate::http::extract::{AccountPath, CurrentUser};
use crate::http::state::AppState;

/// How long a picture under its content-hashed URL may be kept: it never changes.
const A_YEAR: u32 = 365 * 24 * 60 * 60;

/// A picture file, as the request or response body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PictureFile(#[allow(dead_code, reason = "a schema only")] Vec<u8>);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvatarQuery {
    /// The side in pixels: 64 or 256 (the default).
    #[param(minimum = 64, maximum = 256, example = 64)]
    pub size: Option<u32>,
    /// The picture's version, as in the account's `avatar_url`. When it is the
    /// current one the answer may be cached for good.
    pub v: Option<String>,
}

/// Set an account's picture (the account itself, or admins).
///
/// The body is the file itself: a JPEG, PNG, WebP or GIF of at most 5 MB and 8192
/// pixels a side. The server recognises the format by the content, crops the picture
/// to its central square and keeps it re-encoded at 256 and 64 px, with all metadata
/// (EXIF, GPS) dropped. Answers the account with its new `avatar_url`.
#[utoipa::path(
    put, path = "/api/v1/users/{id}/avatar", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    request_body(description = "A JPEG, PNG, WebP or GIF file, sent under its own type or as octet-stream",
        content((PictureFile = "image/*"), (PictureFile = "application/octet-stream"))),
    responses(
        (status = 200, description = "The account with its new picture", body = User),
        (status = 400, description = "The image is damaged or incomplete", body = ErrorResponse),
        (status = 403, description = "Another account's picture, and not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
        (status = 413, description = "Over 5 MB, or too many pixels", body = ErrorResponse),
        (status = 415, description = "Not a JPEG, PNG, WebP or GIF image", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = account.id))]
pub async fn upload_avatar(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    account: AccountPath,
    payload: web::Payload,
) -> Result<web::Json<User>, ApiError> {
    if !policy::may_see(&current.user, state.directory, account.id) {
        return Err(ApiError::NotFound);
    }
    policy::check_picture(&current.user, account.id)?;
    let upload = payload
        .to_bytes_limited(picture::MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge("The picture is larger than 5 MB."))?
        .map_err(|_| ApiError::BadRequest("The upload could not be read.".to_owned()))?;
    let pictures = state.pictures.process(upload).await?;
    let user = avatars::replace(&state.db, account.id, &pictures).await?;
    let source = pictures.source;
    tracing::info!(target = user.id, format = source.format, "picture set");
    audit::Event::success(AuditAction::AvatarChanged)
        .actor(&current.user)
        .target(&user)
        .detail(json!({
            "format": source.format,
            "width": source.width,
            "height": source.height,
        }))
        .record(&state.db, &client)
        .await;
    let user = accounts::to_api(user);
    Ok(web::Json(policy::shown_to(
        &current.user,
        state.directory,
        user,
    )))
}

/// An account's picture.
///
/// Follow the account's `avatar_url` (add `&size=64` for the small one): under it the
/// answer is cached for good, as a new picture gets a new URL. Other requests are
/// answered with `no-cache` and an `ETag` to revalidate with.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/avatar", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id"), AvatarQuery),
    responses(
        (status = 200, description = "The picture, as WebP", content_type = "image/webp", body = PictureFile,
            headers(("ETag" = String, description = "The picture's version and size"))),
        (status = 304, description = "The picture named by `If-None-Match` is current"),
        (status = 400, description = "A size other than 64 or 256", body = ErrorResponse),
        (status = 404, description = "No such account, or no picture", body = ErrorResponse),
    )
)]
pub async fn avatar(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentUser,
    account: AccountPath,
    query: web::Query<AvatarQuery>,
) -> Result<HttpResponse, ApiError> {
    if !policy::may_see(&current.user, state.directory, account.id) {
        return Err(ApiError::NotFound);
    }
    let size = match query.size {
        None => Size::Large,
        Some(pixels) => {
            Size::from_pixels(pixels).ok_or_else(|| ApiError::field("size", "must be 64 or 256"))?
        }
    };
    let stored = avatars::find(&state.db, account.id, size)
        .await?
        .ok_or(ApiError::NotFound)?;
    let etag = EntityTag::new_strong(format!("{}-{}", stored.version, size.pixels()));
    let cache = if query.v.as_deref() == Some(stored.version.as_str()) {
        CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::MaxAge(A_YEAR),
            CacheDirective::Extension("immutable".to_owned(), None),
        ])
    } else {
        CacheControl(vec![CacheDirective::Private, CacheDirective::NoCache])
    };
    let unchanged = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&etag)),
        None => false,
    };
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(etag))
        .insert_header(cache)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if unchanged {
        return Ok(response.finish());
    }
    Ok(response
        .content_type(stored.content_type)
        .body(stored.bytes))
}

/// Remove an account's picture (the account itself, or admins). Removing none is
/// not an error.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/avatar", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 204, description = "The account has no picture now"),
        (status = 403, description = "Another account's picture, and not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = account.id))]
pub async fn remove_avatar(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    account: AccountPath,
) -> Result<HttpResponse, ApiError> {
    if !policy::may_see(&current.user, state.directory, account.id) {
        return Err(ApiError::NotFound);
    }
    policy::check_picture(&current.user, account.id)?;
    let (user, had_one) = avatars::remove(&state.db, account.id).await?;
    if had_one {
        tracing::info!(target = user.id, "picture removed");
        audit::Event::success(AuditAction::AvatarRemoved)
            .actor(&current.user)
            .target(&user)
            .record(&state.db, &client)
            .await;
    }
    Ok(HttpResponse::NoContent().finish())
}
