//! Build script: records the git revision the binary was built from, for
//! `graphvault --version` (e.g. `0.1.0 (git 1b14daa)`). Outside a git
//! checkout (a source tarball, `cargo install` from a registry) the revision
//! is empty and the version is the crate version alone.

use std::path::Path;
use std::process::Command;

fn main() {
    let rev = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=GRAPHVAULT_GIT_REV={rev}");
    // Rebuild when HEAD moves: HEAD itself (branch switch) and the ref it names.
    let git = Path::new(".git");
    if git.join("HEAD").exists() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        // A path that does not exist would make cargo rerun this every build.
        let head = std::fs::read_to_string(git.join("HEAD")).unwrap_or_default();
        let reference = head.strip_prefix("ref: ").map(|r| format!(".git/{}", r.trim()));
        for path in reference.into_iter().chain([".git/packed-refs".to_string()]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
