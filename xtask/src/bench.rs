//! `cargo xtask bench`: the release server on a fresh SQLite file and a fresh MariaDB
//! database, bulk-seeded, under load from `wrk` on loopback; one table per database
//! (req/s, p50, p99, server CPU ms per request, peak RSS), printed and written to
//! `target/bench/`. `--peer` runs the same loads against the Python app this one
//! replaces (../shared/peers/fastapi-seed).
//!
//! Everything here drives real programs (the server's CLI, `mysql`, Python's sqlite3
//! module for the SQLite seed, `curl`, `wrk`), so the xtask stays free of the
//! server's dependencies.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{run_cmd, succeeds};

/// The password of every seeded account.
const PASSWORD: &str = "violet harbor quantum 4217";
const JWT_SECRET: &str = "bench-only-0123456789abcdef0123456789abcdef0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Mysql,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Mysql => "MariaDB",
        }
    }
}

pub struct Options {
    pub accounts: u64,
    pub seconds: u64,
    pub peer: bool,
    pub databases: Vec<Db>,
}

/// One load's figures.
struct Row {
    load: &'static str,
    requests: u64,
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
    cpu_ms_per_req: f64,
    peak_rss_mib: u64,
    /// The mean time of a password hash during the load, from the server's metrics
    /// (`None` where it hashed nothing, or has no such metric: the peer).
    hash_ms: Option<f64>,
    /// The share of the machine's CPU time the hypervisor gave to others during the
    /// load (steal, from `/proc/stat`): on a shared host, how far to trust the row.
    steal_pct: f64,
}

pub fn bench(root: &Path, options: &Options) -> anyhow::Result<()> {
    ensure_wrk()?;
    crate::cargo(&["build", "--release", "-p", "backend"])?;
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let mut report = format!(
        "# cargo xtask bench\n\n{} accounts, {} s per load, {}\n",
        options.accounts,
        options.seconds,
        machine()
    );
    for &db in &options.databases {
        // Before the server starts, so that nothing else runs beside the hashes.
        let hashes_alone = hash_speed(root)?;
        let ours = App::ours(root, db, options.accounts)?;
        let table = run_loads(&ours, options.seconds)?;
        drop(ours);
        let peer = if options.peer {
            let peer = App::peer(root, db, options.accounts)?;
            let table = run_loads(&peer, options.seconds)?;
            drop(peer);
            Some(table)
        } else {
            None
        };
        let text = render(db, &table, peer.as_deref(), &hashes_alone);
        println!("{text}");
        report.push_str(&text);
    }
    let path = out_dir.join("report.md");
    std::fs::write(&path, &report)?;
    println!("written to {}", path.display());
    Ok(())
}

/// `backend hash-speed`: what the machine's cores hash with no server around, one
/// at a time and then all at once (the two lines after its first), to set beside
/// the logins.
fn hash_speed(root: &Path) -> anyhow::Result<Vec<String>> {
    let binary = release_binary(root);
    let binary = binary
        .to_str()
        .context("the target directory's path is not UTF-8")?;
    let before = host_ticks();
    let text = output(binary, &["hash-speed", "--seconds", "10"])?;
    let mut lines: Vec<String> = text.lines().skip(1).map(str::to_owned).collect();
    if let Some(steal) = steal_pct(before, host_ticks()) {
        lines.push(format!("host steal {steal:.1}%"));
    }
    Ok(lines)
}

/// The server `cargo build --release` made.
fn release_binary(root: &Path) -> PathBuf {
    root.join("target/release/backend")
}

fn ensure_wrk() -> anyhow::Result<()> {
    if succeeds("sh", &["-c", "command -v wrk"]) {
        return Ok(());
    }
    println!("xtask: installing wrk (Debian package)");
    run_cmd("apt-get", &["update", "-qq"])?;
    run_cmd("apt-get", &["install", "-y", "-qq", "wrk"])
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024 / 1024);
    let date = output("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    format!("{cores} cores, {memory} GiB, {}", date.trim())
}

/// A server under test: its process, where it listens and how to log in to it.
struct App {
    name: &'static str,
    process: Child,
    base: String,
    /// The session cookie of the seeded admin.
    cookie: String,
    /// A query string reaching deep into the list (a cursor for us; an offset for
    /// the peer, which has nothing else).
    deep: String,
    /// A cursor half-way down the audit trail (the peer has no trail).
    audit_deep: Option<String>,
    /// Dropped (with the database) when the benchmark ends.
    cleanup: Vec<Cleanup>,
}

