//! The Bolt side: a `Neo4jCatalog` trait for the `system` database's admin
//! commands, implemented on neo4rs.
//!
//! neo4rs 0.9 is used because it negotiates Bolt 4.4, which Neo4j 5.26 LTS and
//! 2025.x speak (0.8 only offers 4.0/4.1, which Neo4j 5 refuses). Every call
//! has an explicit timeout: neo4rs on its own retries a refused connection
//! with backoff for a long time. Names reach Cypher only backtick-quoted after
//! validation (`cypher_names`); the password is never logged or displayed.

use std::time::Duration;

use async_trait::async_trait;
use neo4rs::{query, ConfigBuilder, Graph, Row};
use serde::Serialize;

use super::bolt_error::classify;
pub use super::bolt_error::BoltError;
use super::cypher_names::quoted;
use super::topology::{merge_rows, DatabaseInfo, DatabaseRow, Hosting, Seeding, ServerInfo};
use crate::model::DbName;

/// A secret string whose `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(redacted)")
    }
}

/// How to reach Neo4j over Bolt.
#[derive(Clone, Debug)]
pub struct BoltSettings {
    /// e.g. `bolt://db1:7687` or `neo4j+s://db.example.com:7687`.
    pub uri: String,
    pub user: String,
    pub password: Password,
    pub connect_timeout: Duration,
    pub query_timeout: Duration,
}

/// An alias and the database it points at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AliasInfo {
    pub name: String,
    pub database: String,
    pub location: String,
    /// The composite database this alias is a constituent of (`SHOW
    /// ALIASES`'s `composite` column), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composite: Option<String>,
}

/// Counts nodes; Neo4j answers it from its count store, without a scan.
pub const NODE_COUNT_QUERY: &str = "MATCH (n) RETURN count(n) AS nodes";
/// Counts relationships, also from the count store.
pub const RELATIONSHIP_COUNT_QUERY: &str = "MATCH ()-[r]->() RETURN count(r) AS relationships";

/// What a check query returned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QueryCheck {
    pub rows: usize,
    pub first: Option<i64>,
}

/// The admin operations graphvault needs on the `system` database.
#[async_trait]
pub trait Neo4jCatalog: Send + Sync {
    async fn aliases(&self) -> Result<Vec<AliasInfo>, BoltError>;
    async fn databases(&self) -> Result<Vec<DatabaseInfo>, BoltError>;
    async fn database(&self, name: &DbName) -> Result<Option<DatabaseInfo>, BoltError>;
    /// `SHOW SERVERS`: the cluster's servers (one for a standalone server).
    async fn servers(&self) -> Result<Vec<ServerInfo>, BoltError>;
    /// `CREATE DATABASE … WAIT` (seeded from a cluster server when `seed`
    /// is given), then polls until online everywhere or `timeout`.
    async fn create_database(&self, name: &DbName, seed: Option<&Seeding>, timeout: Duration) -> Result<(), BoltError>;
    /// Points `alias` at `target`: `ALTER ALIAS` if it exists, else `CREATE ALIAS`.
    async fn set_alias(&self, alias: &DbName, target: &DbName) -> Result<(), BoltError>;
    /// Runs a read query on `database` (a restore drill's check): the number
    /// of rows and the first column of the first row when it is an integer.
    async fn check_query(&self, database: &DbName, cypher: &str) -> Result<QueryCheck, BoltError>;
    /// `STOP DATABASE … WAIT` (before a restore over it).
    async fn stop_database(&self, name: &DbName) -> Result<(), BoltError>;
    /// `START DATABASE … WAIT`, then polls until online or `timeout`.
    async fn start_database(&self, name: &DbName, timeout: Duration) -> Result<(), BoltError>;
    /// `DROP ALIAS … IF EXISTS FOR DATABASE`.
    async fn drop_alias(&self, alias: &DbName) -> Result<(), BoltError>;
    /// `DROP DATABASE … IF EXISTS [DESTROY DATA] WAIT`. Neo4j refuses it while
    /// an alias targets the database.
    async fn drop_database(&self, name: &DbName, destroy_data: bool) -> Result<(), BoltError>;
}

/// `Neo4jCatalog` over neo4rs.
pub struct BoltCatalog {
    graph: Graph,
    settings: BoltSettings,
}

const POLL: Duration = Duration::from_millis(250);

