//! The double's artifact format: one JSON header line, then a deterministic body.
//!
//! Real artifacts are a binary format; only the name (`<db>-YYYY-MM-DDTHH-MM-SS.backup`)
//! and the header's metadata fields follow the real tool. The body is
//! `NEO4J_ADMIN_DOUBLE_SIZE` bytes seeded by the database name: blocks are either a
//! repeated phrase (compressible) or pseudo-random bytes, in the ratio
//! `NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY`.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Marks a file as made by this double.
pub const FORMAT: &str = "neo4j-admin-double-artifact";
const BLOCK: usize = 4096;
const MAX_HEADER: u64 = 64 * 1024;

/// The metadata the real `backup inspect` documents, plus the double's own fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub database: String,
    pub database_id: String,
    pub full: bool,
    /// UTC, `YYYY-MM-DDTHH:MM:SS`.
    pub time: String,
    pub lowest_tx: u64,
    pub highest_tx: u64,
    pub compressed: bool,
    pub recovered: bool,
    pub include_metadata: String,
    pub body_size: u64,
    pub compressibility: f64,
    pub neo4j_version: String,
}

impl Header {
    pub fn kind(&self) -> &'static str {
        if self.full {
            "FULL"
        } else {
            "DIFF"
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "format": FORMAT,
            "database": self.database,
            "databaseId": self.database_id,
            "type": self.kind(),
            "backupTime": self.time,
            "lowestTx": self.lowest_tx,
            "highestTx": self.highest_tx,
            "compressed": self.compressed,
            "recovered": self.recovered,
            "includeMetadata": self.include_metadata,
            "bodySize": self.body_size,
            "compressibility": self.compressibility,
            "neo4jVersion": self.neo4j_version,
        })
    }

    fn from_json(v: &Value) -> Option<Self> {
        if v.get("format")?.as_str()? != FORMAT {
            return None;
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        let b = |k: &str| v.get(k).and_then(Value::as_bool);
        Some(Self {
            database: s("database")?,
            database_id: s("databaseId")?,
            full: match s("type")?.as_str() {
                "FULL" => true,
                "DIFF" => false,
                _ => return None,
            },
            time: s("backupTime")?,
            lowest_tx: n("lowestTx")?,
            highest_tx: n("highestTx")?,
            compressed: b("compressed")?,
            recovered: b("recovered").unwrap_or(false),
            include_metadata: s("includeMetadata").unwrap_or_default(),
            body_size: n("bodySize")?,
            compressibility: v.get("compressibility").and_then(Value::as_f64).unwrap_or(0.5),
            neo4j_version: s("neo4jVersion").unwrap_or_default(),
        })
    }
}

/// `<db>-<stamp>.backup`.
pub fn file_name(database: &str, stamp: &str) -> String {
    format!("{database}-{stamp}.backup")
}

/// FNV-1a, for seeds and ids derived from a database name.
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A stable UUID-shaped database id derived from the name.
pub fn database_id(database: &str) -> String {
    let a = fnv1a(database);
    let b = fnv1a(&format!("{database}#id"));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// xorshift64*: small, deterministic, good enough to defeat compression.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Writes the header line and the first `limit` body bytes (all when `None`).
pub fn write(path: &Path, header: &Header, limit: Option<u64>) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, File::create(path)?);
    out.write_all(header.to_json().to_string().as_bytes())?;
    out.write_all(b"\n")?;
    let body = limit.map_or(header.body_size, |l| l.min(header.body_size));
    write_body(&mut out, &header.database, body, header.compressibility)?;
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()
}

fn write_body(out: &mut impl Write, database: &str, size: u64, compressibility: f64) -> io::Result<()> {
    let mut rng = Rng(fnv1a(database) | 1);
    let phrase = format!("neo4j-admin-double store page of database '{database}'. ");
    let pattern: Vec<u8> = phrase.bytes().cycle().take(BLOCK).collect();
    let mut block = vec![0u8; BLOCK];
    let mut left = size;
    while left > 0 {
        let n = left.min(BLOCK as u64) as usize;
        if rng.unit() < compressibility {
            out.write_all(&pattern[..n])?;
        } else {
            for chunk in block[..n].chunks_mut(8) {
                let r = rng.next().to_le_bytes();
                chunk.copy_from_slice(&r[..chunk.len()]);
            }
            out.write_all(&block[..n])?;
        }
        left -= n as u64;
    }
    Ok(())
}

