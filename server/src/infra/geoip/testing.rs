//! Writes small country databases for the tests (the unit tests and the black-box suite,
//! which cannot see `#[cfg(test)]` items): no real database is shipped or downloaded. Nothing
//! in the service calls it.
//!
//! The MaxMind DB format, as far as these databases need it: a binary search tree over the
//! 128 bits of an IPv6 address (IPv4 networks under `::/96`, where readers look them up),
//! each node two 24-bit records (another node, "no data", or a pointer into the data
//! section); 16 zero bytes; the data section, values in MaxMind DB's type-tagged encoding;
//! then `\xAB\xCD\xEFMaxMind.com` and the metadata map. Records have the GeoLite2-Country
//! layout: `{"country": {"iso_code": "KR"}}`.

use ipnet::IpNet;
use std::path::Path;

/// Documentation networks (RFC 5737, RFC 3849) and their countries, for tests that need any.
pub const EXAMPLE_NETWORKS: &[(&str, &str)] = &[
    ("203.0.113.0/24", "KR"),
    ("198.51.100.0/24", "US"),
    ("2001:db8:1::/48", "FR"),
];

/// A database that maps each network (CIDR) to a country code; every other address has no
/// answer.
///
/// # Panics
/// On a network that does not parse, a /0, or networks that overlap: test input is wrong.
pub fn country_database(networks: &[(&str, &str)]) -> Vec<u8> {
    let mut tree = Tree {
        nodes: vec![[Record::Empty; 2]],
    };
    let mut data = Vec::new();
    let mut written: Vec<(&str, usize)> = Vec::new();
    for &(network, country) in networks {
        let network: IpNet = network
            .parse()
            .unwrap_or_else(|err| panic!("test network {network:?}: {err}"));
        let offset = match written.iter().find(|(code, _)| *code == country) {
            Some(&(_, offset)) => offset,
            None => {
                let offset = data.len();
                country_record(&mut data, country);
                written.push((country, offset));
                offset
            }
        };
        let (bits, prefix) = match network.trunc() {
            IpNet::V4(v4) => (u128::from(u32::from(v4.network())), 96 + v4.prefix_len()),
            IpNet::V6(v6) => (u128::from(v6.network()), v6.prefix_len()),
        };
        tree.insert(bits, prefix, offset);
    }
    let node_count = tree.nodes.len();
    let mut out = Vec::new();
    for node in &tree.nodes {
        for record in node {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(next) => next,
                // Data pointers count from the end of the tree, past the separator.
                Record::Data(offset) => node_count + 16 + offset,
            };
            assert!(value < 1 << 24, "the test database outgrew 24-bit records");
            out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    metadata(&mut out, node_count);
    out
}

/// [`country_database`] written to `path`.
pub fn write_country_database(path: &Path, networks: &[(&str, &str)]) -> std::io::Result<()> {
    std::fs::write(path, country_database(networks))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    Empty,
    Node(usize),
    /// An offset in the data section.
    Data(usize),
}

struct Tree {
    nodes: Vec<[Record; 2]>,
}

impl Tree {
    /// Marks the network of the first `prefix` bits of `bits` with `data`.
    fn insert(&mut self, bits: u128, prefix: u8, data: usize) {
        assert!(prefix > 0, "a test database cannot hold ::/0");
        let mut node = 0;
        for depth in 0..prefix {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            let record = self.nodes[node][bit];
            if depth + 1 == prefix {
                assert!(record == Record::Empty, "test networks overlap");
                self.nodes[node][bit] = Record::Data(data);
                return;
            }
            node = match record {
                Record::Node(next) => next,
                Record::Empty => {
                    self.nodes.push([Record::Empty; 2]);
                    let next = self.nodes.len() - 1;
                    self.nodes[node][bit] = Record::Node(next);
                    next
                }
                Record::Data(_) => panic!("test networks overlap"),
            };
        }
    }
}

// Type numbers of the data section's encoding.
const UTF8_STRING: u8 = 2;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

fn country_record(out: &mut Vec<u8>, country: &str) {
    control(out, MAP, 1);
    string(out, "country");
    control(out, MAP, 1);
    string(out, "iso_code");
    string(out, country);
}

fn metadata(out: &mut Vec<u8>, node_count: usize) {
    control(out, MAP, 9);
    string(out, "node_count");
    uint(out, UINT32, node_count as u64);
    string(out, "record_size");
    uint(out, UINT16, 24);
    string(out, "ip_version");
    uint(out, UINT16, 6);
    string(out, "database_type");
    string(out, "GeoLite2-Country");
    string(out, "languages");
    control(out, ARRAY, 1);
    string(out, "en");
    string(out, "binary_format_major_version");
    uint(out, UINT16, 2);
    string(out, "binary_format_minor_version");
    uint(out, UINT16, 0);
    string(out, "build_epoch");
    uint(out, UINT64, 1_764_547_200);
    string(out, "description");
    control(out, MAP, 1);
    string(out, "en");
    string(out, "ZecCloud Consent test database");
}

/// The control byte: the type in the top three bits (types above 7 in a byte of their own,
/// less 7), the size in the low five (29 and a byte more for sizes up to 284).
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    assert!(size < 285, "a test value of {size} bytes is too long");
    let size_bits = if size < 29 { size as u8 } else { 29 };
    if kind <= 7 {
        out.push(kind << 5 | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    if size >= 29 {
        out.push((size - 29) as u8);
    }
}

fn string(out: &mut Vec<u8>, value: &str) {
    control(out, UTF8_STRING, value.len());
    out.extend_from_slice(value.as_bytes());
}

/// Unsigned integers are big-endian without their leading zero bytes.
fn uint(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(out, kind, bytes.len() - skip);
    out.extend_from_slice(&bytes[skip..]);
}
