//! Where webhooks may go: `https` to public addresses; private, loopback and
//! link-local ones (and plain `http` to loopback) only when the server allows them.

use std::net::{IpAddr, SocketAddr};

use url::Url;

/// Whether `ip` is on the public internet (not loopback, private, link-local,
/// unique-local, shared, documentation, multicast, unspecified or broadcast).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks `raw` and resolves it; returns the URL and the addresses to connect to
/// (each one allowed), or why not.
pub async fn resolve(raw: &str, allow_private: bool) -> Result<(Url, Vec<SocketAddr>), String> {
    let url = Url::parse(raw).map_err(|_| "is not a valid URL".to_owned())?;
    let host = url
        .host_str()
        .ok_or_else(|| "must name a host".to_owned())?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "must be https://".to_owned())?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| format!("{host} does not resolve"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    let private = addrs.iter().any(|a| !is_public(a.ip()));
    if private && !allow_private {
        return Err(format!(
            "{host} is a private or loopback address (allowed only with WEBHOOK_ALLOW_PRIVATE)"
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_private && addrs.iter().all(|a| a.ip().is_loopback()) => {}
        _ => {
            return Err(
                "must be https:// (plain http only to loopback, in development)".to_owned(),
            );
        }
    }
    Ok((url, addrs))
}

/// Whether `raw` may receive webhooks now.
pub async fn check_url(raw: &str, allow_private: bool) -> Result<(), String> {
    resolve(raw, allow_private).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn loopback_and_plain_http_need_the_setting() {
        let local = "http://127.0.0.1:9/hook";
        assert!(
            check_url(local, false)
                .await
                .unwrap_err()
                .contains("private")
        );
        assert!(check_url(local, true).await.is_ok());
        assert!(check_url("ftp://127.0.0.1/x", true).await.is_err());
        assert!(
            check_url("https://user:pw@127.0.0.1/x", true)
                .await
                .is_err()
        );
        assert!(check_url("not a url", true).await.is_err());
    }
}
