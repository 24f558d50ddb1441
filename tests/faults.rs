//! S3 faults between the graphvault binary and LocalStack, injected by an
//! HTTP proxy in the test (`common::s3_proxy`): 500/503/SlowDown,
//! RequestTimeTooSkewed, connection resets mid-body, truncated bodies,
//! stalled responses. Transient ones are retried (and logged); a persistent
//! one ends with the documented exit code and loses nothing; a failed
//! download range is resumed, not started over.

mod common;

use std::time::Duration;

use common::cli_world::Setup;
use common::s3_proxy::{Action, S3Op, S3Proxy};
use graphvault::store::ObjectStore;

const EXIT_STORAGE: i32 = 5;
const EXIT_ALL_FAILED: i32 = 11;
/// 12 MB, incompressible: three 5 MiB parts, three 4 MiB download ranges.
const ADMIN_ENV: &str = "NEO4J_ADMIN_DOUBLE_SIZE = \"12000000\", NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY = \"0\"";

/// Short attempt timeout (stalls) and fast retries.
const FAST: &[&str] = &["--set", "upload.attempt_timeout_secs=2"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = FAST.to_vec();
    v.extend_from_slice(extra);
    v
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn retries_logged(stderr: &str) -> usize {
    stderr.matches("retrying store operation").count()
        + stderr.matches("download interrupted; resuming the range").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_complete_through_transient_faults() {
    let proxy = S3Proxy::start().await;
    let s = Setup::via(ADMIN_ENV, &proxy.endpoint).await;
    proxy.inject(
        S3Op::CreateMultipart,
        0,
        1,
        Action::Error {
            status: 500,
            code: "InternalError",
        },
    );
    proxy.inject(
        S3Op::UploadPart,
        1,
        1,
        Action::Error {
            status: 503,
            code: "SlowDown",
        },
    );
    proxy.inject(
        S3Op::UploadPart,
        3,
        1,
        Action::Error {
            status: 503,
            code: "ServiceUnavailable",
        },
    );
    // (Not on a HEAD: S3 answers HEAD errors without a body, so a 403 there
    // cannot say "skewed" and is rightly taken for access denied.)
    proxy.inject(
        S3Op::Put,
        0,
        1,
        Action::Error {
            status: 503,
            code: "SlowDown",
        },
    );
    proxy.inject(
        S3Op::Put,
        2,
        1,
        Action::Error {
            status: 403,
            code: "RequestTimeTooSkewed",
        },
    );
    proxy.inject(S3Op::List, 0, 1, Action::Stall(Duration::from_secs(4)));
    proxy.inject(
        S3Op::Head,
        0,
        1,
        Action::Error {
            status: 500,
            code: "InternalError",
        },
    );
    let r = s.run(&args(&["backup", "--alias", "customer1"])).await.ok();
    let injected = proxy.faults();
    assert!(injected >= 6, "{injected} faults injected: {:?}", proxy.seen());
    assert!(
        retries_logged(&r.stderr) >= 5,
        "each transient fault is retried and logged: {}",
        r.explain()
    );
    assert_eq!(s.committed().await, ["customer1-1800000000"]);

    // Restore through truncated and reset downloads (`list` reads the
    // manifest too: the id is taken before the faults are set).
    let id = s.first_backup_id().await;
    proxy.clear();
    proxy.inject(
        S3Op::Get,
        0,
        1,
        Action::Error {
            status: 500,
            code: "InternalError",
        },
    );
    proxy.inject_on(S3Op::Get, "/data/", 0, 1, Action::Truncate);
    proxy.inject_on(S3Op::Get, "/data/", 2, 1, Action::ResetMidBody);
    let dir = s.work.path().join("restored");
    let restore = s.restore_args(&id, &dir);
    let r = s.run(&args(&strs(&restore))).await.ok();
    assert!(retries_logged(&r.stderr) >= 3, "{}", r.explain());
    let restored: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(restored.len(), 1, "{restored:?}");
    println!("faults injected: {}", proxy.faults() + injected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_fault_fails_with_the_storage_code_and_loses_nothing() {
    let proxy = S3Proxy::start().await;
    let s = Setup::via(ADMIN_ENV, &proxy.endpoint).await;
    proxy.inject(
        S3Op::UploadPart,
        0,
        10_000,
        Action::Error {
            status: 503,
            code: "SlowDown",
        },
    );
    let limited = ["--set", "upload.max_attempts=2"];
    // The Neo4j-driven run: the one database fails, so the run fails (11),
    // its summary names the storage error, and the staged artifact stays.
    let mut a = args(&limited);
    a.extend_from_slice(&["backup", "--alias", "customer1"]);
    let r = s.run(&a).await.code(EXIT_ALL_FAILED);
    assert!(r.stderr.contains("SlowDown"), "{}", r.explain());
    assert!(s.committed().await.is_empty(), "no manifest: {}", r.explain());
    let staging = s.work.path().join("staging/customer1-1800000000");
    let staged: Vec<String> = walk(&staging);
    assert!(
        staged.iter().any(|f| f.ends_with(".backup")),
        "the staged artifact is kept: {staged:?}"
    );
    // Sealing an artifact by hand: the storage exit code itself.
    let artifact = staged.iter().find(|f| f.ends_with(".backup")).unwrap().clone();
    let mut a = args(&limited);
    a.extend_from_slice(&["backup", "--artifact", &artifact, "--database", "customer1-1800000000"]);
    let r = s.run(&a).await.code(EXIT_STORAGE);
    assert!(
        r.stderr.contains("SlowDown") && r.stderr.contains("retr"),
        "{}",
        r.explain()
    );
    assert!(s.committed().await.is_empty());
    assert!(
        std::path::Path::new(&artifact).exists(),
        "graphvault never deletes an --artifact"
    );
    // Nothing unfinished is left behind either: failed uploads are aborted.
    let pending = s.store.list_multipart("data/").await.unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_download_range_is_resumed_not_started_over() {
    let proxy = S3Proxy::start().await;
    let s = Setup::via(ADMIN_ENV, &proxy.endpoint).await;
    s.run(&["backup", "--alias", "customer1"]).await.ok();
    let id = s.first_backup_id().await;
    let before = proxy.seen().len();
    // The second range is cut in the middle.
    proxy.inject_on(S3Op::Get, "/data/", 1, 1, Action::ResetMidBody);
    let restore = s.restore_args(&id, &s.work.path().join("restored"));
    s.run(&args(&strs(&restore))).await.ok();
    let gets: Vec<(Option<String>, bool)> = proxy.seen()[before..]
        .iter()
        .filter(|r| r.op == S3Op::Get && r.target.contains("/data/"))
        .map(|r| (r.range.clone(), r.fault.is_some()))
        .collect();
    let (failed, _) = gets.iter().find(|(_, f)| *f).expect("the fault was injected").clone();
    let failed = parse_range(failed.as_deref().expect("ranged GET"));
    let resumed: Vec<(u64, u64)> = gets
        .iter()
        .filter(|(_, f)| !*f)
        .filter_map(|(r, _)| r.as_deref().map(parse_range))
        .filter(|(start, end)| *end == failed.1 && *start >= failed.0)
        .collect();
    assert_eq!(resumed.len(), 1, "the failed range is fetched again once: {gets:?}");
    assert!(
        resumed[0].0 > failed.0,
        "from where it stopped, not from its start: {gets:?}"
    );
    let starts: Vec<u64> = gets
        .iter()
        .filter_map(|(r, _)| r.as_deref().map(parse_range))
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        starts.iter().filter(|s| **s == 0).count(),
        1,
        "the object is not started over: {gets:?}"
    );
}

fn parse_range(r: &str) -> (u64, u64) {
    let (a, b) = r.trim_start_matches("bytes=").split_once('-').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// Every file under `dir`, as paths.
pub fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
