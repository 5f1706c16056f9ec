//! argon2id hashing and verification, always on the blocking pool and never more at
//! once than the machine has cores, so a burst queues instead of starving the async
//! workers or exhausting memory (each hash takes 19 MiB). Some permits are kept for
//! logins ([`Lane::Login`]). The 19 MiB are allocated once per permit and reused
//! (`Memory`): freed and reallocated each time, glibc would raise its mmap
//! threshold past them and keep a copy in every blocking thread's arena.
//!
//! Accounts imported from the old app may still hold any hash passlib's default
//! schemes write (see [`formats`]). They verify here, and [`needs_rehash`] tells the
//! login to replace them with argon2id once the password is known.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::formats::{self, Format};

/// Why a hash could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every slot stayed busy for the whole wait: the caller should retry shortly.
    #[error("password hashing is saturated")]
    Saturated,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A hash of a random password nobody knows, with the production parameters. Verifying
/// against it when the username is unknown spends the same time as a real check.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$1knYRyyS+D4eO8MuUYhzlg$I7BATZe35293MzMc92MFAUWdDB1qZomdZoM+UfKw5ag";

/// How long a request waits for a hashing slot before it gets a 503: under a flood,
/// requests fail fast instead of queueing without bound.
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// OWASP's first recommended argon2id configuration: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// argon2's working memory at today's parameters, kept between hashes: at most one
/// buffer per job running at once, which the permits bound.
#[derive(Default)]
struct Memory {
    free: Mutex<Vec<Vec<Block>>>,
}

impl Memory {
    /// Runs `work` with `blocks` blocks of memory: a kept buffer when `blocks` is
    /// today's size, a one-off otherwise (a legacy argon2 hash with other parameters,
    /// replaced at its first login).
    fn with<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let standard = argon2().params().block_count();
        if blocks != standard {
            return work(&mut vec![Block::default(); blocks]);
        }
        let kept = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buffer = kept.unwrap_or_else(|| vec![Block::default(); standard]);
        let result = work(&mut buffer);
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buffer);
        result
    }

    /// A PHC-format argon2id hash of `secret` with today's parameters and a fresh salt.
    fn hash(&self, secret: &[u8]) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut salt_bytes)
            .map_err(anyhow::Error::msg)?;
        let argon2 = argon2();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.with(argon2.params().block_count(), |blocks| {
            argon2.hash_password_into_with_memory(secret, salt_bytes, &mut out, blocks)
        })
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon2.params()).map_err(anyhow::Error::msg)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(anyhow::Error::msg)?),
        };
        Ok(hash.to_string())
    }

    /// Whether `secret` matches the PHC-format argon2 hash `stored` (any variant,
    /// version and parameters).
    fn verify(&self, secret: &[u8], stored: &str) -> anyhow::Result<bool> {
        let malformed = |e| anyhow::anyhow!("stored password hash is malformed: {e}");
        let parsed = PasswordHash::new(stored).map_err(malformed)?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(malformed)?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(|e| malformed(e.into()))?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).map_err(malformed)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            anyhow::bail!("stored password hash has no salt or no hash");
        };
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(malformed)?;
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        self.with(argon2.params().block_count(), |blocks| {
            argon2.hash_password_into_with_memory(secret, salt_bytes, &mut out, blocks)
        })
        .map_err(|e| anyhow::anyhow!("argon2 verification failed: {e}"))?;
        // `Output`'s equality is constant-time.
        Ok(Output::new(&out).map_err(anyhow::Error::msg)? == expected)
    }
}

/// How today's hashes begin: argon2id with the parameters above.
pub const CURRENT_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// Whether `stored` should be replaced by a fresh argon2id hash of the same secret
/// (a legacy format, or argon2 with other parameters).
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with(CURRENT_PREFIX)
}

/// Which permits a hashing job may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// A login's check: its reserved permits, or a general one when free.
    Login,
    /// Everything else (sign-up, changes, re-authentication, recovery answers).
    General,
}

impl Lane {
    /// Its label in the metrics.
    fn name(self) -> &'static str {
        match self {
            Lane::Login => "login",
            Lane::General => "general",
        }
    }
}

