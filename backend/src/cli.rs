//! The `backend` command line: `serve` (default), `migrate`, `create-admin`,
//! `import-legacy`, `openapi`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use shared::{Role, SignupRequest};

use crate::auth::password::{self, Passwords};
use crate::config::Settings;
use crate::http::openapi;
use crate::startup::Application;
use crate::{accounts, db, legacy, telemetry};

#[derive(Debug, Parser)]
#[command(name = "backend", version, about = "User-management API server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an admin account.
    CreateAdmin(CreateAdmin),
    /// Import the accounts of the old Python app's MySQL database.
    ImportLegacy(ImportLegacy),
    /// Rebuild the search index from the accounts (after loading accounts straight
    /// into the database, bypassing the application).
    ReindexSearch,
    /// Print the OpenAPI document.
    Openapi,
    /// Time password hashes on this machine, one at a time and then one per core at
    /// once: the most logins a second it can check (nothing else may be running).
    HashSpeed(HashSpeed),
}

#[derive(Debug, Args)]
pub struct HashSpeed {
    /// How long each of the two measurements runs in all (one at a time, then one
    /// per core at once), split into five alternating rounds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub seconds: u64,
}

#[derive(Debug, Args)]
pub struct ImportLegacy {
    /// The old database, e.g. mysql://user:pass@host/fastapi_users. Or set
    /// LEGACY_DATABASE_URL, which keeps the password out of the process list.
    #[arg(
        long,
        value_name = "URL",
        env = "LEGACY_DATABASE_URL",
        hide_env_values = true
    )]
    pub from: String,
    /// Read and check everything, print the report, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where to write the report (CSV); default DATA_DIR/import-legacy-TIME.csv
    #[arg(long, value_name = "PATH")]
    pub report: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CreateAdmin {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub first_name: String,
    #[arg(long)]
    pub last_name: String,
    #[arg(long)]
    pub mobile: String,
    #[arg(long, default_value = "Where was this admin account created?")]
    pub security_question: String,
    /// Read from ADMIN_PASSWORD, else prompted for (never a command-line argument,
    /// which other users could see in the process list).
    #[arg(skip)]
    pub password: Option<SecretString>,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Openapi) {
        // `.env` may set RUST_LOG; logging starts before the settings are read so that
        // their warnings (e.g. a generated JWT secret) are seen.
        let _ = dotenvy::dotenv();
        telemetry::init();
    }
    match command {
        Command::Openapi => {
            println!("{}", openapi::to_json());
            Ok(())
        }
        Command::Serve => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings.clone()).await?;
            tracing::info!(
                "listening on http://{}:{} (API docs at /docs)",
                settings.http.bind_addr.ip(),
                app.port()
            );
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::from_env()?;
            let db = db::connect(&settings.database).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ReindexSearch => {
            let settings = Settings::from_env()?;
            let db = db::connect(&settings.database).await?;
            db::migrate(&db).await?;
            let indexed = migration::rebuild_search_terms(&db).await?;
            tracing::info!(indexed, "search index rebuilt");
            Ok(())
        }
        Command::CreateAdmin(args) => {
            let settings = Settings::from_env()?;
            create_admin(&settings, args).await
        }
        Command::ImportLegacy(args) => {
            let settings = Settings::from_env()?;
            import_legacy(&settings, args).await
        }
        Command::HashSpeed(args) => hash_speed(args).await,
    }
}

