//! `server log witness URL --state FILE [--key VERIFIER_KEY]`: a witness of the consent log
//! (docs/consent-log.md). Run from cron on another machine, it fetches the service's latest
//! signed head, checks its signature with the pinned key and, against the last head it saw
//! (kept in FILE), that the log only grew: same size and same root, or a larger tree with a
//! consistency proof from the old root to the new one. A rollback, a fork, an older head or a
//! bad signature exits 1 naming both heads; not being able to check at all exits 2.
//!
//! It needs no settings and no database: only the service's public endpoints.

use chrono::{DateTime, SecondsFormat, Utc};
use clap::Args;
use serde::{Deserialize, Serialize};
use server::domain::log::head::{HeadError, LogVerifier, SignedHead, TreeHead};
use server::domain::log::{Hash, tree};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `server log witness`'s arguments.
#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// The service's public URL (`https://consent.example.com`).
    pub url: String,
    /// The file holding the last head seen and the pinned key; created on the first run.
    #[arg(long)]
    pub state: PathBuf,
    /// The log's verifier key (`name+keyid+base64`, from `GET /api/v1/log/key`). Without it,
    /// the key pinned in the state file; on the first run without either, the key the service
    /// serves is trusted and pinned.
    #[arg(long)]
    pub key: Option<String>,
}

/// The exit code when the witness cannot check (unreachable service, malformed answer,
/// unreadable state): 2, distinct from a finding (1).
const CANNOT_RUN: u8 = 2;

/// What the witness keeps between runs (the `--state` file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WitnessState {
    pub origin: String,
    pub verifier_key: String,
    pub tree_size: u64,
    /// Base64, as in the checkpoint.
    pub root_hash: String,
    /// RFC 3339, as in the checkpoint.
    pub timestamp: String,
    /// The whole signed note the service served.
    pub checkpoint: String,
}

impl WitnessState {
    fn new(verifier: &LogVerifier, signed: &SignedHead) -> Self {
        Self {
            origin: signed.head.origin.clone(),
            verifier_key: verifier.verifier_key(),
            tree_size: signed.head.size,
            root_hash: signed.head.root.to_string(),
            timestamp: signed
                .head
                .timestamp
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            checkpoint: signed.note.clone(),
        }
    }

    /// The head this state records.
    fn head(&self) -> Result<TreeHead, String> {
        let root = Hash::parse_hash(&self.root_hash)
            .map_err(|_| format!("bad root_hash {:?}", self.root_hash))?;
        let timestamp = DateTime::parse_from_rfc3339(&self.timestamp)
            .map_err(|_| format!("bad timestamp {:?}", self.timestamp))?
            .with_timezone(&Utc);
        Ok(TreeHead {
            origin: self.origin.clone(),
            size: self.tree_size,
            root,
            timestamp,
        })
    }
}

/// A head as the messages name it.
struct Named<'a>(&'a TreeHead);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the head of {} leaves (root {}, {})",
            self.0.size,
            self.0.root,
            self.0
                .timestamp
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        )
    }
}

/// How the new head stands to the one seen before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No head seen before: this one is recorded.
    First,
    /// The same tree as before.
    Unchanged,
    /// A larger tree whose consistency proof from the old root checked.
    Extends { from: u64, to: u64 },
}

/// Why the new head is not a continuation of the old one: each names both heads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alarm {
    /// The head is of another log.
    OtherOrigin { seen: String, served: String },
    /// Fewer leaves than before.
    Rollback { seen: String, served: String },
    /// Same size, another root; or a larger tree whose proof does not check.
    Fork { seen: String, served: String },
    /// Made before the head seen before.
    Older { seen: String, served: String },
}

impl fmt::Display for Alarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OtherOrigin { seen, served } => write!(
                f,
                "the service serves a head of log {served:?}, the witness follows {seen:?}"
            ),
            Self::Rollback { seen, served } => write!(
                f,
                "rollback: the service serves {served}, smaller than {seen}, which the witness \
                 saw before"
            ),
            Self::Fork { seen, served } => write!(
                f,
                "fork: the service serves {served}, which does not extend {seen}, which the \
                 witness saw before"
            ),
            Self::Older { seen, served } => write!(
                f,
                "the service serves {served}, older than {seen}, which the witness saw before"
            ),
        }
    }
}

/// The consistency proof the witness needs to accept `new` after `old`: `(first, second)` when
/// the tree grew from a non-empty one.
pub fn proof_needed(old: &TreeHead, new: &TreeHead) -> Option<(u64, u64)> {
    (old.size >= 1 && new.size > old.size).then_some((old.size, new.size))
}

