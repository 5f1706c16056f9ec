//! Logging: `tracing` with `RUST_LOG` (default `info`). Request ids come from
//! tracing-actix-web's root span. Nothing secret is ever a field: request types print
//! `***` for passwords, answers and tokens.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (e.g. from tests) are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
