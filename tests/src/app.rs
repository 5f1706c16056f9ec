//! The real application in-process on port 0, one fresh database per test (a
//! temporary SQLite file, or a uniquely named MySQL/MariaDB database that is dropped
//! afterwards), sending mail to its own [`MailSink`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::config::Settings;
use backend::http::throttle::RateLimit;
use backend::startup::Application;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use shared::User;

use crate::client::Client;
use crate::mail_sink::{MailSink, ReceivedMail};
use crate::{PASSWORD, account, unique};
use shared::SignupRequest;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
}

pub struct TestApp {
    pub address: String,
    /// The SMTP server the app sends to (unless a test cleared `smtp_url`).
    pub mail: MailSink,
    pub data_dir: PathBuf,
    /// Shared by instances started together; dropped with the last of them.
    database: Arc<TestDatabase>,
}

/// One adjustment of the settings a test app starts with.
type Configure<'a> = Box<dyn FnOnce(&mut Settings) + 'a>;

/// How a [`TestApp`] is made: `TestApp::builder(db).with(|s| ...).spawn().await`.
#[must_use]
pub struct TestAppBuilder<'a> {
    backend: Backend,
    mysql_url: String,
    configure: Vec<Configure<'a>>,
}

impl<'a> TestAppBuilder<'a> {
    /// Adjusts the settings the app starts with (e.g. a short TTL).
    pub fn with(mut self, configure: impl FnOnce(&mut Settings) + 'a) -> Self {
        self.configure.push(Box::new(configure));
        self
    }

    /// Reaches MySQL through `url` (server only, no database name) instead of
    /// [`mysql_url`].
    pub fn mysql_url(mut self, url: &str) -> Self {
        url.trim_end_matches('/').clone_into(&mut self.mysql_url);
        self
    }

    pub async fn spawn(self) -> TestApp {
        let (database, url) = TestDatabase::create(self.backend, &self.mysql_url).await;
        let secret = format!("test-secret-{}-{}", unique(), unique());
        start(Arc::new(database), url, secret, self.configure).await
    }
}

/// Starts the app on `url` with the test defaults, then `configure`.
async fn start(
    database: Arc<TestDatabase>,
    url: String,
    secret: String,
    configure: Vec<Configure<'_>>,
) -> TestApp {
    let mail = MailSink::start();
    let data_dir = std::env::temp_dir().join(format!("um-data-{}", unique()));
    let vars = HashMap::from([
        ("DATABASE_URL", url),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("DATA_DIR", data_dir.display().to_string()),
        ("JWT_SECRET", secret),
        ("SMTP_URL", mail.url()),
    ]);
    let mut settings =
        Settings::from_lookup(|key| vars.get(key).cloned()).expect("valid test settings");
    settings.database.max_connections = 5;
    // Tests log in far more often than people; the throttling tests set their own.
    settings.limits.rate = RateLimit {
        per_minute: 100_000,
        burst: 10_000,
    };
    for configure in configure {
        configure(&mut settings);
    }
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        mail,
        data_dir,
        database,
    }
}

impl TestApp {
    pub fn builder<'a>(backend: Backend) -> TestAppBuilder<'a> {
        TestAppBuilder {
            backend,
            mysql_url: mysql_url(),
            configure: Vec::new(),
        }
    }

    /// The app with the test defaults.
    /// An app on MySQL reached through a [`Relay`](crate::Relay) the test can cut,
    /// standing in for the database host going away while the app keeps running.
    pub async fn behind_relay() -> (crate::Relay, Self) {
        let (relay, relayed) = crate::Relay::to_mysql().await;
        let app = Self::builder(Backend::Mysql)
            .mysql_url(&relayed)
            .spawn()
            .await;
        (relay, app)
    }

    pub async fn spawn(backend: Backend) -> Self {
        Self::builder(backend).spawn().await
    }

