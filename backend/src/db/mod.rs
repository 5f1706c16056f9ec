//! The database: the connection pool (short timeouts, so a dead database yields quick
//! 503s), the migrations, write transactions, the entities, and what its errors mean.

pub mod entity;
pub mod window;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, RuntimeErr, SqlErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

/// Where the data lives and how long to wait for it.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `mysql://...`.
    pub url: String,
    /// Connect and acquire timeout of the pool.
    pub timeout: Duration,
    pub max_connections: u32,
}

impl DatabaseSettings {
    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url_password(&self.url))
            .field("timeout", &self.timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `mysql://app:secret@db/x` -> `mysql://app:***@db/x`.
pub fn redact_url_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<DatabaseConnection> {
    if settings.is_sqlite() {
        create_sqlite_folder(&settings.url)?;
    }
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        .min_connections(0)
        .connect_timeout(settings.timeout)
        .acquire_timeout(settings.timeout)
        // A connection busy a moment ago is handed out as it is; one idle for a second
        // or more is pinged first (a restarted server or a proxy may have dropped it).
        // Pinging on every acquire cost a round trip per statement outside a
        // transaction: on MariaDB, a wakeup of a server thread more on each
        // `/auth/me`, and six per login. (sqlx still pings each connection as it
        // goes back to the pool, off the request's path, and drops it if that fails.)
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        .sqlx_logging(false)
        // Write-ahead logging: readers never wait for a writer (a login's commit does
        // not hold up every `/auth/me`), and FULL sync keeps each acknowledged commit
        // through a power cut.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                // 256 KiB of page cache per connection, not 2 MiB: the kernel's
                // page cache holds the file anyway, and the server's memory stays
                // flat (measured: 10 MiB less at a million accounts, same latency).
                .pragma("cache_size", "-256")
        });
    // A row lock held elsewhere fails the statement after the pool's timeout (then
    // a 503), instead of InnoDB's default 50 s.
    // (One short string per pool, leaked: sqlx wants a `'static` statement here.)
    let lock_wait: &'static str = Box::leak(
        format!(
            "SET SESSION innodb_lock_wait_timeout = {}",
            settings.timeout.as_secs().max(1)
        )
        .into_boxed_str(),
    );
    options.map_sqlx_mysql_pool_opts(move |pool| {
        pool.after_connect(move |conn, _meta| {
            Box::pin(async move {
                use sea_orm::sqlx::Executor as _;
                conn.execute(lock_wait).await?;
                // On a Galera node, every read first waits until the node has applied
                // every write the cluster acknowledged before it (a causality check):
                // a session logged out through another node is never accepted here.
                let wsrep: Option<(String, String)> =
                    sea_orm::sqlx::query_as("SHOW VARIABLES LIKE 'wsrep_on'")
                        .fetch_optional(&mut *conn)
                        .await?;
                if wsrep.is_some_and(|(_, on)| on.eq_ignore_ascii_case("ON")) {
                    conn.execute("SET SESSION wsrep_sync_wait = 1").await?;
                }
                Ok(())
            })
        })
    });
    // Opening a SQLite file sets its journal mode, which answers "database is
    // locked" at once (without waiting on the busy timeout) while another process
    // migrates it: instances started together retry until the timeout.
    let started = std::time::Instant::now();
    loop {
        match Database::connect(options.clone()).await {
            Err(err)
                if settings.is_sqlite()
                    && err.to_string().contains("database is locked")
                    && started.elapsed() < settings.timeout =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            connected => {
                return connected.context("could not connect to the database (DATABASE_URL)");
            }
        }
    }
}

/// Applies pending migrations exactly once however many instances start at once: the
/// first takes a database-wide lock (SQLite's write lock; on MySQL a lease row, which
/// holds across a Galera cluster too), the others wait for it and then find nothing
/// to do.
///
/// With nothing pending no lock is taken, so restarts never wait.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if pending_migrations(db).await? == 0 {
        return Ok(());
    }
    let migrated = match db.get_database_backend() {
        DbBackend::Sqlite => {
            // The whole run is one write transaction: a second process waits on the
            // busy timeout, then sees the migrations applied.
            let txn = begin_write(db).await?;
            let result = Migrator::up(&txn, None).await;
            match result {
                Ok(()) => txn.commit().await,
                Err(e) => Err(e),
            }
        }
        _ => {
            let Some(lease) = MigrationLease::acquire(db).await? else {
                // Another instance ran them while this one waited.
                return Ok(());
            };
            let result = Migrator::up(db, None).await;
            let released = lease.release(db).await;
            result.and(released)
        }
    };
    migrated.context("database migrations failed")
}

