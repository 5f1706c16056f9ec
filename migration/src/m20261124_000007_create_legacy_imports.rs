use sea_orm_migration::prelude::*;

use crate::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The old app's rows that `import-legacy` has brought across, by their old id. It
/// makes a re-run skip them, even when an admin has since deleted or renamed the
/// account (no foreign key, on purpose).
#[derive(DeriveIden)]
enum LegacyImports {
    Table,
    LegacyId,
    Username,
    ImportedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, LegacyImports::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LegacyImports::LegacyId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LegacyImports::Username)
                            .string_len(50)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LegacyImports::ImportedAt)
                            .date_time()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LegacyImports::Table).to_owned())
            .await
    }
}
