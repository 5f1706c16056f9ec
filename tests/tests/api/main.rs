//! Black-box API tests: the real server over HTTP, each test on a fresh database.
//! Every `db_test!` runs twice, as `<name>::sqlite` and `<name>::mysql`. The harness
//! (starting the app, clients, the SMTP sink) is the `harness` library in `src/`.

// A test is a story told in order; splitting it would hide the plot.
#![allow(clippy::too_many_lines)]

mod abuse;
mod abuse_limits;
mod account_security;
mod audit;
mod auth;
mod avatars;
mod bulk;
mod clients;
mod compression;
mod database;
mod docs;
mod export;
mod import;
mod integrations;
mod legacy;
mod metrics;
mod mfa;
mod passkeys;
mod recovery;
mod security;
mod sessions;
mod users;
mod webhooks;