/// The MySQL migration lock: one row, inserted by the instance that migrates and
/// deleted when it is done. Its primary key makes the insert succeed for exactly one
/// instance, on one server or across a Galera cluster (where `GET_LOCK` would be
/// node-local: two instances on two nodes both get it). The row carries a lease
/// that the holder renews while it works, so a holder that died is taken over
/// once its lease runs out rather than blocking every start.
struct MigrationLease {
    holder: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl MigrationLease {
    const LEASE_SECONDS: u64 = 60;
    const RENEW_EVERY: Duration = Duration::from_secs(10);
    const POLL_EVERY: Duration = Duration::from_millis(250);

    /// Takes the lock, or waits while another instance holds it. `None`: the other
    /// instance has applied every migration meanwhile.
    async fn acquire(db: &DatabaseConnection) -> Result<Option<Self>, DbErr> {
        // Only when missing: on Galera any DDL, even a `CREATE TABLE IF NOT EXISTS`
        // that finds the table, runs in total order and aborts the holder's
        // transactions. (So waiting below only reads, and so does
        // `pending_migrations`.)
        let exists = db
            .query_one_raw(Statement::from_string(
                DbBackend::MySql,
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = 'migration_lock'",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or_default()
            > 0;
        if !exists {
            db.execute_unprepared(
                "CREATE TABLE IF NOT EXISTS migration_lock (
                    id INT NOT NULL PRIMARY KEY,
                    holder VARCHAR(64) NOT NULL,
                    expires_at DATETIME NOT NULL
                 ) ENGINE = InnoDB",
            )
            .await?;
        }
        let holder = format!("{:032x}", rand::random::<u128>());
        let mut waiting_said = false;
        loop {
            // A lease that ran out belongs to an instance that died mid-way.
            db.execute_unprepared("DELETE FROM migration_lock WHERE id = 1 AND expires_at < NOW()")
                .await?;
            let claim = db
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::MySql,
                    format!(
                        "INSERT INTO migration_lock (id, holder, expires_at) \
                         VALUES (1, ?, NOW() + INTERVAL {} SECOND)",
                        Self::LEASE_SECONDS
                    ),
                    [holder.clone().into()],
                ))
                .await;
            match claim {
                Ok(_) => break,
                // Held by another instance: a duplicate key, or on Galera a
                // certification conflict with a claim made on another node.
                Err(err)
                    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
                        || is_unavailable(&err) => {}
                Err(err) => return Err(err),
            }
            if pending_migrations(db).await? == 0 {
                return Ok(None);
            }
            if !waiting_said {
                tracing::info!("another instance is migrating the database; waiting for it");
                waiting_said = true;
            }
            tokio::time::sleep(Self::POLL_EVERY).await;
        }
        let renewal = {
            let (db, holder) = (db.clone(), holder.clone());
            let renew = format!(
                "UPDATE migration_lock SET expires_at = NOW() + INTERVAL {} SECOND \
                 WHERE id = 1 AND holder = ?",
                Self::LEASE_SECONDS
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Self::RENEW_EVERY).await;
                    let _ = db
                        .execute_raw(Self::holder_statement(&renew, &holder))
                        .await;
                }
            })
        };
        Ok(Some(Self { holder, renewal }))
    }

    async fn release(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        self.renewal.abort();
        db.execute_raw(Self::holder_statement(
            "DELETE FROM migration_lock WHERE id = 1 AND holder = ?",
            &self.holder,
        ))
        .await
        .map(|_| ())
    }

    fn holder_statement(sql: &str, holder: &str) -> Statement {
        Statement::from_sql_and_values(DbBackend::MySql, sql, [holder.to_owned().into()])
    }
}

/// Whether the database would serve real queries: a read of an application table
/// (a Galera node that left the primary component still answers `SELECT 1`, but
/// refuses tables).
pub async fn check_ready(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT id FROM users LIMIT 1")
        .await?;
    Ok(())
}

/// How many migrations have not run yet. Reads only (no `CREATE TABLE` of the
/// migrations table when it is missing), so waiting instances never disturb the one
/// that migrates.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations_read_only(db).await?.len())
}

/// `sqlite://data/users.db?mode=rwc` needs `data/` to exist.
fn create_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).with_context(|| {
            format!("could not create the database folder {}", parent.display())
        })?;
    }
    Ok(())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so it waits its turn under the busy timeout; a deferred
