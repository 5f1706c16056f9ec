//! The black-box test harness shared by the API and browser suites: the real
//! application in-process on port 0 with a fresh database ([`TestApp`]), HTTP clients
//! with one helper per endpoint ([`Client`]), a real SMTP server ([`MailSink`]), a
//! webhook receiver ([`WebhookReceiver`]), and a real Galera cluster with HAProxy
//! ([`galera`]).

mod app;
mod authenticator;
mod client;
pub mod galera;
mod mail_sink;
mod relay;
mod soft_passkey;
mod webhook_receiver;

use std::time::Duration;

use reqwest::Response;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::{AuditPage, SignupRequest};

pub use crate::app::{Backend, TestApp, TestAppBuilder, mysql_url};
pub use crate::authenticator::{Authenticator, fresh_step};
pub use crate::client::Client;
pub use crate::mail_sink::{MailSink, ReceivedMail};
pub use crate::relay::Relay;
pub use crate::soft_passkey::SoftPasskey;
pub use crate::webhook_receiver::{Received, WebhookReceiver};

/// Runs one test body against one backend. Each `db_test!` expands to two tests,
/// `<name>::sqlite` and `<name>::mysql`.
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* $name:ident, $body:expr) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                ($body)($crate::Backend::Mysql).await
            }
        }
    };
}

/// Subjects of the mails tests read, so counts are per kind of mail.
pub mod subjects {
    pub const RECOVERY_CODE: &str = "password recovery code";
    pub const EMAIL_CODE: &str = "Confirm your";
    pub const PASSWORD_CHANGED: &str = "password was changed";
    pub const EMAIL_CHANGE_REQUESTED: &str = "A new email address was requested";
    pub const ADDRESS_IN_USE: &str = "Your address was used";
    pub const INVITATION: &str = "You are invited";
}

/// A strong password the policy accepts for any of the generated accounts.
pub const PASSWORD: &str = "violet harbor quantum 4217";
/// The security answer of every generated account.
pub const ANSWER: &str = "Rex the dog";

pub fn unique() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A valid signup for `username`, unique email and mobile included.
pub fn account(username: &str) -> SignupRequest {
    let digits = u64::from_str_radix(&unique()[..12], 16).unwrap() % 10_000_000;
    SignupRequest {
        first_name: format!("First{}", username.replace(['.', '_', '-'], "")),
        last_name: "Tester".to_owned(),
        username: username.to_owned(),
        email: format!("{username}@example.com"),
        mobile: format!("+1555{digits:07}"),
        password: PASSWORD.to_owned(),
        security_question: "Name of your first pet?".to_owned(),
        security_answer: ANSWER.to_owned(),
        ..SignupRequest::default()
    }
}

/// The session cookie's raw `Set-Cookie` header, if the response set one.
pub fn session_set_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .map(str::to_owned)
}

/// `name=value` of a `Set-Cookie` header, ready to send back as `Cookie`.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// Status plus the parsed JSON error envelope; panics if the body is not one.
pub async fn error_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let content_type = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = res.text().await.unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{status}: error body is not JSON ({content_type}): {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no error envelope: {text}"));
    assert!(
        error["code"].is_string() && error["message"].is_string(),
        "{text}"
    );
    (status, error.clone())
}

pub async fn json<T: DeserializeOwned>(res: Response) -> T {
    let status = res.status();
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text}: {e}"))
}

/// The audit events matching `query` (e.g. `action=login&target=3`).
pub async fn audit_events(admin: &Client, query: &str) -> Vec<Value> {
    let res = admin
        .get(&format!("/api/v1/audit?per_page=100&{query}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "audit {query}");
    let page: AuditPage = res.json().await.unwrap();
    page.items
        .into_iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

/// Polls `query` until it returns something (work done after a response, such as
/// the recovery lookup, lands a little later).
pub async fn eventually<F, Fut>(query: F) -> Vec<Value>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<Value>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = query().await;
        if !found.is_empty() {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "nothing appeared");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Runs `insert` (an `INSERT ... WITH RECURSIVE` bulk seed) on `app`'s database in one
/// transaction, written behind the application's back because the API would take
/// minutes, and returns a connection to it. On MariaDB it lifts the recursion limit
/// (1,000 by default) and refreshes `table`'s statistics, as a table that grew over
/// time has them (InnoDB does it in the background some time after a bulk load).
pub async fn bulk_insert(
    app: &TestApp,
    db: Backend,
    table: &str,
    insert: &str,
) -> sea_orm::DatabaseConnection {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let database = sea_orm::Database::connect(app.database_url())
        .await
        .unwrap();
    let txn = database.begin().await.unwrap();
    if db == Backend::Mysql {
        txn.execute_unprepared("SET SESSION max_recursive_iterations = 1000000")
            .await
            .unwrap();
    }
    txn.execute_unprepared(insert).await.unwrap();
    txn.commit().await.unwrap();
    if db == Backend::Mysql {
        database
            .execute_unprepared(&format!("ANALYZE TABLE {table}"))
            .await
            .unwrap();
    }
    database
}

/// The plan of `sql`, a line per step: MySQL's `EXPLAIN` (table, key, extra) or
/// SQLite's `EXPLAIN QUERY PLAN` details.
pub async fn query_plan(
    database: &sea_orm::DatabaseConnection,
    db: Backend,
    sql: &str,
) -> Vec<String> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let (backend, explain) = match db {
        Backend::Mysql => (DbBackend::MySql, format!("EXPLAIN {sql}")),
        Backend::Sqlite => (DbBackend::Sqlite, format!("EXPLAIN QUERY PLAN {sql}")),
    };
    let rows = database
        .query_all_raw(Statement::from_string(backend, explain))
        .await
        .unwrap();
    rows.iter()
        .map(|row| match db {
            Backend::Mysql => {
                let table: Option<String> = row.try_get("", "table").unwrap();
                let key: Option<String> = row.try_get("", "key").unwrap();
                let extra: Option<String> = row.try_get("", "Extra").unwrap();
                format!("{table:?} key={key:?} {}", extra.unwrap_or_default())
            }
            Backend::Sqlite => row.try_get::<String>("", "detail").unwrap(),
        })
        .collect()
}
