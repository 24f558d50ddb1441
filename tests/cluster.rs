//! graphvault on a Neo4j cluster (the Bolt double as a cluster of four
//! servers, the neo4j-admin double, LocalStack): backups go to the online
//! copies, secondaries first, even with a server down; a restore seeds the
//! new database from this host's server with the alias's topology, as the
//! Operations Manual's "designated seeder" procedure does, and never
//! restores over a clustered database; a drill works the same way.

mod common;

use common::world::World;
use graphvault::config::Config;
use graphvault::exit::{classify, Exit};
use graphvault::neo4j::Neo4jCatalog;
use graphvault::ops::backup_run::{BackupRunRequest, StatvfsFreeSpace};
use graphvault::ops::restore_db::{RestoreDbRequest, RestoreOutcome};
use graphvault::ops::{OpsError, Pick};

/// The nightly run, which must succeed for every database.
async fn back_up(w: &World) {
    let report = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{}", report.table());
}

async fn restore(w: &World, config: &Config, req: &RestoreDbRequest) -> Result<RestoreOutcome, OpsError> {
    w.restore(config, w.key.identities(), req).await
}

fn request(alias: &str) -> RestoreDbRequest {
    RestoreDbRequest {
        database: alias.parse().unwrap(),
        pick: Pick::Latest,
        target: None,
        switch_alias: true,
        overwrite_destination: false,
        wait_for_archive: None,
    }
}

fn admin_calls_of(w: &World, verb: &str) -> Vec<Vec<String>> {
    w.admin_calls()
        .into_iter()
        .filter(|a| a.get(1).map(String::as_str) == Some(verb))
        .collect()
}

