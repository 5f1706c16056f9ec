//! Outgoing mail, off the request path: handlers put messages on a queue; a worker
//! delivers them over SMTP (lettre), retrying transient failures with backoff. With
//! no `SMTP_URL`, a development mailer writes each message as an `.eml` file instead.
//! What the messages say is in [`templates`].

pub mod budget;
pub mod notices;
pub mod templates;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use shared::MailQueueStatus;
use tokio::sync::{Semaphore, mpsc};

/// Messages waiting in one queue beyond this are dropped (and logged): a flood of
/// requests must not grow memory without bound.
const QUEUE_CAPACITY: usize = 1024;
/// Deliveries in flight at once.
const CONCURRENT_DELIVERIES: usize = 4;
/// Tries per message, with 1 s, 2 s, 4 s... between them.
const ATTEMPTS: u32 = 4;

/// One message with a plain-text and an HTML part.
#[derive(Clone)]
pub struct Mail {
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What the message is for, for logs (the body may hold a code: never logged).
    pub kind: &'static str,
}

/// The mail server and the sender.
#[derive(Clone)]
pub struct MailSettings {
    /// Outgoing mail server; `None` selects the development mailer (`DATA_DIR/outbox`).
    pub smtp_url: Option<SecretString>,
    /// Per SMTP connection and command.
    pub timeout: Duration,
    pub from: Mailbox,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp", &self.smtp_url.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The development mailer: one `.eml` file per message in this folder.
    Outbox(PathBuf),
}

impl Transport {
    /// SMTP when `smtp_url` is set (`smtps://user:pass@host:465`,
    /// `smtp://host:587?tls=required`, `smtp://127.0.0.1:2525`), else the outbox.
    pub fn from_settings(settings: &MailSettings, outbox: PathBuf) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("SMTP_URL is not a valid smtp:// or smtps:// URL")?
                    .timeout(Some(settings.timeout))
                    .build();
                Ok(Self::Smtp(transport))
            }
            None => Ok(Self::Outbox(outbox)),
        }
    }

    async fn deliver(&self, message: Message) -> Result<(), DeliveryError> {
        match self {
            Self::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(e.to_string())),
                Err(e) => Err(DeliveryError::Transient(e.to_string())),
            },
            Self::Outbox(dir) => {
                let name = format!(
                    "{}-{:08x}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
                    rand::random::<u32>()
                );
                let path = dir.join(name);
                let bytes = message.formatted();
                let written = async {
                    tokio::fs::create_dir_all(dir).await?;
                    write_private(&path, &bytes).await
                };
                written
                    .await
                    .map_err(|e| DeliveryError::Transient(format!("{}: {e}", path.display())))?;
                tracing::info!(
                    path = %path.display(),
                    "development mailer: message written (set SMTP_URL to send real mail)"
                );
                Ok(())
            }
        }
    }
}

/// The outbox holds codes: its files are for this user's eyes only.
async fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.flush().await
}

#[derive(Debug)]
enum DeliveryError {
    Transient(String),
    Permanent(String),
}

/// Which queue a message waits in. Codes (recovery, verification, invitations) are
/// what someone is waiting for at a form: they always go before notices, and a flood
/// of notices cannot push them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Codes,
    Notices,
}

/// The sending side of the mail queues; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    codes: mpsc::Sender<Mail>,
    notices: mpsc::Sender<Mail>,
    dropped: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

impl Mailer {
    /// Starts the delivery worker on the current runtime.
    pub fn start(transport: Transport, from: Mailbox) -> Self {
        let (codes, mut code_inbox) = mpsc::channel::<Mail>(QUEUE_CAPACITY);
        let (notices, mut notice_inbox) = mpsc::channel::<Mail>(QUEUE_CAPACITY);
        let failed = Arc::new(AtomicU64::new(0));
        let failures = failed.clone();
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(CONCURRENT_DELIVERIES));
            loop {
                let mail = tokio::select! {
                    biased;
                    Some(mail) = code_inbox.recv() => mail,
                    Some(mail) = notice_inbox.recv() => mail,
                    else => break,
                };
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let (transport, from) = (transport.clone(), from.clone());
                let failures = failures.clone();
                tokio::spawn(async move {
                    if !deliver_with_retries(&transport, &from, mail).await {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(slot);
                });
            }
        });
        Self {
            codes,
            notices,
            dropped: Arc::default(),
            failed,
        }
    }

    /// Queues `mail` in `lane`; never waits and never fails the caller. A full queue
    /// drops the message, counted and logged.
    pub fn send(&self, lane: Lane, mail: Mail) {
        let kind = mail.kind;
        let queue = match lane {
            Lane::Codes => &self.codes,
            Lane::Notices => &self.notices,
        };
        if queue.try_send(mail).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::error!(kind, ?lane, "mail queue full or closed: message dropped");
        }
    }

    /// How full the queues are, for `/ready`.
    pub fn status(&self) -> MailQueueStatus {
        let queued = |queue: &mpsc::Sender<Mail>| (QUEUE_CAPACITY - queue.capacity()) as u64;
        MailQueueStatus {
            codes_queued: queued(&self.codes),
            notices_queued: queued(&self.notices),
            capacity: QUEUE_CAPACITY as u64,
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// Delivers `mail`, retrying transient failures; whether it was delivered.
async fn deliver_with_retries(transport: &Transport, from: &Mailbox, mail: Mail) -> bool {
    let message = match build(from, &mail) {
        Ok(message) => message,
        Err(e) => {
            tracing::error!(kind = mail.kind, error = %e, "could not build mail");
            return false;
        }
    };
    for attempt in 1..=ATTEMPTS {
        match transport.deliver(message.clone()).await {
            Ok(()) => {
                tracing::info!(kind = mail.kind, attempt, "mail delivered");
                return true;
            }
            Err(DeliveryError::Permanent(error)) => {
                tracing::warn!(kind = mail.kind, %error, "mail refused permanently");
                return false;
            }
            Err(DeliveryError::Transient(error)) if attempt < ATTEMPTS => {
                tracing::info!(kind = mail.kind, attempt, %error, "mail delivery failed; retrying");
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
            }
            Err(DeliveryError::Transient(error)) => {
                tracing::warn!(kind = mail.kind, attempts = ATTEMPTS, %error, "mail delivery gave up");
            }
        }
    }
    false
}

fn build(from: &Mailbox, mail: &Mail) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .from(from.clone())
        .to(mail.to.clone())
        .subject(&mail.subject)
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))?)
}
