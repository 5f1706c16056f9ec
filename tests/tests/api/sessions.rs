//! Session control: your own sessions (list, end one, end the others, end the
//! current one) and an admin ending all of an account's.

use reqwest::StatusCode;
use serde_json::Value;
use shared::{SessionKind, User};

use harness::*;

db_test!(users_see_and_end_their_own_sessions, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (laptop, bob) = app.member(&admin, "bob", "user").await;
    let phone = app.client();
    phone.login_ok("bob", PASSWORD).await;
    let token = app.client().token("bob", PASSWORD).await;
    let script = app.client().with_bearer(&token);

    let listed = laptop.sessions_ok().await;
    assert_eq!(listed.len(), 3);
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    assert_eq!(
        listed
            .iter()
            .filter(|s| s.kind == SessionKind::Bearer)
            .count(),
        1
    );
    assert!(listed.iter().all(|s| s.ip.as_deref() == Some("127.0.0.1")));
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains(&token), "the list never shows a token");

    // End the phone's session from the laptop.
    let phone_id = phone
        .sessions_ok()
        .await
        .into_iter()
        .find(|s| s.current)
        .unwrap()
        .id;
    let res = laptop
        .delete(&format!("/api/v1/auth/sessions/{phone_id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(phone.me().await.status(), StatusCode::UNAUTHORIZED);
    let res = laptop
        .delete(&format!("/api/v1/auth/sessions/{phone_id}"))
        .await;
    assert_eq!(error_of(res).await.0, StatusCode::NOT_FOUND, "already gone");

    // Someone else's session is not found.
    let admin_session = admin.sessions_ok().await[0].id.clone();
    let res = laptop
        .delete(&format!("/api/v1/auth/sessions/{admin_session}"))
        .await;
    assert_eq!(error_of(res).await.0, StatusCode::NOT_FOUND);
    assert_eq!(admin.me().await.status(), StatusCode::OK);

    // End all others: the token dies, the laptop stays.
    let revoked: Value = json(laptop.delete("/api/v1/auth/sessions/others").await).await;
    assert_eq!(revoked["revoked"], 1);
    assert_eq!(script.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.me().await.status(), StatusCode::OK);

    // Ending the current session is a logout.
    let mine = laptop.sessions_ok().await[0].id.clone();
    let res = laptop
        .delete(&format!("/api/v1/auth/sessions/{mine}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(session_set_cookie(&res).is_some_and(|c| c.contains("Max-Age=0")));
    assert_eq!(laptop.me().await.status(), StatusCode::UNAUTHORIZED);

    let revoked = audit_events(&admin, &format!("action=session_revoked&target={}", bob.id)).await;
    assert_eq!(revoked.len(), 3);
});

db_test!(admins_end_all_sessions_of_an_account, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (bob, bob_user) = app.member(&admin, "bob", "user").await;
    let token = app.client().token("bob", PASSWORD).await;
    let path = format!("/api/v1/users/{}/sessions", bob_user.id);

    let (status, _) = error_of(bob.delete(&path).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "users cannot");
    let revoked: Value = json(admin.delete(&path).await).await;
    assert_eq!(revoked["revoked"], 2);
    assert_eq!(bob.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.client().with_bearer(&token).me().await.status(),
        StatusCode::UNAUTHORIZED
    );
    let user: User = json(admin.get(&format!("/api/v1/users/{}", bob_user.id)).await).await;
    assert_eq!(user.disabled_at, None, "the account itself stays usable");
    app.client().login_ok("bob", PASSWORD).await;
});