impl BoltCatalog {
    /// Prepares a connection pool (connections are opened lazily).
    pub fn connect(settings: BoltSettings) -> Result<Self, BoltError> {
        let config = ConfigBuilder::default()
            .uri(settings.uri.as_str())
            .user(settings.user.as_str())
            .password(settings.password.expose())
            .db("system")
            .max_connections(2)
            .connection_timeout(settings.connect_timeout)
            .build()
            .map_err(|e| BoltError::Unreachable {
                uri: settings.uri.clone(),
                detail: e.to_string(),
            })?;
        let graph = Graph::connect(config).map_err(|e| BoltError::Unreachable {
            uri: settings.uri.clone(),
            detail: e.to_string(),
        })?;
        Ok(Self { graph, settings })
    }

    fn classify(&self, what: &str, e: neo4rs::Error) -> BoltError {
        classify(&self.settings, what, e)
    }

    /// Runs one statement on `system` and collects its rows, within the timeout.
    async fn rows(&self, what: &str, cypher: String) -> Result<Vec<Row>, BoltError> {
        tracing::debug!(cypher, "bolt query");
        let secs = self.settings.query_timeout.as_secs();
        let work = async {
            let mut stream = self
                .graph
                .execute(query(&cypher))
                .await
                .map_err(|e| self.classify(what, e))?;
            let mut rows = Vec::new();
            while let Some(row) = stream.next().await.map_err(|e| self.classify(what, e))? {
                rows.push(row);
            }
            Ok(rows)
        };
        tokio::time::timeout(self.settings.query_timeout, work)
            .await
            .map_err(|_| BoltError::Timeout {
                what: what.to_string(),
                secs,
            })?
    }
}