/// The rule: whether the signed head `new` continues `old` (the last head seen, if any), with
/// `proof` the consistency proof from `old.size` to `new.size` (ignored unless
/// [`proof_needed`]).
pub fn judge(old: Option<&TreeHead>, new: &TreeHead, proof: &[Hash]) -> Result<Verdict, Alarm> {
    let Some(old) = old else {
        return Ok(Verdict::First);
    };
    let (seen, served) = (Named(old).to_string(), Named(new).to_string());
    if new.origin != old.origin {
        return Err(Alarm::OtherOrigin {
            seen: old.origin.clone(),
            served: new.origin.clone(),
        });
    }
    if new.size < old.size {
        return Err(Alarm::Rollback { seen, served });
    }
    if new.timestamp < old.timestamp {
        return Err(Alarm::Older { seen, served });
    }
    if new.size == old.size {
        return if new.root == old.root {
            Ok(Verdict::Unchanged)
        } else {
            Err(Alarm::Fork { seen, served })
        };
    }
    // Every tree extends the empty one.
    if old.size > 0 && !tree::verify_consistency(proof, old.size, old.root, new.size, new.root) {
        return Err(Alarm::Fork { seen, served });
    }
    Ok(Verdict::Extends {
        from: old.size,
        to: new.size,
    })
}

/// Why the witness could not check.
#[derive(Debug)]
struct CannotRun(String);

impl<T: fmt::Display> From<T> for CannotRun {
    fn from(message: T) -> Self {
        Self(message.to_string())
    }
}

/// What a run found.
enum Outcome {
    Consistent(String),
    Alarm(String),
}

/// `server log witness`.
// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
pub async fn run(url: &str, state: &Path, key: Option<&str>) -> ExitCode {
    match witness(url, state, key).await {
        Ok(Outcome::Consistent(report)) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Ok(Outcome::Alarm(alarm)) => super::fail(alarm),
        Err(CannotRun(message)) => {
            eprintln!("error: cannot check the log: {message}");
            ExitCode::from(CANNOT_RUN)
        }
    }
}

async fn witness(url: &str, state_path: &Path, key: Option<&str>) -> Result<Outcome, CannotRun> {
    let base = url.trim_end_matches('/');
    let old = read_state(state_path)?;
    let old_head = old
        .as_ref()
        .map(WitnessState::head)
        .transpose()
        .map_err(|err| {
            CannotRun(format!(
                "{}: {err}; remove it to start again from the current head",
                state_path.display()
            ))
        })?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!(
            "zeccloud-consent-witness/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()?;
    let mut notes = Vec::new();

    // The key: given, else pinned, else trusted on first use.
    let verifier = match (key, &old) {
        (Some(key), _) => {
            let verifier =
                LogVerifier::parse(key).map_err(|err| format!("--key {key:?}: {err}"))?;
            if let Some(old) = old.as_ref().filter(|old| old.verifier_key != key.trim()) {
                notes.push(format!(
                    "the key given replaces the pinned key {}",
                    old.verifier_key
                ));
            }
            verifier
        }
        (None, Some(old)) => LogVerifier::parse(&old.verifier_key).map_err(|err| {
            format!(
                "{}: verifier_key {:?}: {err}",
                state_path.display(),
                old.verifier_key
            )
        })?,
        (None, None) => {
            let verifier = current_key(&http, base).await?;
            notes.push(format!(
                "trusting the key the service serves on first use: {}",
                verifier.verifier_key()
            ));
            verifier
        }
    };

    let served: HeadAnswer = get_json(&http, &format!("{base}/api/v1/log/head"), &[]).await?;
    let signed = match verifier.open(&served.checkpoint) {
        Ok(signed) => signed,
        Err(HeadError::Malformed(what)) => {
            return Err(CannotRun(format!(
                "{base}/api/v1/log/head: the checkpoint is malformed: {what}"
            )));
        }
        Err(err @ (HeadError::UnknownKey | HeadError::BadSignature)) => {
            return Ok(Outcome::Alarm(format!(
                "bad signature: the head the service serves ({} leaves, root {}) does not \
                 verify with the key {}: {err}{}",
                served.tree_size,
                served.root_hash,
                verifier.verifier_key(),
                old_head
                    .as_ref()
                    .map(|old| format!("; the witness last saw {}", Named(old)))
                    .unwrap_or_default()
            )));
        }
    };
    let new = &signed.head;
    if served.tree_size != new.size || served.root_hash != new.root.to_string() {
        return Err(CannotRun(format!(
            "{base}/api/v1/log/head: tree_size {} and root_hash {} are not the checkpoint's \
             ({}, {})",
            served.tree_size, served.root_hash, new.size, new.root
        )));
    }

    let proof = match old_head.as_ref().and_then(|old| proof_needed(old, new)) {
        Some((first, second)) => {
            let answer: ConsistencyAnswer = get_json(
                &http,
                &format!("{base}/api/v1/log/consistency"),
                &[("first", first), ("second", second)],
            )
            .await?;
            if (answer.first, answer.second) != (first, second) {
                return Err(CannotRun(format!(
                    "the consistency proof answered is from {} to {}, not {first} to {second}",
                    answer.first, answer.second
                )));
            }
            answer
                .proof
                .iter()
                .map(|hash| Hash::parse_hash(hash))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| "the consistency proof holds a malformed hash")?
        }
        None => Vec::new(),
    };

    let verdict = match judge(old_head.as_ref(), new, &proof) {
        Ok(verdict) => verdict,
        Err(alarm) => return Ok(Outcome::Alarm(alarm.to_string())),
    };
    write_state(state_path, &WitnessState::new(&verifier, &signed))
        .map_err(|err| format!("cannot write {}: {err}", state_path.display()))?;
    let report = match (&verdict, &old_head) {
        (Verdict::Extends { .. }, Some(old)) => format!(
            "consistent: {} extends {}, which the witness saw before",
            Named(new),
            Named(old)
        ),
        (Verdict::Unchanged, _) => format!("consistent: {} is unchanged", Named(new)),
        _ => format!("recorded {} of log {}", Named(new), new.origin),
    };
    notes.push(report);
    Ok(Outcome::Consistent(notes.join("\n")))
}

