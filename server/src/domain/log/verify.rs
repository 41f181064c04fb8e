//! Verifying the whole log against the records (`server log verify`): every leaf recomputed from
//! its record, every record found in a leaf, the tree rebuilt from the recomputed leaves and
//! every signed head checked against it. What the check reads is loaded by the caller; this is
//! the rule, with no I/O.

use super::head::{self, LogVerifier, SignedHead};
use super::leaf::{Leaf, LeafKind};
use super::tree::MerkleTree;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A leaf as stored (`log_leaves`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLeaf {
    pub index: u64,
    pub record_id: String,
    pub leaf: Leaf,
    /// The leaf's hash as stored beside it (what instances build their trees from).
    pub stored_hash: tlog_tiles::Hash,
}

/// A record as the caller found it: its commitment recomputed from the stored columns and
/// salt, and its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDigest {
    pub commitment: [u8; 32],
    pub at: DateTime<Utc>,
}

/// Everything the check reads.
#[derive(Debug, Default)]
pub struct LogContents {
    /// In index order.
    pub leaves: Vec<StoredLeaf>,
    /// Every record of every kind, by kind and id.
    pub records: HashMap<(LeafKind, String), RecordDigest>,
    /// Leaves whose records were deleted, and the deletion leaf that says so.
    pub erased: BTreeMap<u64, u64>,
    /// Signed heads, by size.
    pub heads: Vec<String>,
}