/// Polls `SHOW DATABASE` until `name` is online on every reachable server
/// or `timeout` passed.
async fn wait_online(catalog: &BoltCatalog, name: &DbName, timeout: Duration) -> Result<(), BoltError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match catalog.database(name).await? {
            Some(db) if db.online_everywhere() => return Ok(()),
            Some(db) if tokio::time::Instant::now() >= deadline => {
                return Err(BoltError::NotOnline {
                    name: name.to_string(),
                    status: db.current_status,
                })
            }
            None if tokio::time::Instant::now() >= deadline => {
                return Err(BoltError::DatabaseNotFound { name: name.to_string() })
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// Names `database` in a not-found or unavailable error of a query on it
/// (Neo4j's message carries the name in prose).
fn for_database(e: BoltError, database: &DbName) -> BoltError {
    match e {
        BoltError::DatabaseNotFound { .. } => BoltError::DatabaseNotFound {
            name: database.to_string(),
        },
        BoltError::Server { code, .. } if code.ends_with(".DatabaseUnavailable") => BoltError::NotOnline {
            name: database.to_string(),
            status: format!("unavailable ({code})"),
        },
        other => other,
    }
}

fn text(row: &Row, key: &str) -> Option<String> {
    row.get::<Option<String>>(key).ok().flatten()
}

fn database_row(row: &Row) -> Option<DatabaseRow> {
    Some(DatabaseRow {
        name: text(row, "name")?,
        requested_status: text(row, "requestedStatus").unwrap_or_default(),
        default: row.get::<Option<bool>>("default").ok().flatten().unwrap_or(false),
        aliases: row
            .get::<Option<Vec<String>>>("aliases")
            .ok()
            .flatten()
            .unwrap_or_default(),
        store_size: row
            .get::<Option<i64>>("sizeOnDisk")
            .ok()
            .flatten()
            .and_then(|n| u64::try_from(n).ok()),
        host: Hosting {
            server_id: text(row, "serverID"),
            address: text(row, "address"),
            role: text(row, "role").unwrap_or_default(),
            writer: row.get::<Option<bool>>("writer").ok().flatten().unwrap_or(false),
            current_status: text(row, "currentStatus").unwrap_or_default(),
        },
    })
}

#[async_trait]
impl Neo4jCatalog for BoltCatalog {
    async fn aliases(&self) -> Result<Vec<AliasInfo>, BoltError> {
        let rows = self.rows("SHOW ALIASES", "SHOW ALIASES FOR DATABASE".into()).await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(AliasInfo {
                    name: text(r, "name")?,
                    database: text(r, "database")?,
                    location: text(r, "location").unwrap_or_else(|| "local".into()),
                    composite: text(r, "composite"),
                })
            })
            .collect())
    }

    async fn databases(&self) -> Result<Vec<DatabaseInfo>, BoltError> {
        let rows = self.rows("SHOW DATABASES", "SHOW DATABASES YIELD *".into()).await?;
        // In a cluster each database appears once per server: merged here.
        Ok(merge_rows(rows.iter().filter_map(database_row).collect()))
    }

    async fn database(&self, name: &DbName) -> Result<Option<DatabaseInfo>, BoltError> {
        let rows = self
            .rows("SHOW DATABASE", format!("SHOW DATABASE {} YIELD *", quoted(name)))
            .await?;
        // `SHOW DATABASE alias` shows the alias's target: only an exact name counts.
        let mine = rows
            .iter()
            .filter_map(database_row)
            .filter(|db| db.name == name.as_str())
            .collect();
        Ok(merge_rows(mine).into_iter().next())
    }

    async fn servers(&self) -> Result<Vec<ServerInfo>, BoltError> {
        let rows = self
            .rows(
                "SHOW SERVERS",
                "SHOW SERVERS YIELD serverId, name, address, state, health".into(),
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(ServerInfo {
                    id: text(r, "serverId")?,
                    name: text(r, "name").unwrap_or_default(),
                    address: text(r, "address"),
                    state: text(r, "state").unwrap_or_default(),
                    health: text(r, "health").unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn create_database(&self, name: &DbName, seed: Option<&Seeding>, timeout: Duration) -> Result<(), BoltError> {
        let secs = timeout.as_secs().max(1);
        let clause = match seed {
            None => String::new(),
            Some(s) => s.clause().ok_or_else(|| BoltError::BadSeed {
                name: name.to_string(),
                server_id: s.server_id.clone(),
            })?,
        };
        self.rows(
            "CREATE DATABASE",
            format!(
                "CREATE DATABASE {} IF NOT EXISTS{clause} WAIT {secs} SECONDS",
                quoted(name)
            ),
        )
        .await?;
        wait_online(self, name, timeout).await
    }

    async fn set_alias(&self, alias: &DbName, target: &DbName) -> Result<(), BoltError> {
        let exists = self.aliases().await?.iter().any(|a| a.name == alias.as_str());
        let cypher = if exists {
            format!("ALTER ALIAS {} SET DATABASE TARGET {}", quoted(alias), quoted(target))
        } else {
            format!("CREATE ALIAS {} FOR DATABASE {}", quoted(alias), quoted(target))
        };
        self.rows("switch alias", cypher).await.map(|_| ())
    }

    async fn check_query(&self, database: &DbName, cypher: &str) -> Result<QueryCheck, BoltError> {
        // Drill checks and the counts a backup records both come through here.
        let what = "check query";
        // In an explicit transaction: neo4rs retries a transient error of an
        // auto-commit query (DatabaseUnavailable for a stopped database) with
        // backoff for up to 60 s; a check should say at once that the
        // database is not there.
        let work = async {
            let fail = |e| for_database(self.classify(what, e), database);
            let mut txn = self.graph.start_txn_on(database.as_str()).await.map_err(fail)?;
            let mut stream = txn.execute(query(cypher)).await.map_err(fail)?;
            let mut out = QueryCheck::default();
            while let Some(row) = stream.next(txn.handle()).await.map_err(fail)? {
                if out.rows == 0 {
                    out.first = row.keys().first().and_then(|k| row.get::<i64>(&k.value).ok());
                }
                out.rows += 1;
            }
            txn.rollback().await.map_err(fail)?;
            Ok(out)
        };
        tokio::time::timeout(self.settings.query_timeout, work)
            .await
            .map_err(|_| BoltError::Timeout {
                what: what.to_string(),
                secs: self.settings.query_timeout.as_secs(),
            })?
    }

    async fn stop_database(&self, name: &DbName) -> Result<(), BoltError> {
        let secs = self.settings.query_timeout.as_secs().max(1);
        self.rows(
            "STOP DATABASE",
            format!("STOP DATABASE {} WAIT {secs} SECONDS", quoted(name)),
        )
        .await
        .map(|_| ())
    }

    async fn start_database(&self, name: &DbName, timeout: Duration) -> Result<(), BoltError> {
        let secs = timeout.as_secs().max(1);
        self.rows(
            "START DATABASE",
            format!("START DATABASE {} WAIT {secs} SECONDS", quoted(name)),
        )
        .await?;
        wait_online(self, name, timeout).await
    }

    async fn drop_alias(&self, alias: &DbName) -> Result<(), BoltError> {
        self.rows(
            "DROP ALIAS",
            format!("DROP ALIAS {} IF EXISTS FOR DATABASE", quoted(alias)),
        )
        .await
        .map(|_| ())
    }

    async fn drop_database(&self, name: &DbName, destroy_data: bool) -> Result<(), BoltError> {
        let destroy = if destroy_data { " DESTROY DATA" } else { "" };
        self.rows(
            "DROP DATABASE",
            format!("DROP DATABASE {} IF EXISTS{destroy} WAIT", quoted(name)),
        )
        .await
        .map(|_| ())
    }
}
