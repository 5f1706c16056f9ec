//! A change acknowledged just before the server is killed (SIGKILL, no shutdown)
//! still reaches its webhook receiver once the server is back, exactly once: the
//! delivery was written with the change, not kept in memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The server, as an operator starts it, on `port` with the data in `dir`.
fn start(dir: &Path, port: u16, database_url: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir)
        .env("STATIC_DIR", dir)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("WEBHOOK_ALLOW_PRIVATE", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.spawn().expect("the backend binary starts")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(res) = http.get(format!("{base}/ready")).send().await
            && res.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

/// A receiver on `port` in a thread of its own: records each `webhook-id` and body,
/// answers 204.
fn receive_on(port: u16) -> Arc<Mutex<Vec<(String, Value)>>> {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let log = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut id, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or_default();
                match name.to_ascii_lowercase().as_str() {
                    "webhook-id" => id = value.trim().to_owned(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock()
                .unwrap()
                .push((id, serde_json::from_slice(&body).unwrap()));
            let _ = stream.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    got
}

async fn kill_between_commit_and_delivery(database_url: Option<&str>) {
    let dir = std::env::temp_dir().join(format!("um-crash-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = start(&dir, port, database_url);
    wait_ready(&http, &base).await;

    let account = |name: &str, mobile: &str| {
        json!({
            "first_name": "Ada", "last_name": "Crash", "username": name,
            "email": format!("{name}@example.com"), "mobile": mobile,
            "password": "violet harbor quantum 4217",
            "security_question": "Name of your first pet?", "security_answer": "Rex the dog",
        })
    };
    let res = http
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&account("admin", "+15550100001"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let token: Value = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": "violet harbor quantum 4217"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    // The receiver is not up yet: nothing can be delivered before the crash.
    let receiver_port = free_port();
    let res = http
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"url": format!("http://127.0.0.1:{receiver_port}/hook"), "events": ["user.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = http
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(&token)
        .json(&account("bob", "+15550100002"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "the change is acknowledged");
    server.kill().unwrap();
    server.wait().unwrap();

    let got = receive_on(receiver_port);
    let mut server = start(&dir, port, database_url);
    wait_ready(&http, &base).await;
    let started = Instant::now();
    while got.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for a duplicate to show, if there were one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "exactly one delivery: {got:#?}");
    let (id, event) = &got[0];
    assert!(id.starts_with("msg_"));
    assert_eq!(event["type"], "user.created");
    assert_eq!(event["data"]["username"], "bob");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_acknowledged_before_a_crash_is_delivered_after_restart_sqlite() {
    kill_between_commit_and_delivery(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_acknowledged_before_a_crash_is_delivered_after_restart_mysql() {
    use sea_orm::{ConnectionTrait, Database};
    let server = std::env::var("TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    let name = format!("um_crash_{:016x}", rand::random::<u64>());
    let admin = Database::connect(format!("{server}/mysql"))
        .await
        .expect("MySQL/MariaDB is required for this test (TEST_MYSQL_URL)");
    admin
        .execute_unprepared(&format!("CREATE DATABASE `{name}`"))
        .await
        .unwrap();
    kill_between_commit_and_delivery(Some(&format!("{server}/{name}"))).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE `{name}`"))
        .await
        .unwrap();
}
