//! What third-party systems rely on besides the endpoints themselves: safe retries
//! ([`idempotency`]) and hearing about changes ([`webhooks`]).

pub mod idempotency;
pub mod webhooks;
