//! What third-party systems rely on besides the endpoints themselves: safe retries
//! ([`idempotency`]).

pub mod idempotency;
