//! `POST /api/v1/users/bulk`: one action for several accounts, each handled as its own
//! call would be, each with its own outcome.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{BulkResponse, Role};

use harness::*;

async fn bulk(admin: &Client, body: Value) -> BulkResponse {
    let res = admin.post("/api/v1/users/bulk", &body).await;
    assert_eq!(res.status(), StatusCode::OK, "{body}");
    json(res).await
}

db_test!(
    several_accounts_change_at_once_and_each_says_how_it_went,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, me) = app.admin().await;
        let mut ids = Vec::new();
        for name in ["ann", "ben", "cat"] {
            ids.push(app.member(&admin, name, "user").await.1.id);
        }
        let ben_client = app.client();
        ben_client.login_ok("ben", PASSWORD).await;

        // Disabling yourself is refused; the others are disabled, and their sessions end.
        let mut asked = ids.clone();
        asked.push(me.id);
        let answer = bulk(&admin, json!({"action": "disable", "ids": asked})).await;
        assert_eq!((answer.done, answer.failed), (3, 1));
        let refused = &answer.results[3];
        assert_eq!((refused.id, refused.ok), (me.id, false));
        assert_eq!(refused.error.as_ref().unwrap().code, "conflict");
        for id in &ids {
            assert!(admin.user_ok(*id).await.disabled_at.is_some());
        }
        assert_eq!(ben_client.me().await.status(), StatusCode::UNAUTHORIZED);

        let answer = bulk(&admin, json!({"action": "enable", "ids": ids})).await;
        assert_eq!(answer.done, 3);
        assert!(admin.user_ok(ids[0]).await.disabled_at.is_none());

        let answer = bulk(
            &admin,
            json!({"action": "set_role", "role": "admin", "ids": &ids[..2]}),
        )
        .await;
        assert_eq!(answer.done, 2);
        assert_eq!(admin.user_ok(ids[1]).await.role, Role::Admin);
        assert_eq!(admin.user_ok(ids[2]).await.role, Role::User);

        // Unknown ids are each a 404 of their own; the rest go.
        let answer = bulk(
            &admin,
            json!({"action": "delete", "ids": [ids[2], 999_999]}),
        )
        .await;
        assert_eq!((answer.done, answer.failed), (1, 1));
        assert_eq!(answer.results[1].error.as_ref().unwrap().code, "not_found");
        assert_eq!(admin.get_user(ids[2]).await.status(), StatusCode::NOT_FOUND);

        // Each account has its own event, as if done one by one.
        let trail: Value = json(admin.get("/api/v1/audit?action=user_disabled").await).await;
        assert_eq!(trail["items"].as_array().unwrap().len(), 3);
        let trail: Value = json(admin.get("/api/v1/audit?action=role_changed").await).await;
        assert_eq!(trail["items"].as_array().unwrap().len(), 2);
    }
);

db_test!(
    a_bulk_request_is_checked_before_anything_changes,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (member, ann) = app.member(&admin, "ann", "user").await;
        let too_many: Vec<i32> = (1..=101).collect();
        for (body, field) in [
            (json!({"action": "disable", "ids": []}), "ids"),
            (json!({"action": "disable", "ids": too_many}), "ids"),
            (json!({"action": "disable", "ids": [ann.id, ann.id]}), "ids"),
            (json!({"action": "set_role", "ids": [ann.id]}), "role"),
            (
                json!({"action": "delete", "role": "admin", "ids": [ann.id]}),
                "role",
            ),
        ] {
            let res = admin.post("/api/v1/users/bulk", &body).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
            let error: Value = json(res).await;
            assert!(
                error["error"]["fields"][field].is_string(),
                "{body}: {error}"
            );
        }
        let res = admin
            .post(
                "/api/v1/users/bulk",
                &json!({"action": "explode", "ids": [ann.id]}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = member
            .post(
                "/api/v1/users/bulk",
                &json!({"action": "delete", "ids": [ann.id]}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(admin.user_ok(ann.id).await.disabled_at.is_none());
    }
);
