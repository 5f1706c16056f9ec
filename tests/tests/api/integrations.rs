//! What integrations rely on: API keys that act within their scopes, safe retries of
//! `POST` with `Idempotency-Key`, and `ETag` / `If-Match` against lost updates.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::{ApiKey, CreatedApiKey, User};

use harness::*;

fn key_request(name: &str, scopes: &[&str]) -> Value {
    json!({"name": name, "scopes": scopes, "current_password": PASSWORD})
}

async fn new_key(admin: &Client, name: &str, scopes: &[&str]) -> CreatedApiKey {
    let res = admin
        .post("/api/v1/api-keys", &key_request(name, scopes))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "create key {name}");
    json(res).await
}

/// The status `client` gets for `method path` (a JSON body for writes).
async fn status(client: &Client, method: Method, path: &str, body: Value) -> StatusCode {
    let req = client.request(method.clone(), path);
    let req = match method {
        Method::GET => req,
        _ => req.json(&body),
    };
    req.send().await.unwrap().status()
}

fn new_account(name: &str) -> Value {
    serde_json::to_value(account(name)).unwrap()
}

db_test!(
    each_scope_opens_its_endpoints_and_nothing_else,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, me) = app.admin().await;
        let (_, ann) = app.member(&admin, "ann", "user").await;

        // Making a key needs the password; a wrong one makes nothing.
        let mut wrong = key_request("sync", &["users:read"]);
        wrong["current_password"] = json!("not my password at all");
        let (code, error) = error_of(admin.post("/api/v1/api-keys", &wrong).await).await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert!(error["fields"]["current_password"].is_string(), "{error}");
        let invalid = json!({"name": " ", "scopes": [], "current_password": PASSWORD});
        let (code, error) = error_of(admin.post("/api/v1/api-keys", &invalid).await).await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert!(error["fields"]["name"].is_string() && error["fields"]["scopes"].is_string());
        let listed: Vec<ApiKey> = json(admin.get("/api/v1/api-keys").await).await;
        assert!(listed.is_empty());

        let reader = new_key(&admin, "reader", &["users:read"]).await;
        assert!(reader.secret.starts_with("umk_") && reader.secret.len() == 47);
        assert!(
            reader.key.hint.starts_with("umk_") && !reader.key.hint.contains(&reader.secret[8..])
        );
        let writer = new_key(&admin, "writer", &["users:read", "users:write"]).await;
        let auditor = new_key(&admin, "auditor", &["audit:read"]).await;
        let reader = app.client_without_origin().with_bearer(&reader.secret);
        let writer = app.client_without_origin().with_bearer(&writer.secret);
        let auditor = app.client_without_origin().with_bearer(&auditor.secret);

        let user_path = format!("/api/v1/users/{}", ann.id);
        let reads = [
            (Method::GET, "/api/v1/users".to_owned()),
            (Method::GET, user_path.clone()),
            (Method::GET, "/api/v1/users/export.csv".to_owned()),
        ];
        for (method, path) in &reads {
            assert_eq!(
                status(&reader, method.clone(), path, json!({})).await,
                StatusCode::OK,
                "{path}"
            );
            assert_eq!(
                status(&auditor, method.clone(), path, json!({})).await,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        // Writing needs users:write.
        let refused = reader.create_user(&new_account("bot1")).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let (_, error) = error_of(refused).await;
        assert!(
            error["message"].as_str().unwrap().contains("users:write"),
            "{error}"
        );
        let created: User = json(writer.create_user(&new_account("bot1")).await).await;
        let res = writer
            .update_user(created.id, &json!({"last_name": "Changed"}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            writer.account_action(created.id, "disable").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            reader.delete_user(created.id).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            writer.delete_user(created.id).await.status(),
            StatusCode::NO_CONTENT
        );
        // The audit trail needs audit:read.
        assert_eq!(
            status(&auditor, Method::GET, "/api/v1/audit", json!({})).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&writer, Method::GET, "/api/v1/audit", json!({})).await,
            StatusCode::FORBIDDEN
        );
        // Routes for people are closed to every key: the session, passwords, keys.
        for key in [&reader, &writer, &auditor] {
            for (method, path) in [
                (Method::GET, "/api/v1/auth/me"),
                (Method::GET, "/api/v1/auth/sessions"),
                (Method::POST, "/api/v1/auth/logout"),
                (Method::GET, "/api/v1/api-keys"),
                (Method::POST, "/api/v1/api-keys"),
                (Method::GET, "/api/v1/invitations"),
            ] {
                let body = key_request("more", &["users:read"]);
                assert_eq!(
                    status(key, method, path, body).await,
                    StatusCode::FORBIDDEN,
                    "{path}"
                );
            }
        }
        // The key acts for its admin: events name that admin.
        let trail: Value = json(admin.get("/api/v1/audit?action=user_created").await).await;
        assert_eq!(trail["items"][0]["actor_id"], json!(me.id));
        let trail: Value = json(admin.get("/api/v1/audit?action=api_key_created").await).await;
        let outcomes: Vec<&str> = trail["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["outcome"].as_str().unwrap())
            .collect();
        // Three keys, and the wrong password before them.
        assert_eq!(outcomes, ["success", "success", "success", "failure"]);
        assert!(!trail.to_string().contains("umk_"));

        // Last use is recorded, with the address.
        let listed: Vec<ApiKey> = json(admin.get("/api/v1/api-keys").await).await;
        assert_eq!(listed.len(), 3);
        let used = listed.iter().find(|k| k.name == "reader").unwrap();
        assert!(used.last_used_at.is_some());
        assert_eq!(used.last_used_ip.as_deref(), Some("127.0.0.1"));
    }
);

db_test!(
    revoked_expired_and_unknown_keys_and_keys_of_demoted_admins_stop_working,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (second, boss) = app.member(&admin, "boss", "admin").await;
        let mine = new_key(&admin, "mine", &["users:read", "users:write"]).await;
        let theirs = new_key(&second, "theirs", &["users:read", "users:write"]).await;
        let mine_client = app.client_without_origin().with_bearer(&mine.secret);
        let theirs_client = app.client_without_origin().with_bearer(&theirs.secret);
        assert_eq!(
            mine_client.get("/api/v1/users").await.status(),
            StatusCode::OK
        );

        // A key can never do more than its admin: demoted, it may read, not write.
        let res = admin.update_user(boss.id, &json!({"role": "user"})).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            theirs_client
                .create_user(&new_account("bot2"))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        // Disabled, its keys stop.
        assert_eq!(
            admin.account_action(boss.id, "disable").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            theirs_client.get("/api/v1/users").await.status(),
            StatusCode::UNAUTHORIZED
        );

        // Revoked: 401 at once; revoking is audited and shows in the list.
        let path = format!("/api/v1/api-keys/{}", mine.key.id);
        assert_eq!(admin.delete(&path).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            mine_client.get("/api/v1/users").await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            admin.delete("/api/v1/api-keys/999999").await.status(),
            StatusCode::NOT_FOUND
        );
        let listed: Vec<ApiKey> = json(admin.get("/api/v1/api-keys").await).await;
        assert!(
            listed
                .iter()
                .find(|k| k.id == mine.key.id)
                .unwrap()
                .revoked_at
                .is_some()
        );
        let trail: Value = json(admin.get("/api/v1/audit?action=api_key_revoked").await).await;
        assert_eq!(trail["items"].as_array().unwrap().len(), 1);

        // Expiry: in the past is refused; a key that expires stops then.
        let mut past = key_request("old", &["users:read"]);
        past["expires_at"] = json!(Utc::now() - Duration::minutes(1));
        let res = admin.post("/api/v1/api-keys", &past).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let mut soon = key_request("soon", &["users:read"]);
        soon["expires_at"] = json!(Utc::now() + Duration::seconds(2));
        let soon: CreatedApiKey = json(admin.post("/api/v1/api-keys", &soon).await).await;
        let soon_client = app.client_without_origin().with_bearer(&soon.secret);
        assert_eq!(
            soon_client.get("/api/v1/users").await.status(),
            StatusCode::OK
        );
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        assert_eq!(
            soon_client.get("/api/v1/users").await.status(),
            StatusCode::UNAUTHORIZED
        );

        // A made-up key with the prefix is just unauthorised.
        let fake = app
            .client_without_origin()
            .with_bearer("umk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(
            fake.get("/api/v1/users").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
);

db_test!(each_key_has_its_own_rate_limit, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| {
            s.limits.api_key_rate = shared_rate(6, 3);
        })
        .spawn()
        .await;
    let (admin, _) = app.admin().await;
    let one = new_key(&admin, "one", &["users:read"]).await;
    let two = new_key(&admin, "two", &["users:read"]).await;
    let one = app.client_without_origin().with_bearer(&one.secret);
    let two = app.client_without_origin().with_bearer(&two.secret);
    for _ in 0..3 {
        assert_eq!(one.get("/api/v1/users").await.status(), StatusCode::OK);
    }
    let res = one.get("/api/v1/users").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Another key, and the admin's own session, are not held up.
    assert_eq!(two.get("/api/v1/users").await.status(), StatusCode::OK);
    assert_eq!(admin.get("/api/v1/users").await.status(), StatusCode::OK);
});

