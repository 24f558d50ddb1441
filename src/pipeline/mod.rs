//! The sealed format: zstd inside age, streamed, hashed on both sides.
//!
//! `seal` turns an artifact file into a stored object; `open` turns a stored
//! object back into the artifact, verifying it. Both keep memory bounded and
//! never write plaintext or ciphertext to temporary files of their own. See
//! `docs/FORMAT.md` for the format and how to open it with stock tools.

mod check;
mod hashing;
mod header;
mod keys;
mod open;
mod parts;
mod ranged;
mod seal;
mod upload;
mod writeback;

pub use check::check_stored;
pub use hashing::{parse_sha256_hex, Fingerprint, HashingReader, HashingWriter};
pub use header::{check_header, HeaderCheck, HEADER_PROBE_BYTES};
pub use keys::{generate_identity, Identities, KeyError, Recipients};
pub use open::{open_from_store, open_with_progress, OpenError};
pub use parts::{part_size_for, sealed_size_bound, MAX_OBJECT_SIZE, MAX_PARTS, MIN_PART_SIZE};
pub use ranged::{ranged_download, RangedSettings};
pub use seal::{choose_level, seal_to_store, SealError, SealSettings, SealedObject};
pub use writeback::{start_writeback, WritebackFile};
