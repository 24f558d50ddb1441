//! A test double of a Neo4j 5 server's Bolt endpoint, limited to what
//! graphvault needs: the `system` database's commands for databases and
//! aliases (`SHOW ALIASES`, `SHOW DATABASES`, `CREATE DATABASE … WAIT`,
//! `CREATE/ALTER/DROP ALIAS`, `DROP DATABASE`, `START/STOP DATABASE`), with
//! the real handshake (Bolt 4.4 and 5.0–5.4 only), authentication, the Bolt
//! state machine and Neo4j's status codes, standalone or as a cluster of N
//! servers. docs/TESTING.md ("Bolt server double") names the sources and
//! lists where it differs from the real server.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = bolt_double::BoltDouble::builder()
//!     .user("neo4j")
//!     .password("secret")
//!     .database("customer1-1700000000")
//!     .alias("customer1", "customer1-1700000000")
//!     .start()
//!     .await?;
//! println!("{}", server.uri()); // bolt://127.0.0.1:PORT
//! # Ok(()) }
//! ```

pub mod cluster;
pub mod cypher;
mod lex;
mod names;
pub mod packstream;
mod parser;
mod server;
mod session;
mod show;
pub mod state;
pub mod temporal;
mod wait;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use server::Shared;
use state::{failure, Rows, Snapshot, State};

pub use packstream::Value;

/// Configures a server before it starts.
#[derive(Debug)]
pub struct BoltDouble {
    user: String,
    password: String,
    listen: String,
    online_delay: Duration,
    databases: Vec<(String, String)>,
    aliases: Vec<(String, String)>,
    state_file: Option<PathBuf>,
    echo_queries: bool,
    cluster: usize,
}

impl BoltDouble {
    /// User `neo4j`, password `password`, a free port on 127.0.0.1.
    pub fn builder() -> Self {
        Self {
            user: "neo4j".into(),
            password: "password".into(),
            listen: "127.0.0.1:0".into(),
            online_delay: Duration::ZERO,
            databases: Vec::new(),
            aliases: Vec::new(),
            state_file: None,
            echo_queries: false,
            cluster: 1,
        }
    }

    pub fn user(mut self, user: &str) -> Self {
        self.user = user.into();
        self
    }

    pub fn password(mut self, password: &str) -> Self {
        self.password = password.into();
        self
    }

    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.into();
        self
    }

    /// How long a created or started database takes to come online.
    pub fn online_delay(mut self, d: Duration) -> Self {
        self.online_delay = d;
        self
    }

    /// An online standard database.
    pub fn database(mut self, name: &str) -> Self {
        self.databases.push((name.into(), "online".into()));
        self
    }

    pub fn alias(mut self, alias: &str, target: &str) -> Self {
        self.aliases.push((alias.into(), target.into()));
        self
    }

    /// Acts as a cluster of `servers` servers: the first is the one
    /// listening (its address is the real one), the others are reported at
    /// `127.0.0.N:7687`. Databases given to the builder are hosted on every
    /// server (the first three as primaries, the rest as secondaries).
    pub fn cluster(mut self, servers: usize) -> Self {
        self.cluster = servers.max(1);
        self
    }

    /// Loads the state from `path` if it exists and saves every change there.
    pub fn state_file(mut self, path: PathBuf) -> Self {
        self.state_file = Some(path);
        self
    }

    /// Prints every query on stderr (the binary does).
    pub fn echo_queries(mut self, on: bool) -> Self {
        self.echo_queries = on;
        self
    }

    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<Running> {
        let mut state = State::new(self.online_delay);
        if let Some(path) = &self.state_file {
            if let Ok(text) = std::fs::read_to_string(path) {
                let snap: Snapshot = serde_json::from_str(&text).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
                })?;
                state.restore(snap);
            }
        }
        let listener = tokio::net::TcpListener::bind(&self.listen).await?;
        let addr = listener.local_addr()?;
        if self.cluster > 1 {
            state.servers = (1..=self.cluster)
                .map(|n| cluster::Server {
                    id: cluster::server_id(n),
                    address: format!("127.0.0.{n}:7687"),
                    up: state.servers.get(n - 1).is_none_or(|s| s.up),
                })
                .collect();
        }
        // The first server is the one listening here.
        state.servers[0].address = addr.to_string();
        for (name, status) in &self.databases {
            state.add_database(name, "standard", status);
            let hosts = cluster::fixture_hosts(&state.servers);
            if let Some(db) = state.databases.get_mut(&name.to_ascii_lowercase()) {
                db.hosts = hosts;
            }
        }
        for (alias, target) in &self.aliases {
            state
                .aliases
                .insert(alias.to_ascii_lowercase(), target.to_ascii_lowercase());
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            user: self.user,
            password: self.password,
            log: Mutex::new(Vec::new()),
            stall: AtomicBool::new(false),
            inject: Mutex::new(None),
            next_id: AtomicU64::new(1),
            persist: self.state_file,
            echo_queries: self.echo_queries,
        });
        shared.save();
        let task = tokio::spawn(server::accept_loop(listener, shared.clone()));
        Ok(Running { addr, shared, task })
    }
}