enum Cleanup {
    Dir(PathBuf),
    MysqlDatabase(String),
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        // The peer's workers are the master's children.
        let _ = Command::new("pkill")
            .args(["-f", &format!("uvicorn.*port {}", port_of(&self.base))])
            .stderr(Stdio::null())
            .status();
        for item in &self.cleanup {
            match item {
                Cleanup::Dir(dir) => {
                    let _ = std::fs::remove_dir_all(dir);
                }
                Cleanup::MysqlDatabase(name) => {
                    let _ = mysql(None, &format!("DROP DATABASE IF EXISTS {name}"));
                }
            }
        }
    }
}

fn port_of(base: &str) -> &str {
    base.rsplit(':').next().unwrap_or_default()
}

impl App {
    fn ours(root: &Path, db: Db, accounts: u64) -> anyhow::Result<App> {
        let dir = temp_dir("um-bench")?;
        let (url, mut cleanup) = fresh_database(db, &dir)?;
        cleanup.push(Cleanup::Dir(dir.clone()));
        let binary = release_binary(root);
        let port = free_port()?;
        let env = |command: &mut Command| {
            command
                .env("DATABASE_URL", &url)
                .env("JWT_SECRET", JWT_SECRET)
                .env("DATA_DIR", &dir)
                .env("STATIC_DIR", &dir)
                .env("BIND_ADDR", format!("127.0.0.1:{port}"))
                .env("RUST_LOG", "warn")
                .env("RATE_LIMIT_BURST", "1000000")
                .env("RATE_LIMIT_PER_MINUTE", "1000000");
        };
        let step = |args: &[&str], extra: &[(&str, &str)]| -> anyhow::Result<()> {
            let mut command = Command::new(&binary);
            env(&mut command);
            for (k, v) in extra {
                command.env(k, v);
            }
            let status = command.args(args).stdout(Stdio::null()).status()?;
            if !status.success() {
                bail!("backend {} failed", args.join(" "));
            }
            Ok(())
        };
        step(&["migrate"], &[])?;
        step(
            CREATE_ADMIN,
            &[
                ("ADMIN_PASSWORD", PASSWORD),
                ("ADMIN_SECURITY_ANSWER", "Rex"),
            ],
        )?;
        let started = Instant::now();
        seed_ours(db, &url, &dir, accounts)?;
        step(&["reindex-search"], &[])?;
        println!(
            "xtask: {} seeded with {accounts} accounts in {:.0} s",
            db.name(),
            started.elapsed().as_secs_f64()
        );
        let mut command = Command::new(&binary);
        env(&mut command);
        let process = command
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        wait_for(&format!("{base}/ready"))?;
        let cookie = login_cookie(&base)?;
        let deep = deep_cursor(&base, &cookie, accounts)?;
        let audit_deep = Some(deep_audit_cursor(&base, &cookie, accounts)?);
        Ok(App {
            name: "this app",
            process,
            base,
            cookie,
            deep,
            audit_deep,
            cleanup,
        })
    }

    fn peer(root: &Path, db: Db, accounts: u64) -> anyhow::Result<App> {
        let script = root.join("../shared/peers/fastapi-seed/run.sh");
        if !script.exists() {
            bail!("--peer needs {}", script.display());
        }
        let dir = temp_dir("um-bench-peer")?;
        let port = free_port()?;
        let mut command = Command::new("bash");
        command.arg(&script).arg(port.to_string()).arg("2");
        let mut cleanup = vec![Cleanup::Dir(dir.clone())];
        let sqlite = dir.join("peer.sqlite3");
        match db {
            Db::Sqlite => {
                command
                    .env("SEED_SQLITE_PATH", &sqlite)
                    .env("FRESH_DB", "1");
            }
            Db::Mysql => {
                let name = format!("seed_bench_{}", std::process::id());
                mysql(
                    None,
                    &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"),
                )?;
                command.env(
                    "DATABASE_URL",
                    format!("mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"),
                );
                cleanup.push(Cleanup::MysqlDatabase(name));
            }
        }
        let process = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        wait_for(&format!("{base}/healthz"))?;
        curl_json(
            &base,
            "POST",
            "/api/v1/auth/signup",
            None,
            &signup_body("benchadmin", "benchadmin@example.net", "+15559990000"),
        )?;
        let started = Instant::now();
        seed_peer(db, &sqlite, accounts)?;
        println!(
            "xtask: the peer on {} seeded with {accounts} accounts in {:.0} s",
            db.name(),
            started.elapsed().as_secs_f64()
        );
        let cookie = login_cookie(&base)?;
        let deep = format!("page={}&per_page=20", accounts / 40);
        Ok(App {
            name: "Python peer",
            process,
            base,
            cookie,
            deep,
            audit_deep: None,
            cleanup,
        })
    }
}

