use sea_orm::entity::prelude::*;

/// A passkey of an account (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub name: String,
    /// SHA-256 (hex) of the credential id.
    pub credential_hash: String,
    /// The account's WebAuthn user handle (a UUID), as the authenticator keeps it.
    pub user_handle: String,
    /// webauthn-rs's `Passkey`, as JSON: the public key and the signature counter.
    #[sea_orm(column_type = "Text")]
    pub credential: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
