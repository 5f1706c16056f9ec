use sea_orm_migration::prelude::*;

use crate::create_table;
use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What an account's second factors are, kept on the account so that every user
/// object (lists included) shows them without another query: when TOTP was turned
/// on, how many passkeys, how many recovery codes are left.
#[derive(DeriveIden)]
#[expect(clippy::enum_variant_names, reason = "the columns are named mfa_*")]
enum SecondFactors {
    MfaTotpAt,
    MfaPasskeys,
    MfaRecoveryLeft,
}

/// One authenticator-app secret per account, sealed (ChaCha20-Poly1305 under a key
/// derived from `JWT_SECRET`). `confirmed_at` is null until a first code proved the
/// app has it; `last_step` is the 30 s step of the last accepted code, so a code is
/// accepted once.
#[derive(DeriveIden)]
enum MfaTotp {
    Table,
    UserId,
    Secret,
    ConfirmedAt,
    LastStep,
    CreatedAt,
}

/// Single-use recovery codes: only their SHA-256 (they are random).
#[derive(DeriveIden)]
enum MfaRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

/// A login whose password was right, waiting for its second factor: the SHA-256 of
/// the `mfa_token`, the session kind it will open, the known device it came from,
/// and the attempts spent.
#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    TokenHash,
    UserId,
    Kind,
    DeviceHash,
    Attempts,
    ExpiresAt,
}

/// `table.user_id` goes with its account.
fn owned_by_user(
    name: &str,
    table: impl IntoIden,
    column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            ColumnDef::new(SecondFactors::MfaTotpAt)
                .date_time()
                .null()
                .to_owned(),
            ColumnDef::new(SecondFactors::MfaPasskeys)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(SecondFactors::MfaRecoveryLeft)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        use MfaTotp as T;
        manager
            .create_table(
                create_table(manager, T::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(T::UserId).integer().not_null().primary_key())
                    .col(ColumnDef::new(T::Secret).string_len(255).not_null())
                    .col(ColumnDef::new(T::ConfirmedAt).date_time().null())
                    .col(ColumnDef::new(T::LastStep).big_integer().null())
                    .col(ColumnDef::new(T::CreatedAt).date_time().not_null())
                    .foreign_key(&mut owned_by_user(
                        "mfa_totp_user_id_fk",
                        T::Table,
                        T::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        use MfaRecoveryCodes as R;
        manager
            .create_table(
                create_table(manager, R::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(R::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(R::UserId).integer().not_null())
                    .col(ColumnDef::new(R::CodeHash).string_len(64).not_null())
                    .col(ColumnDef::new(R::UsedAt).date_time().null())
                    .foreign_key(&mut owned_by_user(
                        "mfa_recovery_codes_user_id_fk",
                        R::Table,
                        R::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("mfa_recovery_codes_user_code_key")
                    .table(R::Table)
                    .col(R::UserId)
                    .col(R::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        use MfaChallenges as C;
        manager
            .create_table(
                create_table(manager, C::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(C::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(C::UserId).integer().not_null())
                    .col(ColumnDef::new(C::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(C::DeviceHash).string_len(64).null())
                    .col(ColumnDef::new(C::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(C::ExpiresAt).date_time().not_null())
                    .foreign_key(&mut owned_by_user(
                        "mfa_challenges_user_id_fk",
                        C::Table,
                        C::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        // The purge of expired challenges, and the foreign key's lookups.
        for (name, column) in [
            ("mfa_challenges_expires_at_idx", C::ExpiresAt),
            ("mfa_challenges_user_id_idx", C::UserId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(C::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MfaChallenges::Table.into_iden(),
            MfaRecoveryCodes::Table.into_iden(),
            MfaTotp::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        for column in [
            SecondFactors::MfaRecoveryLeft,
            SecondFactors::MfaPasskeys,
            SecondFactors::MfaTotpAt,
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
        Ok(())
    }
}
