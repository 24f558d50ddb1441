//! The real neo4rs client (`BoltCatalog`) and the alias operations against the
//! Bolt server double (`doubles/bolt`): every catalog call, every refusal, and
//! the failures an operator meets (wrong password, server gone, stalled query).

use std::time::{Duration, Instant};

use bolt_double::{BoltDouble, Running};
use graphvault::model::DbName;
use graphvault::neo4j::{BoltCatalog, BoltError, BoltSettings, Neo4jCatalog, Password};
use graphvault::ops::{self, OpsError};

const BLUE: &str = "customer1-1767741527";
const GREEN: &str = "customer1-1790000000";

fn name(s: &str) -> DbName {
    s.parse().unwrap()
}

fn settings(uri: &str, password: &str) -> BoltSettings {
    BoltSettings {
        uri: uri.to_string(),
        user: "neo4j".into(),
        password: Password::new(password),
        connect_timeout: Duration::from_secs(2),
        query_timeout: Duration::from_secs(5),
    }
}

/// A server with the blue/green layout of one customer, and a client.
async fn blue_green() -> (Running, BoltCatalog) {
    let server = BoltDouble::builder()
        .user("neo4j")
        .password("s3cret")
        .database(BLUE)
        .database(GREEN)
        .alias("customer1", BLUE)
        .start()
        .await
        .unwrap();
    let catalog = BoltCatalog::connect(settings(&server.uri(), "s3cret")).unwrap();
    (server, catalog)
}

fn logged(server: &Running, needle: &str) -> bool {
    server.query_log().iter().any(|q| q.contains(needle))
}

#[tokio::test]
async fn aliases_and_databases_are_listed_with_their_status() {
    let (server, catalog) = blue_green().await;
    let aliases = catalog.aliases().await.unwrap();
    assert_eq!(aliases.len(), 1, "{aliases:?}");
    assert_eq!(
        (aliases[0].name.as_str(), aliases[0].database.as_str()),
        ("customer1", BLUE)
    );

    server.set_status(GREEN, "offline");
    let dbs = catalog.databases().await.unwrap();
    let names: Vec<&str> = dbs.iter().map(|d| d.name.as_str()).collect();
    assert!(
        names.contains(&"system") && names.contains(&"neo4j") && names.contains(&BLUE),
        "{names:?}"
    );
    let blue = dbs.iter().find(|d| d.name == BLUE).unwrap();
    assert!(blue.is_online() && blue.aliases == ["customer1"], "{blue:?}");
    let green = dbs.iter().find(|d| d.name == GREEN).unwrap();
    assert_eq!(green.current_status, "offline");

    assert!(catalog.database(&name(BLUE)).await.unwrap().is_some());
    assert!(catalog.database(&name("customer9-1")).await.unwrap().is_none());
    // SHOW DATABASE of an alias shows its target; it is not a database of that name.
    assert!(catalog.database(&name("customer1")).await.unwrap().is_none());
    assert!(logged(&server, "SHOW ALIASES FOR DATABASE"));
}

#[tokio::test]
async fn composite_constituents_and_quoted_alias_names_are_read_as_listed() {
    let (server, catalog) = blue_green().await;
    server.add_composite_alias("garden", "flowers", BLUE);
    server.add_alias("motion pictures", BLUE);
    let aliases = catalog.aliases().await.unwrap();
    let found: Vec<(&str, Option<&str>)> = aliases
        .iter()
        .map(|a| (a.name.as_str(), a.composite.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("customer1", None),
            ("garden.flowers", Some("garden")),
            ("motion pictures", None)
        ]
    );
    // Rows with ZONED DATETIME columns decode (neo4rs gets the 0x46 structure on 4.4).
    assert!(catalog.databases().await.unwrap().iter().any(|d| d.name == BLUE));
}

#[tokio::test]
async fn create_database_waits_until_it_is_online() {
    let server = BoltDouble::builder()
        .user("neo4j")
        .password("s3cret")
        .online_delay(Duration::from_millis(600))
        .start()
        .await
        .unwrap();
    let catalog = BoltCatalog::connect(settings(&server.uri(), "s3cret")).unwrap();
    catalog
        .create_database(&name(GREEN), None, Duration::from_secs(10))
        .await
        .unwrap();
    let db = catalog.database(&name(GREEN)).await.unwrap().unwrap();
    assert!(db.is_online(), "{db:?}");
    assert!(logged(
        &server,
        &format!("CREATE DATABASE `{GREEN}` IF NOT EXISTS WAIT")
    ));
}

