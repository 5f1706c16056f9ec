//! End-to-end tests of the browser app in headless Chromium (Debian's package),
//! driven over the DevTools protocol, against the real backend serving the real built
//! app (`frontend/dist`, built by `cargo xtask test`) with a fresh database and a real
//! SMTP server. Selectors are `data-testid`s; every wait polls for a condition.

// A test is a story told in order; splitting it would hide the plot.
#![allow(clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel, LogEntrySource};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Element, Page};
use futures::StreamExt;
use harness::subjects::RECOVERY_CODE;
use harness::{Backend, PASSWORD, TestApp, account};
use shared::{SignupRequest, User};

mod accessibility;
mod account_security;
mod bulk;
mod integrations;
mod lockout;
mod mfa;
mod passkeys;
mod phone;
mod pictures;

const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(15);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The real app on a fresh SQLite database, serving `frontend/dist`.
async fn spawn_app(configure: impl FnOnce(&mut backend::config::Settings)) -> TestApp {
    let dist = workspace_root().join("frontend/dist");
    assert!(
        dist.join("index.html").is_file(),
        "the browser app is not built: run `cargo xtask test` (it builds frontend/dist first)"
    );
    TestApp::builder(Backend::Sqlite)
        .with(|s| s.paths.static_dir = dist)
        .with(configure)
        .spawn()
        .await
}

/// A headless Chromium with a fresh profile; killed when dropped, even on panic.
///
/// It records what went wrong on its pages (uncaught exceptions, which is how a Rust
/// panic ends, `console.error` calls, and requests the browser logged as failed), and
/// a test must end with [`Chromium::assert_quiet`]: dropping it unchecked fails.
struct Chromium {
    browser: Browser,
    events: tokio::task::JoinHandle<()>,
    problems: Arc<Mutex<Vec<Problem>>>,
    listeners: Vec<tokio::task::JoinHandle<()>>,
    checked: bool,
    _profile: TempDir,
}

