use sea_orm::entity::prelude::*;

/// A passkey registration or login between its start and its finish (see the
/// migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_ceremonies")]
pub struct Model {
    /// SHA-256 (hex) of the challenge, as the browser's client data spells it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub challenge_hash: String,
    pub purpose: Purpose,
    /// The account registering (none for a login: the passkey names it).
    pub user_id: Option<i32>,
    /// The name the new passkey gets.
    pub name: Option<String>,
    /// webauthn-rs's ceremony state, as JSON.
    #[sea_orm(column_type = "Text")]
    pub state: String,
    pub expires_at: DateTimeUtc,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Purpose {
    #[sea_orm(string_value = "register")]
    Register,
    #[sea_orm(string_value = "login")]
    Login,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
