//! Project automation, the Rust way: `cargo xtask <command>`.
//!
//! - `run`: build the browser app if needed, then start everything on SQLite.
//! - `test`: install missing tools, check formatting, lints, the supply chain
//!   (cargo-deny) and the docs, validate the OpenAPI document, build the browser app,
//!   then run every test (SQLite, MySQL, Chromium) with cargo-nextest.
//! - `cluster`: the Galera check alone: a 3-node MariaDB Galera cluster, an app
//!   instance on each node and HAProxy in front (`tests/tests/cluster`).
//! - `openapi`: regenerate `openapi/openapi.json`.
//! - `bench`: the release server under load on fresh, bulk-seeded SQLite and MariaDB
//!   databases (and, with `--peer`, the Python app it replaces); see BENCHMARKS.md.
//!
//! Every install step checks first, so running it again costs nothing.

mod bench;

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

/// Pinned tool versions, so every machine runs the same thing.
const NEXTEST_VERSION: &str = "0.9.143";
const CARGO_DENY_VERSION: &str = "0.20.2";
const OPENAPI_VALIDATOR_VERSION: &str = "0.7.2";
/// Trunk 0.22 needs a newer rustc than this project's.
const TRUNK_VERSION: &str = "0.21.14";
/// wasm-opt from npm: Debian's binaryen (108) emits code Chromium rejects.
const BINARYEN_VERSION: &str = "132.0.0";
/// The accessibility checker the browser tests run in each screen (npm `axe-core`).
const AXE_VERSION: &str = "4.14.1";
/// The client generators the generated-client tests use (PyPI and npm).
const PYTHON_CLIENT_VERSION: &str = "0.26.1";
const NODE_CLIENT_PACKAGES: [(&str, &str); 3] = [
    ("openapi-typescript", "7.13.0"),
    ("openapi-fetch", "0.17.0"),
    ("typescript", "5.9.3"),
];

