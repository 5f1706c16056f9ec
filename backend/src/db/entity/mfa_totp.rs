use sea_orm::entity::prelude::*;

/// An account's authenticator-app secret (see the migration). `Debug` leaves the
/// secret out.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    /// The sealed base32 secret.
    pub secret: String,
    /// Null until a first code confirmed it: TOTP is on from then.
    pub confirmed_at: Option<DateTimeUtc>,
    /// The 30 s step of the last code accepted; a code of that step or earlier is a
    /// replay.
    pub last_step: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("mfa_totp::Model")
            .field("user_id", &self.user_id)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
