use sea_orm_migration::prelude::*;

use crate::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Who did what to whom, from where, and how it went. No foreign keys: the trail
/// outlives the accounts it names, so names are copied into the row.
#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    ActorName,
    Action,
    TargetId,
    TargetName,
    Ip,
    UserAgent,
    Outcome,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, AuditEvents::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditEvents::At).date_time().not_null())
                    .col(ColumnDef::new(AuditEvents::ActorId).integer().null())
                    .col(ColumnDef::new(AuditEvents::ActorName).string_len(64).null())
                    .col(
                        ColumnDef::new(AuditEvents::Action)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::TargetId).integer().null())
                    .col(
                        ColumnDef::new(AuditEvents::TargetName)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(AuditEvents::Ip).string_len(45).null())
                    .col(
                        ColumnDef::new(AuditEvents::UserAgent)
                            .string_len(255)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::Outcome)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::Detail).text().null())
                    .to_owned(),
            )
            .await?;
        // The list is newest first, filtered by any of actor or target (by id or by
        // name) or action.
        for (name, column) in [
            ("audit_events_at_idx", None),
            ("audit_events_actor_idx", Some(AuditEvents::ActorId)),
            ("audit_events_actor_name_idx", Some(AuditEvents::ActorName)),
            ("audit_events_target_idx", Some(AuditEvents::TargetId)),
            (
                "audit_events_target_name_idx",
                Some(AuditEvents::TargetName),
            ),
            ("audit_events_action_idx", Some(AuditEvents::Action)),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            if let Some(column) = column {
                index.col(column);
            }
            index.col(AuditEvents::At).col(AuditEvents::Id);
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
