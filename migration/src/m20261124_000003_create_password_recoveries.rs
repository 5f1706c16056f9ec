use sea_orm_migration::prelude::*;

use crate::create_table;
use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per account that has asked for a recovery code: the current code (as a
/// keyed hash), the step reached, the token for the next step (as a hash), the shared
/// attempt budget, and the hourly mail counter. Every transition is one conditional
/// UPDATE, so concurrent requests cannot skip a step, reuse a token or overspend.
#[derive(DeriveIden)]
enum PasswordRecoveries {
    Table,
    UserId,
    Step,
    CodeHash,
    CodeExpiresAt,
    AttemptsLeft,
    TokenHash,
    TokenExpiresAt,
    WindowStartedAt,
    MailsInWindow,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PasswordRecoveries as P;
        manager
            .create_table(
                create_table(manager, P::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(P::UserId).integer().not_null().primary_key())
                    .col(ColumnDef::new(P::Step).string_len(16).not_null())
                    .col(ColumnDef::new(P::CodeHash).string_len(64).null())
                    .col(ColumnDef::new(P::CodeExpiresAt).date_time().null())
                    .col(
                        ColumnDef::new(P::AttemptsLeft)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(P::TokenHash).string_len(64).null())
                    .col(ColumnDef::new(P::TokenExpiresAt).date_time().null())
                    .col(ColumnDef::new(P::WindowStartedAt).date_time().not_null())
                    .col(
                        ColumnDef::new(P::MailsInWindow)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(P::UpdatedAt).date_time().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("password_recoveries_user_id_fk")
                            .from(P::Table, P::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("password_recoveries_token_hash_key")
                    .table(P::Table)
                    .col(P::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PasswordRecoveries::Table).to_owned())
            .await
    }
}