/// transaction that reads first would instead fail at once when another connection
/// wrote meanwhile. MySQL ignores the option (its row locks do this job).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The column of a unique-key violation on `users`. The keys are named after their
/// column (see the migrations), and both SQLite and MySQL name the key or column in
/// the message.
pub fn duplicate_column(err: &DbErr) -> Option<&'static str> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() else {
        return None;
    };
    // MySQL: "Duplicate entry '...' for key 'users_email_key'" (the value may contain
    // any word, so match the key); SQLite: "UNIQUE constraint failed: users.email".
    let message = message.to_lowercase();
    ["username", "email", "mobile"].into_iter().find(|field| {
        message.contains(&format!("'users_{field}_key'"))
            || message.ends_with(&format!("users.{field}"))
    })
}

/// How many times [`retry_conflicts`] runs a transaction in all.
const WRITE_ATTEMPTS: u32 = 4;

/// Errors that may carry a database error, so [`retry_conflicts`] can tell a lost
/// race from a refusal.
pub trait DbFailure {
    fn db_err(&self) -> Option<&DbErr>;
}

impl DbFailure for DbErr {
    fn db_err(&self) -> Option<&DbErr> {
        Some(self)
    }
}

/// Runs a write transaction again when the database rolled the whole of it back for
/// a lost race: a deadlock, or on Galera a certification conflict with a commit made
/// on another node (both are MySQL error 1213). The next attempt, after a short
/// random pause, sees the winner's commit (a taken username is then a plain
/// duplicate). Any other error, and the last attempt's conflict, is returned as it
/// is (a conflict answers 503 with `Retry-After`). `attempt` must do the whole
/// transaction, from its first read to its commit.
pub async fn retry_conflicts<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    E: DbFailure,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(err) if tries < WRITE_ATTEMPTS && err.db_err().is_some_and(is_conflict) => {
                tries += 1;
                let pause = rand::random_range(5..25) * u64::from(tries);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            done => return done,
        }
    }
}

/// A MySQL deadlock or Galera certification conflict: the transaction was rolled
/// back whole, so running it again is safe.
fn is_conflict(err: &DbErr) -> bool {
    use sea_orm::sqlx::mysql::MySqlDatabaseError;
    match err {
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>())
            .is_some_and(|mysql| mysql.number() == 1213),
        _ => false,
    }
}

/// Pool timeouts, refused connections and lost lock races: the database is down or
/// contended, which deserves a quick retry rather than a failure.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            match &**e {
                Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::Io(_) => true,
                Sqlx::Database(db) => is_transient(&**db),
                _ => false,
            }
        }
        _ => false,
    }
}

/// MySQL's error *numbers* (`code()` is the SQLSTATE there, `40001` or `HY000`):
/// 1213 deadlock (also a Galera certification conflict), 1205 lock wait timeout,
/// 1047 a Galera node not ready, 1180 a commit refused off the primary component,
/// 1053 server shutdown. SQLite: busy (5) and locked (6), extended codes included.
fn is_transient(err: &dyn sea_orm::sqlx::error::DatabaseError) -> bool {
    use sea_orm::sqlx::mysql::MySqlDatabaseError;
    if let Some(mysql) = err.try_downcast_ref::<MySqlDatabaseError>() {
        return [1213, 1205, 1047, 1180, 1053].contains(&mysql.number());
    }
    // The primary code is the low byte of an extended one (517 BUSY_SNAPSHOT, 261
    // BUSY_RECOVERY, 773 BUSY_TIMEOUT, 262 LOCKED_SHAREDCACHE).
    let code = err
        .code()
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or_default();
    [5, 6].contains(&(code & 0xff))
}

/// The connection pool as it is now, for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub idle: u64,
    pub in_use: u64,
    pub max: u64,
    /// How long getting a connection took just now (`None`: none came within a
    /// second).
    pub acquire: Option<std::time::Duration>,
}

/// Samples the pool: its counts, and the time to get (and give back) a connection.
pub async fn pool_stats(db: &DatabaseConnection) -> PoolStats {
    async fn sample<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> PoolStats {
        let started = std::time::Instant::now();
        let acquire = tokio::time::timeout(std::time::Duration::from_secs(1), pool.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .map(|connection| {
                drop(connection);
                started.elapsed()
            });
        let size = u64::from(pool.size());
        let idle = pool.num_idle() as u64;
        PoolStats {
            idle,
            in_use: size.saturating_sub(idle),
            max: u64::from(pool.options().get_max_connections()),
            acquire,
        }
    }
    match db.get_database_backend() {
        sea_orm::DbBackend::MySql => sample(db.get_mysql_connection_pool()).await,
        _ => sample(db.get_sqlite_connection_pool()).await,
    }
}
