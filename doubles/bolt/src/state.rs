//! What the double's server knows: databases with their statuses, aliases,
//! the one user, and canned query results. Commands are applied here; the
//! session (`session.rs`) only speaks the protocol.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cluster::{allocate, seed_server, Host, Server};
use crate::cypher::{Command, Wait, Which};
use crate::packstream::Value;
use crate::wait::wait_rows;

/// A Neo4j error: status code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

pub fn failure(code: &str, message: impl Into<String>) -> Failure {
    Failure {
        code: code.to_string(),
        message: message.into(),
    }
}

const NOT_FOUND: &str = "Neo.ClientError.Database.DatabaseNotFound";
const EXISTS: &str = "Neo.ClientError.Database.ExistingDatabaseFound";
pub(crate) const ARGUMENT: &str = "Neo.ClientError.Statement.ArgumentError";

/// One database.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Database {
    pub name: String,
    /// `standard` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "currentStatus")]
    pub current_status: String,
    #[serde(rename = "requestedStatus")]
    pub requested_status: String,
    #[serde(default)]
    pub default: bool,
    /// RFC 3339, UTC (sent as a zoned date-time, `temporal.rs`).
    #[serde(rename = "creationTime", default)]
    pub creation_time: String,
    /// When it was last started (`None`: at creation).
    #[serde(rename = "lastStartTime", default)]
    pub last_start_time: Option<String>,
    #[serde(rename = "lastStopTime", default)]
    pub last_stop_time: Option<String>,
    /// Where it is allocated (empty: on the first server, as a primary).
    #[serde(default)]
    pub hosts: Vec<Host>,
    /// The server `CREATE DATABASE … OPTIONS {existingDataSeedServer: …}`
    /// seeded it from, if any.
    #[serde(rename = "seededFrom", default)]
    pub seeded_from: Option<String>,
    /// When a starting database becomes online (not persisted).
    #[serde(skip)]
    pub online_at: Option<Instant>,
}

/// Rows of a result.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// What a command wants from the session besides rows: to wait for a
/// database to come online (CREATE/START … WAIT).
#[derive(Clone, Debug)]
pub struct WaitFor {
    pub database: String,
    pub limit: Duration,
}

/// The persisted part of the state (`--state FILE`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub databases: Vec<Database>,
    /// alias → database.
    pub aliases: BTreeMap<String, String>,
    /// alias → the composite database it is a constituent of.
    #[serde(default)]
    pub composites: BTreeMap<String, String>,
    #[serde(default)]
    pub servers: Vec<Server>,
}

/// The server's state.
#[derive(Debug)]
pub struct State {
    pub databases: BTreeMap<String, Database>,
    pub aliases: BTreeMap<String, String>,
    /// Aliases that are constituents of a composite database: alias →
    /// composite (seeded by tests; the double runs no composite commands).
    pub composites: BTreeMap<String, String>,
    /// The cluster's servers (one for a standalone server).
    pub servers: Vec<Server>,
    pub online_delay: Duration,
    /// (database, query text) → canned result.
    pub canned: HashMap<(String, String), Rows>,
}

fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl State {
    /// A fresh Neo4j: `system` and the default `neo4j`, both online.
    pub fn new(online_delay: Duration) -> Self {
        let mut s = Self {
            databases: BTreeMap::new(),
            aliases: BTreeMap::new(),
            composites: BTreeMap::new(),
            servers: vec![Server::standalone()],
            online_delay,
            canned: HashMap::new(),
        };
        s.add_database("system", "system", "online");
        s.add_database("neo4j", "standard", "online");
        if let Some(db) = s.databases.get_mut("neo4j") {
            db.default = true;
        }
        s
    }

    pub fn add_database(&mut self, name: &str, kind: &str, status: &str) {
        let name = name.to_ascii_lowercase();
        self.databases.insert(
            name.clone(),
            Database {
                name,
                kind: kind.into(),
                current_status: status.into(),
                requested_status: if status == "offline" { "offline" } else { "online" }.into(),
                default: false,
                creation_time: now_text(),
                last_start_time: None,
                last_stop_time: None,
                hosts: Vec::new(),
                seeded_from: None,
                online_at: None,
            },
        );
    }

    pub fn snapshot(&mut self) -> Snapshot {
        self.settle();
        Snapshot {
            databases: self.databases.values().cloned().collect(),
            aliases: self.aliases.clone(),
            composites: self.composites.clone(),
            servers: self.servers.clone(),
        }
    }

    pub fn restore(&mut self, snap: Snapshot) {
        self.databases = snap.databases.into_iter().map(|d| (d.name.clone(), d)).collect();
        self.aliases = snap.aliases;
        self.composites = snap.composites;
        if !snap.servers.is_empty() {
            self.servers = snap.servers;
        }
    }

    /// Databases whose start delay has passed are online now.
    pub fn settle(&mut self) {
        let now = Instant::now();
        for db in self.databases.values_mut() {
            if db.online_at.is_some_and(|t| t <= now) {
                db.online_at = None;
                db.current_status = "online".into();
            }
        }
    }

    /// Why a query cannot run on database `db` (`None`: it can), as Neo4j
    /// answers a RUN or BEGIN there: `DatabaseNotFound` for a name that is
    /// neither a database nor an alias, `DatabaseUnavailable` for one that is
    /// not online on any available server.
    pub fn unusable(&mut self, db: &str) -> Option<Failure> {
        self.settle();
        if db == "system" {
            return None;
        }
        let Some(d) = self.lookup(db) else {
            return Some(failure(
                NOT_FOUND,
                format!("Database does not exist. Database name: '{db}'."),
            ));
        };
        let reachable = self.hosts_of(d).iter().any(|(s, _)| s.up);
        if d.current_status != "online" || !reachable {
            return Some(failure(
                "Neo.TransientError.Database.DatabaseUnavailable",
                format!("Database '{db}' is unavailable."),
            ));
        }
        None
    }

    /// A database by name, or by an alias pointing at it.
    pub(crate) fn lookup(&self, name: &str) -> Option<&Database> {
        self.databases
            .get(name)
            .or_else(|| self.aliases.get(name).and_then(|t| self.databases.get(t)))
    }

    /// Applies an admin command issued on database `on`.
    pub fn apply(&mut self, cmd: &Command, params: &Value, on: &str) -> Result<(Rows, Option<WaitFor>), Failure> {
        self.settle();
        let admin = !matches!(cmd, Command::Return { .. });
        if admin && on != "system" {
            return Err(failure(
                "Neo.ClientError.Statement.UnsupportedAdministrationCommand",
                format!(
                    "This is an administration command and it should be executed against the system database: {cmd:?}"
                ),
            ));
        }
        let none = Ok((Rows::default(), None));
        match cmd {
            Command::ShowAliases { yields } => Ok((self.show_aliases(yields)?, None)),
            Command::ShowServers { yields } => Ok((self.show_servers(yields)?, None)),
            Command::ShowDatabases { which, yields } => {
                let filter: Option<String> = match which {
                    Which::One(n) => Some(Self::resolve(n, params)?),
                    _ => None,
                };
                Ok((self.show_databases(which, filter.as_deref(), yields)?, None))
            }
            Command::CreateDatabase {
                name,
                or_replace,
                if_not_exists,
                topology,
                options,
                wait,
            } => {
                let name = Self::resolve(name, params)?;
                Self::check_database_name(&name)?;
                let seeded_from = seed_server(&self.servers, options)?;
                let hosts = allocate(&self.servers, *topology)?;
                if self.aliases.contains_key(&name) {
                    return Err(failure(
                        EXISTS,
                        format!(
                            "Failed to create the specified database '{name}': Database name or alias already exists."
                        ),
                    ));
                }
                if self.databases.contains_key(&name) {
                    if *if_not_exists {
                        return Ok((wait_rows(*wait, true, "database already exists"), None));
                    }
                    if !*or_replace {
                        return Err(failure(
                            EXISTS,
                            format!("Failed to create the specified database '{name}': Database already exists."),
                        ));
                    }
                }
                self.add_database(&name, "standard", "starting");
                let delay = self.online_delay;
                if let Some(db) = self.databases.get_mut(&name) {
                    db.online_at = Some(Instant::now() + delay);
                    db.hosts = hosts;
                    db.seeded_from = seeded_from;
                }
                self.settle();
                let wait_for = match wait {
                    Wait::No => None,
                    Wait::Secs(s) => Some(WaitFor {
                        database: name,
                        limit: Duration::from_secs(*s),
                    }),
                };
                Ok((Rows::default(), wait_for))
            }
            Command::DropDatabase {
                name,
                if_exists,
                cascade,
                wait,
                ..
            } => {
                let name = Self::resolve(name, params)?;
                if !self.databases.contains_key(&name) {
                    if *if_exists {
                        return none;
                    }
                    return Err(failure(
                        NOT_FOUND,
                        format!("Failed to delete the specified database '{name}': Database does not exist."),
                    ));
                }
                if name == "system" {
                    return Err(failure(ARGUMENT, "Not allowed to delete system database."));
                }
                let pointing: Vec<String> = self
                    .aliases
                    .iter()
                    .filter(|(_, t)| **t == name)
                    .map(|(a, _)| a.clone())
                    .collect();
                if !pointing.is_empty() && !*cascade {
                    return Err(failure(
                        ARGUMENT,
                        // Wording of GQL status 42N82 (Neo4j status codes docs).
                        format!("The database identified by `{name}` has one or more aliases. Drop the aliases {} before dropping the database.", pointing.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")),
                    ));
                }
                for a in pointing {
                    self.aliases.remove(&a);
                    self.composites.remove(&a);
                }
                self.databases.remove(&name);
                Ok((wait_rows(*wait, true, "dropped"), None))
            }
            Command::CreateAlias {
                name,
                target,
                or_replace,
                if_not_exists,
            } => {
                let (name, target) = (Self::resolve(name, params)?, Self::resolve(target, params)?);
                Self::check_alias_name(&name)?;
                if self.databases.contains_key(&name) || (self.aliases.contains_key(&name) && !*or_replace) {
                    if *if_not_exists {
                        return none;
                    }
                    return Err(failure(EXISTS, format!("Failed to create the specified database alias '{name}': Database name or alias already exists.")));
                }
                if !self.databases.contains_key(&target) {
                    return Err(failure(NOT_FOUND, format!("Failed to create the specified database alias '{name}': Database '{target}' does not exist.")));
                }
                self.aliases.insert(name, target);
                none
            }
            Command::AlterAlias {
                name,
                if_exists,
                target,
            } => {
                let (name, target) = (Self::resolve(name, params)?, Self::resolve(target, params)?);
                if !self.aliases.contains_key(&name) {
                    if *if_exists {
                        return none;
                    }
                    return Err(failure(
                        NOT_FOUND,
                        format!(
                            "Failed to alter the specified database alias '{name}': Database alias does not exist."
                        ),
                    ));
                }
                if !self.databases.contains_key(&target) {
                    return Err(failure(NOT_FOUND, format!("Failed to alter the specified database alias '{name}': Database '{target}' does not exist.")));
                }
                self.aliases.insert(name, target);
                none
            }
            Command::DropAlias { name, if_exists } => {
                let name = Self::resolve(name, params)?;
                self.composites.remove(&name);
                if self.aliases.remove(&name).is_none() && !*if_exists {
                    return Err(failure(
                        NOT_FOUND,
                        format!(
                            "Failed to delete the specified database alias '{name}': Database alias does not exist."
                        ),
                    ));
                }
                none
            }
            Command::StartDatabase { name, wait } | Command::StopDatabase { name, wait } => {
                let start = matches!(cmd, Command::StartDatabase { .. });
                let name = Self::resolve(name, params)?;
                let delay = self.online_delay;
                let db = self.databases.get_mut(&name).ok_or_else(|| {
                    failure(
                        NOT_FOUND,
                        format!(
                            "Failed to {} the specified database '{name}': Database does not exist.",
                            if start { "start" } else { "stop" }
                        ),
                    )
                })?;
                db.requested_status = if start { "online" } else { "offline" }.into();
                if start && db.current_status != "online" {
                    db.current_status = "starting".into();
                    db.online_at = Some(Instant::now() + delay);
                    db.last_start_time = Some(now_text());
                } else if !start && db.current_status != "offline" {
                    db.current_status = "offline".into();
                    db.online_at = None;
                    db.last_stop_time = Some(now_text());
                }
                self.settle();
                let wait_for = match (start, wait) {
                    (true, Wait::Secs(s)) => Some(WaitFor {
                        database: name,
                        limit: Duration::from_secs(*s),
                    }),
                    (false, w) => return Ok((wait_rows(*w, true, "stopped"), None)),
                    _ => None,
                };
                Ok((Rows::default(), wait_for))
            }
            Command::Return { value, column } => Ok((
                Rows {
                    columns: vec![column.clone()],
                    rows: vec![vec![Value::Int(*value)]],
                },
                None,
            )),
        }
    }
}
