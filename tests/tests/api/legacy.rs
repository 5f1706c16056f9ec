//! `import-legacy`: the old Python app's MySQL table, with bcrypt hashes from a real
//! bcrypt implementation, imported into a fresh database of either kind.

use backend::auth::password::Passwords;
use backend::legacy::{self, Outcome};
use bcrypt::Version;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, Value};

use harness::*;

/// The old app's table, exactly as it created it.
const LEGACY_SCHEMA: &str = "CREATE TABLE users (id INT PRIMARY KEY AUTO_INCREMENT, \
    first_name VARCHAR(50), last_name VARCHAR(50), username VARCHAR(50) UNIQUE, \
    email VARCHAR(100) UNIQUE, mobile VARCHAR(15) UNIQUE, password VARCHAR(100), \
    security_question VARCHAR(100), security_answer VARCHAR(100), otp VARCHAR(6) NULL)";

/// A fresh MySQL database holding the old schema; dropped with the value.
struct LegacyDatabase {
    url: String,
    name: String,
    conn: DatabaseConnection,
}

impl LegacyDatabase {
    async fn create() -> Self {
        let server = mysql_url();
        let name = format!("um_legacy_{}", unique());
        let admin = Database::connect(format!("{server}/mysql")).await.unwrap();
        admin
            .execute_unprepared(&format!(
                // A binary collation, as some of the old deployments had: there,
                // `Alice@Example.com` and `ALICE@example.com` could both exist.
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            ))
            .await
            .unwrap();
        let url = format!("{server}/{name}");
        let conn = Database::connect(&url).await.unwrap();
        conn.execute_unprepared(LEGACY_SCHEMA).await.unwrap();
        Self { url, name, conn }
    }

    /// Inserts a row; `None` is SQL NULL.
    async fn insert(&self, row: [Option<&str>; 9]) {
        let values: Vec<Value> = row.iter().map(|v| v.map(str::to_owned).into()).collect();
        self.conn
            .execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::MySql,
                "INSERT INTO users (first_name, last_name, username, email, mobile, password, \
                 security_question, security_answer, otp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            ))
            .await
            .unwrap();
    }
}

