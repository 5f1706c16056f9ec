//! `/api/v1/invitations`: admins invite an address to sign up (needed while sign-up
//! is by invitation; an invited address also counts as verified).

use actix_web::{HttpResponse, web};
use serde_json::json;
use shared::{AuditAction, CreateInvitationRequest, ErrorResponse, Invitation, SignupMode};

use crate::accounts::invitations;
use crate::audit::{self, ClientInfo};
use crate::db::entity::invitation;
use crate::http::error::ApiError;
use crate::http::extract::AdminUser;
use crate::http::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/invitations")
            .route("", web::get().to(list_invitations))
            .route("", web::post().to(create_invitation))
            .route("/{id}", web::delete().to(revoke_invitation)),
    );
}

fn to_api(model: invitation::Model) -> Invitation {
    Invitation {
        id: model.id,
        email: model.email,
        invited_by: model.invited_by_name,
        created_at: model.created_at,
        expires_at: model.expires_at,
    }
}

/// Invite an address to sign up (admins).
///
/// A 6-digit code is mailed to it; sign-up with that address and the code
/// (`invitation_code`) within 7 days. Inviting the same address again sends a new code.
#[utoipa::path(
    post, path = "/api/v1/invitations", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    request_body = CreateInvitationRequest,
    responses(
        (status = 201, description = "Invited; the code is mailed", body = Invitation),
        (status = 400, description = "Not an email address", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 409, description = "Sign-up is closed: an invitation could not be used", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn create_invitation(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    body: web::Json<CreateInvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    if state.registration.mode == SignupMode::Closed {
        return Err(ApiError::Conflict(
            "Sign-up is closed (SIGNUP_MODE), so an invitation could not be used.",
        ));
    }
    let email = body.validate().map_err(ApiError::Validation)?;
    let (invitation, code) =
        invitations::create(&state.db, &state.codes, &admin.user, &email).await?;
    let inviter = format!("{} {}", admin.user.first_name, admin.user.last_name);
    state
        .notices
        .invitation(
            &state.db,
            &invitation.email,
            &inviter,
            &code,
            invitation.expires_at,
        )
        .await;
    audit::Event::success(AuditAction::InvitationSent)
        .actor(&admin.user)
        .detail(json!({ "invitation": invitation.id }))
        .record(&state.db, &client)
        .await;
    Ok(HttpResponse::Created().json(to_api(invitation)))
}

/// The invitations not yet used or expired (admins).
#[utoipa::path(
    get, path = "/api/v1/invitations", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = Vec<Invitation>),
        (status = 403, description = "Not an admin", body = ErrorResponse),
    )
)]
pub async fn list_invitations(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<Vec<Invitation>>, ApiError> {
    let live = invitations::list_live(&state.db).await?;
    Ok(web::Json(live.into_iter().map(to_api).collect()))
}

/// Withdraw an invitation (admins): its code stops working.
#[utoipa::path(
    delete, path = "/api/v1/invitations/{id}", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Invitation id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such invitation", body = ErrorResponse),
    )
)]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    let revoked = invitations::revoke(&state.db, id.into_inner()).await?;
    audit::Event::success(AuditAction::InvitationRevoked)
        .actor(&admin.user)
        .detail(json!({ "invitation": revoked.id }))
        .record(&state.db, &client)
        .await;
    Ok(HttpResponse::NoContent().finish())
}
