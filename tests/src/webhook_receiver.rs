//! A webhook receiver on loopback, as an integrator would run one: it records every
//! request, checks Standard Webhooks signatures with its own HMAC, and can refuse its
//! first requests to make the sender retry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// Whether the receiver answered 2xx to it.
    pub accepted: bool,
}

impl Received {
    pub fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Checks the signature as a receiver would, with its own HMAC.
    pub fn signed_with(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

/// A webhook receiver on loopback that refuses its first `fail_first` requests.
pub struct WebhookReceiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl WebhookReceiver {
    pub async fn start(fail_first: usize) -> Self {
        let got = Arc::new(Mutex::new(Vec::<Received>::new()));
        let refusals = Arc::new(AtomicUsize::new(fail_first));
        let (log, left) = (got.clone(), refusals.clone());
        let server = HttpServer::new(move || {
            let (log, left) = (log.clone(), left.clone());
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: String| {
                    let (log, left) = (log.clone(), left.clone());
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let refuse = left
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        log.lock().unwrap().push(Received {
                            id: header("webhook-id"),
                            timestamp: header("webhook-timestamp"),
                            signature: header("webhook-signature"),
                            body,
                            accepted: !refuse,
                        });
                        match refuse {
                            true => HttpResponse::ServiceUnavailable().finish(),
                            false => HttpResponse::NoContent().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            got,
        }
    }

    /// The accepted deliveries, once there are `n` (or a failure after 20 s).
    pub async fn accepted(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let accepted: Vec<Received> = self
                .got
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r.accepted)
                .cloned()
                .collect();
            if accepted.len() >= n {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{n} deliveries expected: {:#?}", self.got.lock().unwrap());
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}