/// The hashing pool: one permit per core, some reserved for logins, so other
/// endpoints hashing flat out never make a login wait for them.
#[derive(Clone)]
pub struct Passwords {
    general: Arc<Semaphore>,
    logins: Arc<Semaphore>,
    /// How long a job waits for a permit before `Saturated`; `None` waits as long as
    /// it takes (the command line, which has nobody waiting on a response).
    wait: Option<std::time::Duration>,
    memory: Arc<Memory>,
    threads: Arc<HashThreads>,
    /// Logins in progress at once (see [`Passwords::admit_login`]).
    logins_admitted: Arc<Semaphore>,
}

impl Passwords {
    /// `max_concurrent` permits in all; a quarter of them (at least one) kept for
    /// logins, at least one for the rest.
    pub fn new(max_concurrent: usize) -> Self {
        let total = max_concurrent.max(2);
        let for_logins = (total / 4).max(1);
        Self {
            general: Arc::new(Semaphore::new(total - for_logins)),
            logins: Arc::new(Semaphore::new(for_logins)),
            wait: Some(QUEUE_WAIT),
            memory: Arc::default(),
            threads: Arc::new(HashThreads::start(total)),
            logins_admitted: Arc::new(Semaphore::new(2 * total)),
        }
    }

    /// A place among the logins in progress, held for the whole login: twice as
    /// many as there are hashing threads, so one login can write its outcome while
    /// the next hashes, and the hashes never wait for the database. Without it, a
    /// storm of logins would each reserve a failure, then queue for a hash: dozens of
    /// writes on one account's row at once, holding the pool's connections while
    /// they wait on its lock (and, past the lockout threshold, locking the account
    /// with right passwords). `Saturated` after the usual queue wait.
    pub async fn admit_login(&self) -> Result<OwnedSemaphorePermit, HashError> {
        let acquire = self.logins_admitted.clone().acquire_owned();
        self.within_wait(Lane::Login, acquire).await
    }

    /// Sized to the machine: hashing is CPU-bound, more threads only add memory.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// For the command line: as many permits, all of them general (nobody logs in
    /// there, so none are kept for logins), waiting however long it takes.
    pub fn patient(self) -> Self {
        let total = self.general.available_permits() + self.logins.available_permits();
        Self {
            general: Arc::new(Semaphore::new(total)),
            logins: Arc::new(Semaphore::new(0)),
            wait: None,
            memory: self.memory,
            threads: self.threads,
            logins_admitted: self.logins_admitted,
        }
    }

    /// A PHC-format argon2id hash of `secret` with a fresh random salt.
    pub async fn hash(&self, secret: SecretString) -> Result<String, HashError> {
        self.hash_on(Lane::General, secret).await
    }

    /// [`Passwords::hash`] on `lane` (a login replacing a legacy hash).
    pub async fn hash_on(&self, lane: Lane, secret: SecretString) -> Result<String, HashError> {
        let memory = self.memory.clone();
        self.run(lane, move || memory.hash(secret.expose_secret().as_bytes()))
            .await
    }

    /// Whether `secret` matches `stored`, on the general lane.
    pub async fn verify(
        &self,
        secret: SecretString,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        self.verify_on(Lane::General, secret, stored).await
    }

    /// Whether `secret` matches `stored`. With no stored hash (unknown user) it checks
    /// against a dummy so the answer takes as long and is always `false`.
    pub async fn verify_on(
        &self,
        lane: Lane,
        secret: SecretString,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        Ok(self.verify_timed(lane, secret, stored).await?.0)
    }

    /// [`Passwords::verify_on`], with how long the check itself took (the wait for a
    /// permit left out).
    pub async fn verify_timed(
        &self,
        lane: Lane,
        secret: SecretString,
        stored: Option<String>,
    ) -> Result<(bool, std::time::Duration), HashError> {
        let memory = self.memory.clone();
        self.run(lane, move || {
            let started = std::time::Instant::now();
            let known = stored.is_some();
            let stored = stored.as_deref().unwrap_or(DUMMY_HASH);
            let secret = secret.expose_secret().as_bytes();
            let matches = match formats::recognize(stored) {
                Some(Format::Argon2) => memory.verify(secret, stored)?,
                Some(format) => formats::verify(format, secret, stored)?,
                None => anyhow::bail!("the stored password hash has no known format"),
            };
            Ok((known && matches, started.elapsed()))
        })
        .await
    }