    /// `n` instances started at the same moment on one fresh database with one
    /// `JWT_SECRET`, as replicas of a deployment start (each with its own mail sink
    /// and data folder), each adjusted by `configure`.
    pub async fn spawn_together(
        backend: Backend,
        n: usize,
        configure: fn(&mut Settings),
    ) -> Vec<Self> {
        let (database, url) = TestDatabase::create(backend, &mysql_url()).await;
        let database = Arc::new(database);
        let secret = format!("test-secret-{}-{}", unique(), unique());
        let starts = (0..n).map(|_| {
            let configure: Vec<Configure<'_>> = vec![Box::new(configure)];
            start(database.clone(), url.clone(), secret.clone(), configure)
        });
        futures::future::join_all(starts).await
    }

    /// One instance per server of `servers` (MySQL URLs without a database: the nodes
    /// of a cluster), started at the same moment on one fresh database (created
    /// through the first) with one `JWT_SECRET`, each adjusted by `configure`.
    pub async fn spawn_on(servers: &[String], configure: fn(&mut Settings)) -> Vec<Self> {
        let (database, _) = TestDatabase::create(Backend::Mysql, &servers[0]).await;
        let TestDatabase::Mysql { name, .. } = &database else {
            unreachable!("a MySQL database was asked for")
        };
        let urls: Vec<String> = servers.iter().map(|s| format!("{s}/{name}")).collect();
        // Galera applies the CREATE DATABASE on the other nodes in total order, but a
        // moment after the first node answered: wait until every node has it.
        for url in &urls {
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                match Database::connect(url.as_str()).await {
                    Ok(conn) => {
                        let _ = conn.close().await;
                        break;
                    }
                    Err(e) if Instant::now() > deadline => {
                        panic!("the test database never reached {url}: {e}")
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
        let database = Arc::new(database);
        let secret = format!("test-secret-{}-{}", unique(), unique());
        let starts = urls.into_iter().map(|url| {
            let configure: Vec<Configure<'_>> = vec![Box::new(configure)];
            start(database.clone(), url, secret.clone(), configure)
        });
        futures::future::join_all(starts).await
    }

    /// The app's database, for checks the API does not expose (stored hashes).
    pub fn database_url(&self) -> String {
        match &*self.database {
            TestDatabase::Sqlite { dir } => format!("sqlite://{}/users.db", dir.display()),
            TestDatabase::Mysql { admin_url, name } => format!("{admin_url}/{name}"),
        }
    }

    /// A fresh browser-like client with its own cookie jar and this app's Origin.
    pub fn client(&self) -> Client {
        Client::new(&self.address, Some(&self.address))
    }

    /// A client that asks for `host` (the `Host` header) and sends `origin`, as a
    /// browser at the app's public name behind a proxy would.
    pub fn client_at(&self, host: &str, origin: &str) -> Client {
        Client::with_headers(&self.address, Some(origin), Some(host))
    }

    /// A client that sends no Origin header, like curl or a server-side integration.
    pub fn client_without_origin(&self) -> Client {
        Client::new(&self.address, None)
    }

    /// Signs up the first account (which becomes admin), logs it in and verifies its
    /// address.
    pub async fn admin(&self) -> (Client, User) {
        let client = self.client();
        let user = client.signup_ok(&account("admin")).await;
        assert_eq!(user.role, shared::Role::Admin);
        client.login_ok("admin", PASSWORD).await;
        self.verify_email(&client, &user).await;
        (client, user)
    }

    /// Creates an account with `role` through `admin` and returns a logged-in client;
    /// the address is verified, as an established account's is.
    pub async fn member(&self, admin: &Client, name: &str, role: &str) -> (Client, User) {
        let mut body = serde_json::to_value(account(name)).unwrap();
        body["role"] = json!(role);
        let res = admin.create_user(&body).await;
        assert_eq!(res.status(), StatusCode::CREATED, "create {name}");
        let user: User = res.json().await.unwrap();
        let client = self.client();
        client.login_ok(name, PASSWORD).await;
        self.verify_email(&client, &user).await;
        (client, user)
    }

    /// Signs `account` up and verifies its address (through a session of its own,
    /// ended afterwards), so mail about the account reaches it.
    pub async fn signup_verified(&self, client: &Client, account: &SignupRequest) -> User {
        let user = client.signup_ok(account).await;
        let session = self.client();
        session.login_ok(&account.username, &account.password).await;
        self.verify_email(&session, &user).await;
        session.logout().await;
        user
    }

    /// Enters the latest verification code mailed to `user`'s address, through
    /// `client` (logged in as `user`).
    pub async fn verify_email(&self, client: &Client, user: &User) {
        let address = user.email.as_deref().expect("the account's own address");
        let code = self.email_code(address).await;
        let res = client.verify_email(&code).await;
        assert_eq!(res.status(), StatusCode::OK, "verify {address}");
    }

    /// The code of the newest verification mail to `address`.
    pub async fn email_code(&self, address: &str) -> String {
        self.mail
            .wait_for_subject(address, crate::subjects::EMAIL_CODE, 1)
            .await
            .pop()
            .unwrap()
            .code()
    }

    /// Requests a recovery code for `email` through `client` and returns the `n`th
    /// recovery mail to it (1-based).
    pub async fn mailed_code(&self, client: &Client, email: &str, n: usize) -> ReceivedMail {
        assert_eq!(
            client.forgot("email", email).await.status(),
            StatusCode::ACCEPTED
        );
        self.mail
            .wait_for_subject(email, crate::subjects::RECOVERY_CODE, n)
            .await
            .pop()
            .unwrap()
    }

    /// Like [`Self::mailed_code`], with the request's `request_id`: `(request_id, code)`.
    pub async fn requested_code(&self, client: &Client, email: &str, n: usize) -> (String, String) {
        let res = client.forgot("email", email).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let body: serde_json::Value = res.json().await.unwrap();
        let request_id = body["request_id"]
            .as_str()
            .expect("a request id")
            .to_owned();
        let mail = self
            .mail
            .wait_for_subject(email, crate::subjects::RECOVERY_CODE, n)
            .await
            .pop()
            .unwrap();
        (request_id, mail.code())
    }

    /// `GET /api/v1/auth/me` with a captured `Cookie` header and nothing else, as an
    /// attacker replaying a stolen cookie would send it.
    pub async fn me_with_cookie(&self, cookie: &str) -> StatusCode {
        self.client_without_origin()
            .http
            .get(format!("{}/api/v1/auth/me", self.address))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// `POST /api/v1/auth/logout` with a captured `Cookie` header, as the browser of
    /// that session sends it through this instance.
    pub async fn logout_with_cookie(&self, cookie: &str) -> StatusCode {
        self.client()
            .request(reqwest::Method::POST, "/api/v1/auth/logout")
            .header("Cookie", cookie)
            .header("Content-Type", "application/json")
            .send()
            .await
            .unwrap()
            .status()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.drop_sync();
    }
}

enum TestDatabase {
    Sqlite { dir: PathBuf },
    Mysql { admin_url: String, name: String },
}

impl TestDatabase {
    async fn create(backend: Backend, mysql_url: &str) -> (Self, String) {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("um-sqlite-{}", unique()));
                let url = format!("sqlite://{}/users.db?mode=rwc", dir.display());
                (Self::Sqlite { dir }, url)
            }
            Backend::Mysql => {
                let admin_url = mysql_url.to_owned();
                let name = format!("um_test_{}", unique());
                let admin = match Database::connect(format!("{admin_url}/mysql")).await {
                    Ok(conn) => conn,
                    Err(e) => panic!(
                        "MySQL/MariaDB is required for the mysql tests and is not reachable at \
                         {admin_url} ({e}). Start it (see README) or set TEST_MYSQL_URL."
                    ),
                };
                admin
                    .execute_unprepared(&format!(
                        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    ))
                    .await
                    .expect("create the test database");
                let _ = admin.close().await;
                let url = format!("{admin_url}/{name}");
                (Self::Mysql { admin_url, name }, url)
            }
        }
    }

    /// Drop runs on a plain thread with its own runtime, so it also works while a
    /// failed test unwinds.
    fn drop_sync(&self) {
        match self {
            Self::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Mysql { admin_url, name } => {
                let (url, name) = (format!("{admin_url}/mysql"), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(conn) = Database::connect(url).await {
                            let _ = conn
                                .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{name}`"))
                                .await;
                            let _ = conn.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// `TEST_MYSQL_URL` (server only, no database), default the local MariaDB.
pub fn mysql_url() -> String {
    std::env::var("TEST_MYSQL_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "mysql://root@127.0.0.1:3306".to_owned())
        .trim_end_matches('/')
        .to_owned()
}
