//! The audit trail and session control.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{AuditAction, SessionInfo, User};

use crate::db_test;
use crate::helpers::*;
use crate::recovery::{ANSWER, NEW_PASSWORD, flow_token, mailed_code, reset, reset_token};

const WRONG: &str = "not the password at all";

db_test!(
    every_event_is_recorded_and_visible_to_admins,
    |db| async move {
        let app = TestApp::spawn_with(db, |s| s.lockout.threshold = 2).await;
        let (admin, admin_user) = app.admin().await;
        let (bob, bob_user) = app.member(&admin, "bob", "user").await;
        let bob_path = format!("/api/v1/users/{}", bob_user.id);

        // Profile change and role changes by the admin.
        admin.put(&bob_path, &json!({"first_name": "Robert"})).await;
        admin.put(&bob_path, &json!({"role": "admin"})).await;
        admin.put(&bob_path, &json!({"role": "user"})).await;
        // Bob's own doings (the role changes ended his session): log in, change the
        // password, end another session, log out.
        bob.login_ok("bob", PASSWORD).await;
        let res = bob
            .post(
                "/api/v1/auth/password",
                &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let other = app.client();
        other.login_ok("bob", NEW_PASSWORD).await;
        let res = bob.delete("/api/v1/auth/sessions/others").await;
        assert_eq!(res.status(), StatusCode::OK);
        bob.logout().await;
        // Failures, a lockout and the unlock.
        app.client().login("nobody", WRONG).await;
        app.client().login("bob", WRONG).await;
        app.client().login("bob", WRONG).await;
        admin.post(&format!("{bob_path}/unlock"), &json!({})).await;
        // Recovery, start to end.
        let code = mailed_code(&app, &app.client(), &bob_user.email, 2)
            .await
            .code();
        let client = app.client();
        let flow = flow_token(&client, &bob_user.email, &code).await;
        let token = reset_token(&client, &flow).await;
        assert_eq!(
            reset(&client, &token, "quiet meadow lantern 904")
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        // Disable, enable, delete.
        admin.post(&format!("{bob_path}/disable"), &json!({})).await;
        admin.post(&format!("{bob_path}/enable"), &json!({})).await;
        let res = admin.delete(&bob_path).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);

        let everything = eventually(|| async {
            let events = audit_events(&admin, "").await;
            let recorded = events.iter().any(|e| e["action"] == "recovery_requested");
            if recorded { events } else { Vec::new() }
        })
        .await;
        for action in AuditAction::ALL {
            assert!(
                everything.iter().any(|e| e["action"] == action.as_str()),
                "no {action} event in {everything:#?}"
            );
        }
        let text = serde_json::to_string(&everything).unwrap();
        for secret in [PASSWORD, NEW_PASSWORD, "quiet meadow", ANSWER, &code] {
            assert!(!text.contains(secret), "the trail holds a secret: {secret}");
        }

        // Who did what to whom.
        let role_changes = audit_events(&admin, "action=role_changed").await;
        assert_eq!(role_changes.len(), 2);
        assert_eq!(
            role_changes[0]["detail"],
            json!({"from": "admin", "to": "user"})
        );
        assert_eq!(role_changes[0]["actor_id"], admin_user.id);
        assert_eq!(role_changes[0]["target"], "bob");
        let updated = audit_events(&admin, "action=user_updated&actor=admin").await;
        assert_eq!(updated[0]["detail"], json!({"fields": ["first_name"]}));
        let failed = audit_events(&admin, "action=login").await;
        let unknown = failed
            .iter()
            .find(|e| e["detail"]["reason"] == "unknown_user")
            .expect("the unknown user's attempt");
        assert_eq!(unknown["actor"], "nobody");
        assert_eq!(unknown["outcome"], "failure");
        assert_eq!(unknown["ip"], "127.0.0.1");

        // The deleted account's timeline survives, by id and by name.
        let timeline = audit_events(&admin, &format!("target={}", bob_user.id)).await;
        assert_eq!(timeline, audit_events(&admin, "target=bob").await);
        assert!(timeline.len() >= 15, "{}", timeline.len());
        let newest_first = timeline.windows(2).all(|w| {
            (w[0]["at"].as_str(), w[0]["id"].as_i64()) >= (w[1]["at"].as_str(), w[1]["id"].as_i64())
        });
        assert!(newest_first);
        assert_eq!(timeline[0]["action"], "user_deleted");
    }
);

db_test!(audit_filters_and_access, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (member, _) = app.member(&admin, "bob", "user").await;

    let (status, _) = error_of(member.get("/api/v1/audit").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = error_of(app.client().get("/api/v1/audit").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let today = Utc::now().date_naive();
    let tomorrow = today + Duration::days(1);
    assert!(
        !audit_events(&admin, &format!("from={today}&to={today}"))
            .await
            .is_empty()
    );
    assert!(
        audit_events(&admin, &format!("from={tomorrow}"))
            .await
            .is_empty()
    );
    let page: Value = json(admin.get("/api/v1/audit?per_page=1&page=2").await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["total"].as_u64().unwrap() >= 4);

    let (status, error) = error_of(
        admin
            .get("/api/v1/audit?action=dance&from=yesterday&per_page=1000")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields = error["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("action")
            && fields.contains_key("from")
            && fields.contains_key("per_page")
    );
});

async fn sessions(client: &Client) -> Vec<SessionInfo> {
    json(client.get("/api/v1/auth/sessions").await).await
}

db_test!(users_see_and_end_their_own_sessions, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (laptop, bob) = app.member(&admin, "bob", "user").await;
    let phone = app.client();
    phone.login_ok("bob", PASSWORD).await;
    let token = app.client().token("bob", PASSWORD).await;
    let script = app.client().with_bearer(&token);

    let listed = sessions(&laptop).await;
    assert_eq!(listed.len(), 3);
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    assert_eq!(listed.iter().filter(|s| s.kind == "bearer").count(), 1);
    assert!(listed.iter().all(|s| s.ip.as_deref() == Some("127.0.0.1")));
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains(&token), "the list never shows a token");

    // End the phone's session from the laptop.
    let phone_id = sessions(&phone)
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
    let admin_session = sessions(&admin).await[0].id.clone();
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
    let mine = sessions(&laptop).await[0].id.clone();
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