    /// Hashes with today's parameters for `window`, `at_once` hashes at a time, and
    /// times each (`backend hash-speed`). With one per core at once and nothing else
    /// running, the rate is the most logins a second this machine can check.
    pub async fn speed(
        &self,
        at_once: usize,
        window: std::time::Duration,
    ) -> Result<SpeedRun, HashError> {
        let started = std::time::Instant::now();
        let loops = (0..at_once.max(1)).map(|_| async {
            let mut times = Vec::new();
            while started.elapsed() < window {
                let secret = SecretString::from("hash-speed".to_owned());
                let (_, took) = self.verify_timed(Lane::General, secret, None).await?;
                times.push(took);
            }
            Ok::<_, HashError>(times)
        });
        let mut times: Vec<_> = futures::future::try_join_all(loops)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let elapsed = started.elapsed();
        times.sort_unstable();
        Ok(SpeedRun {
            per_second: times.len() as f64 / elapsed.as_secs_f64(),
            median: times.get(times.len() / 2).copied().unwrap_or_default(),
        })
    }

    async fn permit(&self, lane: Lane) -> Result<OwnedSemaphorePermit, HashError> {
        let acquire = async {
            match lane {
                Lane::General => self.general.clone().acquire_owned().await,
                Lane::Login => tokio::select! {
                    biased;
                    permit = self.logins.clone().acquire_owned() => permit,
                    permit = self.general.clone().acquire_owned() => permit,
                },
            }
        };
        self.within_wait(lane, acquire).await
    }

    /// A permit from `acquire` within the queue wait, else `Saturated` (counted for
    /// `lane`).
    async fn within_wait(
        &self,
        lane: Lane,
        acquire: impl std::future::Future<
            Output = Result<OwnedSemaphorePermit, tokio::sync::AcquireError>,
        >,
    ) -> Result<OwnedSemaphorePermit, HashError> {
        let permit = match self.wait {
            Some(wait) => tokio::time::timeout(wait, acquire).await.map_err(|_| {
                crate::metrics::hashing_saturated(lane.name());
                HashError::Saturated
            })?,
            None => acquire.await,
        };
        Ok(permit.context("password hashing pool closed")?)
    }

    async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashError> {
        let asked = std::time::Instant::now();
        let permit = self.permit(lane).await?;
        let running = crate::metrics::hashing_started(lane.name(), asked.elapsed());
        let result = self
            .threads
            .run(move || {
                let _permit = permit;
                let _running = running;
                work()
            })
            .await
            .context("password hashing task failed")??;
        Ok(result)
    }
}

/// What one run of [`Passwords::speed`] measured.
#[derive(Debug, Clone, Copy)]
pub struct SpeedRun {
    /// Hashes finished per second, all of them together.
    pub per_second: f64,
    /// The median time of one hash on its thread.
    pub median: std::time::Duration,
}

/// The threads that hash, one per permit, started once and kept. They run in Linux's
/// `SCHED_IDLE` class: with every core busy hashing, a request that only needs a
/// moment of CPU (`/auth/me`, a list) takes a core the moment it is ready, instead of
/// queueing behind argon2 for scheduler slices. A nice value does not do that: nice 10
/// or 19 lowers the hashes' share, but a waking request still waited for the running
/// hash's slice (measured on 2 cores beside a 32-client login storm, a paced
/// `/auth/me` probe: p99 16-143 ms at nice 10, 6-8 ms in `SCHED_IDLE`, logins per
/// second the same). Hashing loses nothing while nothing else wants the CPU. On a
/// host kept busy by other work the hashes crawl instead of slowing that work down,
/// and logins waiting for a slot get a 503 with `Retry-After` after the queue wait.
struct HashThreads {
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

impl HashThreads {
    fn start(count: usize) -> Self {
        let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
        let inbox = Arc::new(Mutex::new(inbox));
        for n in 0..count {
            let inbox = inbox.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match inbox.lock() {
                            Ok(inbox) => inbox.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        job();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Self {
            jobs: Mutex::new(jobs),
        }
    }

    /// Runs `work` on a hashing thread; an error if it panicked or the threads are gone.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            if let Ok(value) = result {
                let _ = done.send(value);
            }
        });
        self.jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("hashing threads poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("hashing threads stopped"))?;
        answer.await.context("the hash panicked")
    }
}

