//! `SHOW ALIASES`, `SHOW DATABASES` and `SHOW SERVERS`: the rows and
//! columns Neo4j 5.26 returns (default columns, or all with `YIELD *`, or
//! those named); in a cluster one database row per hosting server
//! (`cluster.rs` names the sources).

use std::collections::BTreeMap;

use crate::cluster::{Host, Server};
use crate::cypher::{Which, Yield};
use crate::packstream::Value;
use crate::state::{failure, Database, Failure, Rows, State};
use crate::temporal::zoned_from_text;

impl State {
    pub(crate) fn show_aliases(&self, yields: &Yield) -> Result<Rows, Failure> {
        let all = [
            "name",
            "composite",
            "database",
            "location",
            "url",
            "user",
            "driver",
            "properties",
        ];
        let rows = self
            .aliases
            .iter()
            .map(|(a, t)| {
                let mut m = BTreeMap::new();
                m.insert("name", Value::from(a.as_str()));
                m.insert("composite", Value::from(self.composites.get(a).map(String::as_str)));
                m.insert("database", Value::from(t.as_str()));
                m.insert("location", Value::from("local"));
                for k in ["url", "user", "driver"] {
                    m.insert(k, Value::Null);
                }
                m.insert("properties", Value::Map(BTreeMap::new()));
                m
            })
            .collect::<Vec<_>>();
        project(&all, &all[..6], yields, rows)
    }

    /// `SHOW SERVERS`: one row per server.
    pub(crate) fn show_servers(&self, yields: &Yield) -> Result<Rows, Failure> {
        let all = [
            "serverId",
            "name",
            "address",
            "httpAddress",
            "httpsAddress",
            "state",
            "health",
            "hosting",
            "requestedHosting",
            "tags",
            "allowedDatabases",
            "deniedDatabases",
            "modeConstraint",
            "version",
        ];
        let rows = self
            .servers
            .iter()
            .map(|s| {
                let hosting: Vec<Value> = std::iter::once("system".to_string())
                    .chain(
                        self.databases
                            .values()
                            .filter(|d| d.kind != "system" && self.hosts_of(d).iter().any(|(x, _)| x.id == s.id))
                            .map(|d| d.name.clone()),
                    )
                    .map(Value::from)
                    .collect();
                let mut m = BTreeMap::new();
                m.insert("serverId", Value::from(s.id.as_str()));
                m.insert("name", Value::from(s.id.as_str()));
                m.insert("address", Value::from(s.address.as_str()));
                // "The address of the HTTP port" (a String, not nullable in
                // the manual's table): the Bolt host with Neo4j's default 7474.
                let host = s.address.rsplit_once(':').map_or(s.address.as_str(), |(h, _)| h);
                m.insert("httpAddress", Value::from(format!("{host}:7474")));
                m.insert("httpsAddress", Value::Null);
                m.insert("state", Value::from("Enabled"));
                m.insert("health", Value::from(if s.up { "Available" } else { "Unavailable" }));
                m.insert("hosting", Value::List(if s.up { hosting.clone() } else { Vec::new() }));
                m.insert("requestedHosting", Value::List(hosting));
                for k in ["tags", "allowedDatabases", "deniedDatabases"] {
                    m.insert(k, Value::List(Vec::new()));
                }
                m.insert("modeConstraint", Value::from("NONE"));
                m.insert("version", Value::from("5.26.0"));
                m
            })
            .collect();
        // Default output (show-servers-monitoring.adoc): name, address,
        // state, health, hosting.
        let default = [all[1], all[2], all[5], all[6], all[7]];
        project(&all, &default, yields, rows)
    }

