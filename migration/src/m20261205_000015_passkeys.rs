use sea_orm_migration::prelude::*;

use crate::create_table;
use crate::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An account's passkeys (WebAuthn credentials). `credential_hash` is the SHA-256
/// of the credential id (ids may be 1 KiB: too long for a unique index on MySQL);
/// `user_handle` is the random id the authenticator keeps for the account;
/// `credential` is webauthn-rs's record of the key (public key, counter), as JSON.
#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    Name,
    CredentialHash,
    UserHandle,
    Credential,
    CreatedAt,
    LastUsedAt,
}

/// A registration or passkey login between its start and its finish: the SHA-256
/// of the challenge the browser signs (so the finish finds its start from the
/// credential alone), the account (registrations), the name asked for, and the
/// ceremony's state (webauthn-rs's, as JSON). Single-use, for 5 minutes.
#[derive(DeriveIden)]
enum PasskeyCeremonies {
    Table,
    ChallengeHash,
    Purpose,
    UserId,
    Name,
    State,
    ExpiresAt,
}

/// A second login step offered to an account with passkeys carries the state of
/// the passkey check it asked the browser for.
#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    WebauthnState,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Passkeys as P;
        manager
            .create_table(
                create_table(manager, P::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(P::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(P::UserId).integer().not_null())
                    .col(ColumnDef::new(P::Name).string_len(64).not_null())
                    .col(ColumnDef::new(P::CredentialHash).string_len(64).not_null())
                    .col(ColumnDef::new(P::UserHandle).string_len(36).not_null())
                    .col(ColumnDef::new(P::Credential).text().not_null())
                    .col(ColumnDef::new(P::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(P::LastUsedAt).date_time().null())
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("passkeys_user_id_fk")
                            .from(P::Table, P::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        // A credential belongs to one account; an account's list is by user_id.
        for (name, column, unique) in [
            ("passkeys_credential_hash_key", P::CredentialHash, true),
            ("passkeys_user_id_idx", P::UserId, false),
        ] {
            let mut index = Index::create();
            index.if_not_exists().name(name).table(P::Table).col(column);
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        use PasskeyCeremonies as C;
        manager
            .create_table(
                create_table(manager, C::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(C::ChallengeHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(C::Purpose).string_len(16).not_null())
                    .col(ColumnDef::new(C::UserId).integer().null())
                    .col(ColumnDef::new(C::Name).string_len(64).null())
                    .col(ColumnDef::new(C::State).text().not_null())
                    .col(ColumnDef::new(C::ExpiresAt).date_time().not_null())
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("passkey_ceremonies_user_id_fk")
                            .from(C::Table, C::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("passkey_ceremonies_expires_at_idx", C::ExpiresAt),
            ("passkey_ceremonies_user_id_idx", C::UserId),
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
        manager
            .alter_table(
                Table::alter()
                    .table(MfaChallenges::Table)
                    .add_column(ColumnDef::new(MfaChallenges::WebauthnState).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MfaChallenges::Table)
                    .drop_column(MfaChallenges::WebauthnState)
                    .to_owned(),
            )
            .await?;
        for table in [
            PasskeyCeremonies::Table.into_iden(),
            Passkeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