#[tokio::test]
async fn a_backup_uses_the_online_copies_secondaries_first_with_a_server_down() {
    let w = World::on_servers(4, 1, "").await;
    // Server 2 crashed: its rows show no address and status `unknown`.
    w.server.set_server_up(2, false);
    let db = w
        .catalog()
        .database(&"customer1-1800000000".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(db.is_online(), "online somewhere: {db:?}");
    assert_eq!(db.hosts.len(), 4, "one row per server: {db:?}");
    let down = &db.hosts[1];
    assert_eq!(
        (down.address.as_deref(), down.current_status.as_str()),
        (None, "unknown"),
        "{db:?}"
    );
    let servers = w.catalog().servers().await.unwrap();
    let health: Vec<&str> = servers.iter().map(|s| s.health.as_str()).collect();
    assert_eq!(health, ["Available", "Unavailable", "Available", "Available"]);

    back_up(&w).await;
    let backups = admin_calls_of(&w, "backup");
    assert_eq!(backups.len(), 1, "{backups:?}");
    // Secondary (server 4), then the primary that does not write (server 3),
    // then the writer (server 1, where the Bolt double listens); never server 2.
    assert!(
        backups[0].contains(&"--from=127.0.0.4:6362,127.0.0.3:6362,127.0.0.1:6362".to_string()),
        "{backups:?}"
    );
}

#[tokio::test]
async fn configured_backup_servers_win_over_the_cluster_s_list() {
    let mut w = World::on_servers(4, 1, "").await;
    w.config.neo4j.admin.from = vec!["backup-server:6362".into()];
    back_up(&w).await;
    let backups = admin_calls_of(&w, "backup");
    assert!(
        backups[0].contains(&"--from=backup-server:6362".to_string()),
        "{backups:?}"
    );
}

#[tokio::test]
async fn a_restore_seeds_from_this_server_keeps_the_topology_and_switches_the_alias() {
    let w = World::on_servers(4, 1, "").await;
    back_up(&w).await;

    let out = restore(&w, &w.config, &request("customer1")).await.unwrap();
    let (hosts, seeded_from) = w.server.allocation(&out.target).unwrap();
    let (first_id, _) = &w.server.servers()[0];
    assert_eq!(
        seeded_from.as_deref(),
        Some(first_id.as_str()),
        "seeded from the server on this host"
    );
    let roles: Vec<&str> = hosts.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(
        roles,
        ["primary", "primary", "primary", "secondary"],
        "the alias's topology"
    );
    let create = w
        .server
        .query_log()
        .into_iter()
        .find(|q| q.starts_with("CREATE DATABASE"))
        .unwrap();
    assert!(
        create.contains("TOPOLOGY 3 PRIMARIES 1 SECONDARIES OPTIONS {existingData: 'use', existingDataSeedServer: "),
        "{create}"
    );
    assert!(
        w.server.aliases().contains(&("customer1".into(), out.target.clone())),
        "alias switched: {:?}",
        w.server.aliases()
    );
    // The old database stays for a rollback.
    assert!(w.server.databases().iter().any(|(n, _)| n == "customer1-1800000000"));
}

#[tokio::test]
async fn restoring_over_a_clustered_database_is_refused_before_anything_is_downloaded() {
    let w = World::on_servers(3, 1, "").await;
    back_up(&w).await;
    let mut req = request("customer1");
    req.target = Some("customer1-1800000000".parse().unwrap());
    req.overwrite_destination = true;
    let err = restore(&w, &w.config, &req).await.unwrap_err();
    assert!(matches!(err, OpsError::ClusterOverwrite { .. }), "{err:?}");
    assert_eq!(classify(&err.into()), Exit::Usage);
    assert!(admin_calls_of(&w, "restore").is_empty());
}

#[tokio::test]
async fn a_cluster_server_setting_that_matches_no_server_names_the_servers_and_the_fix() {
    let w = World::on_servers(3, 1, "").await;
    back_up(&w).await;
    let mut config = w.config.clone();
    config.neo4j.cluster_server = Some("db9.example.com:7687".into());
    let err = restore(&w, &config, &request("customer1")).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("db9.example.com:7687") && text.contains("127.0.0.2:7687"),
        "{text}"
    );
    assert!(text.contains("[neo4j] cluster_server"), "{text}");
    assert!(admin_calls_of(&w, "restore").is_empty());

    // Named by server id, it works.
    config.neo4j.cluster_server = Some(w.server.servers()[0].0.clone());
    restore(&w, &config, &request("customer1")).await.unwrap();
}

#[tokio::test]
async fn a_drill_on_a_cluster_seeds_its_scratch_database_checks_it_and_drops_it() {
    use graphvault::ops::drill::{drill, DrillContext, DrillRequest};
    const CHECK: &str = "MATCH (n) RETURN count(n) AS nodes";
    let extra = format!("[[drill.check]]\nalias = \"*\"\nquery = \"{CHECK}\"\nmin = 1\n");
    let w = World::on_servers(3, 1, &extra).await;
    back_up(&w).await;
    w.server
        .canned_query("*", CHECK, &["nodes"], vec![vec![bolt_double::Value::Int(7)]]);
    let catalog = w.catalog();
    let admin = w.admin(&[]);
    let ctx = DrillContext {
        store: w.store.clone(),
        config: &w.config,
        identities: w.key.identities(),
        catalog: &catalog,
        admin: &admin,
        free_space: &StatvfsFreeSpace,
        host: "drill-host".into(),
    };
    let report = drill(&ctx, &DrillRequest::default()).await.unwrap();
    assert!(report.results.iter().all(|r| r.passed), "{:?}", report.results);
    let creates: Vec<String> = w
        .server
        .query_log()
        .into_iter()
        .filter(|q| q.starts_with("CREATE DATABASE"))
        .collect();
    assert_eq!(creates.len(), 1, "{creates:?}");
    assert!(creates[0].contains("existingDataSeedServer"), "{creates:?}");
    assert!(
        w.server.databases().iter().all(|(n, _)| !n.starts_with("drill-")),
        "scratch dropped"
    );
}
