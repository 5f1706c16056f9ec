use sea_orm::entity::prelude::*;

/// One row of the old app that `import-legacy` has brought across.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legacy_imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub legacy_id: i32,
    /// The username it was imported under.
    pub username: String,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
