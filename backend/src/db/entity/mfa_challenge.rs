use sea_orm::entity::prelude::*;
use shared::SessionKind;

/// A login waiting for its second factor (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_challenges")]
pub struct Model {
    /// SHA-256 of the `mfa_token`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub user_id: i32,
    /// The session the login opens once verified.
    pub kind: SessionKind,
    /// The known device the login came from; none makes a new one.
    pub device_hash: Option<String>,
    pub attempts: i32,
    /// The passkey check offered with this step (webauthn-rs's state, as JSON),
    /// for an account with passkeys.
    #[sea_orm(column_type = "Text", nullable)]
    pub webauthn_state: Option<String>,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
