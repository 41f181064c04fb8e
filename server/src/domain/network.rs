//! What the proof of consent keeps of the network: a truncated address, never the full one.

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The proxies whose `X-Forwarded-For` is believed (`trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

#[derive(Debug, thiserror::Error)]
#[error("trusted_proxies: {0:?} is not an address or a CIDR network (e.g. 10.0.0.0/8)")]
pub struct InvalidProxy(String);

impl TrustedProxies {
    /// Each entry an address (`10.0.0.7`) or a network (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidProxy> {
        entries
            .into_iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidProxy(entry.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The visitor's address. Behind a trusted proxy, `X-Forwarded-For` (every header, in
    /// order) is read right to left, each hop appended by the proxy before it: the first
    /// address that is not a trusted proxy is the visitor. Entries left of it were written by
    /// the client and prove nothing. An entry that is not an address stops the walk at the
    /// last hop known; a connection from anyone else ignores the header.
    pub fn visitor_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut visitor = canonical(peer);
        if !self.trusts(visitor) {
            return visitor;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|header| header.split(','))
            .collect();
        for hop in hops.into_iter().rev() {
            let Some(address) = parse_hop(hop) else {
                return visitor;
            };
            visitor = address;
            if !self.trusts(address) {
                return address;
            }
        }
        visitor
    }
}

/// The network one client controls, which rate limits count by: an IPv4 address, or the /64
/// of an IPv6 one (a single host is routinely given a whole /64).
pub fn client_network(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
        }
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(canonical)
}

/// IPv4 addresses mapped into IPv6 (a dual-stack listener's peers) as the IPv4 they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The /24 network of an IPv4 address or the /48 of an IPv6 one, e.g. `203.0.113.0/24`.
/// IPv4 addresses mapped into IPv6 are treated as IPv4.
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return truncate_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let network = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{network}/48")
        }
    }
}

/// What risk control keeps of one address (the IPv4 address, or the /64 an IPv6 host is given
/// and may rotate within): a keyed hash, 16 hex characters, so rows can be counted per address
/// without holding any. IPv4 addresses mapped into IPv6 are treated as IPv4.
pub fn address_key(key: &[u8], ip: IpAddr) -> String {
    use sha2::{Digest, Sha256};
    let host: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets()[..8].to_vec(),
        },
    };
    let mut hasher = Sha256::new();
    hasher.update((key.len() as u64).to_be_bytes());
    hasher.update(key);
    hasher.update(b"risk-address\0");
    hasher.update(&host);
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The address with its last `bytes` bytes zeroed, as Matomo's own IP anonymisation does for
/// IPv4 (1 byte: /24, 2 bytes: /16 …). IPv6 keeps /64, /48, /32 or nothing for 1, 2, 3 or 4.
pub fn mask_ip(ip: IpAddr, bytes: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let keep = 4usize.saturating_sub(usize::from(bytes));
            let mut octets = v4.octets();
            octets[keep..].fill(0);
            IpAddr::from(octets)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return mask_ip(IpAddr::V4(v4), bytes);
            }
            let keep = match bytes {
                0 => 16,
                1 => 8,
                2 => 6,
                3 => 4,
                _ => 0,
            };
            let mut octets = v6.octets();
            octets[keep..].fill(0);
            IpAddr::from(octets)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_keys_are_per_host_keyed_and_hide_the_address() {
        let key = |text: &str| address_key(b"key", ip(text));
        assert_eq!(key("198.51.100.7").len(), 16);
        assert_eq!(key("198.51.100.7"), key("::ffff:198.51.100.7"));
        assert_ne!(key("198.51.100.7"), key("198.51.100.8"));
        assert_ne!(
            key("198.51.100.7"),
            address_key(b"other", ip("198.51.100.7"))
        );
        // One IPv6 host's /64, whatever its interface id.
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse(["10.0.0.0/8", "192.0.2.7", "fd00::/8"]).unwrap()
    }

    #[test]
    fn a_client_network_is_an_ipv4_address_or_an_ipv6_64() {
        assert_eq!(client_network(ip("203.0.113.9")), ip("203.0.113.9"));
        assert_eq!(client_network(ip("::ffff:203.0.113.9")), ip("203.0.113.9"));
        assert_eq!(
            client_network(ip("2001:db8:1:2:3:4:5:6")),
            ip("2001:db8:1:2::")
        );
    }

    #[test]
    fn proxies_parse_addresses_and_networks_and_refuse_the_rest() {
        assert!(TrustedProxies::parse(["10.0.0.0/8", " 192.0.2.7 ", "::1"]).is_ok());
        for bad in ["10.0.0.0/33", "proxy.internal", "", "10.0.0"] {
            assert!(TrustedProxies::parse([bad]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_visitor() {
        let proxies = proxies();
        // The client wrote 1.1.1.1 itself; the edge proxy appended the real peer.
        let chain = ["1.1.1.1, 203.0.113.9, 10.0.0.3"];
        assert_eq!(
            proxies.visitor_address(ip("10.0.0.2"), chain),
            ip("203.0.113.9")
        );
        // Several headers count as one list, in order.
        assert_eq!(
            proxies.visitor_address(ip("10.0.0.2"), ["1.1.1.1", "203.0.113.9"]),
            ip("203.0.113.9")
        );
        // Ports and IPv6 brackets are taken off; mapped IPv4 peers are IPv4.
        assert_eq!(
            proxies.visitor_address(ip("::ffff:10.0.0.2"), ["[2001:db8::5]:443, fd00::1"]),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_visitor_whatever_it_forwards() {
        let proxies = proxies();
        assert_eq!(
            proxies.visitor_address(ip("203.0.113.50"), ["1.1.1.1"]),
            ip("203.0.113.50")
        );
        assert_eq!(
            TrustedProxies::default().visitor_address(ip("10.0.0.2"), ["1.1.1.1"]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn garbage_or_an_all_trusted_chain_stops_at_the_last_known_hop() {
        let proxies = proxies();
        assert_eq!(
            proxies.visitor_address(ip("10.0.0.2"), ["1.1.1.1, nonsense, 10.0.0.9"]),
            ip("10.0.0.9")
        );
        assert_eq!(
            proxies.visitor_address(ip("10.0.0.2"), ["192.0.2.7, 10.0.0.9"]),
            ip("192.0.2.7")
        );
        assert_eq!(
            proxies.visitor_address(ip("10.0.0.2"), Vec::<&str>::new()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn masking_zeroes_the_configured_bytes() {
        let v4: IpAddr = "203.0.113.77".parse().unwrap();
        assert_eq!(mask_ip(v4, 0).to_string(), "203.0.113.77");
        assert_eq!(mask_ip(v4, 1).to_string(), "203.0.113.0");
        assert_eq!(mask_ip(v4, 2).to_string(), "203.0.0.0");
        assert_eq!(mask_ip(v4, 4).to_string(), "0.0.0.0");
        let v6: IpAddr = "2001:db8:abcd:12:34::1".parse().unwrap();
        assert_eq!(mask_ip(v6, 1).to_string(), "2001:db8:abcd:12::");
        assert_eq!(mask_ip(v6, 2).to_string(), "2001:db8:abcd::");
        let mapped: IpAddr = "::ffff:198.51.100.9".parse().unwrap();
        assert_eq!(mask_ip(mapped, 2).to_string(), "198.51.0.0");
    }

    #[test]
    fn ipv4_keeps_the_first_three_octets() {
        assert_eq!(
            truncate_ip("203.0.113.77".parse().unwrap()),
            "203.0.113.0/24"
        );
    }

    #[test]
    fn ipv6_keeps_the_first_48_bits() {
        assert_eq!(
            truncate_ip("2001:db8:abcd:12:34::1".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
        assert_eq!(
            truncate_ip("::ffff:198.51.100.9".parse().unwrap()),
            "198.51.100.0/24"
        );
    }
}