impl Drop for LegacyDatabase {
    fn drop(&mut self) {
        let (server, name) = (mysql_url(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(conn) = Database::connect(format!("{server}/mysql")).await {
                    let _ = conn
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{name}`"))
                        .await;
                }
            });
        })
        .join();
    }
}

fn bcrypt_hash(password: &str, version: Version) -> String {
    bcrypt::hash_with_result(password, 4)
        .unwrap()
        .format_for_version(version)
}

/// The old app's data, good rows and bad.
async fn seed(legacy: &LegacyDatabase) {
    let b = bcrypt_hash("alice in chains 1", Version::TwoB);
    let a = bcrypt_hash("bob the builder 2", Version::TwoA);
    let y = bcrypt_hash("carol of the bells", Version::TwoY);
    let long_name = "l".repeat(40);
    let rows: [[Option<&str>; 9]; 8] = [
        [
            Some("Alice"),
            Some("A"),
            Some("Alice"),
            Some("Alice@Example.com"),
            Some("+1 555 010 0001"),
            Some(&b),
            Some("Pet?"),
            Some("Rex"),
            None,
        ],
        [
            Some("Bob"),
            Some("B"),
            Some("bob"),
            Some("bob@example.com"),
            Some("5550100002"),
            Some(&a),
            Some("Pet?"),
            Some("Tom"),
            Some("123456"),
        ],
        [
            Some("Carol"),
            Some("C"),
            Some("carol"),
            Some("carol@example.com"),
            Some("5550100003"),
            Some(&y),
            None,
            None,
            None,
        ],
        // Plain text, allowed by the old app "for migration", and weak by today's rules.
        [
            Some("Dave"),
            Some("D"),
            Some("dave"),
            Some("dave@example.com"),
            Some("5550100004"),
            Some("dave123"),
            Some("Pet?"),
            Some("Fido"),
            None,
        ],
        // The same person as row 1 once case is ignored: skipped.
        [
            Some("Alice"),
            Some("Again"),
            Some("alice2"),
            Some("ALICE@example.com"),
            Some("5550100005"),
            Some("whatever1"),
            None,
            None,
            None,
        ],
        // No top-level domain: kept, with a note.
        [
            Some("Erin"),
            Some("E"),
            Some("erin"),
            Some("erin@localhost"),
            Some("5550100006"),
            Some("erin-secret"),
            None,
            None,
            None,
        ],
        // No mobile number: cannot be stored (mobiles are unique and required).
        [
            Some("Frank"),
            Some("F"),
            Some("frank"),
            Some("frank@example.com"),
            None,
            Some("frank-secret"),
            None,
            None,
            None,
        ],
        // Longer than today's 32-character usernames: kept.
        [
            Some("Lena"),
            Some("L"),
            Some(&long_name),
            Some("lena@example.com"),
            Some("5550100008"),
            Some("lena-secret-99"),
            None,
            None,
            None,
        ],
    ];
    for row in rows {
        legacy.insert(row).await;
    }
}

async fn stored_hash(app: &TestApp, username: &str) -> String {
    let db = Database::connect(app.database_url()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT password_hash FROM users WHERE username = ?",
            [username.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "password_hash").unwrap()
}

db_test!(
    legacy_accounts_log_in_with_their_old_passwords,
    |db| async move {
        let legacy = LegacyDatabase::create().await;
        seed(&legacy).await;
        let app = TestApp::spawn(db).await;
        let target = Database::connect(app.database_url()).await.unwrap();
        let passwords = Passwords::new(2);

        // A dry run reports everything and writes nothing.
        let dry = legacy::import(&target, &passwords, &legacy.url, true)
            .await
            .unwrap();
        assert_eq!(dry.count(Outcome::Imported), 6, "{dry:#?}");
        assert!(
            dry.summary()
                .starts_with("dry run, nothing written: 8 rows read")
        );
        let (admin, _) = app.admin().await;
        let listed: shared::UserPage = json(admin.get("/api/v1/users").await).await;
        assert_eq!(listed.total, 1, "the dry run imported nobody");

        let report = legacy::import(&target, &passwords, &legacy.url, false)
            .await
            .unwrap();
        assert_eq!(
            report.summary(),
            "8 rows read: 6 imported (5 with notes), 2 skipped, 0 already imported"
        );
        let reason = |id: i32| report.lines[(id - 1) as usize].notes.join("; ");
        assert_eq!(
            reason(5),
            "email 'alice@example.com' is already used by legacy row 1"
        );
        assert_eq!(reason(7), "no mobile number");
        assert!(reason(2).contains("pending OTP dropped"));
        assert!(reason(4).contains("plain-text password hashed"));
        assert!(reason(6).contains("erin@localhost"));
        let csv = report.to_csv().unwrap();
        assert!(csv.starts_with("legacy_id,username,outcome,notes\n"));
        assert!(
            !csv.contains("dave123") && !csv.contains("$2"),
            "no secrets in the report"
        );

        // bcrypt of every flavour, then plain text: the original passwords work, and
        // the first login re-hashes to argon2id.
        for (username, password) in [
            ("alice", "alice in chains 1"),
            ("bob", "bob the builder 2"),
            ("carol", "carol of the bells"),
        ] {
            assert!(stored_hash(&app, username).await.starts_with("$2"));
            assert_eq!(
                app.client()
                    .login(username, "wrong password")
                    .await
                    .status(),
                StatusCode::UNAUTHORIZED
            );
            let user = app.client().login_ok(username, password).await;
            assert_eq!(user.role, shared::Role::User);
            assert!(stored_hash(&app, username).await.starts_with("$argon2id$"));
            app.client().login_ok(username, password).await;
        }
        assert!(stored_hash(&app, "dave").await.starts_with("$argon2id$"));
        app.client().login_ok("dave", "dave123").await;
        app.client().login_ok("erin@localhost", "erin-secret").await;
        app.client()
            .login_ok(&"l".repeat(40), "lena-secret-99")
            .await;

        // Security answers were hashed and work for recovery's question step.
        let stored_answer = {
            let row = target
                .query_one_raw(Statement::from_sql_and_values(
                    target.get_database_backend(),
                    "SELECT security_answer_hash FROM users WHERE username = ?",
                    ["bob".into()],
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<String>("", "security_answer_hash").unwrap()
        };
        assert!(stored_answer.starts_with("$argon2id$"));

        // Running it again changes nothing.
        let again = legacy::import(&target, &passwords, &legacy.url, false)
            .await
            .unwrap();
        assert_eq!(
            again.summary(),
            "8 rows read: 0 imported (0 with notes), 2 skipped, 6 already imported"
        );
        let listed: shared::UserPage = json(admin.get("/api/v1/users").await).await;
        assert_eq!(listed.total, 7);

        // An account deleted after the import is not brought back by a re-run.
        let dave: shared::UserPage = json(admin.get("/api/v1/users?q=dave").await).await;
        let res = admin.delete_user(dave.items[0].id).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let after_delete = legacy::import(&target, &passwords, &legacy.url, false)
            .await
            .unwrap();
        assert_eq!(after_delete.count(Outcome::AlreadyImported), 6);
        assert_eq!(
            app.client().login("dave", "dave123").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
);

db_test!(after_an_import_no_signup_becomes_admin, |db| async move {
    let legacy = LegacyDatabase::create().await;
    seed(&legacy).await;
    let app = TestApp::spawn(db).await;
    let target = Database::connect(app.database_url()).await.unwrap();
    legacy::import(&target, &Passwords::new(2), &legacy.url, false)
        .await
        .unwrap();
    let newcomer = app.client().signup_ok(&account("newcomer")).await;
    assert_eq!(newcomer.role, shared::Role::User);
});

/// Made by passlib 1.7.4 for "old secret 42" (`passlib.hash.<scheme>.hash(...)`),
/// the default schemes the old app's CryptContext could have written.
const PASSLIB: &[(&str, &str)] = &[
    (
        "bcrypt_sha256",
        "$bcrypt-sha256$v=2,t=2b,r=4$YiPnRhCj7pxqmG9Ku.AYKe$FhdFczSwIQpy6318po3mkd4wTwLmHcy",
    ),
    (
        "pbkdf2_sha256",
        "$pbkdf2-sha256$1000$hHBubW2N8f4fozSmdA7BWA$BQVWrthPdsZk3Tg.Wl2kqXr4zvuH9Zm9RZX/wVw7eVI",
    ),
    (
        "pbkdf2_sha512",
        "$pbkdf2-sha512$1000$e0/pnbP2/n.vtfa.99577w$BsxPwNkTKlI3bxrRlHX3ZUbnoMWspc7pE24.yh891HQMq0Uya/r.XJ.XmeCtjCq4b.QOmvefCCM1Mi.UfHT9Xg",
    ),
    (
        "sha256_crypt",
        "$5$rounds=1000$fOVdcwOO22ke/PIs$oU9o9wzSlgs7V0xBTy0fx/r6ECbyR0I279p2Z9nbM37",
    ),
    (
        "sha512_crypt",
        "$6$rounds=1000$5oiFYfJRhspDZhTx$Ny/DEO2mVhg.hKdmopNVtrSMv.mKtqBAwqC/Q9MR.qjVMndCBLcEgaWsKXRQgXbhn9l4fKVqkc/5h558FOBxQ/",
    ),
    (
        "argon2",
        "$argon2id$v=19$m=65536,t=3,p=4$DUHovTcG4LxXSgnBOKfUug$hQ9AiOv0UDfoj4pJio9P0oUnqgdB7yV4JBbGlxsVlJc",
    ),
];

/// Some old deployments widened the columns; the values below need it.
async fn widen(legacy: &LegacyDatabase) {
    legacy
        .conn
        .execute_unprepared(
            "ALTER TABLE users MODIFY mobile VARCHAR(40), MODIFY password VARCHAR(255)",
        )
        .await
        .unwrap();
}

fn row<'a>(name: &'a str, mobile: &'a str, password: &'a str) -> [Option<&'a str>; 9] {
    [
        Some("Old"),
        Some("Timer"),
        Some(name),
        None,
        Some(mobile),
        Some(password),
        Some("Pet?"),
        Some("Rex"),
        None,
    ]
}

db_test!(
    every_passlib_scheme_logs_in_and_odd_rows_are_skipped_alone,
    |db| async move {
        let legacy = LegacyDatabase::create().await;
        widen(&legacy).await;
        for (n, (scheme, hash)) in PASSLIB.iter().enumerate() {
            let mobile = format!("+155501000{n:02}");
            let email = format!("{scheme}@example.com");
            let mut fields = row(scheme, &mobile, hash);
            fields[3] = Some(&email);
            legacy.insert(fields).await;
        }
        let odd = [
            (
                "scrypt",
                "+15550100090",
                "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA",
            ),
            ("md5hex", "+15550100091", "5f4dcc3b5aa765d61d8327deb882cf99"),
            ("longphone", "+44 (0) 7700 900 123 x9", "plain password 1"),
        ];
        for (name, mobile, password) in odd {
            let email = format!("{name}@example.com");
            let mut fields = row(name, mobile, password);
            fields[3] = Some(&email);
            legacy.insert(fields).await;
        }
        let app = TestApp::spawn(db).await;
        let target = Database::connect(app.database_url()).await.unwrap();
        let report = legacy::import(&target, &Passwords::new(2), &legacy.url, false)
            .await
            .unwrap();
        assert_eq!(
            report.summary(),
            "9 rows read: 6 imported (0 with notes), 3 skipped, 0 already imported",
            "{report:#?}"
        );
        let reasons: Vec<String> = report
            .lines
            .iter()
            .filter(|l| l.outcome == Outcome::Skipped)
            .map(|l| l.notes.join("; "))
            .collect();
        assert_eq!(
            reasons,
            [
                "the password is a hash of a format that cannot be verified",
                "the password is a hash of a format that cannot be verified",
                "the mobile number is longer than 16 characters",
            ]
        );
        for (scheme, hash) in PASSLIB {
            let status = app.client().login(scheme, hash).await.status();
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
                "{scheme}: the hash is not the password ({status})"
            );
            app.client().login_ok(scheme, "old secret 42").await;
            assert!(
                stored_hash(&app, scheme)
                    .await
                    .starts_with("$argon2id$v=19$m=19456"),
                "{scheme}: upgraded at the first login"
            );
        }
        let imported: shared::User = {
            let client = app.client();
            client.login_ok("pbkdf2_sha256", "old secret 42").await
        };
        assert_eq!(
            imported.email_verified,
            Some(true),
            "imports count as verified"
        );
    }
);

/// Runs alone (see `.config/nextest.toml`): it measures time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timing_unmigrated_accounts_answer_like_unknown_names() {
    let legacy = LegacyDatabase::create().await;
    let slow = bcrypt::hash("old secret 42", 12).unwrap();
    let mut fields = row("oldtimer", "+15550100001", &slow);
    fields[3] = Some("oldtimer@example.com");
    legacy.insert(fields).await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let target = Database::connect(app.database_url()).await.unwrap();
    let report = legacy::import(&target, &Passwords::new(2), &legacy.url, false)
        .await
        .unwrap();
    assert_eq!(report.count(Outcome::Imported), 1, "{report:#?}");
    let client = app.client();
    let time = |name: &'static str| {
        let client = client.clone();
        async move {
            let started = std::time::Instant::now();
            assert_eq!(
                client.login(name, "a wrong password").await.status(),
                StatusCode::UNAUTHORIZED
            );
            started.elapsed()
        }
    };
    // The first check of a legacy hash teaches the server how long one takes.
    time("oldtimer").await;
    let (mut legacy_times, mut unknown_times) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        legacy_times.push(time("oldtimer").await);
        unknown_times.push(time("nobody").await);
    }
    let median = |mut v: Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let (legacy_median, unknown_median) = (median(legacy_times), median(unknown_times));
    assert!(
        legacy_median > 0.1,
        "bcrypt-12 is slow: {legacy_median:.3}s"
    );
    let ratio = unknown_median / legacy_median;
    assert!(
        (0.9..=1.1).contains(&ratio),
        "unknown {unknown_median:.3}s vs un-migrated {legacy_median:.3}s"
    );
}
