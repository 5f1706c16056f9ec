//! The cost of the password work behind a login: `cargo bench -p backend --bench passwords`.
//! A login for an unknown username must cost the same as one for a known username.

use backend::auth::password::Passwords;
use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::SecretString;

fn passwords(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let passwords = Passwords::new(1);
    let secret = || SecretString::from("violet harbor quantum 4217".to_owned());
    let hash = runtime.block_on(passwords.hash(secret())).unwrap();

    let mut group = c.benchmark_group("login");
    group.sample_size(30);
    group.bench_function("hash (signup, password change)", |b| {
        b.iter(|| runtime.block_on(passwords.hash(secret())).unwrap())
    });
    group.bench_function("verify, known user", |b| {
        b.iter(|| {
            runtime
                .block_on(passwords.verify(secret(), Some(hash.clone())))
                .unwrap()
        })
    });
    group.bench_function("verify, unknown user (dummy hash)", |b| {
        b.iter(|| runtime.block_on(passwords.verify(secret(), None)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, passwords);
criterion_main!(benches);