#[tokio::test]
async fn create_database_gives_up_at_its_timeout() {
    let server = BoltDouble::builder()
        .user("neo4j")
        .password("s3cret")
        .online_delay(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let catalog = BoltCatalog::connect(settings(&server.uri(), "s3cret")).unwrap();
    let err = catalog
        .create_database(&name(GREEN), None, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, BoltError::NotOnline { .. }), "{err:?}");
}

#[tokio::test]
async fn set_alias_creates_a_new_alias_and_alters_an_existing_one() {
    let (server, catalog) = blue_green().await;
    catalog.set_alias(&name("customer1"), &name(GREEN)).await.unwrap();
    catalog
        .set_alias(&name("customer1.reporting"), &name(BLUE))
        .await
        .unwrap();
    let aliases = catalog.aliases().await.unwrap();
    let target = |a: &str| aliases.iter().find(|x| x.name == a).map(|x| x.database.clone());
    assert_eq!(target("customer1").as_deref(), Some(GREEN));
    assert_eq!(target("customer1.reporting").as_deref(), Some(BLUE));
    assert!(logged(
        &server,
        &format!("ALTER ALIAS `customer1` SET DATABASE TARGET `{GREEN}`")
    ));
    assert!(logged(
        &server,
        &format!("CREATE ALIAS `customer1.reporting` FOR DATABASE `{BLUE}`")
    ));

    let err = catalog
        .set_alias(&name("customer1"), &name("customer1-404"))
        .await
        .unwrap_err();
    assert!(matches!(err, BoltError::DatabaseNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn drop_database_is_idempotent_and_refused_by_neo4j_while_an_alias_points_at_it() {
    let (server, catalog) = blue_green().await;
    catalog.drop_database(&name(GREEN), true).await.unwrap();
    assert!(logged(
        &server,
        &format!("DROP DATABASE `{GREEN}` IF EXISTS DESTROY DATA WAIT")
    ));
    assert!(catalog.database(&name(GREEN)).await.unwrap().is_none());
    catalog.drop_database(&name(GREEN), false).await.unwrap();

    let err = catalog.drop_database(&name(BLUE), false).await.unwrap_err();
    assert!(matches!(err, BoltError::Server { .. }), "{err:?}");
    assert!(catalog.database(&name(BLUE)).await.unwrap().is_some());
}

#[tokio::test]
async fn a_wrong_password_is_unauthorized_and_never_shown() {
    let (server, _) = blue_green().await;
    let catalog = BoltCatalog::connect(settings(&server.uri(), "wrong-password-123")).unwrap();
    let err = catalog.aliases().await.unwrap_err();
    assert!(matches!(err, BoltError::Unauthorized { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("wrong-password-123"), "{text}");
}

#[tokio::test]
async fn an_unreachable_server_fails_fast_and_names_the_uri() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("bolt://127.0.0.1:{port}");
    let catalog = BoltCatalog::connect(settings(&uri, "x")).unwrap();
    let started = Instant::now();
    let err = catalog.aliases().await.unwrap_err();
    assert!(
        matches!(err, BoltError::Unreachable { .. } | BoltError::Timeout { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&port.to_string()) || matches!(err, BoltError::Timeout { .. }));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stalled_query_ends_at_the_query_timeout() {
    let (server, _) = blue_green().await;
    let mut s = settings(&server.uri(), "s3cret");
    s.query_timeout = Duration::from_secs(1);
    let catalog = BoltCatalog::connect(s).unwrap();
    server.set_stall(true);
    let err = catalog.aliases().await.unwrap_err();
    assert!(matches!(err, BoltError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn server_errors_keep_their_neo4j_code() {
    let (server, catalog) = blue_green().await;
    server.fail_next("Neo.DatabaseError.General.UnknownError", "something broke");
    let err = catalog.aliases().await.unwrap_err();
    match err {
        BoltError::Server { code, .. } => assert_eq!(code, "Neo.DatabaseError.General.UnknownError"),
        other => panic!("{other:?}"),
    }
    // The connection is usable again afterwards (RESET after the FAILURE).
    assert_eq!(catalog.aliases().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_transient_error_is_retried_by_the_driver() {
    let (server, catalog) = blue_green().await;
    server.fail_next(
        "Neo.TransientError.General.DatabaseUnavailable",
        "the database is unavailable",
    );
    assert_eq!(catalog.aliases().await.unwrap().len(), 1);
    let shows = server
        .query_log()
        .iter()
        .filter(|q| q.starts_with("SHOW ALIASES"))
        .count();
    assert_eq!(shows, 2, "one failed attempt, one retry");
}

// ---------------------------------------------------------------------------
// The alias verbs (ops) over the real client

#[tokio::test]
async fn switch_refuses_a_missing_or_offline_target_and_reports_the_previous_one() {
    let (server, catalog) = blue_green().await;
    let err = ops::alias_switch(&catalog, &name("customer1"), &name("customer1-404"))
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::DatabaseNotFound { .. }), "{err:?}");

    server.set_status(GREEN, "offline");
    let err = ops::alias_switch(&catalog, &name("customer1"), &name(GREEN))
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::DatabaseNotOnline { .. }), "{err:?}");
    assert_eq!(
        ops::alias_target(&catalog, &name("customer1")).await.unwrap().database,
        BLUE
    );

    server.set_status(GREEN, "online");
    let switch = ops::alias_switch(&catalog, &name("customer1"), &name(GREEN))
        .await
        .unwrap();
    assert_eq!(
        (switch.previous.as_deref(), switch.target.as_str()),
        (Some(BLUE), GREEN)
    );
    assert_eq!(
        ops::alias_target(&catalog, &name("customer1")).await.unwrap().database,
        GREEN
    );
    let err = ops::alias_target(&catalog, &name("customer7")).await.unwrap_err();
    assert!(matches!(err, OpsError::AliasNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn drop_database_refuses_a_target_in_use_and_force_drops_its_aliases_first() {
    let (server, catalog) = blue_green().await;
    let yes = |_: &[String]| Ok(());
    let err = ops::drop_database(&catalog, &name(BLUE), false, false, yes)
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::DatabaseInUse { .. }), "{err:?}");
    assert!(err.to_string().contains("customer1"), "{err}");

    let no = |_: &[String]| Err(OpsError::NotConfirmed { what: "test".into() });
    let err = ops::drop_database(&catalog, &name(BLUE), true, false, no)
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::NotConfirmed { .. }), "{err:?}");
    assert!(
        catalog.database(&name(BLUE)).await.unwrap().is_some(),
        "nothing changed"
    );

    let dropped = ops::drop_database(&catalog, &name(BLUE), true, false, yes)
        .await
        .unwrap();
    assert_eq!(dropped, ["customer1"]);
    assert!(catalog.database(&name(BLUE)).await.unwrap().is_none());
    assert!(catalog.aliases().await.unwrap().is_empty());
    assert!(logged(&server, "DROP ALIAS `customer1` IF EXISTS FOR DATABASE"));

    let err = ops::drop_database(&catalog, &name(BLUE), false, false, yes)
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::DatabaseNotFound { .. }), "{err:?}");
}

/// Neo4j answers a query on a database that does not exist with
/// `Neo.ClientError.Database.DatabaseNotFound`, and on a stopped one with
/// `Neo.TransientError.Database.DatabaseUnavailable`; a drill check against
/// either fails naming the database, not with a generic error.
#[tokio::test]
async fn queries_on_a_missing_or_stopped_database_fail_with_neo4j_s_codes() {
    use graphvault::config::DrillCheck;
    use graphvault::ops::drill::CheckResult;
    let (server, catalog) = blue_green().await;
    server.canned_query(
        "*",
        "MATCH (n) RETURN count(n) AS nodes",
        &["nodes"],
        vec![vec![bolt_double::Value::Int(3)]],
    );
    let ok = catalog
        .check_query(&name(GREEN), "MATCH (n) RETURN count(n) AS nodes")
        .await
        .unwrap();
    assert_eq!(ok.first, Some(3));

    let missing = catalog
        .check_query(&name("customer9-1"), "MATCH (n) RETURN count(n) AS nodes")
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, BoltError::DatabaseNotFound { name } if name == "customer9-1"),
        "{missing:?}"
    );

    server.set_status(GREEN, "offline");
    let stopped = catalog
        .check_query(&name(GREEN), "MATCH (n) RETURN count(n) AS nodes")
        .await
        .unwrap_err();
    assert!(
        matches!(&stopped, BoltError::NotOnline { name, status } if name == GREEN && status.contains("DatabaseUnavailable")),
        "{stopped:?}"
    );
    let check = DrillCheck {
        alias: "*".into(),
        query: "MATCH (n) RETURN count(n) AS nodes".into(),
        min: Some(1),
    };
    let judged = CheckResult::judge(&check, Err(stopped));
    assert!(!judged.passed);
    assert!(
        judged.detail.contains(GREEN) && judged.detail.contains("unavailable"),
        "{}",
        judged.detail
    );
    // Through an alias, the same database answers the same way.
    let via_alias = catalog
        .check_query(&name("customer1"), "MATCH (n) RETURN count(n) AS nodes")
        .await
        .unwrap();
    assert_eq!(via_alias.first, Some(3), "customer1 → {BLUE}, which is online");
}