#[derive(Debug, Deserialize)]
struct HeadAnswer {
    tree_size: u64,
    root_hash: String,
    checkpoint: String,
}

#[derive(Debug, Deserialize)]
struct KeyAnswer {
    keys: Vec<ServedKey>,
}

#[derive(Debug, Deserialize)]
struct ServedKey {
    verifier_key: String,
    #[serde(default)]
    current: bool,
}

#[derive(Debug, Deserialize)]
struct ConsistencyAnswer {
    first: u64,
    second: u64,
    proof: Vec<String>,
}

/// The key the service signs its heads with now.
async fn current_key(http: &reqwest::Client, base: &str) -> Result<LogVerifier, CannotRun> {
    let url = format!("{base}/api/v1/log/key");
    let answer: KeyAnswer = get_json(http, &url, &[]).await?;
    let current = answer
        .keys
        .iter()
        .find(|key| key.current)
        .ok_or_else(|| format!("{url}: no current key"))?;
    Ok(LogVerifier::parse(&current.verifier_key)
        .map_err(|err| format!("{url}: {:?}: {err}", current.verifier_key))?)
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    query: &[(&str, u64)],
) -> Result<T, CannotRun> {
    let answer = http
        .get(url)
        .query(query)
        .send()
        .await
        .map_err(|err| format!("{url}: {err}"))?;
    let status = answer.status();
    let body = answer
        .bytes()
        .await
        .map_err(|err| format!("{url}: {err}"))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(300).collect();
        return Err(CannotRun(format!("{url}: {status}: {text}")));
    }
    Ok(serde_json::from_slice(&body).map_err(|err| format!("{url}: malformed answer: {err}"))?)
}

/// The state file, or `None` when there is none yet.
fn read_state(path: &Path) -> Result<Option<WitnessState>, CannotRun> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(CannotRun(format!("cannot read {}: {err}", path.display()))),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|err| CannotRun(format!("{} is not a witness state: {err}", path.display())))
}

