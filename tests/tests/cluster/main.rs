//! A deployment that outgrew one machine: a real 3-node MariaDB Galera cluster, one
//! app instance on each node (started at the same moment on the fresh database) and
//! HAProxy in front. One test, because the cluster takes a while to start; each
//! step is a function named after the guarantee it checks.
//!
//! `cargo xtask cluster` runs it alone; `cargo xtask test` runs it after the rest.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use backend::config::Settings;
use futures::future::join_all;
use harness::galera::{Galera, Haproxy, NODES};
use harness::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::{Role, User};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn galera_cluster_keeps_every_guarantee_across_nodes() {
    let mut galera = tokio::task::block_in_place(Galera::start);
    let servers: Vec<String> = (1..=NODES).map(Galera::server_url).collect();
    // The three migrate at the same moment: one runs the migrations, the others wait
    // for it (a start that ran them twice fails on a duplicate index).
    let apps = TestApp::spawn_on(&servers, cluster_settings).await;
    let backends: Vec<String> = apps
        .iter()
        .map(|app| app.address.trim_start_matches("http://").to_owned())
        .collect();
    let proxy = Haproxy::start(&backends);

    let admin = first_signups_through_every_node_make_exactly_one_admin(&apps).await;
    a_session_made_on_one_instance_works_on_all_and_logout_ends_it_everywhere(&apps, &admin).await;
    a_node_that_lags_behind_still_refuses_a_session_logged_out_elsewhere(&galera, &apps).await;
    a_lockout_holds_on_every_instance(&apps, &admin).await;
    parallel_signups_of_one_username_through_every_node_give_exactly_one_201(&proxy).await;
    parallel_edits_of_one_account_never_fail_with_500(&proxy).await;
    let receiver = WebhookReceiver::start(0).await;
    each_webhook_event_is_sent_by_exactly_one_instance(&apps, &admin, &receiver).await;
    let created =
        stopping_a_node_under_load_loses_no_acknowledged_write(&mut galera, &apps, &proxy, &admin)
            .await;
    every_acknowledged_account_reaches_the_webhook_once(&receiver, &created).await;
}

/// The proxy's origin is allowed on every instance, as `ALLOWED_ORIGINS` would list a
/// balancer's public name (the harness already raises the rate limits for tests).
fn cluster_settings(settings: &mut Settings) {
    settings.webhooks.allow_private = true; // the receiver is on loopback
    settings
        .http
        .allowed_origins
        .push(format!("http://127.0.0.1:{}", Haproxy::PORT));
}

/// The admin, logged in on the instance it signed up through, and its account.
struct Admin {
    client: Client,
    instance: usize,
    username: String,
}

/// One first signup through each instance at the same moment: every one is
/// admitted (a lost race for the first-admin claim is retried, not refused), and
/// exactly one becomes the admin.
async fn first_signups_through_every_node_make_exactly_one_admin(apps: &[TestApp]) -> Admin {
    let names: Vec<String> = (1..=NODES).map(|i| format!("first{i}")).collect();
    let signups = apps.iter().zip(&names).map(|(app, name)| async move {
        let res = app.client().signup(&account(name)).await;
        let status = res.status();
        (status, res.text().await.unwrap())
    });
    let answers = join_all(signups).await;
    let users: Vec<User> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CREATED, "first signups: {answers:?}");
            serde_json::from_str(body).unwrap()
        })
        .collect();
    let admins: Vec<usize> = (0..NODES)
        .filter(|&i| users[i].role == Role::Admin)
        .collect();
    assert_eq!(admins.len(), 1, "exactly one first admin: {users:?}");
    let instance = admins[0];
    let client = apps[instance].client();
    client.login_ok(&names[instance], PASSWORD).await;
    apps[instance].verify_email(&client, &users[instance]).await;
    Admin {
        client,
        instance,
        username: names[instance].clone(),
    }
}