const CREATE_ADMIN: &[&str] = &[
    "create-admin",
    "--username",
    "benchadmin",
    "--email",
    "benchadmin@example.net",
    "--first-name",
    "Bench",
    "--last-name",
    "Admin",
    "--mobile",
    "+15559990000",
    "--security-question",
    "Pet?",
];

/// A new, empty database for this app: its URL and what removes it afterwards.
fn fresh_database(db: Db, dir: &Path) -> anyhow::Result<(String, Vec<Cleanup>)> {
    Ok(match db {
        Db::Sqlite => (
            format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
            vec![],
        ),
        Db::Mysql => {
            let name = format!("um_bench_{}", std::process::id());
            mysql(
                None,
                &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"),
            )?;
            (
                format!("mysql://root@127.0.0.1:3306/{name}"),
                vec![Cleanup::MysqlDatabase(name)],
            )
        }
    })
}

fn temp_dir(prefix: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_for(url: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if succeeds("curl", &["-sf", "-o", "/dev/null", url]) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("{url} never answered")
}

fn output(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program).args(args).output()?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn mysql(database: Option<&str>, sql: &str) -> anyhow::Result<String> {
    let mut args = vec!["-uroot", "-h127.0.0.1", "--protocol=tcp", "-N", "-e", sql];
    if let Some(db) = database {
        args.push(db);
    }
    output("mysql", &args)
}

fn sqlite(path: &Path, sql: &str) -> anyhow::Result<String> {
    output(
        "python3",
        &[
            "-c",
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             sql = sys.argv[2]\n\
             r = c.executescript(sql) if sql.rstrip().endswith(';') else c.execute(sql)\n\
             print('\\n'.join('\\t'.join(map(str, row)) for row in r.fetchall()))\n\
             c.commit()",
            &path.to_string_lossy(),
            sql,
        ],
    )
}

/// The synthetic accounts: names repeat in patterns so searches have many matches
/// ("ada" starts about a third of the usernames and a seventh of the first names),
/// three mail domains, one stored hash (the admin's: everyone has its password).
struct Seed {
    first: &'static [&'static str],
    last: &'static [&'static str],
    user: &'static [&'static str],
    domain: &'static [&'static str],
}

const SEED: Seed = Seed {
    first: &[
        "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances",
    ],
    last: &["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"],
    user: &["ada", "hopper", "turing", "liskov"],
    domain: &["example.org", "example.com", "mail.test"],
};

fn pick(column: &[&str]) -> String {
    let mut out = format!("CASE i % {}", column.len());
    for (n, value) in column.iter().enumerate() {
        let _ = write!(out, " WHEN {n} THEN '{value}'");
    }
    out.push_str(" END");
    out
}

/// Inserts rows 1..=`rows` into `table` with one `INSERT ... SELECT` per chunk, a
/// recursive CTE counting them out (`i`); `run` executes SQL on the database.
fn insert_rows(
    db: Db,
    run: impl Fn(&str) -> anyhow::Result<String>,
    table: &str,
    (columns, values): (&str, &[String]),
    rows: u64,
) -> anyhow::Result<()> {
    let mut from = 1;
    while from <= rows {
        let to = (from + CHUNK - 1).min(rows);
        let insert = format!(
            "INSERT INTO {table} ({columns}) WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL \
             SELECT i + 1 FROM n WHERE i < {to}) SELECT {} FROM n",
            values.join(", ")
        );
        match db {
            // MariaDB stops a recursion at 1,000 rows unless told otherwise.
            Db::Mysql => run(&format!(
                "SET SESSION max_recursive_iterations = {CHUNK}; {insert}"
            ))?,
            Db::Sqlite => run(&format!("{insert};"))?,
        };
        from = to + 1;
    }
    Ok(())
}

fn concat(db: Db, parts: &[&str]) -> String {
    match db {
        Db::Mysql => format!("CONCAT({})", parts.join(", ")),
        Db::Sqlite => parts.join(" || "),
    }
}

