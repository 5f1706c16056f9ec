use sea_orm_migration::prelude::*;

use crate::create_table;
use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A browser (or client) that logged in to an account: its failures count on their
/// own, so a stranger's guesses lock the account for unknown clients only.
#[derive(DeriveIden)]
enum TrustedDevices {
    Table,
    TokenHash,
    UserId,
    FailedLogins,
    LockedUntil,
    CreatedAt,
    LastUsedAt,
}

/// One row per recovery code mailed: each keeps its own attempt budget and lives
/// until it expires or is used, so a new request cancels nothing.
#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    RequestHash,
    CodeHash,
    AttemptsLeft,
    ExpiresAt,
    CreatedAt,
}

/// For clients that verify a code without their request's id: one shared budget.
#[derive(DeriveIden)]
enum PasswordRecoveries {
    Table,
    UnboundAttemptsLeft,
}

/// Hourly mail counters per recipient and per account and kind.
#[derive(DeriveIden)]
enum MailBudgets {
    Table,
    Key,
    WindowStartedAt,
    Sent,
}

/// The known device a session was opened from: re-authentication in that session
/// counts on the device's lockout budget, not on the one for unknown clients.
#[derive(DeriveIden)]
enum Sessions {
    Table,
    DeviceHash,
}

/// Repeated failures from one source are one row with a count.
#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Repeats,
    LastAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_devices(manager).await?;
        create_codes(manager).await?;
        manager
            .create_table(
                create_table(manager, MailBudgets::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MailBudgets::Key)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MailBudgets::WindowStartedAt)
                            .date_time()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailBudgets::Sent).integer().not_null())
                    .to_owned(),
            )
            .await?;
        let added = [
            (
                PasswordRecoveries::Table.into_iden(),
                ColumnDef::new(PasswordRecoveries::UnboundAttemptsLeft)
                    .integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
            ),
            (
                AuditEvents::Table.into_iden(),
                ColumnDef::new(AuditEvents::Repeats)
                    .integer()
                    .not_null()
                    .default(1)
                    .to_owned(),
            ),
            (
                AuditEvents::Table.into_iden(),
                ColumnDef::new(AuditEvents::LastAt)
                    .date_time()
                    .null()
                    .to_owned(),
            ),
            (
                Sessions::Table.into_iden(),
                ColumnDef::new(Sessions::DeviceHash)
                    .string_len(64)
                    .null()
                    .to_owned(),
            ),
        ];
        for (table, column) in added {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TrustedDevices::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            MailBudgets::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        let dropped = [
            (
                PasswordRecoveries::Table.into_iden(),
                PasswordRecoveries::UnboundAttemptsLeft.into_iden(),
            ),
            (
                AuditEvents::Table.into_iden(),
                AuditEvents::Repeats.into_iden(),
            ),
            (
                AuditEvents::Table.into_iden(),
                AuditEvents::LastAt.into_iden(),
            ),
            (
                Sessions::Table.into_iden(),
                Sessions::DeviceHash.into_iden(),
            ),
        ];
        for (table, column) in dropped {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn create_devices(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use TrustedDevices as D;
    manager
        .create_table(
            create_table(manager, D::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(D::TokenHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(D::UserId).integer().not_null())
                .col(
                    ColumnDef::new(D::FailedLogins)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(D::LockedUntil).date_time().null())
                .col(ColumnDef::new(D::CreatedAt).date_time().not_null())
                .col(ColumnDef::new(D::LastUsedAt).date_time().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("trusted_devices_user_id_fk")
                        .from(D::Table, D::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    // An account's devices, newest first, for the cap and the admin's view.
    manager
        .create_index(
            Index::create()
                .name("trusted_devices_user_id_idx")
                .table(D::Table)
                .col(D::UserId)
                .col(D::LastUsedAt)
                .to_owned(),
        )
        .await
}

async fn create_codes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use RecoveryCodes as C;
    manager
        .create_table(
            create_table(manager, C::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(C::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(C::UserId).integer().not_null())
                .col(ColumnDef::new(C::RequestHash).string_len(64).not_null())
                .col(ColumnDef::new(C::CodeHash).string_len(64).not_null())
                .col(ColumnDef::new(C::AttemptsLeft).integer().not_null())
                .col(ColumnDef::new(C::ExpiresAt).date_time().not_null())
                .col(ColumnDef::new(C::CreatedAt).date_time().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("recovery_codes_user_id_fk")
                        .from(C::Table, C::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    // The request's code; an account's codes; expired codes, for the purge.
    for (name, column, unique) in [
        ("recovery_codes_request_hash_key", C::RequestHash, true),
        ("recovery_codes_user_id_idx", C::UserId, false),
        ("recovery_codes_expires_at_idx", C::ExpiresAt, false),
    ] {
        let mut index = Index::create();
        index.name(name).table(C::Table).col(column);
        if unique {
            index.unique();
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}