fn shared_rate(per_minute: u32, burst: u32) -> backend::rate::RateLimit {
    backend::rate::RateLimit { per_minute, burst }
}

db_test!(
    a_retried_post_with_the_same_idempotency_key_creates_once,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let send = |key: &str, body: Value| {
            admin
                .request(Method::POST, "/api/v1/users")
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
        };
        let ivy = new_account("ivy");
        let first = send("retry-1", ivy.clone()).await.unwrap();
        assert_eq!(first.status(), StatusCode::CREATED);
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first: User = json(first).await;
        let again = send("retry-1", ivy.clone()).await.unwrap();
        assert_eq!(again.status(), StatusCode::CREATED);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: User = json(again).await;
        assert_eq!(again, first);
        let page = admin.list_users_ok("?q=ivy").await;
        assert_eq!(page.items.len(), 1);

        // The same key with another body is refused and creates nothing.
        let other = send("retry-1", new_account("jay")).await.unwrap();
        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(admin.list_users_ok("?q=jay").await.items.is_empty());
        // A failure is not kept: once the cause is gone, the retry goes through.
        let taken = send("retry-2", new_account("ivy")).await.unwrap();
        assert_eq!(taken.status(), StatusCode::CONFLICT);
        let res = send("retry-3", new_account("ivy2")).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        // Keys are 1-255 visible characters.
        let res = send(&"k".repeat(256), new_account("kim")).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        // Another caller's key of the same name is its own.
        let (other_admin, _) = app.member(&admin, "root2", "admin").await;
        let res = other_admin
            .request(Method::POST, "/api/v1/users")
            .header("Idempotency-Key", "retry-1")
            .json(&new_account("kim"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);

        // Key creation too: the retry gets the same key and secret, and one key exists.
        let make = || {
            admin
                .request(Method::POST, "/api/v1/api-keys")
                .header("Idempotency-Key", "key-1")
                .json(&key_request("sync", &["users:read"]))
                .send()
        };
        let first: CreatedApiKey = json(make().await.unwrap()).await;
        let again: CreatedApiKey = json(make().await.unwrap()).await;
        assert_eq!(first, again);
        let listed: Vec<ApiKey> = json(admin.get("/api/v1/api-keys").await).await;
        assert_eq!(listed.len(), 1);
    }
);

