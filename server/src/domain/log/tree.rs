//! The log's Merkle tree in memory: every hash of a complete subtree (the "stored hashes" of
//! Go's sumdb tlog, through the `tlog_tiles` crate), about two per leaf, so a root or a proof
//! reads at most a few dozen of them instead of rehashing the leaves. RFC 9162 §2.1 hashing:
//! a leaf is SHA-256(0x00 ‖ data), a node SHA-256(0x01 ‖ left ‖ right).

use tlog_tiles::{Hash, HashReader};

/// An append-only Merkle tree of leaf hashes.
#[derive(Debug, Default, Clone)]
pub struct MerkleTree {
    /// The stored hashes, at `tlog_tiles::stored_hash_index(level, n)`.
    stored: Vec<Hash>,
    size: u64,
}

/// A proof asked of a tree that does not have what it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size}")]
    LeafOutside { index: u64, size: u64 },
    #[error("a tree of {asked} is larger than the log ({size})")]
    TreeTooLarge { asked: u64, size: u64 },
    #[error("a consistency proof needs 1 <= first <= second, got {first} and {second}")]
    BadRange { first: u64, second: u64 },
}

impl HashReader for MerkleTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|index| self.stored.get(index))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl MerkleTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf by its hash (`leaf_hash`).
    pub fn push(&mut self, leaf_hash: Hash) {
        let hashes = tlog_tiles::stored_hashes_for_record_hash(self.size, leaf_hash, self)
            // Reads only hashes this tree stored for earlier leaves.
            .expect("a tree reads back its own hashes");
        self.stored.extend(hashes);
        self.size += 1;
    }

    /// The root of the tree of its first `size` leaves (the empty tree's: SHA-256 of nothing).
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        Ok(tlog_tiles::tree_hash(size, self).expect("a tree reads back its own hashes"))
    }

    /// The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3).
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::LeafOutside { index, size });
        }
        Ok(tlog_tiles::prove_record(size, index, self).expect("a tree reads back its own hashes"))
    }

    /// The proof that the tree of `first` leaves is a prefix of the tree of `second` (RFC 9162
    /// §2.1.4); empty when they are equal.
    pub fn consistency(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(second)?;
        if first == 0 || first > second {
            return Err(ProofError::BadRange { first, second });
        }
        Ok(tlog_tiles::prove_tree(second, first, self).expect("a tree reads back its own hashes"))
    }

    fn check_size(&self, asked: u64) -> Result<(), ProofError> {
        if asked > self.size {
            return Err(ProofError::TreeTooLarge {
                asked,
                size: self.size,
            });
        }
        Ok(())
    }
}

/// The hash of a leaf's data: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    tlog_tiles::record_hash(data)
}

/// Whether `proof` shows leaf `index` with hash `leaf` in the tree of `size` with root `root`.
pub fn verify_inclusion(proof: &[Hash], size: u64, root: Hash, index: u64, leaf: Hash) -> bool {
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf).is_ok()
}

/// Whether `proof` shows the tree of `first` leaves (root `first_root`) to be a prefix of the
/// tree of `second` leaves (root `second_root`).
pub fn verify_consistency(
    proof: &[Hash],
    first: u64,
    first_root: Hash,
    second: u64,
    second_root: Hash,
) -> bool {
    tlog_tiles::check_tree(&proof.to_vec(), second, second_root, first, first_root).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn hex(hash: Hash) -> String {
        hash.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The eight leaves of the RFC 6962 reference tests (certificate-transparency's
    /// `merkle_tree_test.cc`), which RFC 9162 keeps.
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

    /// Their roots for the trees of 1 to 8 leaves.
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn reference_tree() -> MerkleTree {
        let mut tree = MerkleTree::new();
        for leaf in LEAVES {
            tree.push(leaf_hash(&unhex(leaf)));
        }
        tree
    }

    #[test]
    fn roots_match_the_reference_vectors() {
        let tree = reference_tree();
        for (size, root) in (1..=8).zip(ROOTS) {
            assert_eq!(hex(tree.root(size).unwrap()), root, "tree of {size}");
        }
        let empty: [u8; 32] = Sha256::digest(b"").into();
        assert_eq!(tree.root(0).unwrap().0, empty);
    }

    #[test]
    fn inclusion_paths_match_the_reference_vectors() {
        let tree = reference_tree();
        // RFC 6962 reference: leaf 0 of 8, leaf 5 of 8, leaf 2 of 3, leaf 1 of 5.
        let expected: [(u64, u64, &[&str]); 4] = [
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
        for (index, size, path) in expected {
            let proof = tree.inclusion(index, size).unwrap();
            let proof_hex: Vec<String> = proof.iter().copied().map(hex).collect();
            assert_eq!(proof_hex, path, "leaf {index} of {size}");
            let leaf = leaf_hash(&unhex(LEAVES[index as usize]));
            assert!(verify_inclusion(
                &proof,
                size,
                tree.root(size).unwrap(),
                index,
                leaf
            ));
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference_vectors() {
        let tree = reference_tree();
        let expected: [(u64, u64, &[&str]); 3] = [
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
        for (first, second, path) in expected {
            let proof = tree.consistency(first, second).unwrap();
            let proof_hex: Vec<String> = proof.iter().copied().map(hex).collect();
            assert_eq!(proof_hex, path, "{first} to {second}");
            assert!(verify_consistency(
                &proof,
                first,
                tree.root(first).unwrap(),
                second,
                tree.root(second).unwrap()
            ));
        }
        assert!(tree.consistency(8, 8).unwrap().is_empty());
    }

    #[test]
    fn a_proof_against_the_wrong_root_or_leaf_fails() {
        let tree = reference_tree();
        let proof = tree.inclusion(3, 8).unwrap();
        let leaf = leaf_hash(&unhex(LEAVES[3]));
        assert!(!verify_inclusion(&proof, 8, tree.root(7).unwrap(), 3, leaf));
        assert!(!verify_inclusion(&proof, 8, tree.root(8).unwrap(), 2, leaf));
        let proof = tree.consistency(3, 8).unwrap();
        let wrong = tree.root(4).unwrap();
        assert!(!verify_consistency(
            &proof,
            3,
            wrong,
            8,
            tree.root(8).unwrap()
        ));
    }

    #[test]
    fn asking_beyond_the_tree_is_an_error() {
        let tree = reference_tree();
        assert_eq!(
            tree.root(9),
            Err(ProofError::TreeTooLarge { asked: 9, size: 8 })
        );
        assert_eq!(
            tree.inclusion(8, 8),
            Err(ProofError::LeafOutside { index: 8, size: 8 })
        );
        assert_eq!(
            tree.consistency(0, 8),
            Err(ProofError::BadRange {
                first: 0,
                second: 8
            })
        );
        assert_eq!(
            tree.consistency(5, 4),
            Err(ProofError::BadRange {
                first: 5,
                second: 4
            })
        );
    }
}
