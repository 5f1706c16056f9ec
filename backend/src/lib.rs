//! The user-management API server. `main.rs` only parses the command line; everything
//! else lives here so the black-box tests can start the real application in-process.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod database;
pub mod entity;
pub mod error;
pub mod legacy;
pub mod mail;
pub mod openapi;
pub mod recovery;
pub mod routes;
pub mod security_headers;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod users;
pub mod validation;