const CHUNK: u64 = 100_000;

fn seed_ours(db: Db, url: &str, dir: &Path, accounts: u64) -> anyhow::Result<()> {
    let file = dir.join("bench.db");
    let run = |sql: &str| -> anyhow::Result<String> {
        match db {
            Db::Mysql => mysql(Some(url.rsplit('/').next().unwrap_or_default()), sql),
            Db::Sqlite => sqlite(&file, sql),
        }
    };
    let hash = run("SELECT password_hash FROM users WHERE username = 'benchadmin'")?;
    let hash = hash.trim();
    let (mobile, time, login) = match db {
        Db::Mysql => (
            "CONCAT('+1555', LPAD(i, 7, '0'))".to_owned(),
            "NOW() - INTERVAL i SECOND".to_owned(),
            "IF(i % 3 = 0, NULL, NOW() - INTERVAL i MINUTE)".to_owned(),
        ),
        Db::Sqlite => (
            "printf('+1555%07d', i)".to_owned(),
            "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || i || ' seconds')".to_owned(),
            "CASE WHEN i % 3 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || i || ' minutes') END".to_owned(),
        ),
    };
    let values = [
        pick(SEED.first),
        pick(SEED.last),
        concat(db, &[&pick(SEED.user), "i"]),
        concat(db, &["'user'", "i", "'@'", &pick(SEED.domain)]),
        mobile,
        format!("'{hash}'"),
        "'Pet?'".to_owned(),
        "'user'".to_owned(),
        time.clone(),
        time.clone(),
        login,
        "0".to_owned(),
        time.clone(),
    ];
    let columns = "first_name, last_name, username, email, mobile, password_hash, \
                   security_question, role, created_at, updated_at, last_login_at, \
                   failed_logins, email_verified_at";
    insert_rows(db, run, "users", (columns, &values), accounts)?;
    seed_events(db, run, &time, accounts)?;
    if db == Db::Mysql {
        run("ANALYZE TABLE users, audit_events")?;
    }
    Ok(())
}

/// As many audit events as accounts: one per account (its login, logout or sign-up,
/// by itself), a second apart.
fn seed_events(
    db: Db,
    run: impl Fn(&str) -> anyhow::Result<String>,
    time: &str,
    events: u64,
) -> anyhow::Result<()> {
    let name = concat(db, &[&pick(SEED.user), "i"]);
    let values = [
        time.to_owned(),
        "i".to_owned(),
        name.clone(),
        pick(&["login", "logout", "signup"]),
        "i".to_owned(),
        name,
        "'127.0.0.1'".to_owned(),
        "'success'".to_owned(),
        "1".to_owned(),
    ];
    let columns = "at, actor_id, actor_name, action, target_id, target_name, ip, outcome, repeats";
    insert_rows(db, run, "audit_events", (columns, &values), events)
}

fn seed_peer(db: Db, sqlite_path: &Path, accounts: u64) -> anyhow::Result<()> {
    let database = |sql: &str| -> anyhow::Result<String> {
        match db {
            Db::Mysql => mysql(Some(&format!("seed_bench_{}", std::process::id())), sql),
            Db::Sqlite => sqlite(sqlite_path, sql),
        }
    };
    let row = database(
        "SELECT hashed_password, hashed_security_answer FROM users WHERE username = 'benchadmin'",
    )?;
    let (hash, answer) = row.trim().split_once('\t').context("the peer's admin")?;
    let (mobile, time) = match db {
        Db::Mysql => (
            "CONCAT('+1555', LPAD(i, 7, '0'))",
            "NOW() - INTERVAL i SECOND",
        ),
        Db::Sqlite => (
            "printf('+1555%07d', i)",
            "datetime('now', '-' || i || ' seconds')",
        ),
    };
    let values = [
        pick(SEED.first),
        pick(SEED.last),
        concat(db, &[&pick(SEED.user), "i"]),
        concat(db, &["'user'", "i", "'@'", &pick(SEED.domain)]),
        mobile.to_owned(),
        format!("'{hash}'"),
        "'Pet?'".to_owned(),
        format!("'{answer}'"),
        "1".to_owned(),
        time.to_owned(),
        time.to_owned(),
    ];
    let columns = "first_name, last_name, username, email, mobile, hashed_password, \
                   security_question, hashed_security_answer, is_active, created_at, updated_at";
    insert_rows(db, database, "users", (columns, &values), accounts)?;
    Ok(())
}

