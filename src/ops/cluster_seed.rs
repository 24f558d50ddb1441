//! How a restore creates its database on a cluster.
//!
//! The Operations Manual ("Restore a database using a designated seeder",
//! clustering/databases.adoc) restores the backup on one server with
//! `neo4j-admin database restore`, then creates the database with
//! `OPTIONS {existingData: 'use', existingDataSeedServer: '<serverId>'}`, so
//! the other servers copy the store from that one. A plain `CREATE DATABASE`
//! would let each allocated server mount whatever it has (an empty store on
//! all but one), and `--overwrite-destination` on a clustered database is
//! called unsafe; graphvault refuses it there.
//!
//! The seeding server is the one on this host (where neo4j-admin restored):
//! `[neo4j] cluster_server`, or the server whose Bolt address is the one in
//! `bolt_uri`. The new database gets the topology of the database the alias
//! points at now, so a restore does not shrink a 3-primary database to the
//! cluster's default of one.

use crate::config::Config;
use crate::model::DbName;
use crate::neo4j::topology::{seed_server, uri_address};
use crate::neo4j::{Neo4jAdmin, Neo4jCatalog, Seeding};

use super::alias::current_target;
use super::OpsError;

/// `None` on a standalone server; on a cluster, how to seed the new
/// database. Refuses `--overwrite-destination` on a cluster. Called before
/// anything is downloaded, so a wrong setting costs nothing.
pub async fn plan_seeding(
    catalog: &dyn Neo4jCatalog,
    admin: &dyn Neo4jAdmin,
    config: &Config,
    alias: &DbName,
    target: &DbName,
    overwrite: bool,
) -> Result<Option<Seeding>, OpsError> {
    let servers = catalog.servers().await?;
    if servers.len() < 2 {
        return Ok(None);
    }
    if overwrite {
        return Err(OpsError::ClusterOverwrite {
            name: target.to_string(),
        });
    }
    let wanted = config
        .neo4j
        .cluster_server
        .clone()
        .unwrap_or_else(|| uri_address(&config.neo4j.bolt_uri));
    let server = seed_server(&servers, &wanted).map_err(|detail| OpsError::ClusterSeed { detail })?;
    let mut topology = None;
    if let Some(Ok(target)) = current_target(catalog, alias).await?.map(|t| t.parse::<DbName>()) {
        topology = catalog.database(&target).await?.map(|db| db.topology());
    }
    let version = admin.version().await?;
    tracing::info!(
        server = %server.name,
        address = server.address.as_deref().unwrap_or("-"),
        ?topology,
        "cluster: the restored database will be seeded from this server"
    );
    Ok(Some(Seeding {
        option: version.seed_server_option(),
        server_id: server.id.clone(),
        topology,
    }))
}
