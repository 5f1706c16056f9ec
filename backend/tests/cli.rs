//! The `backend` binary as an operator runs it.

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