fn signup_body(username: &str, email: &str, mobile: &str) -> String {
    format!(
        r#"{{"first_name":"Bench","last_name":"Admin","username":"{username}","email":"{email}","mobile":"{mobile}","password":"{PASSWORD}","security_question":"Pet?","security_answer":"Rex"}}"#
    )
}

fn login_body() -> String {
    login_body_for("benchadmin")
}

/// Logins under load use a seeded account: every login opens a session, and the
/// oldest beyond the per-account cap ends, which must not be the admin's.
fn login_body_for(username: &str) -> String {
    format!(r#"{{"username":"{username}","password":"{PASSWORD}"}}"#)
}

/// Runs curl; returns the response headers and body.
fn curl_json(
    base: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> anyhow::Result<(String, String)> {
    let headers = std::env::temp_dir().join(format!("um-bench-headers-{}", std::process::id()));
    let url = format!("{base}{path}");
    let mut args = vec![
        "-s",
        "-X",
        method,
        "-D",
        headers.to_str().unwrap_or_default(),
        "-H",
        "Content-Type: application/json",
        "-H",
    ];
    let origin = format!("Origin: {base}");
    args.push(&origin);
    let cookie_header;
    if let Some(cookie) = cookie {
        cookie_header = format!("Cookie: {cookie}");
        args.extend(["-H", &cookie_header]);
    }
    if !body.is_empty() {
        args.extend(["-d", body]);
    }
    args.push(&url);
    let body = output("curl", &args)?;
    let headers = std::fs::read_to_string(&headers).unwrap_or_default();
    Ok((headers, body))
}

/// Logs the admin in; the `name=value` pairs of the cookies it got (the session,
/// and for us the device cookie), as a `Cookie` header value.
fn login_cookie(base: &str) -> anyhow::Result<String> {
    let (headers, body) = curl_json(base, "POST", "/api/v1/auth/login", None, &login_body())?;
    let cookies: Vec<&str> = headers
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim().split(';').next().unwrap_or_default())
        })
        .collect();
    if cookies.is_empty() {
        bail!("login at {base} set no cookie: {body}");
    }
    Ok(cookies.join("; "))
}

/// A `next` cursor about half-way down the default order, followed from a page
/// the server lists (by `created_at`, so the middle row is found by its time).
fn deep_cursor(base: &str, cookie: &str, accounts: u64) -> anyhow::Result<String> {
    let middle = accounts / 2;
    let username = format!("{}{middle}", SEED.user[usize::try_from(middle % 4)?]);
    let (_, body) = curl_json(
        base,
        "GET",
        &format!("/api/v1/users?q={username}&per_page=1"),
        Some(cookie),
        "",
    )?;
    let page: serde_json::Value = serde_json::from_str(&body)?;
    let user = &page["items"][0];
    let created = user["created_at"]
        .as_str()
        .with_context(|| format!("no seeded account {username}: {body}"))?;
    let hex: String = created.bytes().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "cursor=n{}~{}~created_at~{hex}",
        middle / 20,
        user["id"]
    ))
}

/// A `next` cursor half-way down the audit trail: the event of the middle account,
/// found by its name.
fn deep_audit_cursor(base: &str, cookie: &str, events: u64) -> anyhow::Result<String> {
    let middle = events / 2;
    let username = format!("{}{middle}", SEED.user[usize::try_from(middle % 4)?]);
    let (_, body) = curl_json(
        base,
        "GET",
        &format!("/api/v1/audit?target={username}&per_page=1"),
        Some(cookie),
        "",
    )?;
    let page: serde_json::Value = serde_json::from_str(&body)?;
    let event = &page["items"][0];
    let at = event["at"]
        .as_str()
        .with_context(|| format!("no seeded event of {username}: {body}"))?;
    let hex: String = at.bytes().map(|b| format!("{b:02x}")).collect();
    Ok(format!("cursor=n{}~{}~-at~{hex}", middle / 50, event["id"]))
}

/// The `/auth/me` probes, idle and beside the login storm: closed loop, and paced.
const CLOSED_IDLE: &str = "/auth/me, 1 client, idle";
const CLOSED_STORM: &str = "/auth/me, 1 client, beside a 32-client login storm";
const PACED_IDLE: &str = "/auth/me, paced 10 ms apart, idle";
const PACED_STORM: &str = "/auth/me, paced 10 ms apart, beside the storm";
/// The paced probe's pause after each answer.
const PROBE_EVERY_MS: u32 = 10;

