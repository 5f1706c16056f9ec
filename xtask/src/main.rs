//! Project automation, the Rust way: `cargo xtask <command>`.
//!
//! - `run`: build and start the app on SQLite (no setup needed).
//! - `test`: install missing test tools, check formatting and lints, validate the
//!   OpenAPI document, then run every test (SQLite and MySQL) with cargo-nextest.
//! - `openapi`: regenerate `openapi/openapi.json`.
//!
//! Every install step checks first, so running it again costs nothing.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

/// Pinned tool versions, so every machine runs the same thing.
const NEXTEST_VERSION: &str = "0.9.143";
const OPENAPI_VALIDATOR_VERSION: &str = "0.7.2";

#[derive(Parser)]
#[command(about = "Project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build (release) and serve the app; extra arguments go to `backend serve`.
    Run,
    /// Lint, validate the spec and run all tests.
    Test {
        /// Skip `cargo fmt --check` and clippy.
        #[arg(long)]
        no_lint: bool,
    },
    /// Regenerate openapi/openapi.json from the code.
    Openapi,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match cli.command {
        Task::Run => run(),
        Task::Test { no_lint } => test(!no_lint),
        Task::Openapi => openapi(&root),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn run() -> anyhow::Result<()> {
    cargo(&["run", "--release", "-p", "backend", "--", "serve"])
}

fn test(lint: bool) -> anyhow::Result<()> {
    ensure_nextest()?;
    ensure_mysql()?;
    if lint {
        cargo(&["fmt", "--all", "--", "--check"])?;
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])?;
    }
    validate_openapi()?;
    // Last, so the test runner's summary closes the output.
    cargo(&["nextest", "run", "--workspace", "--no-fail-fast"])
}

fn openapi(root: &Path) -> anyhow::Result<()> {
    let output = Command::new("cargo")
        .args(["run", "--quiet", "-p", "backend", "--", "openapi"])
        .output()
        .context("running `backend openapi`")?;
    if !output.status.success() {
        bail!(
            "backend openapi failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::write(root.join("openapi/openapi.json"), output.stdout)?;
    println!("wrote openapi/openapi.json");
    Ok(())
}

fn ensure_nextest() -> anyhow::Result<()> {
    if succeeds("cargo", &["nextest", "--version"]) {
        return Ok(());
    }
    println!("xtask: installing cargo-nextest {NEXTEST_VERSION}");
    cargo(&[
        "install",
        "cargo-nextest",
        "--version",
        NEXTEST_VERSION,
        "--locked",
    ])
}

/// The MySQL half of the suite needs a server. Missing is a failure, not a skip.
fn ensure_mysql() -> anyhow::Result<()> {
    let url =
        std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let host = url
        .trim_start_matches("mysql://")
        .rsplit_once('@')
        .map_or(url.trim_start_matches("mysql://"), |(_, h)| h)
        .trim_end_matches('/')
        .to_owned();
    let reachable = host
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok());
    if !reachable {
        bail!(
            "MySQL/MariaDB is not reachable at {host}; the tests need it. Start it (e.g. \
             `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`) \
             or point TEST_MYSQL_URL at one."
        );
    }
    Ok(())
}

/// OpenAPI 3.1 validation with the reference Python validator, in a private venv.
fn validate_openapi() -> anyhow::Result<()> {
    let venv = workspace_root().join("target/xtask-venv");
    let python = venv.join("bin/python");
    let validator = [
        "-c",
        "import importlib.metadata as m, sys; sys.exit(m.version('openapi-spec-validator') != sys.argv[1])",
        OPENAPI_VALIDATOR_VERSION,
    ];
    if !python.exists() || !succeeds(python.to_str().unwrap(), &validator) {
        println!("xtask: installing openapi-spec-validator {OPENAPI_VALIDATOR_VERSION}");
        run_cmd("python3", &["-m", "venv", venv.to_str().unwrap()])?;
        run_cmd(
            python.to_str().unwrap(),
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("openapi-spec-validator=={OPENAPI_VALIDATOR_VERSION}"),
            ],
        )?;
    }
    run_cmd(
        python.to_str().unwrap(),
        &["-m", "openapi_spec_validator", "openapi/openapi.json"],
    )
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    run_cmd("cargo", args)
}

fn run_cmd(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
