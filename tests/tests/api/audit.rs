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
            .with(|s| {
                s.lockout.threshold = 2;
                s.webhooks.allow_private = true;
            })
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
        const RECOVERED: &str = "quiet meadow lantern 904";
        let code = app.mailed_code(&app.client(), new_email, 1).await.code();
        let client = app.client();
        let flow = client.flow_token_ok(new_email, &code).await;
        let token = client.reset_token_ok(&flow).await;
        assert_eq!(
            client.reset(&token, RECOVERED).await.status(),
            StatusCode::NO_CONTENT
        );
        // A picture, set and removed; the list exported.
        let res = admin
            .request(reqwest::Method::PUT, &format!("{bob_path}/avatar"))
            .header(reqwest::header::CONTENT_TYPE, "image/png")
            .body(crate::avatars::picture(32, 32, image::ImageFormat::Png))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = admin.delete(&format!("{bob_path}/avatar")).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = admin.get("/api/v1/users/export.csv").await;
        assert_eq!(res.status(), StatusCode::OK);
        // An API key made and revoked, a webhook registered and removed, an import.
        let key: Value = json(
            admin
                .post(
                    "/api/v1/api-keys",
                    &json!({"name": "sync", "scopes": ["users:read"], "current_password": PASSWORD}),
                )
                .await,
        )
        .await;
        let res = admin
            .delete(&format!("/api/v1/api-keys/{}", key["key"]["id"]))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let hook: Value = json(
            admin
                .post(
                    "/api/v1/webhooks",
                    &json!({"url": "http://127.0.0.1:9/hook", "events": ["user.created"]}),
                )
                .await,
        )
        .await;
        let res = admin
            .delete(&format!("/api/v1/webhooks/{}", hook["endpoint"]["id"]))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = admin
            .request(reqwest::Method::POST, "/api/v1/users/import")
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(
                "username,email,first_name,last_name,mobile,role
",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // Two-factor sign-in: on, a recovery code at login, new codes, off, on again
        // and an admin's reset.
        bob.login_ok("bob", RECOVERED).await;
        let step = fresh_step().await;
        let (totp, codes) = bob.enrol_totp(RECOVERED, step).await;
        let res = app.client().login("bob", RECOVERED).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let challenge: Value = json(res).await;
        let res = app
            .client()
            .post(
                "/api/v1/auth/mfa/verify",
                &json!({"mfa_token": challenge["mfa_token"], "recovery_code": codes[0]}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let renew = json!({"current_password": RECOVERED});
        let res = bob.post("/api/v1/auth/mfa/recovery-codes", &renew).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = bob
            .request(reqwest::Method::DELETE, "/api/v1/auth/mfa/totp")
            .json(&json!({"current_password": RECOVERED, "code": totp.code(step, 1)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        bob.enrol_totp(RECOVERED, step).await;
        // A passkey, added and removed.
        let options: Value = json(
            bob.post("/api/v1/auth/passkeys/register/start", &json!({}))
                .await,
        )
        .await;
        let mut key = SoftPasskey::new(&app.address.replace("127.0.0.1", "localhost"));
        let res = bob
            .post(
                "/api/v1/auth/passkeys/register/finish",
                &key.register(&options),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let made: shared::NewPasskey = json(res).await;
        let res = bob
            .delete(&format!("/api/v1/auth/passkeys/{}", made.passkey.id))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = admin.delete(&format!("{bob_path}/mfa")).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
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

/// Writes `n` events straight into the trail (the API would take minutes): one in
/// `one_in` is bulk's login on the first of November, the first half of them at one
/// instant and the rest at the next (so pages cut through runs of equal times), and
/// the others are other people's logouts a month earlier.
async fn seed_events(
    app: &TestApp,
    db: Backend,
    n: u32,
    one_in: u32,
) -> sea_orm::DatabaseConnection {
    // Each database's own spelling of a stored time (sqlx writes RFC 3339 on SQLite)
    // and of a name made of a number.
    let (early, late, october, name) = match db {
        Backend::Mysql => (
            "2026-11-01 10:00:00",
            "2026-11-01 10:00:01",
            "2026-10-01 10:00:00",
            "CONCAT('user', i % 997)",
        ),
        Backend::Sqlite => (
            "2026-11-01T10:00:00+00:00",
            "2026-11-01T10:00:01+00:00",
            "2026-10-01T10:00:00+00:00",
            "'user' || (i % 997)",
        ),
    };
    let insert = format!(
        "INSERT INTO audit_events (at, actor_name, action, target_name, outcome, repeats) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         SELECT CASE WHEN i % {one_in} <> 0 THEN '{october}' \
                     WHEN i * 2 <= {n} THEN '{early}' ELSE '{late}' END, \
         CASE WHEN i % {one_in} = 0 THEN 'bulk' ELSE {name} END, \
         CASE WHEN i % {one_in} = 0 THEN 'login' ELSE 'logout' END, \
         CASE WHEN i % {one_in} = 0 THEN 'bulk' ELSE {name} END, \
         'success', 1 FROM n"
    );
    bulk_insert(app, db, "audit_events", &insert).await
}

db_test!(
    the_trail_pages_by_cursor_past_ten_thousand_events,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let _database = seed_events(&app, db, 10_050, 1).await;
        let page_of = |query: String| {
            let admin = admin.clone();
            async move {
                json::<shared::AuditPage>(admin.get(&format!("/api/v1/audit?{query}")).await).await
            }
        };
        let first = page_of("target=bulk&per_page=100".into()).await;
        assert_eq!(
            (first.total, first.total_exact),
            (10_000, false),
            "a capped count"
        );
        assert!(first.prev.is_none());
        // Walk every page by its `next` cursor: each event once, newest first (ids
        // break the ties of equal times).
        let mut seen = Vec::new();
        let mut page = first;
        let mut pages = Vec::new();
        loop {
            assert!(page.items.len() <= 100);
            seen.extend(page.items.iter().map(|e| (e.at, e.id)));
            pages.push(page.clone());
            let Some(next) = page.next.clone() else { break };
            page = page_of(format!("target=bulk&per_page=100&cursor={next}")).await;
            assert_eq!(page.page, pages.len() as u64 + 1);
        }
        assert_eq!(seen.len(), 10_050, "every event once");
        assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "newest first, no repeats"
        );
        assert_eq!(pages.len(), 101);
        // Back from the last page by `prev`: the same pages.
        let last = pages.last().unwrap();
        let back = page_of(format!(
            "target=bulk&per_page=100&cursor={}",
            last.prev.clone().unwrap()
        ))
        .await;
        assert_eq!(back.items, pages[99].items);
        assert_eq!(back.page, 100);
        assert!(back.next.is_some());
        // Page numbers work within the first 10,000 events, and say where to go past.
        let numbered = page_of("target=bulk&per_page=100&page=100".into()).await;
        assert_eq!(numbered.items, pages[99].items);
        let (status, error) = error_of(
            admin
                .get("/api/v1/audit?target=bulk&per_page=100&page=101")
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            error["fields"]["page"].as_str().unwrap().contains("`next`"),
            "{error}"
        );
        let (status, _) = error_of(admin.get("/api/v1/audit?cursor=n2~1~username~61").await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a cursor of the user list");
        // A short trail is counted exactly.
        let mine = page_of("target=admin".into()).await;
        assert!(mine.total_exact && mine.total >= 1 && mine.next.is_none());
    }
);

db_test!(every_trail_query_is_served_by_an_index, |db| async move {
    use sea_orm::{DbBackend, QueryTrait};
    let app = TestApp::spawn(db).await;
    // The filters below are selective, as in a real trail: a filter matching every
    // row would leave the planner free to prefer a scan, and the plan would prove
    // nothing.
    let database = seed_events(&app, db, 10_050, 50).await;
    let backend = match db {
        Backend::Mysql => DbBackend::MySql,
        Backend::Sqlite => DbBackend::Sqlite,
    };
    let edge = shared::Cursor {
        before: false,
        page: 2,
        sort: shared::AuditFilter::SORT.into(),
        value: Some("2026-11-01T10:00:00Z".into()),
        id: 900,
    };
    let queries = [
        vec![],
        vec![("action", "login".to_owned())],
        vec![("target", "bulk".to_owned())],
        vec![("actor", "bulk".to_owned())],
        vec![
            ("from", "2026-11-01".to_owned()),
            ("to", "2026-11-02".to_owned()),
        ],
        vec![("cursor", edge.encode())],
        vec![
            ("target", "bulk".to_owned()),
            (
                "cursor",
                shared::Cursor {
                    before: true,
                    ..edge.clone()
                }
                .encode(),
            ),
        ],
    ];
    for pairs in queries {
        let mut query = shared::AuditQuery::default();
        for (key, value) in &pairs {
            let value = Some(value.clone());
            match *key {
                "action" => query.action = value,
                "target" => query.target = value,
                "actor" => query.actor = value,
                "from" => query.from = value,
                "to" => query.to = value,
                _ => query.cursor = value,
            }
        }
        let filter = query.validate().unwrap();
        let (page, count) = backend::audit::list_queries(&filter);
        let mut statements = vec![("page", page.build(backend).to_string())];
        // Unfiltered, the count reads the first 10,001 ids whatever plan it gets; a
        // filter's count must read only its matches.
        if pairs.iter().any(|(key, _)| *key != "cursor") {
            statements.push(("count", backend.build(&count).to_string()));
        }
        for (what, sql) in statements {
            let plan = query_plan(&database, db, &sql).await;
            let context = format!("{pairs:?} {what}: {plan:#?}\n{sql}");
            for line in plan.iter().filter(|l| l.contains("audit_events")) {
                let indexed = match db {
                    Backend::Mysql => !line.contains("key=None") && !line.contains("filesort"),
                    Backend::Sqlite => line.contains("USING") && !line.contains("TEMP B-TREE"),
                };
                assert!(indexed, "read whole or sorted: {context}");
            }
        }
    }
});