async fn a_session_made_on_one_instance_works_on_all_and_logout_ends_it_everywhere(
    apps: &[TestApp],
    admin: &Admin,
) {
    apps[admin.instance]
        .member(&admin.client, "grace", "user")
        .await;
    // Each round logs in on one instance, logs out on the next and asks the third
    // straight away: a node that served a read older than the logout would accept.
    for round in 0..3 * NODES {
        let (login, logout, probe) = (round % NODES, (round + 1) % NODES, (round + 2) % NODES);
        let res = apps[login].client().login("grace", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = cookie_pair(&session_set_cookie(&res).expect("a session cookie"));
        for (i, app) in apps.iter().enumerate() {
            assert_eq!(
                app.me_with_cookie(&cookie).await,
                StatusCode::OK,
                "a session made on instance {login} on instance {i}"
            );
        }
        let out = apps[logout].logout_with_cookie(&cookie).await;
        assert!(out.is_success(), "logout: {out}");
        assert_eq!(
            apps[probe].me_with_cookie(&cookie).await,
            StatusCode::UNAUTHORIZED,
            "round {round}: a session logged out on instance {logout}, straight away on {probe}"
        );
        for app in apps {
            assert_eq!(app.me_with_cookie(&cookie).await, StatusCode::UNAUTHORIZED);
        }
    }
}

/// Node 3 stops applying the cluster's writes for a moment (`FLUSH TABLES WITH READ
/// LOCK` pauses its replication) while grace logs out through node 1: its instance,
/// asked straight away, still refuses the session, because each read first waits
/// for the node to catch up with what the cluster acknowledged.
async fn a_node_that_lags_behind_still_refuses_a_session_logged_out_elsewhere(
    galera: &Galera,
    apps: &[TestApp],
) {
    let res = apps[0].client().login("grace", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = cookie_pair(&session_set_cookie(&res).expect("a session cookie"));
    assert_eq!(apps[2].me_with_cookie(&cookie).await, StatusCode::OK);
    std::thread::scope(|scope| {
        let pause = scope.spawn(|| {
            galera.sql(
                3,
                "FLUSH TABLES WITH READ LOCK; SELECT SLEEP(2); UNLOCK TABLES;",
            )
        });
        let started = Instant::now();
        while galera.status(3, "wsrep_local_state_comment").as_deref() == Some("Synced") {
            assert!(started.elapsed() < Duration::from_secs(5), "node 3 pauses");
            std::thread::sleep(Duration::from_millis(20));
        }
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                let out = apps[0].logout_with_cookie(&cookie).await;
                assert!(out.is_success(), "logout: {out}");
                assert_eq!(
                    apps[2].me_with_cookie(&cookie).await,
                    StatusCode::UNAUTHORIZED,
                    "a session logged out on node 1, on paused node 3"
                );
            });
        });
        pause.join().unwrap();
    });
}