#[derive(Parser)]
#[command(about = "Project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the browser app if needed, then serve everything on SQLite (release).
    Run,
    /// Build the browser app into frontend/dist (with its brotli and gzip copies), for
    /// a deployment's `STATIC_DIR`.
    Dist,
    /// Lint, validate the spec and run all tests.
    Test {
        /// Skip `cargo fmt --check`, clippy, cargo-deny and the doc build.
        #[arg(long)]
        no_lint: bool,
    },
    /// Start a 3-node Galera cluster, an instance on each node and HAProxy, and check
    /// the deployment's guarantees across them (part of `test`, too).
    Cluster,
    /// Regenerate openapi/openapi.json from the code.
    Openapi,
    /// Build release, seed fresh databases and measure the server under load (wrk).
    Bench {
        /// Accounts to seed before the list and search loads.
        #[arg(long, default_value_t = 1_000_000)]
        accounts: u64,
        /// Seconds of each load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Also run every load against the Python app this one replaces
        /// (../shared/peers/fastapi-seed), and show the ratios.
        #[arg(long)]
        peer: bool,
        /// Only this database (`sqlite` or `mysql`); both by default.
        #[arg(long, value_parser = ["sqlite", "mysql"])]
        db: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match cli.command {
        Task::Run => run(),
        Task::Dist => build_frontend(),
        Task::Test { no_lint } => test(!no_lint),
        Task::Cluster => cluster(),
        Task::Openapi => openapi(&root),
        Task::Bench {
            accounts,
            seconds,
            peer,
            db,
        } => bench::bench(
            &root,
            &bench::Options {
                accounts,
                seconds,
                peer,
                databases: match db.as_deref() {
                    Some("sqlite") => vec![bench::Db::Sqlite],
                    Some(_) => vec![bench::Db::Mysql],
                    None => vec![bench::Db::Sqlite, bench::Db::Mysql],
                },
            },
        ),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn run() -> anyhow::Result<()> {
    build_frontend()?;
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
        ensure_cargo_deny()?;
        // Licences, banned crates and sources need no network (advisories would).
        cargo(&["deny", "check", "licenses", "bans", "sources"])?;
        let docs = tool("cargo")
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .status()
            .context("could not start cargo doc")?;
        if !docs.success() {
            bail!("`cargo doc --workspace --no-deps` found broken docs ({docs})");
        }
    }
    validate_openapi()?;
    build_frontend()?;
    ensure_chromium()?;
    ensure_axe()?;
    ensure_client_generators()?;
    // The cluster check runs on its own after the rest: its timings must not share
    // the two cores with the other suites. Last, so a summary closes the output.
    let suites = cargo(&[
        "nextest",
        "run",
        "--workspace",
        "--no-fail-fast",
        "-E",
        "not binary(cluster)",
    ]);
    let cluster = cluster();
    suites.and(cluster)
}

/// The Galera cluster check (`tests/tests/cluster`), alone.
fn cluster() -> anyhow::Result<()> {
    ensure_nextest()?;
    cargo(&["nextest", "run", "-p", "tests", "--test", "cluster"])
}

fn openapi(root: &Path) -> anyhow::Result<()> {
    let output = tool("cargo")
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

fn ensure_cargo_deny() -> anyhow::Result<()> {
    let version = tool("cargo")
        .args(["deny", "--version"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if version == format!("cargo-deny {CARGO_DENY_VERSION}") {
        return Ok(());
    }
    println!("xtask: installing cargo-deny {CARGO_DENY_VERSION} (a few minutes, once)");
    cargo(&[
        "install",
        "cargo-deny",
        "--version",
        CARGO_DENY_VERSION,
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

/// Builds `frontend/dist` with Trunk unless it is newer than every source it comes
/// from. Tools are installed at pinned versions first; nothing is downloaded at build
/// time (`--offline`).
fn build_frontend() -> anyhow::Result<()> {
    let root = workspace_root();
    let dist = root.join("frontend/dist/index.html");
    let sources = [
        root.join("frontend/src"),
        root.join("frontend/index.html"),
        root.join("frontend/style.css"),
        root.join("frontend/Trunk.toml"),
        root.join("shared/src"),
        root.join("Cargo.lock"),
    ];
    let built = modified(&dist);
    if built.is_some()
        && sources
            .iter()
            .filter_map(|s| newest(s))
            .all(|t| Some(t) <= built)
    {
        println!("xtask: frontend/dist is up to date");
        return Ok(());
    }
    let tool_path = ensure_frontend_tools(&root)?;
    println!("xtask: building the browser app (trunk build --release)");
    let status = tool("trunk")
        .args(["build", "--release", "--offline", "--skip-version-check"])
        .current_dir(root.join("frontend"))
        .env("PATH", tool_path)
        .status()
        .context("could not start trunk")?;
    if !status.success() {
        bail!("trunk build failed ({status})");
    }
    precompress(&root.join("frontend/dist"))
}

/// File types worth compressing: text, and wasm (about a third of its size in brotli).
const COMPRESSIBLE: [&str; 5] = ["wasm", "js", "css", "html", "svg"];

/// Writes a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) copy beside each
/// compressible file of the build, which the server sends to browsers that accept
/// them: the strongest settings cost seconds, once, here rather than on each request.
fn precompress(dist: &Path) -> anyhow::Result<()> {
    use std::io::Write;

    for entry in std::fs::read_dir(dist).context("reading frontend/dist")? {
        let path = entry?.path();
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible || !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path)?;
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut data.as_slice(), &mut br, &params)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data)?;
        let gz = gz.finish()?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        std::fs::write(dist.join(format!("{name}.br")), &br)?;
        std::fs::write(dist.join(format!("{name}.gz")), &gz)?;
        println!(
            "xtask: {name}: {} KB, {} KB brotli, {} KB gzip",
            data.len() / 1000,
            br.len() / 1000,
            gz.len() / 1000
        );
    }
    Ok(())
}

/// Installs what the wasm build needs, when missing; returns the PATH to build with.
fn ensure_frontend_tools(root: &Path) -> anyhow::Result<String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed for the wasm target")?;
    if !String::from_utf8_lossy(&installed.stdout).contains("wasm32-unknown-unknown") {
        run_cmd("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }

    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let tools = root.join("target/tools");
    let path = format!(
        "{}:{}:{}",
        tools.join("node_modules/.bin").display(),
        home.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let version_of = |program: &str| -> String {
        Command::new(program)
            .arg("--version")
            .env("PATH", &path)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };

    if version_of("trunk") != format!("trunk {TRUNK_VERSION}") {
        println!("xtask: installing trunk {TRUNK_VERSION} (a few minutes, once)");
        cargo(&["install", "trunk", "--version", TRUNK_VERSION, "--locked"])?;
    }
    // Trunk downloads wasm-bindgen unless the exact version is on PATH.
    let bindgen = lock_version(root, "wasm-bindgen")?;
    if version_of("wasm-bindgen") != format!("wasm-bindgen {bindgen}") {
        println!("xtask: installing wasm-bindgen-cli {bindgen} (a few minutes, once)");
        // Not --locked: its lock file pins a crate version the registry no longer serves.
        cargo(&["install", "wasm-bindgen-cli", "--version", &bindgen])?;
    }
    let wasm_opt_version = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    if !version_of("wasm-opt").contains(&format!("version {wasm_opt_version}")) {
        println!("xtask: installing wasm-opt (binaryen {BINARYEN_VERSION} from npm)");
        std::fs::create_dir_all(&tools)?;
        run_cmd(
            "npm",
            &[
                "install",
                "--prefix",
                tools.to_str().unwrap(),
                "--no-audit",
                "--no-fund",
                &format!("binaryen@{BINARYEN_VERSION}"),
            ],
        )?;
    }
    Ok(path)
}

/// axe-core, which the browser tests load from `target/tools/node_modules/axe-core`.
fn ensure_axe() -> anyhow::Result<()> {
    let tools = workspace_root().join("target/tools");
    let manifest = tools.join("node_modules/axe-core/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned));
    if installed.as_deref() == Some(AXE_VERSION) {
        return Ok(());
    }
    println!("xtask: installing axe-core {AXE_VERSION} from npm");
    std::fs::create_dir_all(&tools)?;
    run_cmd(
        "npm",
        &[
            "install",
            "--prefix",
            tools.to_str().context("a UTF-8 path")?,
            "--no-audit",
            "--no-fund",
            &format!("axe-core@{AXE_VERSION}"),
        ],
    )
}

/// openapi-python-client in `target/clients/venv`, and openapi-typescript,
/// openapi-fetch and TypeScript in `target/clients/node`: the generated-client tests
/// (`tests/tests/api/clients.rs`) run them on the committed spec.
fn ensure_client_generators() -> anyhow::Result<()> {
    let clients = workspace_root().join("target/clients");
    let venv = clients.join("venv");
    let python = venv.join("bin/python");
    let check = [
        "-c",
        "import importlib.metadata as m, sys; sys.exit(m.version('openapi-python-client') != sys.argv[1])",
        PYTHON_CLIENT_VERSION,
    ];
    if !python.exists() || !succeeds(python.to_str().context("a UTF-8 path")?, &check) {
        println!("xtask: installing openapi-python-client {PYTHON_CLIENT_VERSION}");
        run_cmd(
            "python3",
            &["-m", "venv", venv.to_str().context("a UTF-8 path")?],
        )?;
        run_cmd(
            python.to_str().context("a UTF-8 path")?,
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("openapi-python-client=={PYTHON_CLIENT_VERSION}"),
            ],
        )?;
    }
    let node = clients.join("node");
    let installed = |package: &str| {
        let manifest = node.join("node_modules").join(package).join("package.json");
        std::fs::read_to_string(manifest)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json["version"].as_str().map(str::to_owned))
    };
    if NODE_CLIENT_PACKAGES
        .iter()
        .any(|(package, version)| installed(package).as_deref() != Some(*version))
    {
        println!("xtask: installing the TypeScript client generator (npm)");
        std::fs::create_dir_all(&node)?;
        let packages: Vec<String> = NODE_CLIENT_PACKAGES
            .iter()
            .map(|(package, version)| format!("{package}@{version}"))
            .collect();
        let mut args = vec![
            "install",
            "--prefix",
            node.to_str().context("a UTF-8 path")?,
            "--no-audit",
            "--no-fund",
        ];
        args.extend(packages.iter().map(String::as_str));
        run_cmd("npm", &args)?;
    }
    Ok(())
}

/// The browser tests drive Debian's Chromium; a missing one fails the run.
fn ensure_chromium() -> anyhow::Result<()> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    bail!("Chromium is needed for the browser tests: apt-get install -y chromium chromium-driver")
}

/// The version of `package` in Cargo.lock.
fn lock_version(root: &Path, package: &str) -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    Ok(lock[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned())
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of any file under a folder.
fn newest(path: &Path) -> Option<std::time::SystemTime> {
    if path.is_dir() {
        std::fs::read_dir(path)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| newest(&entry.path()))
            .max()
    } else {
        modified(path)
    }
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    run_cmd("cargo", args)
}

/// `program`, without the variables `cargo run` gave this process about the xtask
/// package (`CARGO_PKG_NAME=xtask`, `CARGO_MANIFEST_DIR`, ...). Cargo passes a
/// build script's own values to it, but fingerprints what its own environment holds
/// for each variable the script watches (ring's watches these): with them, every
/// switch between `cargo xtask ...` and a plain `cargo build` rebuilt ring and
/// everything above it, five minutes of release build each time.
fn tool(program: &str) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let leaked = name.to_str().is_some_and(|name| {
            name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || matches!(
                    name,
                    "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
                )
        });
        if leaked {
            command.env_remove(&name);
        }
    }
    command
}

fn run_cmd(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let status = tool(program)
        .args(args)
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    tool(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
