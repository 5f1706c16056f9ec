use sea_orm::entity::prelude::*;
use shared::{AuditAction, Outcome};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_id: Option<i32>,
    /// The actor's username when the event happened (or the login name tried).
    pub actor_name: Option<String>,
    pub action: AuditAction,
    pub target_id: Option<i32>,
    pub target_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    /// A small JSON object: changed field names, reasons; never secret values.
    pub detail: Option<String>,
    /// How many times this failure happened from this source in a row (it is one
    /// row, not one per attempt).
    pub repeats: i32,
    /// When the last of those happened.
    pub last_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
