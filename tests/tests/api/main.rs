//! Black-box API tests: the real server over HTTP, each test on a fresh database.
//! Every `db_test!` runs twice, as `<name>::sqlite` and `<name>::mysql`.

mod helpers;
mod mail_sink;

mod abuse;
mod audit;
mod auth;
mod docs;
mod legacy;
mod recovery;
mod security;
mod users;