/// Reads and validates the header line of `path`.
pub fn read_header(path: &Path) -> Result<Header, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut line = Vec::new();
    BufReader::new(file)
        .take(MAX_HEADER)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice::<Value>(&line)
        .ok()
        .and_then(|v| Header::from_json(&v))
        .ok_or_else(|| format!("{} is not a backup artifact", path.display()))
}

/// The artifacts in `dir` (files named `*.backup` with a valid header), sorted by name.
pub fn list(dir: &Path) -> io::Result<Vec<(PathBuf, Header)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_backup = path.extension().is_some_and(|e| e == "backup") && path.is_file();
        if is_backup {
            if let Ok(h) = read_header(&path) {
                found.push((path, h));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The chain ending at `last`: a full artifact followed by contiguous differentials,
/// picked from `pool` (artifacts of the same database).
pub fn chain_ending_at(pool: &[(PathBuf, Header)], last: &(PathBuf, Header)) -> Option<Vec<(PathBuf, Header)>> {
    let mut chain = vec![last.clone()];
    while !chain[0].1.full {
        let want = chain[0].1.lowest_tx.checked_sub(1)?;
        let prev = pool
            .iter()
            .filter(|(p, h)| h.database == last.1.database && h.highest_tx == want && *p != chain[0].0)
            .max_by(|a, b| (a.1.full, &a.1.time).cmp(&(b.1.full, &b.1.time)))?;
        chain.insert(0, prev.clone());
    }
    Some(chain)
}

/// The most recent chain of `database` in `pool` (by highest transaction id).
pub fn latest_chain(pool: &[(PathBuf, Header)], database: &str) -> Option<Vec<(PathBuf, Header)>> {
    let mut candidates: Vec<_> = pool.iter().filter(|(_, h)| h.database == database).collect();
    candidates.sort_by(|a, b| (b.1.highest_tx, &b.1.time).cmp(&(a.1.highest_tx, &a.1.time)));
    candidates.into_iter().find_map(|last| chain_ending_at(pool, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(db: &str, full: bool, low: u64, high: u64, time: &str) -> Header {
        Header {
            database: db.into(),
            database_id: database_id(db),
            full,
            time: time.into(),
            lowest_tx: low,
            highest_tx: high,
            compressed: true,
            recovered: false,
            include_metadata: "all".into(),
            body_size: 10_000,
            compressibility: 0.5,
            neo4j_version: "5.26.0".into(),
        }
    }

    #[test]
    fn header_round_trips_and_body_is_deterministic() {
        let dir = std::env::temp_dir().join(format!("n4a-double-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let h = header("neo4j", true, 1, 12, "2026-01-02T03:04:05");
        let (a, b) = (dir.join("a.backup"), dir.join("b.backup"));
        write(&a, &h, None).unwrap();
        write(&b, &h, None).unwrap();
        assert_eq!(read_header(&a).unwrap(), h);
        assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn chains_follow_transaction_ids() {
        let p = |n: &str| PathBuf::from(n);
        let pool = vec![
            (p("f1"), header("a", true, 1, 10, "t1")),
            (p("d1"), header("a", false, 11, 12, "t2")),
            (p("d2"), header("a", false, 13, 15, "t3")),
            (p("x"), header("b", true, 1, 99, "t4")),
        ];
        let chain = latest_chain(&pool, "a").unwrap();
        assert_eq!(
            chain.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
            vec![p("f1"), p("d1"), p("d2")]
        );
        assert!(chain_ending_at(&pool[1..3], &pool[2]).is_none());
        assert!(database_id("a") != database_id("b"));
    }
}
