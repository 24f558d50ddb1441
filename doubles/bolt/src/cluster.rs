//! The double as a cluster: servers, where each database is allocated, and
//! what `SHOW SERVERS` / `SHOW DATABASES` show for them. Sources (Neo4j
//! Operations Manual, docs-operations repository):
//! - `clustering/monitoring/show-databases-monitoring.adoc`: one row per
//!   database per hosting server; for a server that is down, `address` is
//!   null, `currentStatus` is `unknown` and `statusMessage` is
//!   `Server is unavailable`; a database whose servers are all down is not
//!   listed; roles are `primary`, `secondary`, `unknown`.
//! - `clustering/monitoring/show-servers-monitoring.adoc`: `SHOW SERVERS`
//!   columns (default: name, address, state, health, hosting).
//! - `database-administration/standard-databases/create-databases.adoc`:
//!   `TOPOLOGY n PRIMARIES [m SECONDARIES]`, the default topology of one
//!   primary (`initial.dbms.default_primaries_count`), and the seeding options
//!   `existingData: 'use'` with `existingDataSeedServer` (5.25+;
//!   `existingDataSeedInstance` before, removed in Cypher 25).
//!
//! A standalone server is a cluster of one, so the single-server behaviour
//! is the same code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cypher::{OptionValue, Topology};
use crate::state::{failure, Failure};

const ARGUMENT: &str = "Neo.ClientError.Statement.ArgumentError";

/// One server of the cluster.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Server {
    pub id: String,
    /// Its Bolt address, `host:port`.
    pub address: String,
    /// `false`: the server is down (health `Unavailable`).
    pub up: bool,
}

impl Server {
    /// The standalone server a fresh double is.
    pub fn standalone() -> Self {
        Self {
            id: server_id(1),
            address: "localhost:7687".into(),
            up: true,
        }
    }
}

/// A stable UUID-shaped id for server `n` (1-based).
pub fn server_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// A database's copy on one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub server: String,
    /// `primary` or `secondary`.
    pub role: String,
}

/// Where a new database goes: `topology`, or the default (one primary),
/// on the available servers first. Fails like Neo4j when there are too few servers.
pub fn allocate(servers: &[Server], topology: Option<Topology>) -> Result<Vec<Host>, Failure> {
    let t = topology.unwrap_or(Topology {
        primaries: 1,
        secondaries: None,
    });
    let secondaries = t.secondaries.unwrap_or(0);
    let wanted = (t.primaries + secondaries) as usize;
    if wanted > servers.len() {
        return Err(failure(
            ARGUMENT,
            format!(
                "Not enough servers to allocate the database: the topology asks for {} primaries and {secondaries} secondaries, the cluster has {} enabled servers.",
                t.primaries,
                servers.len()
            ),
        ));
    }
    // Available servers first, as the allocator prefers them.
    let ordered = servers.iter().filter(|s| s.up).chain(servers.iter().filter(|s| !s.up));
    Ok(ordered
        .take(wanted)
        .enumerate()
        .map(|(i, s)| Host {
            server: s.id.clone(),
            role: if (i as u32) < t.primaries {
                "primary"
            } else {
                "secondary"
            }
            .into(),
        })
        .collect())
}

/// The hosts of a database the double starts with: every server, the first
/// three as primaries and the rest as secondaries (a typical production
/// layout, so tests see both roles with four or more servers).
pub fn fixture_hosts(servers: &[Server]) -> Vec<Host> {
    servers
        .iter()
        .enumerate()
        .map(|(i, s)| Host {
            server: s.id.clone(),
            role: if i < 3 { "primary" } else { "secondary" }.into(),
        })
        .collect()
}

/// Checks `OPTIONS` of `CREATE DATABASE` and returns the seeding server, if
/// any. Unknown options are accepted and ignored (storeFormat, seedURI, …).
pub fn seed_server(servers: &[Server], options: &BTreeMap<String, OptionValue>) -> Result<Option<String>, Failure> {
    let seed = ["existingDataSeedServer", "existingDataSeedInstance"]
        .iter()
        .find_map(|k| options.get(*k).map(|v| (*k, v)));
    match options.get("existingData") {
        None => {}
        Some(OptionValue::Text(t)) if t == "use" => {}
        Some(other) => {
            return Err(failure(
                ARGUMENT,
                format!("Could not create database with specified option 'existingData': invalid value {other:?}, expected 'use'."),
            ))
        }
    }
    if options.contains_key("existingData") && seed.is_none() && !options.contains_key("seedURI") {
        return Err(failure(
            ARGUMENT,
            "The 'existingData' option is only supported together with 'existingDataSeedServer' or 'seedURI'.",
        ));
    }
    let Some((key, value)) = seed else {
        return Ok(None);
    };
    let OptionValue::Text(id) = value else {
        return Err(failure(ARGUMENT, format!("Option '{key}' must be a server id string.")));
    };
    if !servers.iter().any(|s| s.id == *id) {
        return Err(failure(
            ARGUMENT,
            format!("Could not create database with specified option '{key}': server '{id}' does not exist."),
        ));
    }
    Ok(Some(id.clone()))
}
