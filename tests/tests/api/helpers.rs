//! Test harness: the real application in-process on port 0, one fresh database per
//! test (a temporary SQLite file, or a uniquely named MySQL/MariaDB database that is
//! dropped afterwards), and cookie-keeping HTTP clients with one helper per endpoint.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use backend::config::{RateLimit, Settings};
use backend::startup::Application;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, ORIGIN};
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shared::{AuditPage, SignupRequest, User};

use crate::mail_sink::MailSink;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
}

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
                ($body)($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                ($body)($crate::helpers::Backend::Mysql).await
            }
        }
    };
}

/// A strong password the policy accepts for any of the generated accounts.
pub const PASSWORD: &str = "violet harbor quantum 4217";

pub struct TestApp {
    pub address: String,
    /// The SMTP server the app sends to (unless a test cleared `smtp_url`).
    pub mail: MailSink,
    pub data_dir: PathBuf,
    database: TestDatabase,
}

enum TestDatabase {
    Sqlite { dir: PathBuf },
    Mysql { admin_url: String, name: String },
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with a chance to adjust settings (e.g. a short TTL).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_on(backend, &mysql_url(), configure).await
    }

    /// Like [`TestApp::spawn_with`], with MySQL reached through `mysql_url`.
    pub async fn spawn_on(
        backend: Backend,
        mysql_url: &str,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let (database, url) = TestDatabase::create(backend, mysql_url).await;
        let mail = MailSink::start();
        let data_dir = std::env::temp_dir().join(format!("um-data-{}", unique()));
        let vars = HashMap::from([
            ("DATABASE_URL", url),
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("DATA_DIR", data_dir.display().to_string()),
            (
                "JWT_SECRET",
                format!("test-secret-{}-{}", unique(), unique()),
            ),
            ("SMTP_URL", mail.url()),
        ]);
        let mut settings =
            Settings::from_lookup(|key| vars.get(key).cloned()).expect("valid test settings");
        settings.db_max_connections = 5;
        // Tests log in far more often than people; the throttling tests set their own.
        settings.rate_limit = RateLimit {
            per_minute: 100_000,
            burst: 10_000,
        };
        configure(&mut settings);
        let app = Application::build(settings)
            .await
            .expect("the application starts");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        Self {
            address: format!("http://127.0.0.1:{port}"),
            mail,
            data_dir,
            database,
        }
    }

    /// The app's database, for checks the API does not expose (stored hashes).
    pub fn database_url(&self) -> String {
        match &self.database {
            TestDatabase::Sqlite { dir } => format!("sqlite://{}/users.db", dir.display()),
            TestDatabase::Mysql { admin_url, name } => format!("{admin_url}/{name}"),
        }
    }

    /// A fresh browser-like client with its own cookie jar and this app's Origin.
    pub fn client(&self) -> Client {
        Client::new(&self.address, Some(&self.address))
    }

    /// A client that sends no Origin header, like curl or a server-side integration.
    pub fn client_without_origin(&self) -> Client {
        Client::new(&self.address, None)
    }

    /// Signs up the first account (which becomes admin) and logs it in.
    pub async fn admin(&self) -> (Client, User) {
        let client = self.client();
        let user = client.signup_ok(&account("admin")).await;
        assert_eq!(user.role, shared::Role::Admin);
        client.login_ok("admin", PASSWORD).await;
        (client, user)
    }

    /// Creates an account with `role` through `admin` and returns a logged-in client.
    pub async fn member(&self, admin: &Client, name: &str, role: &str) -> (Client, User) {
        let mut body = serde_json::to_value(account(name)).unwrap();
        body["role"] = json!(role);
        let res = admin.post("/api/v1/users", &body).await;
        assert_eq!(res.status(), StatusCode::CREATED, "create {name}");
        let user: User = res.json().await.unwrap();
        let client = self.client();
        client.login_ok(name, PASSWORD).await;
        (client, user)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        self.database.drop_sync();
    }
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
        security_answer: "Rex the dog".to_owned(),
    }
}

/// An HTTP client with a cookie jar, acting like one browser tab or one integration.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    bearer: Option<String>,
}

impl Client {
    fn new(base: &str, origin: Option<&str>) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(origin) = origin {
            headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_owned(),
            bearer: None,
        }
    }

    /// The same client, authenticating with `Authorization: Bearer`.
    pub fn with_bearer(&self, token: &str) -> Self {
        Self {
            bearer: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.bearer {
            builder = builder.bearer_auth(token);
        }
        builder
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &impl Serialize) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: &impl Serialize) -> Response {
        self.request(Method::PUT, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// DELETE as the browser app sends it: JSON content type, no body.
    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .header(CONTENT_TYPE, "application/json")
            .send()
            .await
            .unwrap()
    }

    pub async fn signup(&self, account: &SignupRequest) -> Response {
        self.post("/api/v1/auth/signup", account).await
    }

    pub async fn signup_ok(&self, account: &SignupRequest) -> User {
        let res = self.signup(account).await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "signup {}",
            account.username
        );
        res.json().await.unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn login_ok(&self, username: &str, password: &str) -> User {
        let res = self.login(username, password).await;
        assert_eq!(res.status(), StatusCode::OK, "login {username}");
        res.json().await.unwrap()
    }

    pub async fn token(&self, username: &str, password: &str) -> String {
        let res = self
            .post(
                "/api/v1/auth/token",
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn me(&self) -> Response {
        self.get("/api/v1/auth/me").await
    }

    pub async fn logout(&self) -> Response {
        self.request(Method::POST, "/api/v1/auth/logout")
            .header(CONTENT_TYPE, "application/json")
            .send()
            .await
            .unwrap()
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

impl TestApp {
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