/// Writes the state beside the old one and renames it over: a crash leaves one or the other,
/// never half of one.
fn write_state(path: &Path, state: &WitnessState) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?
        .to_string_lossy();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        let mut json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        json.push(b'\n');
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use server::domain::log::LogSigner;
    use server::domain::log::tree::{MerkleTree, leaf_hash};

    fn tree(size: u64, salt: &str) -> MerkleTree {
        let mut tree = MerkleTree::new();
        for leaf in 0..size {
            tree.push(leaf_hash(format!("{salt}{leaf}").as_bytes()));
        }
        tree
    }

    fn head(tree: &MerkleTree, size: u64, second: u32) -> TreeHead {
        TreeHead {
            origin: "consent.example/log".to_owned(),
            size,
            root: tree.root(size).unwrap(),
            timestamp: Utc.with_ymd_and_hms(2026, 12, 8, 1, 2, second).unwrap(),
        }
    }

    #[test]
    fn a_first_head_is_recorded() {
        let tree = tree(3, "");
        assert_eq!(judge(None, &head(&tree, 3, 0), &[]), Ok(Verdict::First));
    }

    #[test]
    fn the_same_head_or_a_later_one_of_the_same_tree_is_unchanged() {
        let tree = tree(3, "");
        let old = head(&tree, 3, 0);
        assert_eq!(judge(Some(&old), &old, &[]), Ok(Verdict::Unchanged));
        assert_eq!(
            judge(Some(&old), &head(&tree, 3, 9), &[]),
            Ok(Verdict::Unchanged)
        );
    }

    #[test]
    fn a_larger_tree_is_accepted_with_its_consistency_proof_only() {
        let tree = tree(7, "");
        let (old, new) = (head(&tree, 3, 0), head(&tree, 7, 5));
        assert_eq!(proof_needed(&old, &new), Some((3, 7)));
        let proof = tree.consistency(3, 7).unwrap();
        assert_eq!(
            judge(Some(&old), &new, &proof),
            Ok(Verdict::Extends { from: 3, to: 7 })
        );
        // No proof, the proof of other sizes, a proof with a changed hash.
        let mut changed = proof.clone();
        changed[0].0[0] ^= 1;
        for bad in [vec![], tree.consistency(2, 7).unwrap(), changed] {
            assert!(
                matches!(judge(Some(&old), &new, &bad), Err(Alarm::Fork { .. })),
                "{bad:?}"
            );
        }
        // The empty tree is a prefix of every tree.
        let empty = head(&MerkleTree::new(), 0, 0);
        assert_eq!(proof_needed(&empty, &new), None);
        assert_eq!(
            judge(Some(&empty), &new, &[]),
            Ok(Verdict::Extends { from: 0, to: 7 })
        );
    }

    #[test]
    fn a_rewritten_history_is_a_fork_even_with_a_valid_looking_proof() {
        // The service rewrote leaf 1: the new tree's proof does not lead from the old root.
        let (honest, rewritten) = (tree(3, ""), tree(5, "x"));
        let old = head(&honest, 3, 0);
        let new = head(&rewritten, 5, 5);
        let proof = rewritten.consistency(3, 5).unwrap();
        let alarm = judge(Some(&old), &new, &proof).unwrap_err();
        let message = alarm.to_string();
        assert!(message.starts_with("fork: "), "{message}");
        // Both heads are named.
        assert!(message.contains(&old.root.to_string()), "{message}");
        assert!(message.contains(&new.root.to_string()), "{message}");
        // Same size, another root.
        let other = head(&tree(3, "y"), 3, 5);
        assert!(matches!(
            judge(Some(&old), &other, &[]),
            Err(Alarm::Fork { .. })
        ));
    }

    #[test]
    fn a_smaller_tree_is_a_rollback() {
        let tree = tree(5, "");
        let alarm = judge(Some(&head(&tree, 5, 0)), &head(&tree, 4, 5), &[]).unwrap_err();
        assert!(matches!(alarm, Alarm::Rollback { .. }));
        let message = alarm.to_string();
        assert!(
            message.contains("4 leaves") && message.contains("5 leaves"),
            "{message}"
        );
    }

    #[test]
    fn an_older_head_or_another_log_is_refused() {
        let tree = tree(5, "");
        let proof = tree.consistency(3, 5).unwrap();
        assert!(matches!(
            judge(Some(&head(&tree, 3, 9)), &head(&tree, 5, 1), &proof),
            Err(Alarm::Older { .. })
        ));
        let mut other = head(&tree, 5, 10);
        other.origin = "elsewhere.example/log".to_owned();
        assert!(matches!(
            judge(Some(&head(&tree, 3, 9)), &other, &proof),
            Err(Alarm::OtherOrigin { .. })
        ));
    }

    #[test]
    fn the_state_keeps_the_head_it_was_made_from() {
        let signer = LogSigner::new("consent.example/log", &[4; 32]);
        let tree = tree(3, "");
        let signed = signer.sign(head(&tree, 3, 7));
        let state = WitnessState::new(&signer.verifier(), &signed);
        assert_eq!(state.head(), Ok(signed.head.clone()));
        assert_eq!(state.verifier_key, signer.verifier().verifier_key());
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<WitnessState>(&json).unwrap(), state);
        // Written atomically, read back; a missing file is no state, a garbled one an error.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("witness.json");
        assert!(read_state(&path).unwrap().is_none());
        write_state(&path, &state).unwrap();
        assert_eq!(read_state(&path).unwrap(), Some(state));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        std::fs::write(&path, "{").unwrap();
        assert!(read_state(&path).is_err());
    }
}
