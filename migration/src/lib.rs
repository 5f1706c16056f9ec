//! Schema migrations. Each file is one change with its `up` and `down`; the schema is
//! written so that SQLite and MySQL/MariaDB behave the same (notably: text compares
//! case-insensitively on both, so `Ada@Example.com` and `ada@example.com` collide).

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_users;
mod m20261124_000002_create_sessions;
mod m20261124_000003_create_password_recoveries;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_users::Migration),
            Box::new(m20261124_000002_create_sessions::Migration),
            Box::new(m20261124_000003_create_password_recoveries::Migration),
        ]
    }
}

/// Case-insensitive text on every backend: SQLite needs it per column, MySQL gets it
/// from the table's collation (see [`create_table`]).
pub(crate) fn ci_text(manager: &SchemaManager, column: &mut ColumnDef) {
    if manager.get_database_backend() == sea_orm::DbBackend::Sqlite {
        column.extra("COLLATE NOCASE");
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
