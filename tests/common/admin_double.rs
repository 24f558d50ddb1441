//! The neo4j-admin runner pointed at the neo4j-admin double in a scratch
//! directory: invocation log, restore data and run records go there.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use graphvault::neo4j::{AdminSettings, BackupRequest, BackupType, ProcessAdmin};

pub fn admin(dir: &Path, env: &[(&str, &str)]) -> ProcessAdmin {
    admin_with_timeout(dir, env, Duration::from_secs(30))
}

pub fn admin_with_timeout(dir: &Path, env: &[(&str, &str)], timeout: Duration) -> ProcessAdmin {
    let mut all: Vec<(String, String)> = vec![
        (
            "NEO4J_ADMIN_DOUBLE_LOG".into(),
            dir.join("invocations.jsonl").display().to_string(),
        ),
        ("NEO4J_ADMIN_DOUBLE_DATA".into(), dir.join("data").display().to_string()),
        ("NEO4J_ADMIN_DOUBLE_SIZE".into(), "65536".into()),
    ];
    all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    ProcessAdmin::new(AdminSettings {
        binary: super::workspace_bin("neo4j-admin"),
        extra_args: vec![],
        from: vec!["127.0.0.1:6362".into()],
        pagecache: None,
        temp_path: None,
        timeout,
        env: all,
        run_dir: Some(dir.to_path_buf()),
        stop_grace: Duration::from_secs(10),
    })
}

pub fn request(db: &str, to: &Path) -> BackupRequest {
    BackupRequest {
        database: db.parse().unwrap(),
        to_path: to.to_path_buf(),
        backup_type: BackupType::Full,
        compress: None,
        include_metadata: None,
        from: Vec::new(),
    }
}

pub fn invocations(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("invocations.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Writes an executable bash script `dir/name` that runs the double as
/// `$ADMIN` (so a test can filter or fake its output); returns its path.
pub fn wrapper_script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    let script = format!(
        "#!/bin/bash\nADMIN='{}'\n{body}\n",
        super::workspace_bin("neo4j-admin").display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}
