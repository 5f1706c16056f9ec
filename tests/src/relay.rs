//! A TCP relay a test can cut, standing in for a server's host going away while the
//! application keeps running (connections through it drop, new ones are refused).

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Relay {
    /// The loopback port to reach the upstream through.
    pub port: u16,
    cut: watch::Sender<bool>,
}

impl Relay {
    /// Relays 127.0.0.1:`port` to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, cut_rx) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                // Marks the state seen, so only a later change ends this connection.
                let mut cut = cut_rx.clone();
                if *cut.borrow_and_update() {
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { port, cut }
    }

    /// Drops every connection through the relay and refuses new ones.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// A relay to the test MySQL server ([`crate::mysql_url`]) and the server URL that
    /// reaches it through the relay (for `TestAppBuilder::mysql_url`).
    pub async fn to_mysql() -> (Self, String) {
        let upstream = crate::mysql_url();
        let (credentials, host) = upstream
            .trim_start_matches("mysql://")
            .rsplit_once('@')
            .map_or(("", upstream.trim_start_matches("mysql://")), |(c, h)| {
                (c, h)
            });
        let relay = Self::start(host.to_owned()).await;
        let at = if credentials.is_empty() { "" } else { "@" };
        let relayed = format!("mysql://{credentials}{at}127.0.0.1:{}", relay.port);
        (relay, relayed)
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}
