//! Webhooks: every account change reaches a receiver on loopback, signed as the
//! Standard Webhooks spec says, once; failures are retried with backoff; a change
//! that did not happen sends nothing; private addresses need the setting.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{CreatedWebhook, DeliveryStatus, User, WebhookDelivery};

use harness::*;

async fn spawn(db: Backend, backoff: &[u64]) -> TestApp {
    let backoff: Vec<Duration> = backoff.iter().map(|s| Duration::from_secs(*s)).collect();
    TestApp::builder(db)
        .with(move |s| {
            s.webhooks.allow_private = true;
            s.webhooks.backoff = backoff;
            s.lockout.threshold = 3;
        })
        .spawn()
        .await
}

async fn register(admin: &Client, url: &str, events: &[&str]) -> CreatedWebhook {
    let res = admin
        .post(
            "/api/v1/webhooks",
            &json!({"url": url, "events": events, "description": "test"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    json(res).await
}

const ALL: &[&str] = &[
    "user.created",
    "user.updated",
    "user.deleted",
    "user.disabled",
    "user.enabled",
    "user.role_changed",
    "user.password_changed",
    "user.locked",
];

db_test!(every_account_change_arrives_signed_once, |db| async move {
    let app = spawn(db, &[1]).await;
    let (admin, _) = app.admin().await;
    let receiver = WebhookReceiver::start(0).await;
    let hook = register(&admin, &receiver.url, ALL).await;
    assert!(hook.secret.starts_with("whsec_"));

    let created: User = json(admin.create_user(&account("ann")).await).await;
    let id = created.id;
    admin.update_user(id, &json!({"last_name": "Lee"})).await;
    admin.update_user(id, &json!({"role": "admin"})).await;
    admin
        .update_user(id, &json!({"password": "a whole new passphrase 99"}))
        .await;
    admin.account_action(id, "disable").await;
    admin.account_action(id, "enable").await;
    for _ in 0..3 {
        app.client().login("ann", "wrong wrong wrong").await;
    }
    assert_eq!(admin.delete_user(id).await.status(), StatusCode::NO_CONTENT);

    let got = receiver.accepted(8).await;
    let types: Vec<String> = got
        .iter()
        .map(|r| r.event()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "user.created",
            "user.updated",
            "user.role_changed",
            "user.password_changed",
            "user.disabled",
            "user.enabled",
            "user.locked",
            "user.deleted"
        ]
    );
    for received in &got {
        assert!(received.signed_with(&hook.secret), "{received:?}");
        assert!(received.id.starts_with("msg_"));
        let event = received.event();
        assert_eq!(event["data"]["id"], json!(id));
        assert_eq!(event["data"]["username"], "ann");
        assert!(!received.body.contains("password_hash") && !received.body.contains(PASSWORD));
    }
    assert_eq!(got[1].event()["data"]["last_name"], "Lee");
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 8, "one message per change");
    // Nothing more comes, and the endpoint lists them as delivered.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.all().len(), 8);
    let path = format!("/api/v1/webhooks/{}/deliveries", hook.endpoint.id);
    let deliveries: Vec<WebhookDelivery> = json(admin.get(&path).await).await;
    assert_eq!(deliveries.len(), 8);
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Delivered && d.attempts == 1)
    );
});

db_test!(
    a_refused_change_sends_nothing_and_unsubscribed_events_are_not_sent,
    |db| async move {
        let app = spawn(db, &[1]).await;
        let (admin, me) = app.admin().await;
        let receiver = WebhookReceiver::start(0).await;
        register(
            &admin,
            &receiver.url,
            &["user.created", "user.role_changed"],
        )
        .await;
        let ann = account("ann");
        assert_eq!(admin.create_user(&ann).await.status(), StatusCode::CREATED);
        // Rolled back: a taken username, the last admin demoted.
        assert_eq!(admin.create_user(&ann).await.status(), StatusCode::CONFLICT);
        let res = admin.update_user(me.id, &json!({"role": "user"})).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        // Not subscribed to.
        let ann_id = admin.list_users_ok("?q=ann").await.items[0].id;
        admin
            .update_user(ann_id, &json!({"last_name": "Lee"}))
            .await;
        let got = receiver.accepted(1).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(receiver.all().len(), 1, "{:#?}", receiver.all());
        assert_eq!(got[0].event()["type"], "user.created");
    }
);