/// Each load, `seconds` long.
fn run_loads(app: &App, seconds: u64) -> anyhow::Result<Vec<Row>> {
    let scripts = temp_dir("um-bench-wrk")?;
    let login = scripts.join("login.lua");
    std::fs::write(
        &login,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Origin\"] = \"{}\"\n",
            login_body_for("turing2"),
            app.base
        ),
    )?;
    let get = |path: &str| format!("{}{path}", app.base);
    let cookie = format!("Cookie: {}", app.cookie);
    let mut rows = Vec::new();
    for (name, connections, args) in loads(app, &login) {
        println!("xtask: {}: {name}", app.name);
        rows.push(measure(app, name, connections, seconds, &args, None)?);
    }
    // The probe beside a 32-client login storm, twice. Closed loop, the probe is a load
    // of its own (a request the moment the last one is answered: on 2 cores it takes
    // a large part of one). Paced, it is what a user or a health check sees: one
    // request 10 ms after each answer (wrk's `delay()`), about 90 per second.
    let paced = scripts.join("paced.lua");
    std::fs::write(
        &paced,
        format!("function delay()\n  return {PROBE_EVERY_MS}\nend\n"),
    )?;
    let storm = vec![
        "-s".into(),
        login.display().to_string(),
        get("/api/v1/auth/login"),
    ];
    let probe = vec!["-H".into(), cookie, get("/api/v1/auth/me")];
    let paced_probe = [
        vec!["-s".into(), paced.display().to_string()],
        probe.clone(),
    ]
    .concat();
    println!("xtask: {}: /auth/me during a login storm", app.name);
    rows.push(measure(
        app,
        CLOSED_STORM,
        1,
        seconds,
        &probe,
        Some(&storm),
    )?);
    println!(
        "xtask: {}: /auth/me paced, idle and during a login storm",
        app.name
    );
    rows.push(measure(app, PACED_IDLE, 1, seconds, &paced_probe, None)?);
    rows.push(measure(
        app,
        PACED_STORM,
        1,
        seconds,
        &paced_probe,
        Some(&storm),
    )?);
    let _ = std::fs::remove_dir_all(&scripts);
    Ok(rows)
}

/// The loads measured alone: a name, wrk's connections and its arguments. Each read
/// of the lists runs twice: with 16 clients for the throughput (their latency is
/// mostly the queue in front of 2 cores), then with one for the latency of a request
/// on its own.
fn loads(app: &App, login: &Path) -> Vec<(&'static str, u32, Vec<String>)> {
    let get = |path: &str| format!("{}{path}", app.base);
    let cookie = format!("Cookie: {}", app.cookie);
    let read = |path: &str| vec!["-H".into(), cookie.clone(), get(path)];
    let deep = format!("/api/v1/users?{}", app.deep);
    let mut lists: Vec<(&'static str, &'static str, Vec<String>)> = vec![
        (
            "list page 1",
            "list page 1, 1 client",
            read("/api/v1/users?per_page=20"),
        ),
        (
            "search q=ada",
            "search q=ada, 1 client",
            read("/api/v1/users?q=ada"),
        ),
        (
            "search q=example.org",
            "search q=example.org, 1 client",
            read("/api/v1/users?q=example.org"),
        ),
        ("deep page", "deep page, 1 client", read(&deep)),
    ];
    if let Some(audit_deep) = &app.audit_deep {
        let audit = |query: &str| read(&format!("/api/v1/audit?{query}"));
        lists.extend([
            ("audit page 1", "audit page 1, 1 client", audit("")),
            (
                "audit of one account",
                "audit of one account, 1 client",
                audit("target=turing2"),
            ),
            (
                "audit action=signup",
                "audit action=signup, 1 client",
                audit("action=signup"),
            ),
            (
                "audit deep page",
                "audit deep page, 1 client",
                audit(audit_deep),
            ),
        ]);
    }
    let mut loads: Vec<(&'static str, u32, Vec<String>)> = vec![
        (
            "login (8 clients)",
            8,
            vec![
                "-s".into(),
                login.display().to_string(),
                get("/api/v1/auth/login"),
            ],
        ),
        // One at a time: the server's hash time during it is the ceiling's unit.
        (
            "login, 1 client",
            1,
            vec![
                "-s".into(),
                login.display().to_string(),
                get("/api/v1/auth/login"),
            ],
        ),
        ("/auth/me (16 clients)", 16, read("/api/v1/auth/me")),
    ];
    loads.extend(
        lists
            .iter()
            .map(|(name, _, args)| (*name, 16, args.clone())),
    );
    loads.extend(lists.into_iter().map(|(_, alone, args)| (alone, 1, args)));
    loads.push((CLOSED_IDLE, 1, read("/api/v1/auth/me")));
    loads
}

