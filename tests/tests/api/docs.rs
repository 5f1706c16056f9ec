//! Health probes, the OpenAPI document and Swagger UI.

use reqwest::StatusCode;
use serde_json::Value;

use harness::*;

db_test!(health_and_readiness, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client_without_origin();
    let health: Value = json(client.get("/health").await).await;
    assert_eq!(health["status"], "ok");
    let ready: Value = json(client.get("/ready").await).await;
    assert_eq!(ready["status"], "ready");
});

/// The committed `openapi/openapi.json` must be what the server serves; regenerate
/// it with `cargo xtask openapi`.
#[tokio::test]
async fn committed_spec_is_current() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let res = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let served: Value = res.json().await.unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        served == committed,
        "openapi/openapi.json is stale: run `cargo xtask openapi`"
    );
}

#[tokio::test]
async fn every_operation_documents_tag_security_and_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec: Value = json(app.client().get("/api/v1/openapi.json").await).await;
    assert_eq!(spec["openapi"], "3.1.0");
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("cookie") && schemes.contains_key("bearer"));
    let public = [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/token",
        "/api/v1/auth/mfa/verify",
        "/api/v1/auth/passkeys/login/start",
        "/api/v1/auth/passkeys/login/finish",
        "/api/v1/auth/password-strength",
        "/api/v1/auth/signup-options",
        "/api/v1/password/forgot",
        "/api/v1/password/verify-otp",
        "/api/v1/password/answer",
        "/api/v1/password/reset",
        "/health",
        "/ready",
    ];
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name}: tag"
            );
            assert!(op["summary"].is_string(), "{name}: summary");
            let responses = op["responses"].as_object().unwrap();
            if public.contains(&path.as_str()) {
                assert!(op.get("security").is_none(), "{name} is public");
                if method == "post" {
                    assert!(responses.contains_key("429"), "{name}: throttled");
                }
            } else if op["security"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == &serde_json::json!({}))
            {
                assert!(
                    [
                        "post /api/v1/auth/logout",
                        "get /api/v1/auth/session",
                        "get /metrics"
                    ]
                    .contains(&name.as_str()),
                    "only logout, the session state and the metrics have optional auth: {name}"
                );
            } else {
                let security = op["security"].to_string();
                assert!(
                    security.contains("cookie") && security.contains("bearer"),
                    "{name}: {security}"
                );
                assert!(responses.contains_key("401"), "{name}: 401");
            }
            if op["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{name}: {status}");
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorResponse",
                        "{name} {status}"
                    );
                }
            }
        }
    }
    assert_eq!(operations, 62);
}

/// Integrators read which scope an API key needs off the spec: exactly the account
/// and audit operations say so, each with one scope, and nothing for people only.
#[tokio::test]
async fn operations_open_to_api_keys_name_their_scope() {
    let spec: Value = serde_json::from_str(&backend::http::openapi::to_json()).unwrap();
    let mut open = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let scopes: Vec<&Value> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("api_key"))
                .collect();
            if let [scopes] = scopes.as_slice() {
                let scope = scopes[0].as_str().unwrap();
                assert!(["users:read", "users:write", "audit:read"].contains(&scope));
                assert!(op["responses"].get("403").is_some(), "{method} {path}: 403");
                open.push(format!("{method} {path} {scope}"));
            } else {
                assert!(scopes.is_empty(), "{method} {path}");
            }
        }
    }
    open.sort();
    // Every route in the server's table is in the spec (no typo leaves one closed).
    assert_eq!(
        open.len(),
        backend::http::scopes::routes().count(),
        "{open:#?}"
    );
    for expected in [
        "get /api/v1/users users:read",
        "post /api/v1/users users:write",
        "delete /api/v1/users/{id} users:write",
        "get /api/v1/audit audit:read",
    ] {
        assert!(open.contains(&expected.to_owned()), "{expected}: {open:#?}");
    }
    assert!(
        !open
            .iter()
            .any(|o| o.contains("/auth/") || o.contains("/api-keys"))
    );
}

#[tokio::test]
async fn swagger_ui_is_served_at_docs() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let client = app.client();
    let res = client.get("/docs").await;
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/docs/");
    let res = client.get("/docs/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let init = client
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
}

fn committed_spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What client generators need: every JSON request body a plain object whose
/// `required` says what the server requires and whose properties carry no defaults
/// or union wrappers, and every operation a unique `operationId`.
#[test]
fn request_schemas_are_plain_objects_that_say_what_is_required() {
    let spec = committed_spec();
    let schemas = &spec["components"]["schemas"];
    let mut ids = std::collections::BTreeSet::new();
    let mut requests = std::collections::BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().expect("an operationId");
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: {id} is not unique"
            );
            let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            if let Some(name) = body.as_str() {
                requests.insert(name.trim_start_matches("#/components/schemas/").to_owned());
            }
        }
    }
    assert!(requests.len() >= 14, "{requests:?}");
    for name in &requests {
        let schema = &schemas[name];
        assert_eq!(schema["type"], "object", "{name}");
        for wrapper in ["allOf", "oneOf", "anyOf"] {
            assert!(schema.get(wrapper).is_none(), "{name}: {wrapper}");
        }
        for (field, property) in schema["properties"].as_object().unwrap() {
            assert!(property.get("default").is_none(), "{name}.{field}: default");
            assert!(property.get("oneOf").is_none(), "{name}.{field}: oneOf");
        }
    }
    let required = |name: &str| -> Vec<&str> {
        schemas[name]["required"]
            .as_array()
            .map(|r| r.iter().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default()
    };
    let account = [
        "email",
        "first_name",
        "last_name",
        "mobile",
        "password",
        "security_answer",
        "security_question",
        "username",
    ];
    assert_eq!(required("SignupRequest"), account);
    assert_eq!(required("CreateUserRequest"), account);
    let create = schemas["CreateUserRequest"]["properties"]
        .as_object()
        .unwrap();
    assert_eq!(create["role"]["$ref"], "#/components/schemas/Role");
    assert!(
        create["username"].get("example").is_some(),
        "examples on the main bodies"
    );
    assert!(required("UpdateUserRequest").is_empty());
    assert!(required("UpdateProfileRequest").is_empty());
    assert_eq!(required("LoginRequest"), ["password", "username"]);
    assert_eq!(required("ForgotPasswordRequest"), ["identifier"]);
    assert_eq!(required("BulkRequest"), ["action", "ids"]);
}