/// Prints, for example:
/// ```text
/// $argon2id$v=19$m=19456,t=2,p=1$... on 2 cores
/// 1 at once: 14.61 ms per hash (median), 68.2 hashes/s
/// 2 at once: 14.89 ms per hash (median), 133.9 hashes/s, 98% of 2 cores / one hash
/// ```
/// Each figure is the median of five rounds, each one at a time and then all at once
/// for a fifth of `--seconds`: a shared host's speed drifts within seconds, and
/// alternating keeps that drift out of the ratio.
async fn hash_speed(args: HashSpeed) -> anyhow::Result<()> {
    const ROUNDS: u32 = 5;
    let passwords = Passwords::for_this_machine().patient();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let window = std::time::Duration::from_secs(args.seconds) / ROUNDS;
    println!("{}... on {cores} cores", password::CURRENT_PREFIX);
    let (mut one, mut all) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        one.push(passwords.speed(1, window).await?);
        all.push(passwords.speed(cores, window).await?);
    }
    // The share of the ceiling, round by round: all at once against one at a time.
    let shares = one.iter().zip(&all).map(|(one, all)| {
        let ceiling = cores as f64 / one.median.as_secs_f64().max(1e-9);
        100.0 * all.per_second / ceiling
    });
    let share = median(shares.collect());
    let ms = |speeds: &[password::SpeedRun]| {
        median(
            speeds
                .iter()
                .map(|s| s.median.as_secs_f64() * 1e3)
                .collect(),
        )
    };
    let rate =
        |speeds: &[password::SpeedRun]| median(speeds.iter().map(|s| s.per_second).collect());
    println!(
        "1 at once: {:.2} ms per hash (median), {:.1} hashes/s",
        ms(&one),
        rate(&one)
    );
    println!(
        "{cores} at once: {:.2} ms per hash (median), {:.1} hashes/s, {share:.0}% of {cores} cores / one hash",
        ms(&all),
        rate(&all)
    );
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

async fn import_legacy(settings: &Settings, args: ImportLegacy) -> anyhow::Result<()> {
    let db = db::connect(&settings.database).await?;
    if args.dry_run {
        // A dry run writes nothing, migrations included.
        let pending = db::pending_migrations(&db).await?;
        anyhow::ensure!(
            pending == 0,
            "the database needs {pending} migration(s) first: run `backend migrate` (a dry run writes nothing)",
        );
    } else {
        db::migrate(&db).await?;
    }
    let report = legacy::import(
        &db,
        // Nobody waits on a response here: hashing waits for a slot however long.
        &Passwords::for_this_machine().patient(),
        &args.from,
        args.dry_run,
    )
    .await?;
    if args.dry_run {
        print!("{}", report.to_csv()?);
        println!("{}", report.summary());
        return Ok(());
    }
    let path = args
        .report
        .unwrap_or_else(|| legacy::default_report_path(&settings.paths.data_dir));
    report.write_csv(&path)?;
    println!("{}; report: {}", report.summary(), path.display());
    if !accounts::any_admin(&db).await? {
        println!(
            "no admin account exists yet: create one with `backend create-admin` \
             (imported accounts are users)"
        );
    }
    Ok(())
}

async fn create_admin(settings: &Settings, args: CreateAdmin) -> anyhow::Result<()> {
    let password = match args.password {
        Some(p) => p,
        None => secret_from_env_or_prompt("ADMIN_PASSWORD", "Password for the new admin: ")?,
    };
    let answer = secret_from_env_or_prompt(
        "ADMIN_SECURITY_ANSWER",
        &format!("{} ", args.security_question),
    )?;
    let request = SignupRequest {
        first_name: args.first_name,
        last_name: args.last_name,
        username: args.username,
        email: args.email,
        mobile: args.mobile,
        password: password.expose_secret().to_owned(),
        security_question: args.security_question,
        security_answer: answer.expose_secret().to_owned(),
        ..SignupRequest::default()
    };
    let account = request.validate().map_err(|fields| {
        let list: Vec<String> = fields.iter().map(|(f, m)| format!("{f} {m}")).collect();
        anyhow::anyhow!("invalid admin account: {}", list.join("; "))
    })?;
    let db = db::connect(&settings.database).await?;
    db::migrate(&db).await?;
    // The operator typed the address: it counts as verified.
    let creation = accounts::Creation {
        role: Some(Role::Admin),
        email_verified: true,
        ..accounts::Creation::default()
    };
    let user = accounts::create(&db, &Passwords::for_this_machine(), account, creation)
        .await
        .context("could not create the admin")?;
    println!("created admin '{}' (id {})", user.username, user.id);
    Ok(())
}

fn secret_from_env_or_prompt(variable: &str, prompt: &str) -> anyhow::Result<SecretString> {
    if let Some(value) = std::env::var(variable).ok().filter(|v| !v.is_empty()) {
        return Ok(SecretString::from(value));
    }
    let value = rpassword::prompt_password(prompt)
        .with_context(|| format!("set {variable} or run in a terminal to be prompted"))?;
    Ok(SecretString::from(value))
}
