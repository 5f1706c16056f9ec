use sea_orm_migration::prelude::*;

use crate::m20261124_000001_create_users::Users;
use crate::{Compare, create_table, text_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Whether an account's address is proved, and the new one waiting for its code.
#[derive(DeriveIden)]
enum Verification {
    EmailVerifiedAt,
    PendingEmail,
}

/// One row per account with a code out: the address it was mailed to (the pending
/// one, or the unverified current one), the code as a keyed hash, the attempt budget
/// and the hourly mail counter.
#[derive(DeriveIden)]
enum EmailVerifications {
    Table,
    UserId,
    Email,
    CodeHash,
    ExpiresAt,
    AttemptsLeft,
    WindowStartedAt,
    MailsInWindow,
    UpdatedAt,
}

/// An address an admin invited to sign up, until the invitation is used or expires.
#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    Email,
    CodeHash,
    AttemptsLeft,
    InvitedBy,
    InvitedByName,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut pending = ColumnDef::new(Verification::PendingEmail);
        pending.string_len(254).null();
        text_column(manager, &mut pending, Compare::Normalised);
        for column in [
            ColumnDef::new(Verification::EmailVerifiedAt)
                .date_time()
                .null()
                .to_owned(),
            pending,
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
        // Accounts from before verification existed keep receiving their mail.
        manager
            .get_connection()
            .execute_unprepared("UPDATE users SET email_verified_at = created_at")
            .await?;
        create_verifications(manager).await?;
        create_invitations(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EmailVerifications::Table.into_iden(),
            Invitations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [Verification::EmailVerifiedAt, Verification::PendingEmail] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

async fn create_verifications(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use EmailVerifications as V;
    let mut email = ColumnDef::new(V::Email);
    email.string_len(254).not_null();
    text_column(manager, &mut email, Compare::Normalised);
    manager
        .create_table(
            create_table(manager, V::Table)
                .if_not_exists()
                .col(ColumnDef::new(V::UserId).integer().not_null().primary_key())
                .col(email)
                .col(ColumnDef::new(V::CodeHash).string_len(64).not_null())
                .col(ColumnDef::new(V::ExpiresAt).date_time().not_null())
                .col(ColumnDef::new(V::AttemptsLeft).integer().not_null())
                .col(ColumnDef::new(V::WindowStartedAt).date_time().not_null())
                .col(ColumnDef::new(V::MailsInWindow).integer().not_null())
                .col(ColumnDef::new(V::UpdatedAt).date_time().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("email_verifications_user_id_fk")
                        .from(V::Table, V::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
}

async fn create_invitations(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Invitations as I;
    let mut email = ColumnDef::new(I::Email);
    email.string_len(254).not_null();
    text_column(manager, &mut email, Compare::Normalised);
    manager
        .create_table(
            create_table(manager, I::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(I::Id)
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(email)
                .col(ColumnDef::new(I::CodeHash).string_len(64).not_null())
                .col(ColumnDef::new(I::AttemptsLeft).integer().not_null())
                // No foreign key: the invitation outlives a deleted admin.
                .col(ColumnDef::new(I::InvitedBy).integer().null())
                .col(ColumnDef::new(I::InvitedByName).string_len(64).null())
                .col(ColumnDef::new(I::CreatedAt).date_time().not_null())
                .col(ColumnDef::new(I::ExpiresAt).date_time().not_null())
                .to_owned(),
        )
        .await?;
    // One live invitation per address: inviting again replaces the code.
    manager
        .create_index(
            Index::create()
                .name("invitations_email_key")
                .table(I::Table)
                .col(I::Email)
                .unique()
                .to_owned(),
        )
        .await
}
