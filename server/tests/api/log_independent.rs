//! An independent verifier of the consent log (docs/consent-log.md), written from the RFCs and
//! the C2SP specs alone: nothing from `server::` and no `tlog_tiles`, so a mistake shared by the
//! service and its own proof code cannot make the black-box tests agree with it. Hashing and
//! the proofs follow RFC 9162 §2.1; the heads are C2SP checkpoints in C2SP signed notes with
//! Ed25519 keys (`ed25519-dalek` directly).

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// RFC 9162 §2.1.1: a leaf's hash, SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// RFC 9162 §2.1.1: an interior node's hash, SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// RFC 9162 §2.1.1: the root of a list of leaf hashes (MTH), recursively: the largest power of
/// two smaller than n splits the list. For the tests' reference trees.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest(b"").into(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while 2 * k < n {
                k *= 2;
            }
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// RFC 9162 §2.1.3.2: whether `path` proves leaf `leaf_index` with hash `leaf` in the tree of
/// `tree_size` leaves with root `root`.
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> bool {
    // 1.
    if leaf_index >= tree_size {
        return false;
    }
    // 2., 3.
    let (mut f_n, mut s_n) = (leaf_index, tree_size - 1);
    let mut r = *leaf;
    // 4.
    for p in path {
        // a.
        if s_n == 0 {
            return false;
        }
        // b.
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        // c.
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5.
    s_n == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: whether `proof` proves the tree of `first` leaves (root `first_root`) a
/// prefix of the tree of `second` leaves (root `second_root`). Equal sizes need an empty
/// proof and equal roots (the RFC's algorithm is for `first < second`).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    // 1.
    if proof.is_empty() {
        return false;
    }
    // 2.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    // 3.
    let (mut f_n, mut s_n) = (first - 1, second - 1);
    // 4.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (path[0], path[0]);
    // 6.
    for c in &path[1..] {
        // a.
        if s_n == 0 {
            return false;
        }
        // b.
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // c.
        f_n >>= 1;
        s_n >>= 1;
    }
    // 7.
    fr == *first_root && sr == *second_root && s_n == 0
}

/// A public key that signs notes: the Go `sumdb/note` verifier key
/// `name+keyid+base64(0x01 ‖ key)`, read and its key id checked.
#[derive(Debug, Clone)]
pub struct NoteKey {
    pub name: String,
    pub key_id: [u8; 4],
    pub key: VerifyingKey,
}

/// c2sp.org/signed-note: the key id is the first four bytes of
/// SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([0x01]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return Err(format!("not hex: {text:?}"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| format!("not hex: {text:?}")))
        .collect()
}

fn hash_b64(text: &str) -> Result<Hash, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| format!("not base64: {text:?}"))?;
    Hash::try_from(bytes.as_slice()).map_err(|_| format!("not a 32-byte hash: {text:?}"))
}

impl NoteKey {
    pub fn parse(verifier_key: &str) -> Result<Self, String> {
        // From the left: a name has no '+', base64 may.
        let mut parts = verifier_key.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("not a verifier key: {verifier_key:?}"));
        };
        let typed = STANDARD
            .decode(key)
            .map_err(|_| format!("the key is not base64: {verifier_key:?}"))?;
        let (Some(0x01), Ok(raw)) = (typed.first(), <[u8; 32]>::try_from(&typed[1..])) else {
            return Err(format!("not an Ed25519 key: {verifier_key:?}"));
        };
        let key_id = key_id(name, &raw);
        if hex(&key_id) != id {
            return Err(format!(
                "key id {id} is not {} for {verifier_key:?}",
                hex(&key_id)
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key: VerifyingKey::from_bytes(&raw).map_err(|err| err.to_string())?,
        })
    }
}

/// An opened checkpoint (c2sp.org/tlog-checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The lines after the root (this log's: `timestamp …`).
    pub extensions: Vec<String>,
    /// The name of the key whose signature verified.
    pub signed_by: String,
}