fn measure(
    app: &App,
    load: &'static str,
    connections: u32,
    seconds: u64,
    args: &[String],
    beside: Option<&[String]>,
) -> anyhow::Result<Row> {
    let pids = processes(app.process.id());
    for pid in &pids {
        // "5" resets the peak RSS (VmHWM), so each load reports its own.
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    }
    let cpu_before: u64 = pids.iter().map(|&p| cpu_ticks(p)).sum();
    let host_before = host_ticks();
    let hashes_before = hashing_totals(app);
    let storm = match beside {
        Some(storm) => Some(wrk(32, seconds + 2, storm).spawn()?),
        None => None,
    };
    if storm.is_some() {
        std::thread::sleep(Duration::from_secs(1));
    }
    let result = wrk(connections, seconds, args).output()?;
    let storm_out = match storm {
        Some(child) => Some(child.wait_with_output()?),
        None => None,
    };
    let cpu_after: u64 = pids.iter().map(|&p| cpu_ticks(p)).sum();
    let host_after = host_ticks();
    let hash_ms = match (hashes_before, hashing_totals(app)) {
        (Some((sum0, n0)), Some((sum1, n1))) if n1 > n0 => {
            Some((sum1 - sum0) * 1000.0 / (n1 - n0) as f64)
        }
        _ => None,
    };
    let text = String::from_utf8_lossy(&result.stdout);
    let (requests, rps, p50, p99, errors) =
        parse_wrk(&text).with_context(|| format!("wrk output for {load}: {text}"))?;
    let mut served = requests;
    if let Some(out) = storm_out {
        let storm_text = String::from_utf8_lossy(&out.stdout);
        served += parse_wrk(&storm_text).map_or(0, |r| r.0);
    }
    let ticks_per_second = output("getconf", &["CLK_TCK"])
        .ok()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    let cpu_ms = (cpu_after.saturating_sub(cpu_before)) as f64 * 1000.0 / ticks_per_second;
    Ok(Row {
        load,
        requests,
        rps,
        p50,
        p99,
        errors,
        cpu_ms_per_req: cpu_ms / served.max(1) as f64,
        peak_rss_mib: pids.iter().map(|&p| peak_rss_kib(p)).sum::<u64>() / 1024,
        hash_ms,
        steal_pct: steal_pct(host_before, host_after).unwrap_or_default(),
    })
}

/// The server's `password_hashing_seconds` sum and count, from its metrics; `None`
/// where it has none.
fn hashing_totals(app: &App) -> Option<(f64, u64)> {
    let text = output("curl", &["-sf", &format!("{}/metrics", app.base)]).ok()?;
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Some((
        value("password_hashing_seconds_sum")?,
        value("password_hashing_seconds_count")? as u64,
    ))
}

