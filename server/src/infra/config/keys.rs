//! The signing keys: the ring of `signing_keys` (or the one `signing_key`, or the key file
//! made on first start), the pseudonym key, and new keys for `server keys generate`.

use super::{ConfigError, Settings};
use crate::infra::tokens::KeyRing;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;

/// One key of the signing key ring.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// The `kid` its tokens carry; never reuse one for another key.
    pub id: String,
    /// Base64 of at least 32 random bytes.
    #[serde(skip_serializing)]
    pub key: SecretString,
}

impl KeyEntry {
    /// A new random key as a `signing_keys` entry in TOML: `{ id = "…", key = "…" }`.
    pub fn generate(id: &str) -> Result<String, ConfigError> {
        use base64::Engine;
        let mut bytes = vec![0u8; MIN_KEY_BYTES];
        rand::fill(&mut bytes[..]);
        // The id rules are the ring's; checked here so a printed entry always loads.
        KeyRing::new(vec![(id.to_owned(), SecretSlice::from(bytes.clone()))])
            .map_err(ConfigError::SigningKey)?;
        let key = base64::engine::general_purpose::STANDARD.encode(&bytes);
        Ok(format!("{{ id = \"{id}\", key = \"{key}\" }}"))
    }
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The key ring: `signing_keys`, else a ring of the one `signing_key` (or key file).
    pub fn load_key_ring(&self) -> Result<KeyRing, ConfigError> {
        if self.signing_keys.is_empty() {
            return Ok(KeyRing::single(self.load_signing_key()?));
        }
        if self.signing_key.is_some() {
            return Err(ConfigError::SigningKey(
                "set signing_keys or signing_key, not both".to_owned(),
            ));
        }
        let keys = self
            .signing_keys
            .iter()
            .map(|entry| {
                decode_key(entry.key.expose_secret())
                    .map(|key| (entry.id.clone(), key))
                    .map_err(|err| ConfigError::SigningKey(format!("key {:?}: {err}", entry.id)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        KeyRing::new(keys).map_err(ConfigError::SigningKey)
    }

    /// The pseudonym key: configured, else derived from the ring's signing key. A ring of
    /// several keys is a rotation, which would change a derived key (and with it every Matomo
    /// visitor id and erasure hash): it needs the key set.
    pub fn load_pseudonym_key(&self, ring: &KeyRing) -> Result<SecretSlice<u8>, ConfigError> {
        match &self.pseudonym_key {
            Some(encoded) => decode_key(encoded.expose_secret())
                .map_err(|err| ConfigError::SigningKey(format!("pseudonym_key: {err}"))),
            None if ring.ids().count() > 1 => Err(ConfigError::SigningKey(
                "pseudonym_key must be set when signing_keys holds more than one key; \
                 `server keys pseudonym`, run with the key in use before the rotation, prints it"
                    .to_owned(),
            )),
            None => Ok(ring.derive("pseudonyms")),
        }
    }

    /// The signing key: from the settings, else the key file, which is created on first start.
    pub fn load_signing_key(&self) -> Result<SecretSlice<u8>, ConfigError> {
        if let Some(encoded) = &self.signing_key {
            return decode_key(encoded.expose_secret());
        }
        let path = &self.signing_key_file;
        match fs::read_to_string(path) {
            Ok(encoded) => decode_key(encoded.trim()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => generate_key_file(path),
            Err(err) => Err(ConfigError::SigningKey(format!(
                "cannot read {}: {err}",
                path.display()
            ))),
        }
    }
}

impl Settings {
    /// The consent log's signer: `log.key`, else `log.key_file` (created on first start), named
    /// by `log.origin` or `public_url`'s host.
    pub fn load_log_signer(&self) -> Result<crate::domain::log::LogSigner, ConfigError> {
        let seed = match &self.log.key {
            Some(encoded) => decode_key(encoded.expose_secret()),
            None => match fs::read_to_string(&self.log.key_file) {
                Ok(encoded) => decode_key(encoded.trim()),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    generate_key_file(&self.log.key_file)
                }
                Err(err) => Err(ConfigError::SigningKey(format!(
                    "cannot read {}: {err}",
                    self.log.key_file.display()
                ))),
            },
        }
        .map_err(|err| ConfigError::SigningKey(format!("log key: {err}")))?;
        let seed: [u8; 32] = seed.expose_secret().try_into().map_err(|_| {
            ConfigError::SigningKey("log key: an Ed25519 seed is exactly 32 bytes".to_owned())
        })?;
        Ok(crate::domain::log::LogSigner::new(
            &self.log_origin(),
            &seed,
        ))
    }

    /// The log's name: `log.origin`, else `public_url`'s host and `/log`.
    pub fn log_origin(&self) -> String {
        if let Some(origin) = &self.log.origin {
            return origin.clone();
        }
        self.public_url
            .as_deref()
            .and_then(|url| url.split_once("://"))
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest))
            .filter(|host| !host.is_empty())
            .map_or_else(
                || "zeccloud-consent/log".to_owned(),
                |host| format!("{host}/log"),
            )
    }

    /// The keys heads are checked with: the current one first, then the retired ones.
    pub fn log_verifiers(
        &self,
        signer: &crate::domain::log::LogSigner,
    ) -> Vec<crate::domain::log::LogVerifier> {
        let mut keys = vec![signer.verifier()];
        keys.extend(
            self.log
                .retired_keys
                .iter()
                .filter_map(|key| crate::domain::log::LogVerifier::parse(key).ok()),
        );
        keys
    }
}

const MIN_KEY_BYTES: usize = 32;

fn decode_key(encoded: &str) -> Result<SecretSlice<u8>, ConfigError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| ConfigError::SigningKey("not valid base64".to_owned()))?;
    if bytes.len() < MIN_KEY_BYTES {
        return Err(ConfigError::SigningKey(format!(
            "must be at least {MIN_KEY_BYTES} bytes"
        )));
    }
    Ok(SecretSlice::from(bytes))
}

fn generate_key_file(path: &Path) -> Result<SecretSlice<u8>, ConfigError> {
    use base64::Engine;
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |what: &str, err: std::io::Error| {
        ConfigError::SigningKey(format!("cannot {what} {}: {err}", path.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| fail("create the folder of", e))?;
    }
    let mut bytes = vec![0u8; MIN_KEY_BYTES];
    rand::fill(&mut bytes[..]);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| fail("create", e))?;
    file.write_all(encoded.as_bytes())
        .map_err(|e| fail("write", e))?;
    tracing::info!(path = %path.display(), "generated a new key");
    Ok(SecretSlice::from(bytes))
}
