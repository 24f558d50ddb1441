//! Multipart part sizing: pure arithmetic, no I/O.
//!
//! S3 allows at most 10,000 parts of at least 5 MiB (but the last) and objects
//! up to 5 TiB. The sealed size is unknown before sealing, so the part size is
//! chosen from a safe upper bound of it: zstd's worst-case expansion plus age's
//! per-chunk tag and header.

/// S3's minimum size of every part but the last.
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// S3's maximum number of parts in one upload.
pub const MAX_PARTS: u64 = 10_000;
/// S3's maximum object size.
pub const MAX_OBJECT_SIZE: u64 = 5 << 40;

const MIB: u64 = 1 << 20;
/// Room for the age header (many recipients, ssh-rsa stanzas are ~700 bytes).
const AGE_HEADER_ALLOWANCE: u64 = 64 << 10;

/// An upper bound for the sealed size of `plain` bytes.
pub fn sealed_size_bound(plain: u64) -> u64 {
    // ZSTD_compressBound: n + n/256 + small constant (frame header, checksum).
    let zstd = plain + (plain >> 8) + (128 << 10);
    // age STREAM: a 16-byte tag per 64 KiB chunk (and for the final chunk).
    let age = zstd + (zstd / (64 << 10) + 1) * 16;
    age + AGE_HEADER_ALLOWANCE
}

/// The part size for an artifact of `plain` bytes: the configured size, raised
/// (in whole MiB) as far as needed to stay under the part limit.
pub fn part_size_for(plain: u64, configured: u64) -> u64 {
    let needed = sealed_size_bound(plain).div_ceil(MAX_PARTS);
    let size = configured.max(needed).max(MIN_PART_SIZE);
    size.div_ceil(MIB) * MIB
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn part_size_table() {
        for (plain, configured, expected) in [
            (0, 8 * MIB, 8 * MIB),
            (1 << 30, 8 * MIB, 8 * MIB),
            (100 << 30, 8 * MIB, 11 * MIB),
            (MAX_OBJECT_SIZE, 8 * MIB, 527 * MIB),
            (1 << 30, 1, MIN_PART_SIZE),
            (1 << 30, 8 * MIB + 1, 9 * MIB),
        ] {
            assert_eq!(
                part_size_for(plain, configured),
                expected,
                "plain={plain} configured={configured}"
            );
        }
    }

    proptest! {
        #[test]
        fn the_part_limit_is_never_reached_up_to_5_tib(plain in 0..=MAX_OBJECT_SIZE, configured in 0u64..(64 * MIB)) {
            let part = part_size_for(plain, configured);
            prop_assert!(part >= MIN_PART_SIZE);
            prop_assert!(part.is_multiple_of(MIB));
            prop_assert!(sealed_size_bound(plain).div_ceil(part) <= MAX_PARTS);
        }
    }
}
