//! Clients generated from the committed `openapi/openapi.json`, as integrators make
//! them: a Python one (openapi-python-client) and a TypeScript one (openapi-typescript
//! types with openapi-fetch, compiled with `tsc --strict`). Each runs the journey in
//! `tests/clients/` against the real server: a token, create, list with paging and
//! search, get, a partial update and delete, with the generated types only. The
//! generators are installed at pinned versions by `cargo xtask test` under
//! `target/clients`; a missing one fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A tool installed by `cargo xtask test`, or a failure saying so.
fn tool(path: &str) -> PathBuf {
    let tool = root().join(path);
    assert!(
        tool.exists(),
        "{} is missing: `cargo xtask test` installs the client generators",
        tool.display()
    );
    tool
}

/// Runs `command` off the async workers (the server under test shares them) and
/// fails with its output unless it succeeds.
async fn run(what: &str, mut command: Command) -> String {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{what} did not start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

/// A scratch folder under `parent`, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(parent: &Path) -> Self {
        let dir = parent.join(format!("journey-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The journey's environment: where the server is and the admin who signs in.
fn journey(command: &mut Command, app: &TestApp) {
    command
        .env("API_BASE", &app.address)
        .env("API_USERNAME", "admin")
        .env("API_PASSWORD", PASSWORD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_python_client_creates_lists_updates_and_deletes() {
    let generator = tool("target/clients/venv/bin/openapi-python-client");
    let python = tool("target/clients/venv/bin/python");
    let work = Scratch::new(&std::env::temp_dir());
    let mut generate = Command::new(generator);
    generate.args(["generate", "--meta", "none", "--overwrite", "--path"]);
    generate.arg(root().join("openapi/openapi.json"));
    generate.arg("--output-path").arg(work.0.join("um_client"));
    run("openapi-python-client generate", generate).await;

    let app = TestApp::spawn(Backend::Sqlite).await;
    app.admin().await;
    let mut script = Command::new(python);
    script
        .arg(root().join("tests/clients/journey.py"))
        .env("PYTHONPATH", &work.0);
    journey(&mut script, &app);
    let out = run("the Python journey", script).await;
    assert!(out.contains("python client: ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_typescript_client_compiles_strictly_and_does_the_same() {
    let node_dir = root().join("target/clients/node");
    let bin = |name: &str| tool(&format!("target/clients/node/node_modules/.bin/{name}"));
    // Inside the tools' folder, so the journey finds openapi-fetch.
    let work = Scratch::new(&node_dir);
    let mut generate = Command::new(bin("openapi-typescript"));
    generate
        .arg(root().join("openapi/openapi.json"))
        .arg("--output")
        .arg(work.0.join("schema.d.ts"));
    run("openapi-typescript", generate).await;
    std::fs::copy(
        root().join("tests/clients/journey.ts"),
        work.0.join("journey.ts"),
    )
    .unwrap();
    std::fs::write(work.0.join("package.json"), r#"{"type": "module"}"#).unwrap();
    std::fs::write(
        work.0.join("tsconfig.json"),
        r#"{"compilerOptions": {"strict": true, "noUncheckedIndexedAccess": false,
            "target": "es2022", "module": "nodenext", "moduleResolution": "nodenext",
            "types": [], "lib": ["es2022", "dom"], "skipLibCheck": false},
           "files": ["journey.ts"]}"#,
    )
    .unwrap();
    let mut compile = Command::new(bin("tsc"));
    compile.arg("-p").arg(&work.0);
    run("tsc --strict", compile).await;

    let app = TestApp::spawn(Backend::Sqlite).await;
    app.admin().await;
    let mut script = Command::new("node");
    script.arg(work.0.join("journey.js"));
    journey(&mut script, &app);
    let out = run("the TypeScript journey", script).await;
    assert!(out.contains("typescript client: ok"), "{out}");
}