impl Checkpoint {
    /// The `timestamp` extension line's value.
    pub fn timestamp(&self) -> Option<&str> {
        self.extensions
            .iter()
            .find_map(|line| line.strip_prefix("timestamp "))
    }
}

/// Opens a signed note: the text up to the blank line is the checkpoint, signed with its final
/// newline; each line after it is `— name base64(key id ‖ signature)`. One signature by one of
/// `keys` (same name, same key id) must verify.
pub fn open_note(note: &str, keys: &[NoteKey]) -> Result<Checkpoint, String> {
    let (text, signatures) = note
        .split_once("\n\n")
        .ok_or("no blank line between the checkpoint and its signatures")?;
    let signed = format!("{text}\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let [origin, size, root, extensions @ ..] = lines.as_slice() else {
        return Err(format!("a checkpoint has three lines at least: {text:?}"));
    };
    if origin.is_empty() {
        return Err("no origin".to_owned());
    }
    if size.is_empty() || (size.starts_with('0') && *size != "0") {
        return Err(format!("bad tree size {size:?}"));
    }
    let size: u64 = size
        .parse()
        .map_err(|_| format!("bad tree size {size:?}"))?;
    let root = hash_b64(root)?;
    if !signatures.ends_with('\n') {
        return Err("the signatures do not end with a newline".to_owned());
    }
    let mut verified = None;
    for line in signatures.lines() {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| format!("not a signature line: {line:?}"))?;
        let (name, encoded) = rest
            .rsplit_once(' ')
            .ok_or_else(|| format!("not a signature line: {line:?}"))?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| format!("signature not base64: {line:?}"))?;
        if bytes.len() != 4 + 64 {
            continue;
        }
        let Some(key) = keys
            .iter()
            .find(|key| key.name == name && key.key_id[..] == bytes[..4])
        else {
            continue;
        };
        let signature = Signature::from_slice(&bytes[4..]).map_err(|err| err.to_string())?;
        key.key
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| format!("the signature by {name} does not verify"))?;
        verified = Some(name.to_owned());
        break;
    }
    let signed_by = verified.ok_or("no signature by a known key")?;
    Ok(Checkpoint {
        origin: (*origin).to_owned(),
        size,
        root,
        extensions: extensions.iter().map(|line| (*line).to_owned()).collect(),
        signed_by,
    })
}

/// The keys of a `GET /api/v1/log/key` answer.
pub fn keys_of(answer: &Value) -> Result<Vec<NoteKey>, String> {
    let keys = answer["keys"].as_array().ok_or("no keys")?;
    keys.iter()
        .map(|key| {
            let parsed = NoteKey::parse(key["verifier_key"].as_str().ok_or("no verifier_key")?)?;
            // The other fields say the same.
            let public_key = STANDARD
                .decode(key["public_key"].as_str().ok_or("no public_key")?)
                .map_err(|_| "public_key not base64")?;
            if public_key != parsed.key.as_bytes()
                || key["key_id"] != hex(&parsed.key_id)
                || key["name"] != parsed.name.as_str()
                || key["algorithm"] != "ed25519"
            {
                return Err(format!(
                    "the key's fields disagree with its verifier key: {key}"
                ));
            }
            Ok(parsed)
        })
        .collect()
}

fn str_of<'a>(value: &'a Value, field: &str) -> Result<&'a str, String> {
    value[field]
        .as_str()
        .ok_or_else(|| format!("no string {field} in {value}"))
}

fn u64_of(value: &Value, field: &str) -> Result<u64, String> {
    value[field]
        .as_u64()
        .ok_or_else(|| format!("no number {field} in {value}"))
}

/// What a checked receipt was proved against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedReceipt {
    pub leaf_index: u64,
    pub checkpoint: Checkpoint,
}

