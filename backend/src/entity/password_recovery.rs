use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_recoveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    /// `code` (a code was mailed), `question` (code verified), `reset` (answer
    /// verified), `done`.
    pub step: String,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<DateTimeUtc>,
    pub attempts_left: i32,
    pub token_hash: Option<String>,
    pub token_expires_at: Option<DateTimeUtc>,
    pub window_started_at: DateTimeUtc,
    pub mails_in_window: i32,
    pub updated_at: DateTimeUtc,
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