/// Where a database is: `(serverId, role)` per copy, and the seeding server.
pub type Allocation = (Vec<(String, String)>, Option<String>);

/// A started server; stops when dropped or shut down.
pub struct Running {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `bolt://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("bolt://{}", self.addr)
    }

    /// Sets a database's current status (e.g. `offline`), as if it changed.
    pub fn set_status(&self, database: &str, status: &str) {
        if let Some(db) = self.shared.state().databases.get_mut(&database.to_ascii_lowercase()) {
            db.current_status = status.into();
            db.online_at = None;
        }
        self.shared.save();
    }

    pub fn add_database(&self, name: &str) {
        self.shared.state().add_database(name, "standard", "online");
        self.shared.save();
    }

    pub fn add_alias(&self, alias: &str, target: &str) {
        self.shared
            .state()
            .aliases
            .insert(alias.to_ascii_lowercase(), target.to_ascii_lowercase());
        self.shared.save();
    }

    /// An alias `composite.alias` that is a constituent of the composite
    /// database `composite`, as `CREATE ALIAS composite.alias FOR DATABASE
    /// target` makes one (Operations Manual 5.x, "Managing database aliases
    /// in composite databases"); `SHOW ALIASES` lists it with its
    /// `composite`. The composite database itself is not modelled.
    pub fn add_composite_alias(&self, composite: &str, alias: &str, target: &str) {
        let composite = composite.to_ascii_lowercase();
        let name = format!("{composite}.{}", alias.to_ascii_lowercase());
        let mut state = self.shared.state();
        state.aliases.insert(name.clone(), target.to_ascii_lowercase());
        state.composites.insert(name, composite);
        drop(state);
        self.shared.save();
    }

    /// `(name, currentStatus)` of every database.
    pub fn databases(&self) -> Vec<(String, String)> {
        let mut s = self.shared.state();
        s.settle();
        s.databases
            .values()
            .map(|d| (d.name.clone(), d.current_status.clone()))
            .collect()
    }

    /// Marks server `n` (1-based) down or up again, as if it crashed or
    /// came back.
    pub fn set_server_up(&self, n: usize, up: bool) {
        if let Some(s) = self.shared.state().servers.get_mut(n - 1) {
            s.up = up;
        }
        self.shared.save();
    }

    /// `(serverId, address)` of every server.
    pub fn servers(&self) -> Vec<(String, String)> {
        self.shared
            .state()
            .servers
            .iter()
            .map(|s| (s.id.clone(), s.address.clone()))
            .collect()
    }

    /// `(serverId, role)` of every copy of `database`, and the server it was
    /// seeded from (`existingDataSeedServer`), if any.
    pub fn allocation(&self, database: &str) -> Option<Allocation> {
        let state = self.shared.state();
        let db = state.databases.get(&database.to_ascii_lowercase())?;
        let hosts = state
            .hosts_of(db)
            .into_iter()
            .map(|(s, h)| (s.id.clone(), h.role))
            .collect();
        Some((hosts, db.seeded_from.clone()))
    }

    /// `(alias, database)` pairs.
    pub fn aliases(&self) -> Vec<(String, String)> {
        self.shared
            .state()
            .aliases
            .iter()
            .map(|(a, d)| (a.clone(), d.clone()))
            .collect()
    }

    /// Every query received, in order (parameters appended when given).
    pub fn query_log(&self) -> Vec<String> {
        self.shared.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// While on, RUN is never answered (for client timeout tests).
    pub fn set_stall(&self, on: bool) {
        self.shared.stall.store(on, Ordering::Relaxed);
    }

    /// The next RUN fails with this Neo4j status code and message.
    pub fn fail_next(&self, code: &str, message: &str) {
        if let Ok(mut f) = self.shared.inject.lock() {
            *f = Some(failure(code, message));
        }
    }

    /// Makes `query` on `database` (`*`: any database) return these rows,
    /// e.g. a count for a restore drill's validation query.
    pub fn canned_query(&self, database: &str, query: &str, columns: &[&str], rows: Vec<Vec<Value>>) {
        self.shared.state().canned.insert(
            (database.to_ascii_lowercase(), query.trim().to_string()),
            Rows {
                columns: columns.iter().map(|c| c.to_string()).collect(),
                rows,
            },
        );
    }

    pub async fn shutdown(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}