fn wrk(connections: u32, seconds: u64, args: &[String]) -> Command {
    let mut command = Command::new("wrk");
    command
        .args([
            "-t",
            &connections.min(2).to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "--timeout",
            "10s",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// The server's process and its children (the peer's workers).
fn processes(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let children = std::fs::read_dir(format!("/proc/{}/task", all[i]))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
            .flat_map(|list| {
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok())
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>();
        all.extend(children);
        i += 1;
    }
    all
}

/// The machine's steal ticks and all its ticks so far (the `cpu` line of
/// `/proc/stat`: user nice system idle iowait irq softirq steal ...).
fn host_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse().ok())
        .collect();
    Some((*ticks.get(7)?, ticks.iter().sum()))
}

/// The share of the machine's time stolen between two [`host_ticks`] readings.
fn steal_pct(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> Option<f64> {
    let ((steal0, all0), (steal1, all1)) = (before?, after?);
    (all1 > all0).then(|| 100.0 * steal1.saturating_sub(steal0) as f64 / (all1 - all0) as f64)
}

fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name (which may hold spaces): utime is the 12th.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Requests, req/s, p50, p99 and non-2xx answers from `wrk --latency`.
fn parse_wrk(text: &str) -> Option<(u64, f64, Duration, Duration, u64)> {
    let duration = |raw: &str| -> Option<Duration> {
        let (number, unit) = raw.split_at(raw.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = number.parse().ok()?;
        let seconds = match unit {
            "us" => n / 1e6,
            "ms" => n / 1e3,
            "s" => n,
            "m" => n * 60.0,
            _ => return None,
        };
        Some(Duration::from_secs_f64(seconds))
    };
    let percentile = |p: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(p))
            .and_then(|v| duration(v.trim()))
    };
    let requests = text
        .lines()
        .find(|l| l.contains(" requests in "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let errors = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
        + text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Socket errors:"))
            .map_or(0, |v| {
                v.split(',')
                    .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                    .sum()
            });
    Some((
        requests,
        rps,
        percentile("50%")?,
        percentile("99%")?,
        errors,
    ))
}

fn render(db: Db, ours: &[Row], peer: Option<&[Row]>, hashes_alone: &[String]) -> String {
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    let mut out = format!("\n## {}\n\n", db.name());
    out.push_str(
        "| load | req/s | p50 ms | p99 ms | errors | CPU ms/req | peak RSS MiB | host steal % |",
    );
    if peer.is_some() {
        out.push_str(" peer req/s | peer p99 ms | peer CPU ms/req | peer RSS MiB | req/s ratio |");
    }
    out.push('\n');
    out.push_str("|---|---|---|---|---|---|---|---|");
    if peer.is_some() {
        out.push_str("---|---|---|---|---|");
    }
    out.push('\n');
    for row in ours {
        let other = peer.map(|p| p.iter().find(|r| r.load == row.load));
        let _ = write!(
            out,
            "| {} | {:.0} | {} | {} | {} | {:.2} | {} | {:.1} |",
            row.load,
            row.rps,
            ms(row.p50),
            ms(row.p99),
            row.errors,
            row.cpu_ms_per_req,
            row.peak_rss_mib,
            row.steal_pct
        );
        if matches!(other, Some(None)) {
            out.push_str(" (no such endpoint) | - | - | - | - |");
        } else if let Some(Some(other)) = other
            && other.requests == 0
        {
            out.push_str(" 0 (every request timed out) | - | - | - | - |");
        } else if let Some(Some(other)) = other {
            let _ = write!(
                out,
                " {:.0} | {} | {:.2} | {} | {:.1}x |",
                other.rps,
                ms(other.p99),
                other.cpu_ms_per_req,
                other.peak_rss_mib,
                row.rps / other.rps.max(0.001)
            );
        }
        out.push('\n');
    }
    out.push_str(&summary(ours, hashes_alone));
    out
}

/// The lines under a table: logins against the issue's ceiling, the probe's ratios,
/// and what the cores hashed alone.
fn summary(ours: &[Row], hashes_alone: &[String]) -> String {
    let mut out = String::new();
    let row = |name: &str| ours.iter().find(|r| r.load == name);
    if let (Some(many), Some(lone)) = (row("login (8 clients)"), row("login, 1 client")) {
        // The issue's ceiling: cores / one argon2id hash, the hash timed by the server
        // while logins came one at a time.
        if let Some(hash_ms) = lone.hash_ms {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let ceiling = cores as f64 * 1000.0 / hash_ms;
            let beside = many.hash_ms.map_or(String::new(), |ms| {
                format!("; {ms:.1} ms each with 8 clients")
            });
            let _ = writeln!(
                out,
                "\nLogins: {:.0}/s with 8 clients, {:.0}% of {cores} cores / one hash \
                 ({hash_ms:.1} ms{beside}): {ceiling:.0}/s.",
                many.rps,
                100.0 * many.rps / ceiling,
            );
        }
    }
    if !hashes_alone.is_empty() {
        let _ = writeln!(
            out,
            "\nThe hashes alone, before the server started (`backend hash-speed`): {}.",
            hashes_alone.join("; ")
        );
    }
    let pairs = [
        ("closed loop", CLOSED_IDLE, CLOSED_STORM),
        ("paced", PACED_IDLE, PACED_STORM),
    ];
    for (how, idle, storm) in pairs {
        if let (Some(idle), Some(storm)) = (row(idle), row(storm)) {
            let _ = writeln!(
                out,
                "\n`/auth/me` p99 beside the login storm, {how}: {:.1}x its idle p99.",
                storm.p99.as_secs_f64() / idle.p99.as_secs_f64().max(1e-6)
            );
        }
    }
    out
}
