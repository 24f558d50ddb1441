//! Clusters as `SHOW DATABASES` and `SHOW SERVERS` describe them, and the
//! decisions graphvault takes from that, as pure functions:
//!
//! - a database is one [`DatabaseInfo`] with one [`Hosting`] per server row
//!   (Neo4j returns a row per database per hosting server; a server that is
//!   down shows a null address and `currentStatus = unknown`);
//! - it can be backed up when it is online on at least one server, and the
//!   servers to back it up from are its online copies, secondaries first,
//!   then primaries that are not the writer, then the writer (the order the
//!   Operations Manual recommends, "Back up an online database");
//! - a restore on a cluster seeds the new database from the server the
//!   backup was restored on (`existingDataSeedServer`), keeping the topology
//!   of the database the alias points at.

use serde::Serialize;

/// A database's copy on one server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Hosting {
    pub server_id: Option<String>,
    /// The server's Bolt address; `None` when the server is unavailable.
    pub address: Option<String>,
    /// `primary`, `secondary` or `unknown`.
    pub role: String,
    pub writer: bool,
    pub current_status: String,
}

/// A database as `SHOW DATABASES` reports it, its rows merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DatabaseInfo {
    pub name: String,
    /// `online` when online on at least one server, else the status the
    /// first reachable server reports (`unknown` when none is reachable).
    pub current_status: String,
    pub requested_status: String,
    pub default: bool,
    pub aliases: Vec<String>,
    /// Bytes on disk, where the server reports it.
    pub store_size: Option<u64>,
    /// One entry per server row (one for a standalone server).
    pub hosts: Vec<Hosting>,
}

impl DatabaseInfo {
    /// Online on at least one server: it can be backed up and used.
    pub fn is_online(&self) -> bool {
        self.current_status == "online"
    }

    /// Online on every server that can be reached (and on one at least):
    /// a created or started database is ready.
    pub fn online_everywhere(&self) -> bool {
        let reachable: Vec<&Hosting> = self.hosts.iter().filter(|h| h.address.is_some()).collect();
        if reachable.is_empty() {
            return self.is_online();
        }
        reachable.iter().all(|h| h.current_status == "online")
    }

    /// Counts of primaries and secondaries (roles of the rows; an `unknown`
    /// role, a stopped copy, counts as a primary: Neo4j only allocates those two).
    pub fn topology(&self) -> Topology {
        let secondaries = self.hosts.iter().filter(|h| h.role == "secondary").count() as u32;
        Topology {
            primaries: (self.hosts.len() as u32 - secondaries).max(1),
            secondaries,
        }
    }
}

/// One row of `SHOW DATABASES`, as read off the wire (its `currentStatus`
/// is the host's: the status on that server).
#[derive(Clone, Debug, Default)]
pub struct DatabaseRow {
    pub name: String,
    pub requested_status: String,
    pub default: bool,
    pub aliases: Vec<String>,
    pub store_size: Option<u64>,
    pub host: Hosting,
}

/// Merges the rows of each database, in order of first appearance.
pub fn merge_rows(rows: Vec<DatabaseRow>) -> Vec<DatabaseInfo> {
    let mut out: Vec<DatabaseInfo> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|d| d.name == r.name) {
            Some(d) => {
                d.store_size = d.store_size.or(r.store_size);
                d.hosts.push(r.host);
            }
            None => out.push(DatabaseInfo {
                name: r.name,
                current_status: String::new(),
                requested_status: r.requested_status,
                default: r.default,
                aliases: r.aliases,
                store_size: r.store_size,
                hosts: vec![r.host],
            }),
        }
    }
    for d in &mut out {
        d.current_status = if d.hosts.iter().any(|h| h.current_status == "online") {
            "online".into()
        } else {
            d.hosts
                .iter()
                .find(|h| h.address.is_some())
                .or(d.hosts.first())
                .map(|h| h.current_status.clone())
                .unwrap_or_else(|| "unknown".into())
        };
    }
    out
}

/// `TOPOLOGY n PRIMARIES m SECONDARIES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Topology {
    pub primaries: u32,
    pub secondaries: u32,
}

/// The `--from` list for backing up `db` from a cluster: the host of each
/// online copy's Bolt address with `backup_port`, secondaries first, then
/// primaries that do not take writes, then the writer. Empty for a
/// database on one server (neo4j-admin's default, or the configured list).
pub fn backup_sources(db: &DatabaseInfo, backup_port: u16) -> Vec<String> {
    if db.hosts.len() < 2 {
        return Vec::new();
    }
    let rank = |h: &Hosting| match (h.role.as_str(), h.writer) {
        ("secondary", _) => 0,
        (_, false) => 1,
        (_, true) => 2,
    };
    let mut online: Vec<&Hosting> = db
        .hosts
        .iter()
        .filter(|h| h.current_status == "online" && h.address.is_some())
        .collect();
    online.sort_by_key(|h| rank(h));
    let mut out: Vec<String> = Vec::new();
    for h in online {
        let address = h.address.as_deref().unwrap_or_default();
        let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
        let from = format!("{host}:{backup_port}");
        if !out.contains(&from) {
            out.push(from);
        }
    }
    out
}

/// A row of `SHOW SERVERS`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    pub state: String,
    pub health: String,
}

/// The `host:port` of a Bolt URI (`neo4j+s://db1:7687/?x` → `db1:7687`;
/// the port defaults to 7687).
pub fn uri_address(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let hostport = rest.split(['/', '?']).next().unwrap_or_default();
    if hostport.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        hostport.to_string()
    } else {
        format!("{hostport}:7687")
    }
}

/// The server a restore on this host seeds from: the one whose id, name or
/// Bolt address is `wanted` (config `neo4j.cluster_server`, or the Bolt
/// URI's address). `Err` says why none fits.
pub fn seed_server<'a>(servers: &'a [ServerInfo], wanted: &str) -> Result<&'a ServerInfo, String> {
    let hit = servers
        .iter()
        .find(|s| s.id == wanted || s.name == wanted || s.address.as_deref() == Some(wanted));
    match hit {
        None => Err(format!(
            "no cluster server has the id, name or address '{wanted}' (SHOW SERVERS lists {})",
            servers
                .iter()
                .map(|s| format!("{} at {}", s.name, s.address.as_deref().unwrap_or("no address")))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some(s) if s.health != "Available" => Err(format!(
            "server {} ({}) is {}, not Available",
            s.name,
            s.address.as_deref().unwrap_or("no address"),
            s.health
        )),
        Some(s) => Ok(s),
    }
}

#[cfg(test)]
#[path = "topology_tests.rs"]
mod tests;

/// How `CREATE DATABASE` seeds a database on a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeding {
    /// `existingDataSeedServer` (5.25+, 2025.x) or `existingDataSeedInstance`.
    pub option: &'static str,
    pub server_id: String,
    /// `None`: the cluster's default topology.
    pub topology: Option<Topology>,
}

impl Seeding {
    /// The clause after `CREATE DATABASE name IF NOT EXISTS`: `TOPOLOGY …
    /// OPTIONS {…}`. `None` when the server id is not a plain id (it is
    /// put in a string literal, so nothing else may pass).
    pub fn clause(&self) -> Option<String> {
        let plain = !self.server_id.is_empty()
            && self
                .server_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !plain {
            return None;
        }
        let topology = self.topology.map_or(String::new(), |t| {
            format!(" TOPOLOGY {} PRIMARIES {} SECONDARIES", t.primaries, t.secondaries)
        });
        Some(format!(
            "{topology} OPTIONS {{existingData: 'use', {}: '{}'}}",
            self.option, self.server_id
        ))
    }
}
