//! `SHOW ALIASES` and `SHOW DATABASES`: the rows and columns Neo4j 5.26
//! returns (default columns, or all with `YIELD *`, or those named).

use std::collections::BTreeMap;

use crate::cypher::{Which, Yield};
use crate::packstream::Value;
use crate::state::{failure, Database, Failure, Rows, State};

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
            "defaultLanguage",
            "properties",
        ];
        let rows = self
            .aliases
            .iter()
            .map(|(a, t)| {
                let mut m = BTreeMap::new();
                m.insert("name", Value::from(a.as_str()));
                m.insert("composite", Value::Null);
                m.insert("database", Value::from(t.as_str()));
                m.insert("location", Value::from("local"));
                for k in ["url", "user", "driver", "defaultLanguage"] {
                    m.insert(k, Value::Null);
                }
                m.insert("properties", Value::Map(BTreeMap::new()));
                m
            })
            .collect::<Vec<_>>();
        project(&all, &all[..6], yields, rows)
    }

    pub(crate) fn show_databases(&self, which: &Which, filter: Option<&str>, yields: &Yield) -> Result<Rows, Failure> {
        let all = [
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
            "databaseID",
            "serverID",
            "creationTime",
            "lastStartTime",
            "lastStopTime",
            "store",
            "currentPrimariesCount",
            "currentSecondariesCount",
            "requestedPrimariesCount",
            "requestedSecondariesCount",
            "options",
        ];
        let wanted = |d: &Database| match which {
            Which::All => true,
            Which::Default | Which::Home => d.default,
            Which::One(_) => filter.and_then(|f| self.lookup(f)).is_some_and(|x| x.name == d.name),
        };
        let rows = self
            .databases
            .values()
            .filter(|d| wanted(d))
            .map(|d| {
                let aliases: Vec<Value> = self
                    .aliases
                    .iter()
                    .filter(|(_, t)| **t == d.name)
                    .map(|(a, _)| Value::from(a.as_str()))
                    .collect();
                let mut m = BTreeMap::new();
                m.insert("name", Value::from(d.name.as_str()));
                m.insert("type", Value::from(d.kind.as_str()));
                m.insert("aliases", Value::List(aliases));
                m.insert("access", Value::from("read-write"));
                m.insert("address", Value::from("localhost:7687"));
                m.insert(
                    "role",
                    Value::from(if d.current_status == "online" {
                        "primary"
                    } else {
                        "unknown"
                    }),
                );
                m.insert("writer", Value::Bool(d.current_status == "online"));
                m.insert("requestedStatus", Value::from(d.requested_status.as_str()));
                m.insert("currentStatus", Value::from(d.current_status.as_str()));
                m.insert("statusMessage", Value::from(""));
                m.insert("default", Value::Bool(d.default));
                m.insert("home", Value::Bool(d.default));
                m.insert("constituents", Value::List(vec![]));
                m.insert("databaseID", Value::from(format!("{:0>64x}", fnv(&d.name))));
                m.insert("serverID", Value::from("00000000-0000-4000-8000-000000000001"));
                m.insert("creationTime", Value::from(d.creation_time.as_str()));
                m.insert("lastStartTime", Value::from(d.creation_time.as_str()));
                m.insert("lastStopTime", Value::Null);
                m.insert("store", Value::from("block-block-1.1"));
                for k in ["currentPrimariesCount", "requestedPrimariesCount"] {
                    m.insert(k, Value::Int(1));
                }
                for k in ["currentSecondariesCount", "requestedSecondariesCount"] {
                    m.insert(k, Value::Int(0));
                }
                m.insert("options", Value::Map(BTreeMap::new()));
                m
            })
            .collect();
        project(&all, &all[..13], yields, rows)
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