/// The first thing wrong, and whatever else was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// A leaf index is missing: the leaves are not 0, 1, 2, …
    Gap { index: u64 },
    /// The hash stored beside a leaf is not its hash: the instances' trees and the proofs
    /// they serve are built from a rewritten hash.
    LeafHashRewritten { index: u64 },
    /// The record no longer matches its leaf: a column, its salt or its time changed.
    Altered {
        index: u64,
        kind: LeafKind,
        record_id: String,
    },
    /// The record is gone and no deletion leaf accounts for it.
    Removed {
        index: u64,
        kind: LeafKind,
        record_id: String,
    },
    /// A record that no leaf commits to: written around the log.
    Unlogged { kind: LeafKind, record_id: String },
    /// The leaf claims a time before a head that was signed without it.
    BackDated {
        index: u64,
        kind: LeafKind,
        record_id: String,
        logged_at: DateTime<Utc>,
        head_size: u64,
        head_timestamp: DateTime<Utc>,
    },
    /// A leaf's time is well before its predecessor's: inserted out of order.
    OutOfOrder {
        index: u64,
        kind: LeafKind,
        record_id: String,
        logged_at: DateTime<Utc>,
        previous: DateTime<Utc>,
    },
    /// A stored head whose signature does not verify with a log key.
    BadHead { position: usize, reason: String },
    /// A signed head whose root is not the root of the recomputed leaves: one of the leaves
    /// from `from` (the last head that matched) up to `size` was altered, removed or inserted.
    HeadMismatch { size: u64, from: u64 },
    /// A signed head larger than the log.
    HeadBeyondLog { size: u64, leaves: u64 },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gap { index } => write!(f, "leaf {index} is missing"),
            Self::LeafHashRewritten { index } => write!(
                f,
                "the hash stored beside leaf {index} is not the leaf's: it was rewritten"
            ),
            Self::Altered {
                index,
                kind,
                record_id,
            } => write!(
                f,
                "{} {record_id} (leaf {index}) was altered: it no longer matches its leaf",
                kind.as_str()
            ),
            Self::Removed {
                index,
                kind,
                record_id,
            } => write!(
                f,
                "{} {record_id} (leaf {index}) was removed without a logged deletion",
                kind.as_str()
            ),
            Self::Unlogged { kind, record_id } => write!(
                f,
                "{} {record_id} is in no leaf: it was inserted around the log",
                kind.as_str()
            ),
            Self::BackDated {
                index,
                kind,
                record_id,
                logged_at,
                head_size,
                head_timestamp,
            } => write!(
                f,
                "{} {record_id} (leaf {index}) is back-dated: it claims {logged_at}, but the \
                 head of {head_size} leaves signed at {head_timestamp} did not include it",
                kind.as_str()
            ),
            Self::OutOfOrder {
                index,
                kind,
                record_id,
                logged_at,
                previous,
            } => write!(
                f,
                "{} {record_id} (leaf {index}) is out of order: it claims {logged_at}, before \
                 the leaf ahead of it ({previous})",
                kind.as_str()
            ),
            Self::BadHead { position, reason } => {
                write!(f, "stored head #{position} does not verify: {reason}")
            }
            Self::HeadMismatch { size, from } => write!(
                f,
                "the signed head of {size} leaves does not match the records: a leaf from \
                 {from} to {} was altered, removed or inserted",
                size.saturating_sub(1)
            ),
            Self::HeadBeyondLog { size, leaves } => write!(
                f,
                "a signed head has {size} leaves but the log has {leaves}: leaves were removed"
            ),
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub leaves: u64,
    pub records: u64,
    pub heads: u64,
    pub erased: u64,
    /// The largest signed head that matched.
    pub verified_size: u64,
    /// Every problem, in the log's order: the first is the first thing wrong.
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the log. `tolerance`: how far a record's time may trail the heads and the leaf ahead
/// of it (a decision's time is taken before its group is written, on instances whose clocks
/// differ a little).
pub fn verify(contents: &LogContents, keys: &[LogVerifier], tolerance: TimeDelta) -> Report {
    let mut problems = Vec::new();
    let heads = open_heads(&contents.heads, keys, &mut problems);

    let mut tree = MerkleTree::new();
    let mut logged = std::collections::HashSet::with_capacity(contents.records.len());
    let mut previous: Option<DateTime<Utc>> = None;
    let mut head_before = heads.iter().peekable();
    let mut last_head_before: Option<&SignedHead> = None;
    for (position, stored) in contents.leaves.iter().enumerate() {
        let expected = position as u64;
        if stored.index != expected {
            problems.push(Problem::Gap { index: expected });
            break;
        }
        if stored.stored_hash != stored.leaf.hash() {
            problems.push(Problem::LeafHashRewritten {
                index: stored.index,
            });
        }
        while let Some(head) = head_before.next_if(|head| head.head.size <= stored.index) {
            last_head_before = Some(head);
        }
        let key = (stored.leaf.kind, stored.record_id.clone());
        let name = || (stored.index, stored.leaf.kind, stored.record_id.clone());
        match contents.records.get(&key) {
            Some(record) => {
                logged.insert(key);
                if record.commitment != stored.leaf.commitment || record.at != stored.leaf.logged_at
                {
                    let (index, kind, record_id) = name();
                    problems.push(Problem::Altered {
                        index,
                        kind,
                        record_id,
                    });
                }
            }
            None if contents.erased.contains_key(&stored.index) => {}
            None => {
                let (index, kind, record_id) = name();
                problems.push(Problem::Removed {
                    index,
                    kind,
                    record_id,
                });
            }
        }
        let at = stored.leaf.logged_at;
        if let Some(head) = last_head_before.filter(|head| at + tolerance < head.head.timestamp) {
            let (index, kind, record_id) = name();
            problems.push(Problem::BackDated {
                index,
                kind,
                record_id,
                logged_at: at,
                head_size: head.head.size,
                head_timestamp: head.head.timestamp,
            });
        } else if let Some(previous) = previous.filter(|previous| at + tolerance < *previous) {
            let (index, kind, record_id) = name();
            problems.push(Problem::OutOfOrder {
                index,
                kind,
                record_id,
                logged_at: at,
                previous,
            });
        }
        previous = Some(previous.map_or(at, |previous| previous.max(at)));
        // The tree is rebuilt from what the leaf says: a record that no longer matches was
        // reported above, and a leaf rewritten to match it shows against the signed heads.
        tree.push(stored.leaf.hash());
    }

    let mut unlogged: Vec<&(LeafKind, String)> = contents
        .records
        .keys()
        .filter(|key| !logged.contains(*key))
        .collect();
    unlogged.sort();
    problems.extend(
        unlogged
            .into_iter()
            .map(|(kind, record_id)| Problem::Unlogged {
                kind: *kind,
                record_id: record_id.clone(),
            }),
    );

    let mut verified_size = 0;
    for signed in &heads {
        let size = signed.head.size;
        match tree.root(size) {
            Ok(root) if root == signed.head.root => verified_size = verified_size.max(size),
            Ok(_) => problems.push(Problem::HeadMismatch {
                size,
                from: verified_size,
            }),
            Err(_) => problems.push(Problem::HeadBeyondLog {
                size,
                leaves: tree.size(),
            }),
        }
    }

    Report {
        leaves: contents.leaves.len() as u64,
        records: contents.records.len() as u64,
        heads: heads.len() as u64,
        erased: contents.erased.len() as u64,
        verified_size,
        problems,
    }
}

