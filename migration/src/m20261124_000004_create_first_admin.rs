use sea_orm_migration::prelude::*;

use crate::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// At most one row, ever: the account that became admin because it was first. Its
/// primary key decides the race between concurrent first signups, and the row stays
/// when that account is later deleted, so no later signup is promoted.
#[derive(DeriveIden)]
enum FirstAdmin {
    Table,
    Id,
    UserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, FirstAdmin::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(FirstAdmin::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FirstAdmin::UserId).integer().not_null())
                    .col(ColumnDef::new(FirstAdmin::CreatedAt).date_time().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FirstAdmin::Table).to_owned())
            .await
    }
}
