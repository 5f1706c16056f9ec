//! Schema migrations. Each file is one change with its `up` and `down`; the schema is
//! written so that SQLite and MySQL/MariaDB behave the same (notably: text compares
//! case-insensitively on both, so `Ada@Example.com` and `ada@example.com` collide).

// A migration's `up` is one schema definition, clearest read top to bottom.
#![allow(clippy::too_many_lines)]

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_users;
mod m20261124_000002_create_sessions;
mod m20261124_000003_create_password_recoveries;
mod m20261124_000004_create_first_admin;
mod m20261124_000005_add_account_controls;
mod m20261124_000006_create_audit_events;
mod m20261124_000007_create_legacy_imports;
mod m20261201_000008_verify_emails;
mod m20261201_000009_abuse_resistance;
mod m20261202_000010_list_at_scale;
mod m20261202_000011_avatars;
mod m20261203_000012_integrations;
mod m20261203_000013_webhooks;
mod m20261204_000014_mfa;
mod m20261205_000015_passkeys;

pub use m20261202_000010_list_at_scale::rebuild_search_terms;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_users::Migration),
            Box::new(m20261124_000002_create_sessions::Migration),
            Box::new(m20261124_000003_create_password_recoveries::Migration),
            Box::new(m20261124_000004_create_first_admin::Migration),
            Box::new(m20261124_000005_add_account_controls::Migration),
            Box::new(m20261124_000006_create_audit_events::Migration),
            Box::new(m20261124_000007_create_legacy_imports::Migration),
            Box::new(m20261201_000008_verify_emails::Migration),
            Box::new(m20261201_000009_abuse_resistance::Migration),
            Box::new(m20261202_000010_list_at_scale::Migration),
            Box::new(m20261202_000011_avatars::Migration),
            Box::new(m20261203_000012_integrations::Migration),
            Box::new(m20261203_000013_webhooks::Migration),
            Box::new(m20261204_000014_mfa::Migration),
            Box::new(m20261205_000015_passkeys::Migration),
        ]
    }
}

/// How a text column compares.
#[derive(Clone, Copy)]
pub(crate) enum Compare {
    /// Case-insensitive (names): `NOCASE` on SQLite, the table's `utf8mb4_unicode_ci`
    /// on MySQL.
    Folded,
    /// Exactly, for values the application normalises before storing (lower-cased
    /// usernames and emails, digits-only mobiles): uniqueness then means the same on
    /// both databases, where MySQL's unicode collation would also equate accents.
    /// SQLite keeps `NOCASE` so prefix `LIKE` can use the index; on lower-case data it
    /// compares exactly.
    Normalised,
}

pub(crate) fn text_column(manager: &SchemaManager, column: &mut ColumnDef, compare: Compare) {
    match (manager.get_database_backend(), compare) {
        (sea_orm::DbBackend::Sqlite, _) => {
            column.extra("COLLATE NOCASE");
        }
        (sea_orm::DbBackend::MySql, Compare::Normalised) => {
            column.extra("COLLATE utf8mb4_bin");
        }
        _ => {}
    }
}

/// A `CREATE TABLE` with InnoDB, utf8mb4 and a case-insensitive collation on MySQL.
pub(crate) fn create_table(manager: &SchemaManager, table: impl IntoIden) -> TableCreateStatement {
    let mut stmt = Table::create();
    stmt.table(table);
    if manager.get_database_backend() == sea_orm::DbBackend::MySql {
        stmt.engine("InnoDB")
            .character_set("utf8mb4")
            .collate("utf8mb4_unicode_ci");
    }
    stmt
}
