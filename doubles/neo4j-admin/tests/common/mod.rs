//! Helpers for running the built `neo4j-admin` double in a scratch directory.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Body size used by tests unless they set their own (keeps runs fast).
pub const SMALL: &str = "65536";

/// A directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "neo4j-admin-double-it-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Creates `name` inside and returns it.
    pub fn dir(&self, name: &str) -> PathBuf {
        let d = self.0.join(name);
        fs::create_dir_all(&d).unwrap();
        d
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What one run left.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub out: Output,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the double in `cwd` with only the given `NEO4J_ADMIN_DOUBLE_*` variables.
pub fn admin(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_neo4j-admin"));
    cmd.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("NEO4J_ADMIN_DOUBLE_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("NEO4J_ADMIN_DOUBLE_SIZE", SMALL);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run neo4j-admin double");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        out,
    }
}

/// The `*.backup` files in `dir`, sorted.
pub fn artifacts(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "backup"))
        .collect();
    v.sort();
    v
}

/// The JSON header line and the body of an artifact.
pub fn split(path: &Path) -> (serde_json::Value, Vec<u8>) {
    let bytes = fs::read(path).unwrap();
    let nl = bytes.iter().position(|b| *b == b'\n').expect("header line");
    (serde_json::from_slice(&bytes[..nl]).unwrap(), bytes[nl + 1..].to_vec())
}

/// Whether `name` is `<db>-YYYY-MM-DDTHH-MM-SS.backup`.
pub fn named_like_neo4j(db: &str, name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(&format!("{db}-"))
        .and_then(|r| r.strip_suffix(".backup"))
    else {
        return false;
    };
    let b = stamp.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 | 13 | 16 => *c == b'-',
            10 => *c == b'T',
            _ => c.is_ascii_digit(),
        })
}
