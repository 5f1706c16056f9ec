//! A real SMTP server on loopback (mailin-embedded), receiving what the application
//! sends, so tests read recovery codes out of delivered messages.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::{Handler, Response, Server, response};

/// A delivered message, parsed.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl ReceivedMail {
    /// The 6-digit code in the text part.
    pub fn code(&self) -> String {
        self.text
            .split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() == 6)
            .unwrap_or_else(|| panic!("no 6-digit code in: {}", self.text))
            .to_owned()
    }
}

pub struct MailSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<ReceivedMail>>>,
}

#[derive(Clone)]
struct Sink {
    inbox: Arc<Mutex<Vec<ReceivedMail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let raw = std::mem::take(&mut self.data);
        let parsed = mailparse::parse_mail(&raw).expect("a well-formed message");
        let part = |mime: &str| {
            parsed
                .subparts
                .iter()
                .find(|p| p.ctype.mimetype == mime)
                .map(|p| p.get_body().unwrap())
                .unwrap_or_default()
        };
        let subject = parsed
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case("subject"))
            .map(|h| h.get_value())
            .unwrap_or_default();
        let mail = ReceivedMail {
            to: std::mem::take(&mut self.to),
            subject,
            text: part("text/plain"),
            html: part("text/html"),
            raw: String::from_utf8_lossy(&raw).into_owned(),
        };
        self.inbox.lock().unwrap().push(mail);
        response::OK
    }
}

impl MailSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Sink {
            inbox: inbox.clone(),
            to: Vec::new(),
            data: Vec::new(),
        });
        server.with_name("sink.test").with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { port, inbox }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until `count` messages addressed to `to` have arrived; returns them all.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<ReceivedMail> {
        self.wait_for_subject(to, "", count).await
    }

    /// The messages received so far whose subject contains `subject`.
    pub fn received_with_subject(&self, subject: &str) -> Vec<ReceivedMail> {
        self.received()
            .into_iter()
            .filter(|m| m.subject.contains(subject))
            .collect()
    }

    /// Like [`MailSink::wait_for`], counting only subjects that contain `subject`.
    pub async fn wait_for_subject(
        &self,
        to: &str,
        subject: &str,
        count: usize,
    ) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mails: Vec<_> = self
                .received_with_subject(subject)
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t.contains(to)))
                .collect();
            if mails.len() >= count {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mails to {to} (subject with {subject:?}), got {}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