db_test!(
    failed_deliveries_are_retried_with_backoff_then_given_up_and_resent,
    |db| async move {
        let app = spawn(db, &[1, 2]).await;
        let (admin, _) = app.admin().await;
        // Refuses twice, then accepts: the third attempt gets through.
        let flaky = WebhookReceiver::start(2).await;
        let hook = register(&admin, &flaky.url, &["user.created"]).await;
        let started = std::time::Instant::now();
        admin.create_user(&account("ann")).await;
        let got = flaky.accepted(1).await;
        assert!(
            started.elapsed() >= Duration::from_secs(3),
            "waited 1 s, then 2 s"
        );
        let all = flaky.all();
        assert_eq!(all.len(), 3);
        assert!(
            all.iter().all(|r| r.id == got[0].id),
            "one webhook-id across attempts"
        );
        let path = format!("/api/v1/webhooks/{}/deliveries", hook.endpoint.id);
        let deliveries: Vec<WebhookDelivery> = json(admin.get(&path).await).await;
        assert_eq!(
            (deliveries[0].status, deliveries[0].attempts),
            (DeliveryStatus::Delivered, 3)
        );

        // Refusing more than the backoff allows: failed, with the reason; resent, delivered.
        let down = WebhookReceiver::start(3).await;
        let hook = register(&admin, &down.url, &["user.created"]).await;
        admin.create_user(&account("ben")).await;
        let path = format!("/api/v1/webhooks/{}/deliveries", hook.endpoint.id);
        let mut failed = None;
        for _ in 0..100 {
            let deliveries: Vec<WebhookDelivery> = json(admin.get(&path).await).await;
            if deliveries[0].status == DeliveryStatus::Failed {
                failed = Some(deliveries[0].clone());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let failed = failed.expect("the delivery fails after its retries");
        assert_eq!((failed.attempts, failed.last_status), (3, Some(503)));
        assert!(failed.last_error.unwrap().contains("503"));
        let resend = format!("{path}/{}/resend", failed.id);
        assert_eq!(
            admin.post(&resend, &json!({})).await.status(),
            StatusCode::ACCEPTED
        );
        let got = down.accepted(1).await;
        assert_eq!(got[0].id, failed.message_id);
        let unknown = format!("{path}/999999/resend");
        assert_eq!(
            admin.post(&unknown, &json!({})).await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

db_test!(
    receivers_on_private_addresses_need_the_setting,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        for url in [
            "http://127.0.0.1:9/hook",
            "https://10.0.0.8/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "ftp://example.com/hook",
        ] {
            let res = admin
                .post(
                    "/api/v1/webhooks",
                    &json!({"url": url, "events": ["user.created"]}),
                )
                .await;
            let (status, error) = error_of(res).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
            assert!(error["fields"]["url"].is_string(), "{url}: {error}");
        }
        let listed: Vec<Value> = json(admin.get("/api/v1/webhooks").await).await;
        assert!(listed.is_empty());
        // People only: API keys and plain users are refused.
        let (member, _) = app.member(&admin, "ann", "user").await;
        assert_eq!(
            member.get("/api/v1/webhooks").await.status(),
            StatusCode::FORBIDDEN
        );
    }
);

db_test!(three_instances_deliver_each_event_once, |db| async move {
    let apps = TestApp::spawn_together(db, 3, |s| {
        s.webhooks.allow_private = true;
    })
    .await;
    let (admin, _) = apps[0].admin().await;
    let receiver = WebhookReceiver::start(0).await;
    register(&admin, &receiver.url, &["user.created"]).await;
    // Changes through every instance; every instance's deliverer is looking.
    for (n, app) in apps.iter().cycle().take(9).enumerate() {
        let body = serde_json::to_value(account(&format!("user{n}"))).unwrap();
        let res = admin
            .http
            .post(format!("{}/api/v1/users", app.address))
            .header("Origin", &app.address)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let got = receiver.accepted(9).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut ids: Vec<String> = receiver.all().into_iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 9, "{got:#?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 9, "each event once");
});
