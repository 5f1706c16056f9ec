use sea_orm::entity::prelude::*;

/// An account's picture at both sizes (see the migration).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "avatars")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    /// The content hash the pictures are served under (also `users.avatar_version`).
    pub version: String,
    pub content_type: String,
    /// 64 px square.
    pub small: Vec<u8>,
    /// 256 px square.
    pub large: Vec<u8>,
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

/// Written by hand so that a log line never carries the pictures' bytes.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Avatar")
            .field("user_id", &self.user_id)
            .field("version", &self.version)
            .field("small", &self.small.len())
            .field("large", &self.large.len())
            .finish_non_exhaustive()
    }
}
