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
