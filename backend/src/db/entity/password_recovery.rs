use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_recoveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    pub step: Step,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<DateTimeUtc>,
    pub attempts_left: i32,
    pub token_hash: Option<String>,
    pub token_expires_at: Option<DateTimeUtc>,
    pub window_started_at: DateTimeUtc,
    pub mails_in_window: i32,
    pub updated_at: DateTimeUtc,
    /// Guesses left for clients that verify without their request's id.
    pub unbound_attempts_left: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Where a recovery flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Step {
    /// A code was mailed.
    #[sea_orm(string_value = "code")]
    Code,
    /// The code was verified; the security question comes next.
    #[sea_orm(string_value = "question")]
    Question,
    /// The answer was verified; a new password may be set.
    #[sea_orm(string_value = "reset")]
    Reset,
    /// Nothing in progress.
    #[sea_orm(string_value = "done")]
    Done,
}