/// Something a page reported as wrong (shown through `Debug` when a test fails).
#[derive(Debug)]
#[allow(
    dead_code,
    reason = "the fields are read through Debug, in the failure message"
)]
enum Problem {
    /// An uncaught exception (a panic in the app ends in a wasm `unreachable`).
    Exception(String),
    /// A `console.error` or failed `console.assert` (the panic hook writes one).
    Console(String),
    /// A request the browser logged as failed: a 4xx or 5xx answer, say.
    Request { url: String, text: String },
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Chromium {
    async fn launch() -> Self {
        assert!(
            Path::new(CHROMIUM).exists(),
            "Chromium is required for the browser tests: apt-get install -y chromium chromium-driver"
        );
        let profile =
            TempDir(std::env::temp_dir().join(format!("um-chromium-{}", harness::unique())));
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .disable_default_args()
            .no_sandbox()
            .args([
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ])
            .user_data_dir(&profile.0)
            .window_size(1280, 900)
            .launch_timeout(Duration::from_secs(30))
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Self {
            browser,
            events,
            problems: Arc::default(),
            listeners: Vec::new(),
            checked: false,
            _profile: profile,
        }
    }

    /// Fails on anything the pages reported as wrong, but for refused requests to the
    /// paths in `refused`: the answers the test itself provoked (a wrong password,
    /// say), which the browser logs as failed requests.
    async fn assert_quiet(mut self, refused: &[&str]) {
        // Events still on their way from the browser.
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.checked = true;
        let problems = std::mem::take(&mut *self.problems.lock().unwrap());
        let unexpected: Vec<_> = problems
            .into_iter()
            .filter(|problem| match problem {
                Problem::Request { url, .. } => !refused.contains(&path_of(url)),
                Problem::Exception(_) | Problem::Console(_) => true,
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "the pages reported {} problem(s): {unexpected:#?}",
            unexpected.len()
        );
    }

    /// Records what `page` reports as wrong, from now until the browser closes.
    async fn record_problems(&mut self, page: &Page) {
        let mut exceptions = page.event_listener::<EventExceptionThrown>().await.unwrap();
        let mut console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .unwrap();
        let mut log = page.event_listener::<EventEntryAdded>().await.unwrap();
        let problems = Arc::clone(&self.problems);
        self.listeners.push(tokio::spawn(async move {
            let record = |problem| problems.lock().unwrap().push(problem);
            loop {
                tokio::select! {
                    Some(thrown) = exceptions.next() => {
                        let details = &thrown.exception_details;
                        let text = details
                            .exception
                            .as_ref()
                            .and_then(|e| e.description.clone())
                            .unwrap_or_else(|| details.text.clone());
                        record(Problem::Exception(text));
                    }
                    Some(call) = console.next() => {
                        if matches!(call.r#type, ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert) {
                            let text: Vec<_> = call.args.iter().map(remote_text).collect();
                            record(Problem::Console(text.join(" ")));
                        }
                    }
                    Some(added) = log.next() => {
                        let entry = &added.entry;
                        if entry.level != LogEntryLevel::Error {
                            continue;
                        }
                        // console.error also shows up here: it is recorded above.
                        if entry.source == LogEntrySource::Network {
                            let url = entry.url.clone().unwrap_or_default();
                            record(Problem::Request { url, text: entry.text.clone() });
                        } else if entry.source != LogEntrySource::Javascript {
                            record(Problem::Console(entry.text.clone()));
                        }
                    }
                    else => break,
                }
            }
        }));
    }

    /// A new tab at `url`. The tab starts blank and navigates by script: waiting for a
    /// page load that the app itself redirects (signed out at `/`) never ends.
    async fn open(&mut self, url: &str) -> Page {
        let page = tokio::time::timeout(WAIT, self.browser.new_page("about:blank"))
            .await
            .expect("a new tab within the time limit")
            .expect("a new tab");
        // Every page of this tab records what the Content-Security-Policy blocks.
        page.evaluate_on_new_document(
            "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', \
             e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
        )
        .await
        .expect("the CSP recorder is installed");
        self.record_problems(&page).await;
        go_to(&page, url).await;
        page
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if let Some(child) = self.browser.get_mut_child() {
            let child = child.as_mut_inner();
            let _ = child.start_kill();
            // Let it exit before its profile folder is removed (dropped after this).
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.events.abort();
        for listener in &self.listeners {
            listener.abort();
        }
        if !self.checked && !std::thread::panicking() {
            panic!("a browser test must end with Chromium::assert_quiet");
        }
    }
}

/// The path of `url`, without its query.
fn path_of(url: &str) -> &str {
    let after_host = url
        .splitn(4, '/')
        .nth(3)
        .map_or(0, |rest| url.len() - rest.len() - 1);
    url[after_host..].split(['?', '#']).next().unwrap_or("")
}

/// What a console argument shows.
fn remote_text(object: &RemoteObject) -> String {
    match (&object.value, &object.description) {
        (Some(serde_json::Value::String(text)), _) => text.clone(),
        (Some(value), _) => value.to_string(),
        (None, Some(description)) => description.clone(),
        (None, None) => format!("{:?}", object.r#type),
    }
}

/// Navigates by script, so the call returns at once; callers wait for what they expect.
async fn go_to(page: &Page, url: &str) {
    let script = format!("location.href = {}", serde_json::to_string(url).unwrap());
    tokio::time::timeout(WAIT, page.evaluate(script))
        .await
        .expect("navigation starts within the time limit")
        .expect("navigation starts");
}

fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Waits until `selector` matches and returns the element.
async fn find(page: &Page, selector: &str) -> Element {
    let started = Instant::now();
    loop {
        if let Ok(element) = page.find_element(selector).await {
            return element;
        }
        assert!(
            started.elapsed() < WAIT,
            "no element matches {selector} (url {:?})",
            page.url().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the text of an element matching `selector` contains `text` (any of
/// them: toasts, say, stack up).
async fn wait_text(page: &Page, selector: &str, text: &str) -> String {
    let started = Instant::now();
    loop {
        for element in page.find_elements(selector).await.unwrap_or_default() {
            if let Ok(Some(inner)) = element.inner_text().await
                && inner.contains(text)
            {
                return inner;
            }
        }
        assert!(started.elapsed() < WAIT, "{selector} never showed {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until nothing matches `selector`.
async fn wait_gone(page: &Page, selector: &str) {
    let started = Instant::now();
    while page.find_element(selector).await.is_ok() {
        assert!(started.elapsed() < WAIT, "{selector} is still there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the location's path (and query) starts with `prefix`.
async fn wait_path(page: &Page, prefix: &str) -> String {
    let started = Instant::now();
    loop {
        let path: String = page
            .evaluate("location.pathname + location.search")
            .await
            .ok()
            .and_then(|r| r.into_value().ok())
            .unwrap_or_default();
        if path.starts_with(prefix) {
            return path;
        }
        assert!(
            started.elapsed() < WAIT,
            "expected {prefix}, still at {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn fill(page: &Page, name: &str, value: &str) {
    let input = find(page, &testid(&format!("input-{name}"))).await;
    // Clear, then type like a person so the app sees input events.
    input
        .call_js_fn("function() { this.value = ''; this.dispatchEvent(new Event('input', {bubbles: true})); }", false)
        .await
        .unwrap();
    input.click().await.unwrap().type_str(value).await.unwrap();
}

async fn click(page: &Page, id: &str) {
    find(page, &testid(id)).await.click().await.unwrap();
}

/// Clicks `id` in the dialog that is open (a screen may hold several, closed).
async fn click_in_dialog(page: &Page, id: &str) {
    let selector = format!("dialog[open] {}", testid(id));
    find(page, &selector).await.click().await.unwrap();
}

async fn screenshot(page: &Page, name: &str) {
    let dir = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    page.save_screenshot(
        ScreenshotParams::builder().full_page(true).build(),
        dir.join(format!("{name}.png")),
    )
    .await
    .expect("screenshot");
}

/// Types `account` into the sign-up form.
async fn fill_account(page: &Page, account: &SignupRequest) {
    for (name, value) in [
        ("first_name", &account.first_name),
        ("last_name", &account.last_name),
        ("username", &account.username),
        ("email", &account.email),
        ("mobile", &account.mobile),
        ("password", &account.password),
        ("security_question", &account.security_question),
        ("security_answer", &account.security_answer),
    ] {
        fill(page, name, value).await;
    }
}

async fn log_in(page: &Page, username: &str, password: &str) {
    fill(page, "username", username).await;
    fill(page, "password", password).await;
    click(page, "login-submit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_day_from_signup_to_password_recovery() {
    let app = spawn_app(|_| {}).await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/", app.address)).await;

    // Signed out, the dashboard sends us to login, which links to signup.
    wait_path(&page, "/login?next=%2F").await;
    screenshot(&page, "login").await;
    click(&page, "link-signup").await;
    wait_path(&page, "/signup").await;

    // Client-side checks use the server's rules and messages.
    click(&page, "signup-submit").await;
    wait_text(&page, &testid("error-username"), "is required").await;
    let me = account("ada");
    fill_account(&page, &me).await;
    // The strength meter asks the server's zxcvbn once typing pauses.
    find(
        &page,
        "[data-testid=\"strength-meter\"][data-score=\"3\"], \
         [data-testid=\"strength-meter\"][data-score=\"4\"]",
    )
    .await;
    fill(&page, "password", "password1234").await;
    wait_text(&page, &testid("strength-advice"), "common").await;
    fill(&page, "password", &me.password).await;
    wait_gone(&page, &testid("strength-advice")).await;
    screenshot(&page, "signup").await;
    click(&page, "signup-submit").await;

    // The first account is the admin; log in and land on the dashboard.
    wait_path(&page, "/login").await;
    wait_text(&page, &testid("login-notice"), "account was created").await;
    log_in(&page, "ada", PASSWORD).await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("summary"), "Showing 1–1 of 1").await;
    find(&page, &testid("user-row-ada")).await;

    // Mail (a recovery code, say) reaches the address only once it is confirmed.
    click(&page, "verify-link").await;
    fill(&page, "code", &app.email_code(&me.email).await).await;
    click(&page, "verify-submit").await;
    wait_text(&page, &testid("email-state"), "is verified").await;
    click(&page, "nav-users").await;
    find(&page, &testid("user-row-ada")).await;

    // Add a user.
    click(&page, "add-user").await;
    wait_path(&page, "/users/new").await;
    let bob = account("bob");
    for (name, value) in [
        ("first_name", "Bob"),
        ("last_name", "Builder"),
        ("username", "bob"),
        ("email", bob.email.as_str()),
        ("mobile", bob.mobile.as_str()),
        ("password", bob.password.as_str()),
        ("security_question", "Favourite tool?"),
        ("security_answer", "hammer"),
    ] {
        fill(&page, name, value).await;
    }
    screenshot(&page, "add-user").await;
    click(&page, "save-user").await;
    wait_text(&page, &testid("toast-success"), "Created bob").await;
    wait_text(&page, &testid("summary"), "of 2").await;

    // Search narrows the table (debounced) and the URL keeps it.
    fill_search(&page, "buil").await;
    wait_path(&page, "/?q=buil").await;
    wait_text(&page, &testid("summary"), "Showing 1–1 of 1").await;
    find(&page, &testid("user-row-bob")).await;
    wait_gone(&page, &testid("user-row-ada")).await;
    screenshot(&page, "dashboard").await;

    // Edit bob; a duplicate mobile shows under the field. (A taken address is not
    // refused: the new address only waits for its code, and its holder is told.)
    find(
        &page,
        &format!("{} {}", testid("user-row-bob"), testid("edit-user")),
    )
    .await
    .click()
    .await
    .unwrap();
    wait_path(&page, "/users/").await;
    fill(&page, "first_name", "Robert").await;
    fill(&page, "mobile", &me.mobile).await;
    click(&page, "save-user").await;
    wait_text(&page, &testid("error-mobile"), "already in use").await;
    screenshot(&page, "edit-user-duplicate").await;
    fill(&page, "mobile", &bob.mobile).await;
    fill(&page, "email", "robert@example.com").await;
    click(&page, "save-user").await;
    wait_text(&page, &testid("toast-success"), "Saved bob").await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("user-row-bob"), "Robert Builder").await;

    // Delete bob after a confirmation that names him.
    find(
        &page,
        &format!("{} {}", testid("user-row-bob"), testid("delete-user")),
    )
    .await
    .click()
    .await
    .unwrap();
    wait_text(
        &page,
        &testid("confirm-message"),
        "Delete bob (Robert Builder)?",
    )
    .await;
    screenshot(&page, "delete-confirm").await;
    click_in_dialog(&page, "confirm-ok").await;
    wait_text(&page, &testid("toast-success"), "Deleted bob").await;
    wait_gone(&page, &testid("user-row-bob")).await;

    // Log out, then recover the password with the code from the delivered mail.
    click(&page, "logout").await;
    wait_path(&page, "/login").await;
    click(&page, "link-forgot").await;
    wait_path(&page, "/forgot").await;
    fill(&page, "identifier", &me.email).await;
    click(&page, "forgot-submit").await;
    let code = app.mail.wait_for_subject(&me.email, RECOVERY_CODE, 1).await[0].code();
    fill(&page, "otp", &code).await;
    let resend = wait_text(&page, &testid("resend-code"), "Send a new code in").await;
    assert!(
        resend.trim_end().ends_with('s'),
        "a countdown, nothing else: {resend:?}"
    );
    assert_eq!(
        app.mail.received_with_subject(RECOVERY_CODE).len(),
        1,
        "exactly one code was requested"
    );
    screenshot(&page, "forgot-code").await;
    click(&page, "otp-submit").await;
    wait_text(&page, &testid("security-question"), &me.security_question).await;
    fill(&page, "security_answer", &me.security_answer).await;
    click(&page, "answer-submit").await;
    let new_password = "lantern orchard velvet 93";
    fill(&page, "new_password", new_password).await;
    click(&page, "reset-submit").await;
    wait_path(&page, "/login").await;
    wait_text(&page, &testid("login-notice"), "password was changed").await;
    log_in(&page, "ada", new_password).await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("current-user"), "ada").await;
    // Refused on purpose: bob (account 2) saved with a mobile already in use.
    chromium.assert_quiet(&["/api/v1/users/2"]).await;
}

async fn fill_search(page: &Page, text: &str) {
    let input = find(page, &testid("search")).await;
    input.click().await.unwrap().type_str(text).await.unwrap();
}

/// The most the app's code (.wasm and .js) may weigh over the wire.
const BUNDLE_BUDGET: u64 = 480_000;

/// What the browser downloaded before the login screen showed: the bundle arrives
/// compressed, within budget (the README's figure is this test's output).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_arrives_compressed_within_budget() {
    let app = spawn_app(|_| {}).await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    find(&page, &testid("login-form")).await;
    let files: Vec<(String, u64, u64)> = page
        .evaluate(
            "[...new Map(performance.getEntriesByType('resource')
                .filter(e => /[.](wasm|js)$/.test(new URL(e.name).pathname))
                .map(e => [new URL(e.name).pathname, [e.encodedBodySize, e.decodedBodySize]])
            )].map(([name, [wire, size]]) => [name, wire, size])",
        )
        .await
        .unwrap()
        .into_value()
        .unwrap();
    println!("the bundle over the wire (bytes sent, bytes decoded): {files:?}");
    for ext in [".wasm", ".js"] {
        assert!(
            files.iter().any(|(name, ..)| name.ends_with(ext)),
            "no {ext} was loaded: {files:?}"
        );
    }
    for (name, wire, size) in &files {
        assert!(
            wire * 2 < *size,
            "{name} came uncompressed: {wire} of {size} bytes"
        );
    }
    let total: u64 = files.iter().map(|(_, wire, _)| wire).sum();
    println!("bundle total over the wire: {total} bytes");
    assert!(
        total <= BUNDLE_BUDGET,
        "{total} bytes, over {BUNDLE_BUDGET}"
    );
    chromium.assert_quiet(&[]).await;
}

/// Leaves the current screen the way the back button does (the app's router, no
/// page load), so the screen's component goes while its timers would still run.
async fn leave_at_once(page: &Page) {
    page.evaluate("history.back()").await.unwrap();
}

/// Leaving a screen while one of its timers or requests is pending: each of these
/// once panicked ("a reactive value that has already been disposed"), which only the
/// recorded page errors show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_screen_at_once_never_panics() {
    let app = spawn_app(|_| {}).await;
    app.admin().await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    find(&page, &testid("login-form")).await;

    // The recovery screen's 30 s countdown ticks every second.
    click(&page, "link-forgot").await;
    fill(&page, "identifier", "admin@example.com").await;
    click(&page, "forgot-submit").await;
    wait_text(&page, &testid("resend-code"), "Send a new code in").await;
    leave_at_once(&page).await;
    wait_path(&page, "/login").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // The strength meter asks the server 250 ms after the last keystroke.
    click(&page, "link-signup").await;
    fill(&page, "password", "a passphrase long enough").await;
    leave_at_once(&page).await;
    wait_path(&page, "/login").await;
    tokio::time::sleep(Duration::from_millis(800)).await;

    // The search box waits 300 ms before it changes the list.
    log_in(&page, "admin", PASSWORD).await;
    wait_text(&page, &testid("summary"), "of 1").await;
    fill_search(&page, "adm").await;
    click(&page, "nav-profile").await;
    wait_path(&page, "/profile").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        wait_path(&page, "/profile").await,
        "/profile",
        "the search that was typed does not follow to the next screen"
    );

    // A form sent just before leaving: its answer comes to a screen that is gone.
    click(&page, "nav-users").await;
    click(&page, "add-user").await;
    let carol = account("carol");
    for (name, value) in [
        ("first_name", carol.first_name.as_str()),
        ("last_name", carol.last_name.as_str()),
        ("username", carol.username.as_str()),
        ("email", carol.email.as_str()),
        ("mobile", carol.mobile.as_str()),
        ("password", carol.password.as_str()),
        ("security_question", carol.security_question.as_str()),
        ("security_answer", carol.security_answer.as_str()),
    ] {
        fill(&page, name, value).await;
    }
    click(&page, "save-user").await;
    leave_at_once(&page).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    chromium.assert_quiet(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_see_no_admin_actions() {
    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    let (_, carol): (_, User) = app.member(&admin, "carol", "user").await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "carol", PASSWORD).await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("summary"), "of 2").await;
    find(&page, &testid("user-row-admin")).await;
    // Own row: edit only; other rows: nothing; no add button anywhere.
    find(
        &page,
        &format!(
            "{} {}",
            testid(&format!("user-row-{}", carol.username)),
            testid("edit-user")
        ),
    )
    .await;
    // Other accounts' addresses and last logins are not shown, nor sorted by.
    let admin_row = wait_text(&page, &testid("user-row-admin"), "admin").await;
    assert!(!admin_row.contains("admin@example.com"), "{admin_row}");
    for hidden in [
        testid("add-user"),
        testid("delete-user"),
        format!("{} {}", testid("user-row-admin"), testid("edit-user")),
        testid("sort-email"),
        testid("sort-last_login_at"),
    ] {
        assert!(
            page.find_element(hidden.as_str()).await.is_err(),
            "{hidden} is visible to a user"
        );
    }
    screenshot(&page, "dashboard-user").await;
    // One page: both pager buttons are there, labelled, and disabled.
    for (id, label) in [("prev-page", "Previous"), ("next-page", "Next")] {
        let button = find(&page, &testid(id)).await;
        assert_eq!(button.inner_text().await.unwrap().as_deref(), Some(label));
        assert!(
            button.attribute("disabled").await.unwrap().is_some(),
            "{id} is disabled"
        );
    }

    // Unknown addresses show the 404 page.
    page.goto(format!("{}/no/such/page", app.address))
        .await
        .unwrap();
    find(&page, &testid("not-found")).await;
    screenshot(&page, "not-found").await;
    chromium.assert_quiet(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_returns_to_login_and_back() {
    let app = spawn_app(|s| s.session.ttl = Duration::from_secs(3)).await;
    let (admin, _) = app.admin().await;
    drop(admin);
    let mut chromium = Chromium::launch().await;
    let page = chromium
        .open(&format!("{}/login?next=%2Fprofile", app.address))
        .await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/profile").await;
    find(&page, &testid("profile-form")).await;
    // Renewal needs activity in the second half of the lifetime; stay idle past it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    click(&page, "save-profile").await;
    let path = wait_path(&page, "/login").await;
    assert!(
        path.contains("notice=expired") && path.contains("next=%2Fprofile"),
        "{path}"
    );
    wait_text(&page, &testid("login-notice"), "Your session has expired").await;
    screenshot(&page, "session-expired").await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/profile").await;
    // Refused on purpose: the save after the session expired.
    chromium.assert_quiet(&["/api/v1/auth/me"]).await;
}

/// Presses and releases `key` in the focused element, as a keyboard would.
async fn press(page: &Page, key: &str, code: i64) {
    use chromiumoxide::cdp::browser_protocol::input::{
        DispatchKeyEventParams, DispatchKeyEventType,
    };
    for kind in [DispatchKeyEventType::KeyDown, DispatchKeyEventType::KeyUp] {
        let mut event = DispatchKeyEventParams::builder()
            .r#type(kind.clone())
            .key(key)
            .code(key)
            .windows_virtual_key_code(code);
        if kind == DispatchKeyEventType::KeyDown && key == "Enter" {
            event = event.text("\r");
        }
        page.execute(event.build().unwrap()).await.unwrap();
    }
}

/// Types `text` into the focused element.
async fn type_text(page: &Page, text: &str) {
    use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
    page.execute(InsertTextParams::new(text)).await.unwrap();
}

/// The `data-testid` of the focused element.
async fn focused(page: &Page) -> String {
    page.evaluate("document.activeElement?.dataset?.testid ?? document.activeElement?.tagName")
        .await
        .unwrap()
        .into_value()
        .unwrap_or_default()
}

/// Tabs forward until `id` has the focus; fails if it takes more than `max` presses.
async fn tab_to(page: &Page, id: &str, max: usize) {
    for _ in 0..max {
        press(page, "Tab", 9).await;
        if focused(page).await == id {
            return;
        }
    }
    panic!(
        "{id} never got the focus by Tab (last: {})",
        focused(page).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_360px_phone_with_only_a_keyboard() {
    use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;

    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    for name in ["bob", "carol"] {
        app.member(&admin, name, "user").await;
    }
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    page.execute(SetDeviceMetricsOverrideParams::new(360, 740, 2.0, true))
        .await
        .unwrap();
    find(&page, &testid("input-username")).await;

    // Tab order follows the form: username, password, then the button; Enter submits.
    tab_to(&page, "input-username", 10).await;
    type_text(&page, "admin").await;
    press(&page, "Tab", 9).await;
    assert_eq!(focused(&page).await, "input-password");
    type_text(&page, PASSWORD).await;
    tab_to(&page, "login-submit", 3).await;
    press(&page, "Enter", 13).await;
    wait_path(&page, "/").await;
    wait_text(&page, &testid("summary"), "of 3").await;

    // Nothing is wider than the phone (no sideways scrolling), nothing too small to tap.
    phone::assert_fits(&page, "the dashboard").await;
    screenshot(&page, "dashboard-phone").await;

    // The cards have no column headers: the toolbar's control sorts them.
    let first_row = || async {
        let id: String = page
            .evaluate("document.querySelector('[data-testid^=\"user-row-\"]').dataset.testid")
            .await
            .unwrap()
            .into_value()
            .unwrap();
        id
    };
    for (order, path, first) in [
        ("username", "/?sort=username", "user-row-admin"),
        ("-username", "/?sort=-username", "user-row-carol"),
    ] {
        let select = find(&page, &testid("sort-select")).await;
        select
            .call_js_fn(
                &format!(
                    "function() {{ this.value = '{order}'; \
                     this.dispatchEvent(new Event('change', {{bubbles: true}})); }}"
                ),
                false,
            )
            .await
            .unwrap();
        wait_path(&page, path).await;
        find(
            &page,
            &format!("{} ~ {}", testid(first), testid("user-row-bob")),
        )
        .await;
        assert_eq!(first_row().await, first, "sorted by {order}");
    }

    // The search box and the row actions are reachable by keyboard.
    tab_to(&page, "search", 15).await;
    type_text(&page, "bob").await;
    wait_text(&page, &testid("summary"), "of 1").await;
    tab_to(&page, "edit-user", 15).await;
    press(&page, "Enter", 13).await;
    wait_path(&page, "/users/").await;
    find(&page, &testid("account-controls")).await;
    chromium.assert_quiet(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_control_accounts_and_read_the_audit_trail() {
    let app = spawn_app(|s| s.lockout.threshold = 2).await;
    let (admin, _) = app.admin().await;
    let (_, bob): (_, User) = app.member(&admin, "bob", "user").await;
    for _ in 0..2 {
        app.client().login("bob", "not the password at all").await;
    }
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    find(
        &page,
        &format!("{} {}", testid("user-row-bob"), testid("locked-badge")),
    )
    .await;

    // Unlock, disable and enable from the user's page.
    go_to(&page, &format!("{}/users/{}/edit", app.address, bob.id)).await;
    wait_text(&page, &testid("account-status"), "Locked").await;
    click(&page, "unlock-user").await;
    wait_text(&page, &testid("account-status"), "Active").await;
    click(&page, "disable-user").await;
    wait_text(&page, &testid("account-status"), "Disabled since").await;
    assert_eq!(
        app.client().login("bob", PASSWORD).await.status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    find(
        &page,
        "[data-testid=\"timeline\"] [data-action=\"user_disabled\"]",
    )
    .await;
    screenshot(&page, "user-controls").await;
    click(&page, "enable-user").await;
    wait_text(&page, &testid("account-status"), "Active").await;
    app.client().login_ok("bob", PASSWORD).await;

    // The audit page filters by action; the URL keeps the filter.
    click(&page, "nav-audit").await;
    wait_path(&page, "/audit").await;
    find(&page, &testid("audit-row")).await;
    let select = find(&page, &testid("filter-action")).await;
    select
        .call_js_fn(
            "function() { this.value = 'lockout'; this.dispatchEvent(new Event('change', {bubbles: true})); }",
            false,
        )
        .await
        .unwrap();
    click(&page, "apply-filters").await;
    wait_path(&page, "/audit?action=lockout").await;
    wait_text(&page, &testid("audit-summary"), "of 1").await;
    find(
        &page,
        "[data-testid=\"audit-row\"][data-action=\"lockout\"]",
    )
    .await;
    screenshot(&page, "audit").await;

    // Sessions: the admin is also logged in from the API client; end that one.
    click(&page, "nav-sessions").await;
    wait_path(&page, "/sessions").await;
    find(&page, "[data-testid=\"session\"][data-current=\"false\"]").await;
    find(&page, "[data-testid=\"session\"][data-current=\"true\"]").await;
    screenshot(&page, "sessions").await;
    click(&page, "revoke-others").await;
    wait_gone(&page, "[data-testid=\"session\"][data-current=\"false\"]").await;
    assert_eq!(
        admin.me().await.status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    chromium.assert_quiet(&[]).await;
}

/// What the Content-Security-Policy blocked on the current page.
async fn csp_violations(page: &Page) -> Vec<String> {
    page.evaluate("window.__cspViolations ?? []")
        .await
        .unwrap()
        .into_value()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_and_swagger_ui_run_under_the_content_security_policy() {
    let app = spawn_app(|_| {}).await;
    app.admin().await;
    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_text(&page, &testid("summary"), "of 1").await;
    assert_eq!(csp_violations(&page).await, Vec::<String>::new(), "the app");

    go_to(&page, &format!("{}/docs/", app.address)).await;
    wait_text(&page, ".swagger-ui .info .title", "User Management API").await;
    find(&page, ".swagger-ui .opblock").await;
    assert_eq!(
        csp_violations(&page).await,
        Vec::<String>::new(),
        "Swagger UI"
    );
    screenshot(&page, "swagger-ui").await;
    chromium.assert_quiet(&[]).await;
}
