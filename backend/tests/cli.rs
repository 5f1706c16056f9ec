//! The `backend` binary as an operator runs it.

// A test is a story told in order; splitting it would hide the plot.
#![allow(clippy::too_many_lines)]

use std::process::{Command, Output};

fn backend(data_dir: &std::path::Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .current_dir(data_dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", data_dir)
        .envs(envs.iter().copied())
        .output()
        .expect("the backend binary runs")
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("um-cli-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_configuration_is_one_line_naming_the_variable() {
    let dir = temp_dir();
    for (variable, value) in [
        ("JWT_SECRET", "short"),
        ("BIND_ADDR", "not-an-address"),
        ("SESSION_TTL_MINUTES", "-5"),
        ("DATABASE_URL", "postgres://localhost/x"),
    ] {
        let out = backend(&dir, &[(variable, value)], &["serve"]);
        assert!(!out.status.success(), "{variable}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{variable}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {variable}: ")),
            "{stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn mail_that_would_leak_or_stay_on_disk_is_refused_at_start() {
    let dir = temp_dir();
    for (envs, why) in [
        (
            vec![("SMTP_URL", "smtp://app:secret@mail.example.com:587")],
            "a password over plain SMTP to another host",
        ),
        (
            vec![("BIND_ADDR", "0.0.0.0:8080")],
            "a public bind with the development outbox",
        ),
        (
            vec![("PUBLIC_URL", "https://users.example.com")],
            "a public name with the development outbox",
        ),
    ] {
        let out = backend(&dir, &envs, &["serve"]);
        assert!(!out.status.success(), "{why}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{why}: {stderr}");
        assert!(stderr.starts_with("error: SMTP_URL: "), "{why}: {stderr}");
        assert!(!stderr.contains("secret"), "the password is not echoed");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn create_admin_then_migrate_is_idempotent() {
    let dir = temp_dir();
    let db = format!("sqlite://{}/cli.db?mode=rwc", dir.display());
    let secret = "0123456789abcdef0123456789abcdef";
    let envs = [
        ("DATABASE_URL", db.as_str()),
        ("JWT_SECRET", secret),
        ("ADMIN_PASSWORD", "granite meadow falcon 2291"),
        ("ADMIN_SECURITY_ANSWER", "the server room"),
    ];
    let args = [
        "create-admin",
        "--username",
        "root.admin",
        "--email",
        "root@example.com",
        "--first-name",
        "Root",
        "--last-name",
        "Admin",
        "--mobile",
        "+15550001111",
    ];
    let out = backend(&dir, &envs, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin 'root.admin'"));

    let again = backend(&dir, &envs, &args);
    assert!(
        !again.status.success(),
        "the same username twice is refused"
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("username"), "{stderr}");

    let weak = backend(
        &dir,
        &[envs[0], envs[1], ("ADMIN_PASSWORD", "password"), envs[3]],
        &args,
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));

    let migrate = backend(&dir, &envs[..2], &["migrate"]);
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("granite"), "the password is never echoed");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn hash_speed_times_one_hash_then_one_per_core() {
    let dir = temp_dir();
    let out = backend(&dir, &[], &["hash-speed", "--seconds", "1"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(
        lines[0],
        format!("$argon2id$v=19$m=19456,t=2,p=1$... on {cores} cores")
    );
    // "N at once: 14.61 ms per hash (median), 68.2 hashes/s[, 98% of ...]"
    let figures = |line: &str, at_once: usize| -> (f64, f64) {
        let rest = line
            .strip_prefix(&format!("{at_once} at once: "))
            .unwrap_or_else(|| panic!("{line}"));
        let number = |s: &str| s.split(' ').next().unwrap().parse::<f64>().unwrap();
        let (ms, rate) = rest.split_once(" per hash (median), ").unwrap();
        (number(ms), number(rate))
    };
    let (one_ms, one_rate) = figures(lines[1], 1);
    let (all_ms, all_rate) = figures(lines[2], cores);
    // 19 MiB written twice take a millisecond at the very least; one at a time, no
    // more hashes finish in a second than fit in it. (No upper bound: beside the
    // other tests the hashing threads, in the idle class, may crawl.)
    assert!(one_ms >= 1.0 && all_ms >= 1.0, "{stdout}");
    assert!(
        one_rate > 0.0 && one_rate <= 1.5 * 1000.0 / one_ms,
        "{stdout}"
    );
    assert!(all_rate > 0.0, "{stdout}");
    assert!(
        lines[2].ends_with(&format!("of {cores} cores / one hash")),
        "{stdout}"
    );

    let refused = backend(&dir, &[], &["hash-speed", "--seconds", "0"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8(refused.stderr)
            .unwrap()
            .contains("--seconds")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn openapi_prints_the_committed_spec() {
    let out = backend(&temp_dir(), &[], &["openapi"]);
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert_eq!(
        printed, committed,
        "regenerate: cargo run -p backend -- openapi > openapi/openapi.json"
    );
}

#[test]
fn a_missing_jwt_secret_is_generated_once_and_kept() {
    let dir = temp_dir();
    // Nothing listens on port 1, so `serve` stops right after reading its configuration.
    let unreachable = [("DATABASE_URL", "mysql://nobody@127.0.0.1:1/none")];
    let out = backend(&dir, &unreachable, &["serve"]);
    assert!(!out.status.success());
    let secret = std::fs::read_to_string(dir.join("jwt_secret")).expect("a generated secret");
    assert_eq!(secret.trim().len(), 64);
    let again = backend(&dir, &unreachable, &["serve"]);
    assert!(!again.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("jwt_secret")).unwrap(),
        secret
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains(secret.trim()),
        "the secret is never logged"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `TEST_MYSQL_URL` (server only), default the local MariaDB.
fn mysql_server() -> String {
    std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

#[test]
fn import_legacy_reports_writes_once_and_dry_runs_write_nothing() {
    use sea_orm::{ConnectionTrait, Database};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = mysql_server();
    let name = format!("um_cli_legacy_{:016x}", rand::random::<u64>());
    let hash = bcrypt::hash("old app password", 4).unwrap();
    rt.block_on(async {
        let admin = Database::connect(format!("{server}/mysql"))
            .await
            .expect("MySQL/MariaDB is required for this test (TEST_MYSQL_URL)");
        admin
            .execute_unprepared(&format!("CREATE DATABASE `{name}` COLLATE utf8mb4_bin"))
            .await
            .unwrap();
        let legacy = Database::connect(format!("{server}/{name}")).await.unwrap();
        legacy
            .execute_unprepared(
                "CREATE TABLE users (id INT PRIMARY KEY AUTO_INCREMENT, first_name VARCHAR(50), \
                 last_name VARCHAR(50), username VARCHAR(50) UNIQUE, email VARCHAR(100) UNIQUE, \
                 mobile VARCHAR(15) UNIQUE, password VARCHAR(100), security_question VARCHAR(100), \
                 security_answer VARCHAR(100), otp VARCHAR(6) NULL)",
            )
            .await
            .unwrap();
        legacy
            .execute_unprepared(&format!(
                "INSERT INTO users (first_name, last_name, username, email, mobile, password) VALUES \
                 ('Ada', 'L', 'ada', 'ada@example.com', '5550100001', '{hash}'), \
                 ('Ada', 'Again', 'ADA', 'other@example.com', '5550100002', 'plain')"
            ))
            .await
            .unwrap();
    });

    let dir = temp_dir();
    let db = format!("sqlite://{}/cli.db?mode=rwc", dir.display());
    let from = format!("{server}/{name}");
    let envs = [
        ("DATABASE_URL", db.as_str()),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["import-legacy", "--from", from.as_str()];
        args.extend_from_slice(extra);
        let out = backend(&dir, &envs, &args);
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };

    // A dry run on a database that is not migrated yet writes nothing, not even that.
    let out = backend(
        &dir,
        &envs,
        &["import-legacy", "--from", &from, "--dry-run"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("backend migrate"), "{stderr}");
    assert!(backend(&dir, &envs, &["migrate"]).status.success());

    let dry = run(&["--dry-run"]);
    assert!(
        dry.starts_with("legacy_id,username,outcome,notes\n"),
        "{dry}"
    );
    assert!(
        dry.contains("2,ADA,skipped,username 'ada' is already used by legacy row 1"),
        "{dry}"
    );
    assert!(
        dry.ends_with("dry run, nothing written: 2 rows read: 1 imported (1 with notes), 1 skipped, 0 already imported\n"),
        "{dry}"
    );

    let report = dir.join("report.csv");
    let first = run(&["--report", report.to_str().unwrap()]);
    assert!(
        first.starts_with(
            "2 rows read: 1 imported (1 with notes), 1 skipped, 0 already imported; report: "
        ),
        "{first}"
    );
    assert!(first.contains("create-admin"), "no admin yet: {first}");
    let csv = std::fs::read_to_string(&report).unwrap();
    assert!(csv.contains("1,ada,imported,"), "{csv}");
    assert!(!csv.contains(&hash), "no hashes in the report");

    let second = run(&[]);
    assert!(
        second.starts_with(
            "2 rows read: 0 imported (0 with notes), 1 skipped, 1 already imported; report: "
        ),
        "{second}"
    );
    let default_report = second
        .split("report: ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(
        std::path::Path::new(default_report).starts_with(&dir),
        "{default_report}"
    );

    // The URL may come from the environment instead of the command line.
    let from_env = [envs[0], envs[1], ("LEGACY_DATABASE_URL", from.as_str())];
    let out = backend(&dir, &from_env, &["import-legacy", "--dry-run"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("1 already imported")
    );

    let bad = backend(
        &dir,
        &envs,
        &[
            "import-legacy",
            "--from",
            "mysql://root:hunter2@127.0.0.1:1/x",
        ],
    );
    assert!(!bad.status.success());
    let stderr = String::from_utf8(bad.stderr).unwrap();
    assert!(stderr.contains("legacy database"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password never reaches output: {stderr}"
    );

    rt.block_on(async {
        let admin = Database::connect(format!("{server}/mysql")).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE `{name}`"))
            .await
            .unwrap();
    });
    std::fs::remove_dir_all(dir).unwrap();
}