    /// The servers hosting `d` with its role on each (a database without
    /// recorded hosts, e.g. `system` or one from an old state file, is on
    /// every server as in a standalone server: the first as primary).
    pub(crate) fn hosts_of<'a>(&'a self, d: &Database) -> Vec<(&'a Server, Host)> {
        if d.hosts.is_empty() {
            return self
                .servers
                .iter()
                .enumerate()
                .filter(|(i, _)| d.kind == "system" || *i == 0)
                .map(|(_, s)| {
                    let host = Host {
                        server: s.id.clone(),
                        role: "primary".into(),
                    };
                    (s, host)
                })
                .collect();
        }
        d.hosts
            .iter()
            .filter_map(|h| self.servers.iter().find(|s| s.id == h.server).map(|s| (s, h.clone())))
            .collect()
    }

    pub(crate) fn show_databases(&self, which: &Which, filter: Option<&str>, yields: &Yield) -> Result<Rows, Failure> {
        // In the order of the 5.x manual's `SHOW DATABASE movies YIELD *`
        // example (listing-databases.adoc); the first 13 in its table's
        // default-output order.
        let all = [
            "name",
            "type",
            "aliases",
            "access",
            "databaseID",
            "serverID",
            "address",
            "role",
            "writer",
            "requestedStatus",
            "currentStatus",
            "statusMessage",
            "default",
            "home",
            "currentPrimariesCount",
            "currentSecondariesCount",
            "requestedPrimariesCount",
            "requestedSecondariesCount",
            "creationTime",
            "lastStartTime",
            "lastStopTime",
            "store",
            "lastCommittedTxn",
            "replicationLag",
            "constituents",
            "options",
        ];
        let default_columns: &[&str] = match which {
            // "Not returned by SHOW HOME DATABASE or SHOW DEFAULT DATABASE".
            Which::Default | Which::Home => &[
                "name",
                "type",
                "aliases",
                "access",
                "address",
                "role",
                "writer",
                "requestedStatus",
                "currentStatus",
                "statusMessage",
                "constituents",
            ],
            _ => &[
                "name",
                "type",
                "aliases",
                "access",
                "address",
                "role",
                "writer",
                "requestedStatus",
                "currentStatus",
                "statusMessage",
                "default",
                "home",
                "constituents",
            ],
        };
        let wanted = |d: &Database| match which {
            Which::All => true,
            Which::Default | Which::Home => d.default,
            Which::One(_) => filter.and_then(|f| self.lookup(f)).is_some_and(|x| x.name == d.name),
        };
        let mut rows = Vec::new();
        for d in self.databases.values().filter(|d| wanted(d)) {
            let aliases: Vec<Value> = self
                .aliases
                .iter()
                .filter(|(_, t)| **t == d.name)
                .map(|(a, _)| Value::from(a.as_str()))
                .collect();
            let hosts = self.hosts_of(d);
            // All servers of a database down: Neo4j does not list it.
            if !hosts.iter().any(|(s, _)| s.up) {
                continue;
            }
            let count = |role: &str| hosts.iter().filter(|(_, h)| h.role == role).count() as i64;
            let online = d.current_status == "online";
            let writer = hosts
                .iter()
                .find(|(s, h)| s.up && h.role == "primary")
                .map(|(s, _)| s.id.clone());
            for (server, host) in &hosts {
                let mut m = BTreeMap::new();
                m.insert("name", Value::from(d.name.as_str()));
                m.insert("type", Value::from(d.kind.as_str()));
                m.insert("aliases", Value::List(aliases.clone()));
                m.insert("access", Value::from("read-write"));
                if server.up {
                    m.insert("address", Value::from(server.address.as_str()));
                    m.insert("role", Value::from(if online { host.role.as_str() } else { "unknown" }));
                    m.insert(
                        "writer",
                        Value::Bool(online && writer.as_deref() == Some(server.id.as_str())),
                    );
                    m.insert("currentStatus", Value::from(d.current_status.as_str()));
                    m.insert("statusMessage", Value::from(""));
                } else {
                    m.insert("address", Value::Null);
                    m.insert("role", Value::from("unknown"));
                    m.insert("writer", Value::Bool(false));
                    m.insert("currentStatus", Value::from("unknown"));
                    m.insert("statusMessage", Value::from("Server is unavailable"));
                }
                m.insert("requestedStatus", Value::from(d.requested_status.as_str()));
                m.insert("default", Value::Bool(d.default));
                m.insert("home", Value::Bool(d.default));
                m.insert("constituents", Value::List(vec![]));
                // databaseID, store, lastCommittedTxn, replicationLag: "must
                // be online … For other database states the value will be NULL".
                let here = online && server.up;
                let if_here = |v: Value| if here { v } else { Value::Null };
                m.insert("databaseID", if_here(Value::from(format!("{:0>64X}", fnv(&d.name)))));
                m.insert("serverID", Value::from(server.id.as_str()));
                m.insert("creationTime", zoned_from_text(Some(&d.creation_time)));
                let started = d.last_start_time.as_deref().unwrap_or(&d.creation_time);
                m.insert("lastStartTime", zoned_from_text(Some(started)));
                m.insert("lastStopTime", zoned_from_text(d.last_stop_time.as_deref()));
                m.insert("store", if_here(Value::from("block-block-1.1")));
                m.insert("lastCommittedTxn", if_here(Value::Int(1)));
                m.insert("replicationLag", if_here(Value::Int(0)));
                for (k, role) in [
                    ("currentPrimariesCount", "primary"),
                    ("requestedPrimariesCount", "primary"),
                ] {
                    m.insert(k, Value::Int(count(role)));
                }
                for (k, role) in [
                    ("currentSecondariesCount", "secondary"),
                    ("requestedSecondariesCount", "secondary"),
                ] {
                    m.insert(k, Value::Int(count(role)));
                }
                m.insert("options", Value::Map(BTreeMap::new()));
                rows.push(m);
            }
        }
        project(&all, default_columns, yields, rows)
    }
}

/// Selects columns per YIELD.
fn project(all: &[&str], default: &[&str], yields: &Yield, rows: Vec<BTreeMap<&str, Value>>) -> Result<Rows, Failure> {
    let columns: Vec<String> = match yields {
        Yield::Default => default.iter().map(|s| s.to_string()).collect(),
        Yield::All => all.iter().map(|s| s.to_string()).collect(),
        Yield::Columns(cs) => {
            if let Some(bad) = cs.iter().find(|c| !all.contains(&c.as_str())) {
                return Err(failure(
                    "Neo.ClientError.Statement.SyntaxError",
                    format!("Variable `{bad}` not defined"),
                ));
            }
            cs.clone()
        }
    };
    let rows = rows
        .into_iter()
        .map(|m| {
            columns
                .iter()
                .map(|c| m.get(c.as_str()).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    Ok(Rows { columns, rows })
}

/// A stable hash for fake database ids.
fn fnv(s: &str) -> u64 {
    s.bytes()
        .fold(0xcbf29ce484222325, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}
