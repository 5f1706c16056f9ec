//! An HTTP client with a cookie jar, and one helper per endpoint the tests call
//! often. Helpers return the raw response unless their name ends in `_ok`, which
//! asserts success and parses the body.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, ORIGIN};
use reqwest::{Method, Response, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};
use shared::{SessionInfo, SignupRequest, User, UserPage};

use crate::json;

/// An HTTP client with a cookie jar, acting like one browser tab or one integration.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    bearer: Option<String>,
}

impl Client {
    pub(crate) fn new(base: &str, origin: Option<&str>) -> Self {
        Self::with_headers(base, origin, None)
    }

    /// A client sending `Origin: origin` (if any) and `Host: host` (if any) with every
    /// request, e.g. as a browser behind the app's public name would.
    pub(crate) fn with_headers(base: &str, origin: Option<&str>, host: Option<&str>) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(origin) = origin {
            headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        if let Some(host) = host {
            headers.insert(reqwest::header::HOST, HeaderValue::from_str(host).unwrap());
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

/// Account management.
impl Client {
    pub async fn create_user(&self, body: &impl Serialize) -> Response {
        self.post("/api/v1/users", body).await
    }

    pub async fn get_user(&self, id: i32) -> Response {
        self.get(&format!("/api/v1/users/{id}")).await
    }

    pub async fn user_ok(&self, id: i32) -> User {
        let res = self.get_user(id).await;
        assert_eq!(res.status(), StatusCode::OK, "get user {id}");
        json(res).await
    }

    pub async fn update_user(&self, id: i32, body: &impl Serialize) -> Response {
        self.put(&format!("/api/v1/users/{id}"), body).await
    }

    pub async fn delete_user(&self, id: i32) -> Response {
        self.delete(&format!("/api/v1/users/{id}")).await
    }

    /// `POST /users/{id}/{action}`: `disable`, `enable` or `unlock`.
    pub async fn account_action(&self, id: i32, action: &str) -> Response {
        self.post(&format!("/api/v1/users/{id}/{action}"), &json!({}))
            .await
    }

    /// `GET /users` with `query` (e.g. `?q=ada&sort=-username`, or "").
    pub async fn list_users_ok(&self, query: &str) -> UserPage {
        let res = self.get(&format!("/api/v1/users{query}")).await;
        assert_eq!(res.status(), StatusCode::OK, "list {query}");
        json(res).await
    }
}

/// The caller's own account and sessions.
impl Client {
    pub async fn update_me(&self, body: &impl Serialize) -> Response {
        self.put("/api/v1/auth/me", body).await
    }

    pub async fn change_password(&self, current: &str, new: &str) -> Response {
        self.post(
            "/api/v1/auth/password",
            &json!({"current_password": current, "new_password": new}),
        )
        .await
    }

    pub async fn verify_email(&self, code: &str) -> Response {
        self.post("/api/v1/auth/email/verify", &json!({ "code": code }))
            .await
    }

    pub async fn resend_email_code(&self) -> Response {
        self.post("/api/v1/auth/email/resend", &json!({})).await
    }

    pub async fn sessions_ok(&self) -> Vec<SessionInfo> {
        json(self.get("/api/v1/auth/sessions").await).await
    }
}

/// Password recovery, step by step.
impl Client {
    pub async fn forgot(&self, method: &str, identifier: &str) -> Response {
        self.post(
            "/api/v1/password/forgot",
            &json!({"method": method, "identifier": identifier}),
        )
        .await
    }

    pub async fn verify_otp(&self, email: &str, otp: &str) -> Response {
        self.post(
            "/api/v1/password/verify-otp",
            &json!({"method": "email", "identifier": email, "otp": otp}),
        )
        .await
    }

    /// `verify-otp` naming the request that sent the code, as the browser app does.
    pub async fn verify_otp_for(&self, email: &str, otp: &str, request_id: &str) -> Response {
        self.post(
            "/api/v1/password/verify-otp",
            &json!({"method": "email", "identifier": email, "otp": otp, "request_id": request_id}),
        )
        .await
    }

    pub async fn answer(&self, flow_token: &str, answer: &str) -> Response {
        self.post(
            "/api/v1/password/answer",
            &json!({"flow_token": flow_token, "security_answer": answer}),
        )
        .await
    }

    pub async fn reset(&self, reset_token: &str, password: &str) -> Response {
        self.post(
            "/api/v1/password/reset",
            &json!({"reset_token": reset_token, "new_password": password}),
        )
        .await
    }

    /// The flow token for a right `code`.
    pub async fn flow_token_ok(&self, email: &str, code: &str) -> String {
        let body: Value = json(self.verify_otp(email, code).await).await;
        body["flow_token"]
            .as_str()
            .expect("a flow token")
            .to_owned()
    }

    /// The reset token for a flow, answering with [`crate::ANSWER`].
    pub async fn reset_token_ok(&self, flow_token: &str) -> String {
        let body: Value = json(self.answer(flow_token, crate::ANSWER).await).await;
        body["reset_token"]
            .as_str()
            .expect("a reset token")
            .to_owned()
    }
}
