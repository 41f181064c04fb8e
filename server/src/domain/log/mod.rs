//! The consent log (issue 30, docs/consent-log.md): an RFC 9162 Merkle tree over every consent
//! decision, policy publication and deletion, whose signed heads let anyone check that no
//! record was altered, removed, reordered or back-dated without trusting the database. Pure:
//! the leaf format, the tree and its proofs, signed heads, and the whole-log check.

pub mod head;
pub mod leaf;
pub mod tree;
pub mod verify;

pub use head::{HeadError, LogSigner, LogVerifier, SignedHead, TreeHead};
pub use leaf::{DeletionReason, DeletionRecord, Leaf, LeafKind};
pub use tlog_tiles::Hash;
pub use tree::{MerkleTree, ProofError};
pub use verify::{LogContents, Problem, RecordDigest, Report, StoredLeaf};
