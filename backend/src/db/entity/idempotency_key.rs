use sea_orm::entity::prelude::*;

/// The first answer to an `Idempotency-Key` (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Who sent it: `user:<id>` or `key:<id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal: String,
    /// Which operation (`create_user`, `create_api_key`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub route: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 of the request body.
    pub request_hash: String,
    /// The answer's status; none while the first request runs.
    pub status: Option<i16>,
    /// The answer's JSON body.
    pub response: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
