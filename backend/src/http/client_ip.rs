//! Who is on the other end of a request: the client's IP address and user agent, for
//! throttling, sessions and the audit trail ([`ClientInfo`]).
//!
//! `X-Forwarded-For` is honoured only when the connection comes from a configured
//! trusted proxy; anyone else could write any address into it.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::{HeaderMap, USER_AGENT};
use ipnet::IpNet;

use crate::audit::ClientInfo;

/// The proxies (addresses or networks) whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Parses `10.0.0.1, 192.168.0.0/16`; the bad entry on failure.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| Self::parse_entry(entry).ok_or_else(|| entry.to_owned()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// One address (`10.0.0.1`) or network (`10.0.0.0/8`).
    pub fn parse_entry(entry: &str) -> Option<IpNet> {
        entry
            .parse::<IpNet>()
            .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
            .ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the peer itself, or, when the peer is a trusted
    /// proxy, the nearest untrusted hop of `X-Forwarded-For`. Hops are read right to
    /// left (each proxy appends what it saw), so whatever a client wrote itself, to
    /// the left of its real address, is never reached. A hop that is not an address
    /// (`unknown`, garbage) ends the walk at the last trusted proxy.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let hops = values.iter().flat_map(|v| v.split(',')).rev();
        let mut nearest = peer;
        for hop in hops {
            let Some(ip) = parse_hop(hop) else {
                return Some(nearest);
            };
            if !self.trusts(ip) {
                return Some(ip);
            }
            nearest = ip;
        }
        Some(nearest)
    }
}

/// `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The caller's address (as [`TrustedProxies::client_ip`] works it out) and user
/// agent (cut to the column's size).
pub fn client_info(req: &HttpRequest, proxies: &TrustedProxies) -> ClientInfo {
    let peer = req.peer_addr().map(|a| a.ip());
    ClientInfo {
        ip: proxies
            .client_ip(peer, req.headers())
            .map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(ClientInfo::MAX_USER_AGENT).collect()),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in forwarded {
            map.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.1, 192.168.0.0/16").unwrap();
        let spoofed = headers(&["1.2.3.4"]);
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), &spoofed),
            ip("203.0.113.9"),
            "a direct client cannot choose its address"
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &headers(&["1.2.3.4, 198.51.100.7"])),
            ip("198.51.100.7"),
            "the hop the proxy saw wins over what the client prepended"
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &headers(&["198.51.100.7", "192.168.4.4"])),
            ip("198.51.100.7"),
            "trusted hops are skipped, across repeated headers"
        );
        assert_eq!(
            proxies.client_ip(ip("::ffff:10.0.0.1"), &headers(&["198.51.100.7"])),
            ip("198.51.100.7"),
            "IPv4-mapped peers match IPv4 networks"
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &headers(&["not-an-ip"])),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &headers(&["garbage, 198.51.100.7:4711"])),
            ip("198.51.100.7"),
            "what a client prepends cannot hide its address; ports are dropped"
        );
        assert_eq!(
            proxies.client_ip(
                ip("10.0.0.1"),
                &headers(&["198.51.100.7, unknown, 192.168.1.1"])
            ),
            ip("192.168.1.1"),
            "an unreadable hop stops the walk at the last trusted proxy"
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        assert_eq!(TrustedProxies::parse("10.0.0.1, nope").unwrap_err(), "nope");
    }
}
