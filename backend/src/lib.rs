//! The user-management API server. `main.rs` only parses the command line; everything
//! else lives here so the black-box tests can start the real application in-process.
//!
//! The layers, each using only those below it:
//!
//! ```text
//! startup, cli          read config/, build the services, run
//! http/                 actix-web: routes, extractors, middleware, the error envelope
//! accounts/ auth/ recovery/ avatars/ integrations/ audit mail/   the domain (no actix, no HTTP error)
//! db/                   connection, migrations, entities
//! clock                 the app's clock
//! ```

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod avatars;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod http;
pub mod integrations;
pub mod legacy;
pub mod mail;
pub mod metrics;
pub mod rate;
pub mod recovery;
pub mod startup;
pub mod telemetry;