/// Failed logins spread over the instances add up to one lockout, which then
/// refuses the right password on every instance.
async fn a_lockout_holds_on_every_instance(apps: &[TestApp], admin: &Admin) {
    apps[admin.instance]
        .member(&admin.client, "hopper", "user")
        .await;
    let threshold = 10; // the default LOCKOUT_THRESHOLD
    for attempt in 0..threshold {
        let res = apps[attempt % NODES]
            .client()
            .login("hopper", "not the password at all")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    for (i, app) in apps.iter().enumerate() {
        assert_eq!(
            app.client().login("hopper", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED,
            "the locked account with its right password on instance {i}"
        );
    }
}

/// 20 signups of one username at the same moment, spread by HAProxy over the three
/// instances and so the three nodes.
async fn parallel_signups_of_one_username_through_every_node_give_exactly_one_201(proxy: &Haproxy) {
    // Instance 3 was out of rotation while its node paused, one step before.
    proxy.wait_until_all_serve().await;
    let signups = (0..20).map(|i| async move {
        let mut body = account("ada");
        body.email = format!("ada{i}@example.com");
        let res = proxy.client().signup(&body).await;
        (
            res.status(),
            res.headers()
                .get("x-backend")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        )
    });
    let answers = join_all(signups).await;
    eprintln!(
        "20 signups of one username: {}",
        tally(answers.iter().map(|(s, _)| *s))
    );
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    let instances: HashSet<&str> = answers.iter().map(|(_, app)| app.as_str()).collect();
    assert_eq!(
        instances.len(),
        NODES,
        "answers came from every instance: {answers:?}"
    );
    for (status, _) in &answers {
        assert!(
            matches!(
                *status,
                StatusCode::CREATED | StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE
            ),
            "a duplicate signup is a 409 (or a 503 to retry): {answers:?}"
        );
    }
}

/// 30 edits of one account at the same moment through the three nodes: Galera's
/// certification conflicts are retried, and what cannot be becomes a 503 with
/// `Retry-After`, never a 500. The stored value is one that was acknowledged.
async fn parallel_edits_of_one_account_never_fail_with_500(proxy: &Haproxy) {
    let editor = proxy.client();
    editor.signup_ok(&account("lovelace")).await;
    editor.login_ok("lovelace", PASSWORD).await;
    let edits = (0..30).map(|i| {
        let editor = editor.clone();
        async move {
            let name = format!("Ada{i}");
            let res = editor.update_me(&json!({"first_name": name})).await;
            let retry_after = res.headers().contains_key("retry-after");
            (res.status(), retry_after, name)
        }
    });
    let answers = join_all(edits).await;
    eprintln!(
        "30 edits of one account: {}",
        tally(answers.iter().map(|(s, ..)| *s))
    );
    let mut acknowledged = HashSet::new();
    for (status, retry_after, name) in &answers {
        match *status {
            StatusCode::OK => {
                acknowledged.insert(name.clone());
            }
            StatusCode::SERVICE_UNAVAILABLE => assert!(retry_after, "503 without Retry-After"),
            other => panic!("an edit answered {other}: {answers:?}"),
        }
    }
    assert!(!acknowledged.is_empty(), "some edits succeed: {answers:?}");
    let me: User = json(editor.me().await).await;
    assert!(
        acknowledged.contains(&me.first_name),
        "{} was never acknowledged",
        me.first_name
    );
}

/// One node is stopped while an admin creates accounts and reads its session through
/// HAProxy: every answer meanwhile is a success or a fast 503, every acknowledged
/// account is on every node afterwards, and the node rejoins and serves again.
async fn stopping_a_node_under_load_loses_no_acknowledged_write(
    galera: &mut Galera,
    apps: &[TestApp],
    proxy: &Haproxy,
    admin: &Admin,
) -> Vec<String> {
    const STOPPED: usize = 2; // node 2, under instance apps[1]
    let client = proxy.client();
    client.login_ok(&admin.username, PASSWORD).await;
    let load = Load::start(&client);
    tokio::time::sleep(Duration::from_secs(2)).await;
    tokio::task::block_in_place(|| galera.stop_node(STOPPED));
    let stopped_at = load.started.elapsed();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let answers = load.finish().await;
    let slowest_503 = answers
        .iter()
        .filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE)
        .map(|a| a.took)
        .max();
    eprintln!(
        "under load, node {STOPPED} stopped at {stopped_at:?}: {}; slowest 503 {slowest_503:?}",
        tally(answers.iter().map(|a| a.status))
    );

    for answer in &answers {
        match answer.status {
            s if s.is_success() => {}
            StatusCode::SERVICE_UNAVAILABLE => assert!(
                answer.took <= Duration::from_secs(2),
                "a 503 took {:?}",
                answer.took
            ),
            other => panic!("{other} under load while a node stopped: {answer:?}"),
        }
    }
    let created: Vec<&str> = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .map(|a| a.name.as_str())
        .collect();
    assert!(
        answers
            .iter()
            .any(|a| a.status == StatusCode::CREATED && a.at > stopped_at),
        "accounts are still created once the node is down: {answers:?}"
    );

    tokio::task::block_in_place(|| galera.start_node(STOPPED));
    every_node_holds(galera, &apps[0], &created);
    the_instance_serves_again(&apps[STOPPED - 1], &client, STOPPED).await;
    created.into_iter().map(str::to_owned).collect()
}

/// A webhook for `user.created` and nine accounts created through the three
/// instances: every instance's deliverer races for each event on its own node, and
/// the claim (a conditional UPDATE that Galera certifies) lets exactly one send it.
async fn each_webhook_event_is_sent_by_exactly_one_instance(
    apps: &[TestApp],
    admin: &Admin,
    receiver: &WebhookReceiver,
) {
    let res = admin
        .client
        .post(
            "/api/v1/webhooks",
            &json!({"url": receiver.url, "events": ["user.created"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for (n, app) in apps.iter().cycle().take(9).enumerate() {
        let mut body = serde_json::to_value(account(&format!("hooked{n}"))).unwrap();
        body["role"] = json!("user");
        let res = admin
            .client
            .http
            .post(format!("{}/api/v1/users", app.address))
            .header("Origin", &app.address)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "create through {n}");
    }
    receiver.accepted(9).await;
    // Long enough for a second claim of any event to show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = receiver.all();
    let ids: HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!((got.len(), ids.len()), (9, 9), "each event once: {got:#?}");
}

/// The accounts created while a node was stopped each reach the receiver, under one
/// `webhook-id` (the instance on the stopped node may have sent one and not lived to
/// record it: it is then sent again, as the spec allows, with the same id for the
/// receiver to drop).
async fn every_acknowledged_account_reaches_the_webhook_once(
    receiver: &WebhookReceiver,
    created: &[String],
) {
    let started = Instant::now();
    let ids_by_name = loop {
        let mut ids_by_name = std::collections::HashMap::<String, HashSet<String>>::new();
        for received in receiver.all() {
            let name = received.event()["data"]["username"]
                .as_str()
                .unwrap()
                .to_owned();
            ids_by_name.entry(name).or_default().insert(received.id);
        }
        if created.iter().all(|name| ids_by_name.contains_key(name)) {
            break ids_by_name;
        }
        // A claim lost with its node is taken over when its lease (timeout + 20 s) ends.
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "every acknowledged account's event arrives: {} of {}",
            created
                .iter()
                .filter(|n| ids_by_name.contains_key(*n))
                .count(),
            created.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (name, ids) in &ids_by_name {
        assert_eq!(
            ids.len(),
            1,
            "{name} was announced under one webhook-id: {ids:?}"
        );
    }
    eprintln!(
        "{} accounts created under load reached the webhook, {} deliveries in all",
        created.len(),
        receiver.all().len()
    );
}

/// Every account of `names` is on every node, the one that rejoined included.
fn every_node_holds(galera: &Galera, app: &TestApp, names: &[&str]) {
    let url = app.database_url();
    let database = url.rsplit('/').next().unwrap();
    let listed = names
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(",");
    for node in 1..=NODES {
        let found = galera.sql(
            node,
            &format!("SELECT COUNT(*) FROM `{database}`.users WHERE username IN ({listed})"),
        );
        assert_eq!(
            found,
            names.len().to_string(),
            "node {node} holds every one of the {} acknowledged accounts",
            names.len()
        );
    }
}

/// The instance on the rejoined node is ready again, serves a login, and HAProxy
/// sends it traffic.
async fn the_instance_serves_again(app: &TestApp, client: &Client, instance: usize) {
    let back = Instant::now();
    while app.client().get("/ready").await.status() != StatusCode::OK {
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "/ready after the rejoin"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.client().login_ok("grace", PASSWORD).await;
    let name = format!("app{instance}");
    loop {
        let res = client.me().await;
        assert_eq!(res.status(), StatusCode::OK);
        if res
            .headers()
            .get("x-backend")
            .is_some_and(|v| v == name.as_str())
        {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "HAProxy takes {name} back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Three writers creating accounts and two readers of the session, until finished.
struct Load {
    started: Instant,
    running: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<Answer>>>,
}

impl Load {
    fn start(client: &Client) -> Self {
        let started = Instant::now();
        let running = Arc::new(AtomicBool::new(true));
        let mut tasks = Vec::new();
        for writer in 0..3 {
            let (client, running) = (client.clone(), running.clone());
            tasks.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                for k in 0u32.. {
                    if !running.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("load{writer}x{k}");
                    let mut body = serde_json::to_value(account(&name)).unwrap();
                    body["role"] = json!("user");
                    let sent = Instant::now();
                    let status = client.create_user(&body).await.status();
                    answers.push(Answer::new(status, sent, started, name));
                }
                answers
            }));
        }
        for _ in 0..2 {
            let (client, running) = (client.clone(), running.clone());
            tasks.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                while running.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let status = client.me().await.status();
                    answers.push(Answer::new(status, sent, started, String::new()));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                answers
            }));
        }
        Self {
            started,
            running,
            tasks,
        }
    }

    async fn finish(self) -> Vec<Answer> {
        self.running.store(false, Ordering::Relaxed);
        join_all(self.tasks)
            .await
            .into_iter()
            .flat_map(Result::unwrap)
            .collect()
    }
}

/// "201 ×1, 409 ×19": how many of each status, for the log.
fn tally(statuses: impl Iterator<Item = StatusCode>) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for status in statuses {
        *counts.entry(status.as_u16()).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(status, n)| format!("{status} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    took: Duration,
    /// When it was sent, from the start of the load.
    at: Duration,
    /// The account a write was to create.
    name: String,
}

impl Answer {
    fn new(status: StatusCode, sent: Instant, started: Instant, name: String) -> Self {
        Self {
            status,
            took: sent.elapsed(),
            at: sent.duration_since(started),
            name,
        }
    }
}