/// Puts the calling thread in the idle scheduling class (Linux keeps it per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        let set = set_thread_priority_and_policy(
            thread_native_id(),
            thread_priority::ThreadPriority::Min,
            idle,
        );
        if let Err(e) = set {
            tracing::warn!(error = ?e, "could not lower the hashing threads' priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each hashing thread, found by its name, is in `SCHED_IDLE` (policy 5, the 41st
    /// field of its `stat`).
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_yield_to_everything_else() {
        let policies = || {
            let mut policies = Vec::new();
            for task in std::fs::read_dir("/proc/self/task").unwrap() {
                let task = task.unwrap().path();
                let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
                if name.starts_with("argon2-") {
                    let stat = std::fs::read_to_string(task.join("stat")).unwrap();
                    // The fields after the parenthesised name (which may hold spaces).
                    let rest = &stat[stat.rfind(')').unwrap() + 2..];
                    policies.push(rest.split(' ').nth(41 - 3).unwrap().to_owned());
                }
            }
            policies
        };
        let passwords = Passwords::new(2);
        passwords
            .hash("correct horse".to_owned().into())
            .await
            .unwrap();
        // Each thread sets its class as it starts; give the last one a moment.
        let started = std::time::Instant::now();
        let mut seen = policies();
        while seen.iter().any(|p| p != "5") && started.elapsed().as_secs() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            seen = policies();
        }
        assert!(seen.len() >= 2, "the hashing threads: {seen:?}");
        assert!(seen.iter().all(|p| p == "5"), "SCHED_IDLE: {seen:?}");
    }

    #[test]
    fn the_command_line_hashes_on_every_core() {
        let server = Passwords::new(4);
        assert_eq!(server.general.available_permits(), 3);
        let cli = server.patient();
        assert_eq!(cli.general.available_permits(), 4);
        assert_eq!(cli.wait, None);
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let passwords = Passwords::new(2);
        let hash = passwords
            .hash("correct horse".to_owned().into())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            passwords
                .verify("correct horse".to_owned().into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("wrong horse".to_owned().into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("anything".to_owned().into(), None)
                .await
                .unwrap(),
            "the dummy hash never matches"
        );
    }

    #[test]
    fn hashes_of_any_argon2_variant_and_parameters_verify_with_reused_memory() {
        use argon2::password_hash::PasswordHasher as _;
        let memory = Memory::default();
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let others = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(64, 1, 2, Some(16)).unwrap(),
        );
        for hasher in [argon2(), others] {
            let stored = hasher.hash_password(b"s3cret", &salt).unwrap().to_string();
            assert!(memory.verify(b"s3cret", &stored).unwrap(), "{stored}");
            assert!(!memory.verify(b"s3cret!", &stored).unwrap(), "{stored}");
        }
        // Ours, made with the kept buffer, verify with the crate's own checker.
        let ours = memory.hash(b"s3cret").unwrap();
        assert!(ours.starts_with(CURRENT_PREFIX), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        use argon2::password_hash::PasswordVerifier as _;
        assert!(argon2().verify_password(b"s3cret", &parsed).is_ok());
        // One job at a time: one buffer, kept; the odd-sized one was not.
        assert_eq!(memory.free.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn legacy_bcrypt_hashes_verify_and_ask_for_a_rehash() {
        let passwords = Passwords::new(2);
        for version in [
            bcrypt::Version::TwoA,
            bcrypt::Version::TwoB,
            bcrypt::Version::TwoY,
        ] {
            let hash = bcrypt::hash_with_result("old secret", 4)
                .unwrap()
                .format_for_version(version);
            let check = |guess: &str| passwords.verify(guess.to_owned().into(), Some(hash.clone()));
            assert!(check("old secret").await.unwrap(), "{hash}");
            assert!(!check("other secret").await.unwrap());
            assert!(needs_rehash(&hash));
        }
        let fresh = passwords.hash("x".to_owned().into()).await.unwrap();
        assert!(!needs_rehash(&fresh));
    }
}
