//! What the database's refusals become: lost lock races on MariaDB (the errors a
//! Galera certification conflict also raises) are "unavailable" (503 with
//! `Retry-After`), never a 500. The errors are real ones, raised by MariaDB here.

use actix_web::ResponseError;
use actix_web::http::StatusCode;
use backend::http::error::ApiError;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, TransactionTrait};

use harness::*;

/// A fresh database with one table of two rows; dropped by the caller.
async fn scratch() -> (String, DatabaseConnection) {
    let name = format!("um_errors_{}", unique());
    let admin = Database::connect(format!("{}/mysql", mysql_url()))
        .await
        .expect("MariaDB is running");
    admin
        .execute_unprepared(&format!("CREATE DATABASE `{name}`"))
        .await
        .unwrap();
    let url = format!("{}/{name}", mysql_url());
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared(
        "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB;
         INSERT INTO t VALUES (1, 0), (2, 0)",
    )
    .await
    .unwrap();
    (name, db)
}

async fn drop_database(name: &str) {
    let admin = Database::connect(format!("{}/mysql", mysql_url()))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{name}`"))
        .await
        .unwrap();
}

fn assert_unavailable(err: &DbErr, what: &str) {
    assert!(backend::db::is_unavailable(err), "{what}: {err}");
    let api = ApiError::from(err.clone());
    assert_eq!(api.status_code(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let response = api.error_response();
    assert!(
        response.headers().contains_key("retry-after"),
        "{what}: Retry-After"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_wait_timeout_is_unavailable_not_an_internal_error() {
    let (name, db) = scratch().await;
    let holder = db.begin().await.unwrap();
    holder
        .execute_unprepared("SELECT n FROM t WHERE id = 1 FOR UPDATE")
        .await
        .unwrap();
    let waiter = db.begin().await.unwrap();
    waiter
        .execute_unprepared("SET SESSION innodb_lock_wait_timeout = 1")
        .await
        .unwrap();
    let err = waiter
        .execute_unprepared("UPDATE t SET n = n + 1 WHERE id = 1")
        .await
        .expect_err("the row is locked");
    assert_unavailable(&err, "lock wait timeout (1205)");
    drop(waiter);
    holder.rollback().await.unwrap();
    drop_database(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_unavailable_not_an_internal_error() {
    let (name, db) = scratch().await;
    let first = db.begin().await.unwrap();
    let second = db.begin().await.unwrap();
    first
        .execute_unprepared("UPDATE t SET n = 1 WHERE id = 1")
        .await
        .unwrap();
    second
        .execute_unprepared("UPDATE t SET n = 2 WHERE id = 2")
        .await
        .unwrap();
    // Each now wants the other's row: InnoDB kills one of them with 1213.
    let (a, b) = tokio::join!(
        first.execute_unprepared("UPDATE t SET n = 1 WHERE id = 2"),
        second.execute_unprepared("UPDATE t SET n = 2 WHERE id = 1"),
    );
    let err = match (a, b) {
        (Err(err), Ok(_)) | (Ok(_), Err(err)) => err,
        other => panic!("exactly one side loses: {other:?}"),
    };
    assert_unavailable(&err, "deadlock (1213)");
    drop((first, second));
    drop_database(&name).await;
}

/// `retry_conflicts` runs a transaction again when it lost a real deadlock, and the
/// second attempt, after the winner committed, goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_that_loses_a_deadlock_runs_again() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};
    let (name, db) = scratch().await;
    db.execute_unprepared("CREATE TABLE heavy (id INT PRIMARY KEY) ENGINE=InnoDB")
        .await
        .unwrap();
    let attempts = AtomicU32::new(0);
    let winner = Mutex::new(None);
    let (db_ref, attempts_ref, winner_ref) = (&db, &attempts, &winner);
    let result = backend::db::retry_conflicts(move || async move {
        let attempt = attempts_ref.fetch_add(1, Ordering::SeqCst) + 1;
        let txn = db_ref.begin().await?;
        txn.execute_unprepared("UPDATE t SET n = n + 1 WHERE id = 1")
            .await?;
        if attempt == 1 {
            // A heavier transaction (InnoDB rolls back the lighter one) holds row 2
            // and waits for row 1.
            let other = db_ref.begin().await?;
            other
                .execute_unprepared(
                    "INSERT INTO heavy WITH RECURSIVE n(i) AS \
                     (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) SELECT i FROM n",
                )
                .await?;
            other
                .execute_unprepared("UPDATE t SET n = n + 10 WHERE id = 2")
                .await?;
            *winner_ref.lock().unwrap() = Some(tokio::spawn(async move {
                other
                    .execute_unprepared("UPDATE t SET n = n + 10 WHERE id = 1")
                    .await?;
                other.commit().await
            }));
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        txn.execute_unprepared("UPDATE t SET n = n + 1 WHERE id = 2")
            .await?;
        txn.commit().await
    })
    .await;
    result.expect("the second attempt goes through");
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "one run again");
    let handle = winner.lock().unwrap().take().unwrap();
    handle.await.unwrap().expect("the winner commits");
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::MySql,
            "SELECT n FROM t ORDER BY id",
        ))
        .await
        .unwrap();
    let values: Vec<i32> = rows.iter().map(|r| r.try_get("", "n").unwrap()).collect();
    assert_eq!(values, [11, 11], "both transactions applied once each");
    drop(db);
    drop_database(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_locked_elsewhere_gives_a_fast_503_not_a_hang() {
    let app = TestApp::spawn(Backend::Mysql).await;
    let client = app.client();
    let ada = client.signup_ok(&account("ada")).await;
    client.login_ok("ada", PASSWORD).await;
    let outside = Database::connect(app.database_url()).await.unwrap();
    let holder = outside.begin().await.unwrap();
    holder
        .execute_unprepared(&format!(
            "SELECT id FROM users WHERE id = {} FOR UPDATE",
            ada.id
        ))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let res = client
        .update_me(&serde_json::json!({"first_name": "Augusta"}))
        .await;
    let took = started.elapsed();
    assert_eq!(res.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));
    assert!(took < std::time::Duration::from_secs(4), "took {took:?}");
    holder.rollback().await.unwrap();
    // Once the lock is gone the same change goes through.
    let res = client
        .update_me(&serde_json::json!({"first_name": "Augusta"}))
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_database_logs_ahead_so_readers_never_wait() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.client().signup_ok(&account("ada")).await;
    let db = Database::connect(app.database_url()).await.unwrap();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await
        .unwrap()
        .unwrap();
    let mode: String = row.try_get_by_index(0).unwrap();
    assert_eq!(mode, "wal");
}

/// Three instances started at once on a fresh database: one migrates, the others
/// wait for its lock, and all serve the same accounts.
async fn instances_started_together_migrate_once(backend: Backend) {
    let apps = TestApp::spawn_together(backend, 3, |_| {}).await;
    let first = apps[0].client();
    first.signup_ok(&account("ada")).await;
    for app in &apps {
        app.client().login_ok("ada", PASSWORD).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_together_migrate_once_on_mysql() {
    instances_started_together_migrate_once(Backend::Mysql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_together_migrate_once_on_sqlite() {
    instances_started_together_migrate_once(Backend::Sqlite).await;
}

/// `/ready` reads an application table: a database that still answers `SELECT 1`
/// but not the app's queries (a Galera node out of the primary component) is not ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_fails_when_the_tables_cannot_be_read() {
    let app = TestApp::spawn(Backend::Mysql).await;
    let client = app.client();
    assert_eq!(client.get("/ready").await.status(), 200);
    let outside = Database::connect(app.database_url()).await.unwrap();
    outside
        .execute_unprepared("RENAME TABLE users TO users_away")
        .await
        .unwrap();
    let res = client.get("/ready").await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        client.get("/health").await.status(),
        200,
        "alive all the same"
    );
    outside
        .execute_unprepared("RENAME TABLE users_away TO users")
        .await
        .unwrap();
    assert_eq!(client.get("/ready").await.status(), 200);
}

/// The database host goes away for 10 s while an admin keeps creating accounts: every
/// answer meanwhile is a quick 503, the process stays up, the first request after the
/// database is back succeeds within 2 s, and every account that got a 201 is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_quick_503s_and_loses_no_acknowledged_write() {
    use std::time::{Duration, Instant};
    let (relay, app) = TestApp::behind_relay().await;
    let (admin, _) = app.admin().await;

    let mut created = Vec::new();
    let mut create = async |i: usize| {
        let name = format!("outage{i:03}");
        let started = Instant::now();
        let status = admin.create_user(&account(&name)).await.status();
        if status == reqwest::StatusCode::CREATED {
            created.push(name);
        }
        (status, started.elapsed())
    };
    for i in 0..5 {
        assert_eq!(create(i).await.0, reqwest::StatusCode::CREATED);
    }
    relay.cut();
    let cut_at = Instant::now();
    let mut i = 5;
    while cut_at.elapsed() < Duration::from_secs(10) {
        let (status, took) = create(i).await;
        assert_eq!(
            status,
            reqwest::StatusCode::SERVICE_UNAVAILABLE,
            "request {i}"
        );
        assert!(took <= Duration::from_secs(2), "request {i} took {took:?}");
        i += 1;
    }
    relay.restore();
    let back_at = Instant::now();
    loop {
        let (status, _) = create(i).await;
        i += 1;
        if status == reqwest::StatusCode::CREATED {
            break;
        }
        assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(back_at.elapsed() < Duration::from_secs(2), "still failing");
    }
    assert!(
        back_at.elapsed() <= Duration::from_secs(2),
        "{:?}",
        back_at.elapsed()
    );
    assert_eq!(
        admin.get("/health").await.status(),
        200,
        "the process stayed up"
    );

    // Read past the relay: every acknowledged account is in the table.
    let direct = format!(
        "{}/{}",
        mysql_url(),
        app.database_url().rsplit('/').next().unwrap()
    );
    let db = Database::connect(direct).await.unwrap();
    for name in &created {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::MySql,
                format!("SELECT id FROM users WHERE username = '{name}'"),
            ))
            .await
            .unwrap();
        assert!(row.is_some(), "{name} was acknowledged and is gone");
    }
    assert_eq!(created.len(), 6, "5 before the outage, 1 after");
}
