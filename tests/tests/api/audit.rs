//! The audit trail and session control.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::AuditAction;

use crate::recovery::NEW_PASSWORD;
use harness::*;

const WRONG: &str = "not the password at all";

db_test!(
    every_event_is_recorded_and_visible_to_admins,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout.threshold = 2)
            .spawn()
            .await;
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
        let res = bob.change_password(PASSWORD, NEW_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let other = app.client();
        other.login_ok("bob", NEW_PASSWORD).await;
        let res = bob.delete("/api/v1/auth/sessions/others").await;
        assert_eq!(res.status(), StatusCode::OK);
        // A new address, asked for with the password and then verified.
        let new_email = "robert@example.org";
        let change = json!({"email": new_email, "current_password": NEW_PASSWORD});
        assert_eq!(bob.update_me(&change).await.status(), StatusCode::OK);
        let email_code = app.email_code(new_email).await;
        assert_eq!(bob.verify_email(&email_code).await.status(), StatusCode::OK);
        bob.logout().await;
        // An invitation, sent and withdrawn.
        let invited: Value = json(
            admin
                .post(
                    "/api/v1/invitations",
                    &json!({"email": "grace@example.com"}),
                )
                .await,
        )
        .await;
        let res = admin
            .delete(&format!("/api/v1/invitations/{}", invited["id"]))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        // Failures, a lockout and the unlock.
        app.client().login("nobody", WRONG).await;
        app.client().login("bob", WRONG).await;
        app.client().login("bob", WRONG).await;
        admin.post(&format!("{bob_path}/unlock"), &json!({})).await;
        // Recovery, start to end.
        let code = app.mailed_code(&app.client(), new_email, 1).await.code();
        let client = app.client();
        let flow = client.flow_token_ok(new_email, &code).await;
        let token = client.reset_token_ok(&flow).await;
        assert_eq!(
            client
                .reset(&token, "quiet meadow lantern 904")
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
        for secret in [
            PASSWORD,
            NEW_PASSWORD,
            "quiet meadow",
            ANSWER,
            &code,
            &email_code,
        ] {
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
        assert!(
            unknown["actor"].as_str().unwrap().starts_with("unknown #"),
            "an unknown name is recorded as a mark, never as typed: {unknown}"
        );
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