fn open_heads(
    notes: &[String],
    keys: &[LogVerifier],
    problems: &mut Vec<Problem>,
) -> Vec<SignedHead> {
    let mut heads: Vec<SignedHead> = notes
        .iter()
        .enumerate()
        .filter_map(|(position, note)| match head::open(note, keys) {
            Ok(signed) => Some(signed),
            Err(err) => {
                problems.push(Problem::BadHead {
                    position,
                    reason: err.to_string(),
                });
                None
            }
        })
        .collect();
    heads.sort_by_key(|signed| signed.head.size);
    heads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::log::head::{LogSigner, TreeHead};
    use crate::domain::log::leaf::commitment;
    use chrono::TimeZone;

    const TOLERANCE: TimeDelta = TimeDelta::seconds(60);

    fn at(second: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 0, 0, 0).unwrap() + TimeDelta::seconds(second)
    }

    /// A log of `n` consent leaves a minute apart, with heads after every leaf.
    fn log(n: u64, signer: &LogSigner) -> LogContents {
        let mut contents = LogContents::default();
        let mut tree = MerkleTree::new();
        for index in 0..n {
            let id = format!("event-{index}");
            let time = at(60 * index as i64);
            let digest = RecordDigest {
                commitment: commitment(b"salt", id.as_bytes()),
                at: time,
            };
            let leaf = Leaf {
                kind: LeafKind::Consent,
                logged_at: time,
                commitment: digest.commitment,
            };
            tree.push(leaf.hash());
            contents.leaves.push(StoredLeaf {
                index,
                record_id: id.clone(),
                stored_hash: leaf.hash(),
                leaf,
            });
            contents.records.insert((LeafKind::Consent, id), digest);
            let head = TreeHead {
                origin: signer.name().to_owned(),
                size: index + 1,
                root: tree.root(index + 1).unwrap(),
                timestamp: time + TimeDelta::seconds(1),
            };
            contents.heads.push(signer.sign(head).note);
        }
        contents
    }

    fn signer() -> LogSigner {
        LogSigner::new("test/log", &[9; 32])
    }

    #[test]
    fn an_untouched_log_verifies() {
        let signer = signer();
        let report = verify(&log(5, &signer), &[signer.verifier()], TOLERANCE);
        assert_eq!(report.problems, vec![]);
        assert_eq!(report.verified_size, 5);
        assert_eq!((report.leaves, report.records, report.heads), (5, 5, 5));
    }

    #[test]
    fn an_altered_record_is_named() {
        let signer = signer();
        let mut contents = log(5, &signer);
        contents
            .records
            .get_mut(&(LeafKind::Consent, "event-2".to_owned()))
            .unwrap()
            .commitment[0] ^= 1;
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert_eq!(
            report.problems,
            vec![Problem::Altered {
                index: 2,
                kind: LeafKind::Consent,
                record_id: "event-2".to_owned()
            }]
        );
    }

    #[test]
    fn an_altered_record_whose_leaf_was_rewritten_fails_the_signed_heads() {
        let signer = signer();
        let mut contents = log(5, &signer);
        let key = (LeafKind::Consent, "event-2".to_owned());
        contents.records.get_mut(&key).unwrap().commitment[0] ^= 1;
        contents.leaves[2].leaf.commitment[0] ^= 1;
        contents.leaves[2].stored_hash = contents.leaves[2].leaf.hash();
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert_eq!(
            report.problems[0],
            Problem::HeadMismatch { size: 3, from: 2 }
        );
        assert_eq!(report.verified_size, 2);
    }

    #[test]
    fn a_removed_record_is_named_unless_a_deletion_accounts_for_it() {
        let signer = signer();
        let mut contents = log(5, &signer);
        contents
            .records
            .remove(&(LeafKind::Consent, "event-3".to_owned()));
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert_eq!(
            report.problems,
            vec![Problem::Removed {
                index: 3,
                kind: LeafKind::Consent,
                record_id: "event-3".to_owned()
            }]
        );
        contents.erased.insert(3, 4);
        assert!(verify(&contents, &[signer.verifier()], TOLERANCE).is_clean());
    }

    #[test]
    fn a_rewritten_stored_hash_is_named() {
        let signer = signer();
        let mut contents = log(3, &signer);
        contents.leaves[1].stored_hash = tlog_tiles::Hash([0; 32]);
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert_eq!(
            report.problems,
            vec![Problem::LeafHashRewritten { index: 1 }]
        );
    }

    #[test]
    fn a_record_around_the_log_is_named() {
        let signer = signer();
        let mut contents = log(2, &signer);
        contents.records.insert(
            (LeafKind::Consent, "forged".to_owned()),
            RecordDigest {
                commitment: [0; 32],
                at: at(0),
            },
        );
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert_eq!(
            report.problems,
            vec![Problem::Unlogged {
                kind: LeafKind::Consent,
                record_id: "forged".to_owned()
            }]
        );
    }

    #[test]
    fn a_back_dated_leaf_after_a_head_is_named() {
        let signer = signer();
        let mut contents = log(3, &signer);
        // Appended after the heads, claiming the log's first minute.
        let digest = RecordDigest {
            commitment: commitment(b"salt", b"late"),
            at: at(0),
        };
        let leaf = Leaf {
            kind: LeafKind::Consent,
            logged_at: at(0),
            commitment: digest.commitment,
        };
        contents.leaves.push(StoredLeaf {
            index: 3,
            record_id: "late".to_owned(),
            stored_hash: leaf.hash(),
            leaf,
        });
        contents
            .records
            .insert((LeafKind::Consent, "late".to_owned()), digest);
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert!(matches!(
            report.problems.as_slice(),
            [Problem::BackDated {
                index: 3,
                head_size: 3,
                ..
            }]
        ));
    }

    #[test]
    fn a_forged_or_foreign_head_is_reported() {
        let signer = signer();
        let mut contents = log(2, &signer);
        contents.heads.push(
            LogSigner::new("test/log", &[1; 32])
                .sign(TreeHead {
                    origin: "test/log".to_owned(),
                    size: 2,
                    root: tlog_tiles::Hash([0; 32]),
                    timestamp: at(500),
                })
                .note,
        );
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert!(matches!(
            report.problems.as_slice(),
            [Problem::BadHead { position: 2, .. }]
        ));
    }

    #[test]
    fn a_missing_leaf_is_a_gap_and_a_head_beyond_the_log_is_reported() {
        let signer = signer();
        let mut contents = log(4, &signer);
        contents.leaves.truncate(3);
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert!(
            report
                .problems
                .contains(&Problem::HeadBeyondLog { size: 4, leaves: 3 })
        );
        assert!(report.problems.contains(&Problem::Unlogged {
            kind: LeafKind::Consent,
            record_id: "event-3".to_owned()
        }));
        let mut contents = log(4, &signer);
        contents.leaves.remove(1);
        let report = verify(&contents, &[signer.verifier()], TOLERANCE);
        assert_eq!(report.problems[0], Problem::Gap { index: 1 });
    }
}
