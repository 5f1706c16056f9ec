use sea_orm_migration::prelude::*;

use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Per-account lockout counters and disabling.
#[derive(DeriveIden)]
enum Controls {
    FailedLogins,
    LockedUntil,
    DisabledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            ColumnDef::new(Controls::FailedLogins)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Controls::LockedUntil)
                .date_time()
                .null()
                .to_owned(),
            ColumnDef::new(Controls::DisabledAt)
                .date_time()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The old app allowed 50-character usernames; imported ones keep working.
        // Today's rule (3-32 characters) applies when a username is chosen. SQLite
        // does not enforce VARCHAR lengths.
        if manager.get_database_backend() == sea_orm::DbBackend::MySql {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE users MODIFY username VARCHAR(50) COLLATE utf8mb4_bin NOT NULL",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Controls::FailedLogins,
            Controls::LockedUntil,
            Controls::DisabledAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == sea_orm::DbBackend::MySql {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE users MODIFY username VARCHAR(32) COLLATE utf8mb4_bin NOT NULL",
                )
                .await?;
        }
        Ok(())
    }
}