db_test!(
    a_stale_if_match_is_refused_with_412_and_changes_nothing,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (_, ann) = app.member(&admin, "ann", "user").await;
        let path = format!("/api/v1/users/{}", ann.id);
        let res = admin.get(&path).await;
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'));
        // Unchanged: a conditional GET is a 304.
        let res = admin
            .request(Method::GET, &path)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

        let put = |tag: &str, body: Value| {
            admin
                .request(Method::PUT, &path)
                .header("If-Match", tag)
                .json(&body)
                .send()
        };
        let first = put(&etag, json!({"first_name": "Anna"})).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let newer = first.headers()["etag"].to_str().unwrap().to_owned();
        assert_ne!(newer, etag);
        // A second admin still holding the old version is refused.
        let stale = put(&etag, json!({"last_name": "Overwritten"}))
            .await
            .unwrap();
        assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(error_of(stale).await.1["code"], "precondition_failed");
        let now = admin.user_ok(ann.id).await;
        assert_eq!(
            (now.first_name.as_str(), now.last_name.as_str()),
            ("Anna", ann.last_name.as_str())
        );
        let delete = |tag: &str| {
            admin
                .request(Method::DELETE, &path)
                .header("If-Match", tag)
                .header("Content-Type", "application/json")
                .send()
        };
        assert_eq!(
            delete(&etag).await.unwrap().status(),
            StatusCode::PRECONDITION_FAILED
        );
        assert_eq!(admin.get_user(ann.id).await.status(), StatusCode::OK);
        // `*` and the current version go through.
        let res = put("*", json!({"last_name": "Lee"})).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let current = res.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(
            delete(&current).await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
    }
);
