//! What the proof of consent keeps of the network: a truncated address, never the full one.

use std::net::IpAddr;

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

#[cfg(test)]
mod tests {
    use super::*;

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