/// Checks a receipt's `log` entry end to end, as `scripts/verify-receipt.py` does and
/// docs/verify-a-receipt.md describes: the record is the receipt's decision, its salted hash is
/// the leaf's commitment, the leaf hashes to `leaf_hash`, the inclusion proof leads from it to
/// the root of a checkpoint signed by one of the keys. `receipt` is the receipt endpoint's
/// answer (`{"receipt": …, "jws": …}`) or the receipt itself; `inclusion` the answer of the
/// receipt's `inclusion` URL; `keys` the answer of `GET /api/v1/log/key`.
pub fn check_receipt(
    receipt: &Value,
    inclusion: &Value,
    keys: &Value,
) -> Result<CheckedReceipt, String> {
    let receipt = if receipt["receipt"].is_object() {
        &receipt["receipt"]
    } else {
        receipt
    };
    let log = &receipt["log"];
    if !log.is_object() {
        return Err(format!("the receipt has no log entry: {receipt}"));
    }
    let event_id = str_of(receipt, "record_id")?;

    // The record is this decision.
    let record_text = str_of(log, "record")?;
    let record: Value = serde_json::from_str(record_text)
        .map_err(|err| format!("the record is not JSON: {err}"))?;
    if record["id"] != event_id {
        return Err(format!(
            "the record's id {} is not the receipt's {event_id}",
            record["id"]
        ));
    }

    // The leaf commits to the salted record.
    let leaf_data = str_of(log, "leaf_data")?;
    let lines: Vec<&str> = leaf_data
        .strip_suffix('\n')
        .ok_or("the leaf data does not end with a newline")?
        .split('\n')
        .collect();
    let [format, kind, at, commitment] = lines.as_slice() else {
        return Err(format!("the leaf data is not four lines: {leaf_data:?}"));
    };
    if *format != "zeccloud-consent-log/v1" || *kind != "consent" {
        return Err(format!("not a v1 consent leaf: {leaf_data:?}"));
    }
    if record["created_at"] != *at {
        return Err(format!(
            "the leaf's time {at} is not the record's created_at {}",
            record["created_at"]
        ));
    }
    // No salt (`null`): a decision an older release wrote during the upgrade that added
    // the log, logged unsalted.
    let salt = match &log["salt"] {
        Value::Null => Vec::new(),
        salt => unhex(salt.as_str().ok_or("salt is not a string")?)?,
    };
    let mut hasher = Sha256::new();
    hasher.update(&salt);
    hasher.update(record_text.as_bytes());
    let computed = hex(&hasher.finalize());
    if computed != *commitment {
        return Err(format!(
            "SHA-256(salt ‖ record) is {computed}, the leaf commits to {commitment}"
        ));
    }

    // The leaf hash.
    let leaf = leaf_hash(leaf_data.as_bytes());
    if hash_b64(str_of(log, "leaf_hash")?)? != leaf {
        return Err(format!(
            "SHA-256(0x00 ‖ leaf data) is {}, the receipt says {}",
            STANDARD.encode(leaf),
            str_of(log, "leaf_hash")?
        ));
    }
    let leaf_index = u64_of(log, "leaf_index")?;

    // The inclusion answer is about this leaf.
    if str_of(inclusion, "event_id")? != event_id
        || u64_of(inclusion, "leaf_index")? != leaf_index
        || hash_b64(str_of(inclusion, "leaf_hash")?)? != leaf
        || str_of(inclusion, "leaf_data")? != leaf_data
    {
        return Err(format!(
            "the inclusion answer is about another leaf: {inclusion}"
        ));
    }
    let tree_size = u64_of(inclusion, "tree_size")?;
    let root = hash_b64(str_of(inclusion, "root_hash")?)?;
    let path = inclusion["audit_path"]
        .as_array()
        .ok_or("no audit_path")?
        .iter()
        .map(|hash| hash_b64(hash.as_str().ok_or("audit_path holds a non-string")?))
        .collect::<Result<Vec<_>, _>>()?;
    if !verify_inclusion(leaf_index, tree_size, &leaf, &path, &root) {
        return Err(format!(
            "the audit path does not lead from leaf {leaf_index} to the root of {tree_size} leaves"
        ));
    }

    // The root is signed.
    let checkpoint = open_note(str_of(inclusion, "checkpoint")?, &keys_of(keys)?)?;
    if checkpoint.size != tree_size || checkpoint.root != root {
        return Err(format!(
            "the checkpoint is of {} leaves with root {}, the proof of {tree_size} with root {}",
            checkpoint.size,
            STANDARD.encode(checkpoint.root),
            STANDARD.encode(root)
        ));
    }
    Ok(CheckedReceipt {
        leaf_index,
        checkpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    /// The RFC 6962 reference leaves (certificate-transparency's `merkle_tree_test.cc`).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    const ROOT_8: &str = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

    fn h(text: &str) -> Hash {
        unhex(text).unwrap().try_into().unwrap()
    }

    fn leaves() -> Vec<Hash> {
        LEAVES
            .iter()
            .map(|leaf| leaf_hash(&unhex(leaf).unwrap()))
            .collect()
    }

    fn root(size: usize) -> Hash {
        root_of(&leaves()[..size])
    }

    fn root_of_size(size: usize) -> Hash {
        root(size)
    }

    #[test]
    fn roots_are_the_reference_ones() {
        assert_eq!(hex(&root(8)), ROOT_8);
        assert_eq!(
            hex(&root(1)),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex(&root(3)),
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"
        );
        assert_eq!(
            hex(&root(5)),
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"
        );
        assert_eq!(
            hex(&root(6)),
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"
        );
        assert_eq!(
            hex(&root(7)),
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"
        );
    }

    #[test]
    fn the_reference_inclusion_proofs_verify_and_altered_ones_do_not() {
        let leaves = leaves();
        let cases: [(u64, usize, &[&str]); 4] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, path) in cases {
            let path: Vec<Hash> = path.iter().map(|hash| h(hash)).collect();
            let leaf = leaves[index as usize];
            let root = root(size);
            assert!(
                verify_inclusion(index, size as u64, &leaf, &path, &root),
                "leaf {index} of {size}"
            );
            // Another index, size, root, leaf; a path cut short or lengthened.
            assert!(!verify_inclusion(
                index ^ 1,
                size as u64,
                &leaf,
                &path,
                &root
            ));
            // (A path proves nothing about another size unless checked against that size's
            // root: the RFC's walk can end on this root for a neighbouring size.)
            for other in (1..=8).filter(|other| *other != size) {
                assert!(!verify_inclusion(
                    index,
                    other as u64,
                    &leaf,
                    &path,
                    &root_of_size(other)
                ));
            }
            assert!(!verify_inclusion(
                index,
                size as u64,
                &leaf,
                &path,
                &leaves[7]
            ));
            assert!(!verify_inclusion(
                index,
                size as u64,
                &leaves[7],
                &path,
                &root
            ));
            assert!(!verify_inclusion(
                index,
                size as u64,
                &leaf,
                &path[..path.len() - 1],
                &root
            ));
            let mut longer = path.clone();
            longer.push(root);
            assert!(!verify_inclusion(index, size as u64, &leaf, &longer, &root));
        }
        // A leaf outside the tree; the one-leaf tree.
        assert!(!verify_inclusion(8, 8, &leaves[0], &[], &root(8)));
        assert!(verify_inclusion(0, 1, &leaves[0], &[], &leaves[0]));
    }

    #[test]
    fn the_reference_consistency_proofs_verify_and_altered_ones_do_not() {
        let cases: [(u64, u64, &[&str]); 3] = [
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (first, second, proof) in cases {
            let proof: Vec<Hash> = proof.iter().map(|hash| h(hash)).collect();
            let (a, b) = (root(first as usize), root(second as usize));
            assert!(
                verify_consistency(first, second, &a, &b, &proof),
                "{first} to {second}"
            );
            // Another first root, second root, size; a changed hash; a shorter proof.
            let other = root(first as usize + 1);
            assert!(!verify_consistency(first, second, &other, &b, &proof));
            assert!(!verify_consistency(first, second, &a, &other, &proof));
            assert!(!verify_consistency(first + 1, second, &a, &b, &proof));
            let mut changed = proof.clone();
            changed[0][0] ^= 1;
            assert!(!verify_consistency(first, second, &a, &b, &changed));
            assert!(!verify_consistency(
                first,
                second,
                &a,
                &b,
                &proof[..proof.len() - 1]
            ));
        }
        // Equal trees: no proof; an empty proof of different trees fails.
        assert!(verify_consistency(8, 8, &root(8), &root(8), &[]));
        assert!(!verify_consistency(7, 8, &root(7), &root(8), &[]));
        assert!(!verify_consistency(0, 8, &root(0), &root(8), &[]));
    }

    /// RFC 8032 §7.1, test 2: the one-byte message 0x72.
    #[test]
    fn ed25519_verifies_the_rfc_8032_vector() {
        let public = h("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        let signature = unhex(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
             085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        )
        .unwrap();
        let key = VerifyingKey::from_bytes(&public).unwrap();
        let signature = Signature::from_slice(&signature).unwrap();
        assert!(key.verify(&[0x72], &signature).is_ok());
        assert!(key.verify(&[0x73], &signature).is_err());
    }

    /// A note signed by hand, as c2sp.org/signed-note says.
    fn note(seed: u8, name: &str, text: &str) -> (String, NoteKey) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let public = signing.verifying_key().to_bytes();
        let id = key_id(name, &public);
        let mut signed = id.to_vec();
        signed.extend_from_slice(&signing.sign(text.as_bytes()).to_bytes());
        let mut typed = vec![0x01];
        typed.extend_from_slice(&public);
        let verifier_key = format!("{name}+{}+{}", hex(&id), STANDARD.encode(typed));
        (
            format!("{text}\n\u{2014} {name} {}\n", STANDARD.encode(signed)),
            NoteKey::parse(&verifier_key).unwrap(),
        )
    }

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_only() {
        let root = STANDARD.encode(root(8));
        let text = format!("example/log\n8\n{root}\ntimestamp 2026-12-08T01:02:03.123Z\n");
        let (signed, key) = note(1, "example/log", &text);
        let checkpoint = open_note(&signed, std::slice::from_ref(&key)).unwrap();
        assert_eq!(checkpoint.origin, "example/log");
        assert_eq!(checkpoint.size, 8);
        assert_eq!(hex(&checkpoint.root), ROOT_8);
        assert_eq!(checkpoint.timestamp(), Some("2026-12-08T01:02:03.123Z"));
        // A changed size; another key of the same name; a key given a wrong id.
        let forged = signed.replacen("\n8\n", "\n9\n", 1);
        assert!(open_note(&forged, std::slice::from_ref(&key)).is_err());
        let (_, other) = note(2, "example/log", &text);
        assert!(open_note(&signed, std::slice::from_ref(&other)).is_err());
        assert!(open_note(&signed, &[other, key.clone()]).is_ok());
        let verifier_key = format!(
            "example/log+00000000+{}",
            STANDARD.encode([&[1u8][..], key.key.as_bytes()].concat())
        );
        assert!(NoteKey::parse(&verifier_key).is_err());
        // Base64 may hold a '+': the name ends at the first one.
        let plus = "zeccloud-consent/log+dafb7c2c+AWa+fjMsekUzMr2dCn99sFX1xe8aBq2mbZizn7aBDEc6";
        assert_eq!(NoteKey::parse(plus).unwrap().name, "zeccloud-consent/log");
        // Malformed checkpoints.
        for bad in [
            text.replacen("\n8\n", "\n08\n", 1),
            text.replacen(&root, "AAAA", 1),
            "example/log\n8\n".to_owned(),
        ] {
            let (signed, key) = note(1, "example/log", &bad);
            assert!(open_note(&signed, &[key]).is_err(), "{bad:?}");
        }
    }

    /// A receipt, its inclusion answer and the key answer, made by hand for a log of the
    /// reference leaves plus the receipt's own leaf.
    fn receipt_fixture() -> (Value, Value, Value) {
        let record = r#"{"id":"0190f0e0-0000-7000-8000-000000000001","created_at":"2026-12-08T01:02:03.123456Z"}"#;
        let salt = [9u8; 16];
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(record.as_bytes());
        let leaf_data = format!(
            "zeccloud-consent-log/v1\nconsent\n2026-12-08T01:02:03.123456Z\n{}\n",
            hex(&hasher.finalize())
        );
        let mut leaves = leaves();
        leaves.push(leaf_hash(leaf_data.as_bytes()));
        // Leaf 8 of 9: its path is the root of the first 8.
        let root = root_of(&leaves);
        let text = format!(
            "example/log\n9\n{}\ntimestamp 2026-12-08T01:02:04.000Z\n",
            STANDARD.encode(root)
        );
        let (checkpoint, key) = note(3, "example/log", &text);
        let leaf_hash = STANDARD.encode(leaves[8]);
        let id = "0190f0e0-0000-7000-8000-000000000001";
        let receipt = serde_json::json!({"receipt": {"record_id": id, "log": {
            "leaf_index": 8, "leaf_hash": leaf_hash, "leaf_data": leaf_data, "record": record,
            "salt": hex(&salt), "inclusion": "http://x/api/v1/log/inclusion?event_id=",
        }}});
        let inclusion = serde_json::json!({
            "event_id": id, "leaf_index": 8, "leaf_hash": leaf_hash, "leaf_data": leaf_data,
            "tree_size": 9, "root_hash": STANDARD.encode(root),
            "audit_path": [STANDARD.encode(root_of(&leaves[..8]))], "checkpoint": checkpoint,
        });
        let keys = serde_json::json!({"keys": [{
            "name": "example/log", "key_id": hex(&key.key_id), "algorithm": "ed25519",
            "public_key": STANDARD.encode(key.key.as_bytes()),
            "verifier_key": format!("example/log+{}+{}", hex(&key.key_id),
                STANDARD.encode([&[1u8][..], key.key.as_bytes()].concat())),
            "current": true,
        }]});
        (receipt, inclusion, keys)
    }

    #[test]
    fn a_receipt_checks_end_to_end_and_any_change_is_caught() {
        let (receipt, inclusion, keys) = receipt_fixture();
        let checked = check_receipt(&receipt, &inclusion, &keys).unwrap();
        assert_eq!(checked.leaf_index, 8);
        assert_eq!(checked.checkpoint.size, 9);
        // The bare receipt too.
        assert!(check_receipt(&receipt["receipt"], &inclusion, &keys).is_ok());

        let changed = |edit: &dyn Fn(&mut Value, &mut Value)| {
            let (mut receipt, mut inclusion, _) = receipt_fixture();
            edit(&mut receipt, &mut inclusion);
            check_receipt(&receipt, &inclusion, &keys)
        };
        fn log(receipt: &mut Value) -> &mut Value {
            &mut receipt["receipt"]["log"]
        }
        for (case, result) in [
            (
                "another event",
                changed(&|receipt, _| {
                    receipt["receipt"]["record_id"] = "0190f0e0-0000-7000-8000-000000000002".into();
                }),
            ),
            (
                "the record",
                changed(&|receipt, _| {
                    let record = log(receipt)["record"]
                        .as_str()
                        .unwrap()
                        .replace("123456", "123457");
                    log(receipt)["record"] = record.into();
                }),
            ),
            (
                "the salt",
                changed(&|receipt, _| log(receipt)["salt"] = hex(&[8u8; 16]).into()),
            ),
            (
                "the leaf index",
                changed(&|receipt, inclusion| {
                    log(receipt)["leaf_index"] = 7.into();
                    inclusion["leaf_index"] = 7.into();
                }),
            ),
            (
                "the audit path",
                changed(&|_, inclusion| {
                    inclusion["audit_path"] = serde_json::json!([STANDARD.encode(root(7))]);
                }),
            ),
            (
                "the signed root",
                changed(&|_, inclusion| {
                    let note = inclusion["checkpoint"]
                        .as_str()
                        .unwrap()
                        .replacen("\n9\n", "\n10\n", 1);
                    inclusion["checkpoint"] = note.into();
                }),
            ),
        ] {
            assert!(result.is_err(), "{case}");
        }
    }
}
