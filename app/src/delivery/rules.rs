// The retry schedule and the storage-clearing rule, for the island and the embed loader alike.
// The island reads them as `crate::delivery::rules`; server/build.rs `include!`s this file and
// writes each one into server/embed/loader.js in place of its `__NAME__`, so the loader cannot
// follow other ones. Hence plain constants only, with nothing from the crate: no `use`, and no
// inner doc comment (`include!` takes none).

/// The waits before each retry of a choice the service could not save: about a minute in all,
/// then the visitor is told.
pub const RETRY_DELAYS_MS: [u64; 6] = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/// A storage key the service lists with this suffix (`_pk_*`) stands for every key that begins
/// with what precedes it; any other is removed by its exact name.
pub const STORAGE_WILDCARD: char = '*';

/// The kinds of key the service lists for removal (its names for them, as `IdentifierKind`
/// writes them), kept in the page's localStorage and sessionStorage. Keys of any other kind
/// are left alone.
pub const LOCAL_STORAGE: &str = "local_storage";
pub const SESSION_STORAGE: &str = "session_storage";
