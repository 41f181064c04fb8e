//! The visitor's country from a MaxMind-format database (GeoLite2-Country, DB-IP Country Lite),
//! reread when the operator replaces the file.

use maxminddb::{MaxMindDbError, Reader, path};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};
use tokio::task::JoinHandle;

pub mod testing;

#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    #[error("geoip_database {}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("geoip_database {}: not a valid MaxMind DB file: {source}", path.display())]
    Invalid {
        path: PathBuf,
        source: MaxMindDbError,
    },
}

/// A country database, swapped whole when its file changes.
///
/// The file is read into memory rather than mapped: operators replace it in place as often as
/// by rename, and a mapped file rewritten (or truncated) under a live reader would change the
/// bytes being read, or kill the process with SIGBUS.
pub struct GeoIp {
    path: PathBuf,
    current: RwLock<Arc<Reader<Vec<u8>>>>,
    /// The file as last read, loaded or refused: each version of the file is read once.
    seen: Mutex<Stamp>,
}

/// What tells one version of the file from the next without reading it. The inode catches a
/// replacement by rename that kept the old modification time (`cp -p`, `tar x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Result<Self, GeoIpError> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).map_err(|source| GeoIpError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode: meta.ino(),
        })
    }
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp").field("path", &self.path).finish()
    }
}

impl GeoIp {
    /// Reads and verifies the database at `path`. A missing, unreadable or invalid file is an
    /// error naming the path, so the service does not start without the database it was
    /// told to use.
    pub fn open(path: &Path) -> Result<Self, GeoIpError> {
        // The stamp is taken before the read: a change made while reading is seen next time.
        let stamp = Stamp::of(path)?;
        let reader = load(path)?;
        Ok(Self {
            path: path.to_owned(),
            current: RwLock::new(Arc::new(reader)),
            seen: Mutex::new(stamp),
        })
    }

    /// ISO country code of `ip` (upper-case two letters), None when the database has no answer.
    /// IPv4-mapped IPv6 addresses (a dual-stack listener's peers) are looked up as IPv4.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        // The lock is held only to clone the Arc: a reload never waits for lookups.
        let reader = Arc::clone(&self.current.read().expect("geoip lock"));
        let found = reader
            .lookup(ip.to_canonical())
            .and_then(|result| result.decode_path::<&str>(&path!["country", "iso_code"]));
        match found {
            Ok(code) => code.and_then(country_code),
            Err(err) => {
                // Verified at load, so this is a record the reader cannot decode; the country
                // stays unknown and the caller falls back to the strictest regime.
                tracing::debug!(%ip, error = %err, "geoip lookup failed");
                None
            }
        }
    }

    /// Rereads the file if it changed since it was last read: `Ok(true)` when a new database
    /// is in use. A file that cannot be read or is not a valid database leaves the current
    /// database in use; that version of the file is not tried again, the next change is.
    /// Blocking (file I/O): call it outside the async runtime's threads, as [`GeoIp::watch`]
    /// does.
    pub fn reload_if_changed(&self) -> Result<bool, GeoIpError> {
        let mut seen = self.seen.lock().expect("geoip stamp lock");
        let stamp = Stamp::of(&self.path)?;
        if stamp == *seen {
            return Ok(false);
        }
        *seen = stamp;
        let reader = load(&self.path)?;
        *self.current.write().expect("geoip lock") = Arc::new(reader);
        Ok(true)
    }

    /// Checks the file every `every` (at least a second) and rereads it when it changed; ends
    /// when the `GeoIp` is dropped.
    ///
    /// A background task rather than a check on the request path: requests then never stat or
    /// read the file, and reading a new database (megabytes, verified) runs on a blocking
    /// thread where no visitor waits for it.
    pub fn watch(self: &Arc<Self>, every: Duration) -> JoinHandle<()> {
        let geoip = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every.max(Duration::from_secs(1)));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is immediate, and the file was just read.
            ticks.tick().await;
            let mut last_error = None;
            loop {
                ticks.tick().await;
                let Some(reloaded) = reload_in_background(&geoip).await else {
                    return;
                };
                match reloaded {
                    Ok(true) => {
                        last_error = None;
                        tracing::info!("geoip database reloaded");
                    }
                    Ok(false) => last_error = None,
                    // A file that stays missing is reported once, not every tick.
                    Err(err) => {
                        let message = err.to_string();
                        if last_error.as_ref() != Some(&message) {
                            tracing::warn!(error = %message, "geoip database not reloaded; the previous one stays in use");
                        }
                        last_error = Some(message);
                    }
                }
            }
        })
    }
}

/// One reload on a blocking thread; None once the `GeoIp` is gone.
async fn reload_in_background(geoip: &Weak<GeoIp>) -> Option<Result<bool, GeoIpError>> {
    let geoip = geoip.upgrade()?;
    match tokio::task::spawn_blocking(move || geoip.reload_if_changed()).await {
        Ok(reloaded) => Some(reloaded),
        // A panic in the reload (a poisoned lock) ends the watch rather than looping on it.
        Err(err) => {
            tracing::error!(error = %err, "geoip reload task failed; the database is no longer watched");
            None
        }
    }
}

/// Reads the whole file and verifies it, so a half-written or corrupt file is refused here
/// rather than failing lookups later.
fn load(path: &Path) -> Result<Reader<Vec<u8>>, GeoIpError> {
    let bytes = std::fs::read(path).map_err(|source| GeoIpError::Read {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |source| GeoIpError::Invalid {
        path: path.to_owned(),
        source,
    };
    let reader = Reader::from_source(bytes).map_err(invalid)?;
    reader.verify().map_err(invalid)?;
    let metadata = reader.metadata();
    tracing::info!(
        path = %path.display(),
        database_type = %metadata.database_type,
        build_epoch = metadata.build_epoch,
        "geoip database read"
    );
    Ok(reader)
}

/// An ISO 3166-1 alpha-2 code as databases and edge headers write it, upper-cased; None for
/// anything else and for the "unknown" markers `XX` (Cloudflare) and `ZZ`, and for codes
/// that are not letters (Cloudflare's `T1` for Tor).
pub fn country_code(value: &str) -> Option<String> {
    let code = value.trim().to_ascii_uppercase();
    let letters = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
    (letters && code != "XX" && code != "ZZ").then_some(code)
}

#[cfg(test)]
mod tests;
