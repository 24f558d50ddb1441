//! The listening server: shared state behind a mutex, one task per
//! connection, the query log, the fault switches, and persistence of the
//! state to a JSON file for the binary.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::net::TcpListener;

use crate::cypher::Command;
use crate::packstream::Value;
use crate::state::{Failure, Rows, State, WaitFor};

/// What every connection shares.
pub struct Shared {
    pub state: Mutex<State>,
    pub user: String,
    pub password: String,
    pub log: Mutex<Vec<String>>,
    pub stall: AtomicBool,
    pub inject: Mutex<Option<Failure>>,
    pub next_id: AtomicU64,
    pub persist: Option<PathBuf>,
    pub echo_queries: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection task must not take the whole double down.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn log_query(&self, db: &str, query: &str, params: &Value) {
        let line = match params.as_map() {
            Some(m) if !m.is_empty() => format!("{query} {params:?}"),
            _ => query.to_string(),
        };
        if self.echo_queries {
            eprintln!("bolt-double: [{db}] {line}");
        }
        lock(&self.log).push(line);
    }

    pub fn take_injected_failure(&self) -> Option<Failure> {
        lock(&self.inject).take()
    }

    /// A canned result for `query` on `db`, or on any database (`*`).
    pub fn canned(&self, db: &str, query: &str) -> Option<Rows> {
        let state = self.state();
        let q = query.trim().to_string();
        state
            .canned
            .get(&(db.to_string(), q.clone()))
            .or_else(|| state.canned.get(&("*".to_string(), q)))
            .cloned()
    }

    pub fn apply(&self, cmd: &Command, params: &Value, db: &str) -> Result<(Rows, Option<WaitFor>), Failure> {
        let result = self.state().apply(cmd, params, db);
        let changes = !matches!(
            cmd,
            Command::ShowAliases { .. }
                | Command::ShowDatabases { .. }
                | Command::ShowServers { .. }
                | Command::Return { .. }
        );
        if result.is_ok() && changes {
            self.save();
        }
        result
    }

    pub fn online_at(&self, db: &str) -> Option<Instant> {
        self.state().online_at(db)
    }

    pub fn wait_result(&self, db: &str) -> Rows {
        let rows = self.state().wait_result(db);
        self.save();
        rows
    }

    /// Writes the state file (when the binary was given `--state`).
    pub fn save(&self) {
        let Some(path) = &self.persist else { return };
        let snap = self.state().snapshot();
        let text = serde_json::to_string_pretty(&snap).unwrap_or_default();
        let tmp = path.with_extension("tmp");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)) {
            eprintln!("bolt-double: cannot save state to {}: {e}", path.display());
        }
    }
}

/// Accepts connections until the listener task is aborted.
pub async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        let _ = sock.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::session::serve(sock, shared).await {
                if e.kind() != std::io::ErrorKind::UnexpectedEof && e.kind() != std::io::ErrorKind::ConnectionReset {
                    eprintln!("bolt-double: connection ended: {e}");
                }
            }
        });
    }
}
