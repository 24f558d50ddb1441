//! Table tests of the cluster decisions.

use super::*;

fn host(id: &str, addr: Option<&str>, role: &str, writer: bool, status: &str) -> Hosting {
    Hosting {
        server_id: Some(id.into()),
        address: addr.map(String::from),
        role: role.into(),
        writer,
        current_status: status.into(),
    }
}

fn row(name: &str, h: Hosting) -> DatabaseRow {
    DatabaseRow {
        name: name.into(),
        requested_status: "online".into(),
        host: h,
        ..Default::default()
    }
}

#[test]
fn rows_merge_per_database_and_online_means_online_somewhere() {
    let rows = vec![
        row("a", host("s1", None, "unknown", false, "unknown")),
        row("a", host("s2", Some("10.0.0.2:7687"), "primary", true, "online")),
        row("b", host("s1", None, "unknown", false, "unknown")),
        row("b", host("s2", Some("10.0.0.2:7687"), "primary", false, "offline")),
        row("c", host("s1", None, "unknown", false, "unknown")),
    ];
    let dbs = merge_rows(rows);
    let status: Vec<(&str, &str, usize)> = dbs
        .iter()
        .map(|d| (d.name.as_str(), d.current_status.as_str(), d.hosts.len()))
        .collect();
    assert_eq!(
        status,
        [("a", "online", 2), ("b", "offline", 2), ("c", "unknown", 1)],
        "a down server's row first must not hide an online copy"
    );
    assert!(dbs[0].is_online() && dbs[0].online_everywhere());
    assert!(!dbs[1].is_online());
}

#[test]
fn online_everywhere_waits_for_every_reachable_copy() {
    let mut rows = vec![
        row("a", host("s1", Some("h1:7687"), "primary", true, "online")),
        row("a", host("s2", Some("h2:7687"), "primary", false, "starting")),
    ];
    assert!(!merge_rows(rows.clone())[0].online_everywhere());
    rows[1].host.current_status = "online".into();
    assert!(merge_rows(rows.clone())[0].online_everywhere());
    rows.push(row("a", host("s3", None, "unknown", false, "unknown")));
    assert!(
        merge_rows(rows)[0].online_everywhere(),
        "an unreachable server cannot report; it does not block"
    );
}

#[test]
fn backup_sources_prefer_secondaries_then_followers_then_the_writer() {
    let cases: Vec<(Vec<Hosting>, Vec<&str>)> = vec![
        // Standalone: neo4j-admin's default (or the configured list).
        (vec![host("s1", Some("h1:7687"), "primary", true, "online")], vec![]),
        (
            vec![
                host("s1", Some("h1:7687"), "primary", true, "online"),
                host("s2", Some("h2:7687"), "primary", false, "online"),
                host("s3", Some("h3:7687"), "primary", false, "online"),
                host("s4", Some("h4:7687"), "secondary", false, "online"),
            ],
            vec!["h4:6362", "h2:6362", "h3:6362", "h1:6362"],
        ),
        // A down server and a stopped copy are not asked.
        (
            vec![
                host("s1", None, "unknown", false, "unknown"),
                host("s2", Some("h2:7687"), "primary", true, "online"),
                host("s3", Some("h3:7687"), "unknown", false, "offline"),
            ],
            vec!["h2:6362"],
        ),
        // IPv6 literal addresses keep their brackets.
        (
            vec![
                host("s1", Some("[fd00::1]:7687"), "primary", true, "online"),
                host("s2", Some("[fd00::2]:7687"), "secondary", false, "online"),
            ],
            vec!["[fd00::2]:6362", "[fd00::1]:6362"],
        ),
    ];
    for (hosts, want) in cases {
        let db = DatabaseInfo {
            name: "x".into(),
            current_status: "online".into(),
            requested_status: "online".into(),
            default: false,
            aliases: vec![],
            store_size: None,
            hosts: hosts.clone(),
        };
        assert_eq!(backup_sources(&db, 6362), want, "{hosts:?}");
    }
}

#[test]
fn topology_counts_roles() {
    let db = merge_rows(vec![
        row("a", host("s1", Some("h1:7687"), "primary", true, "online")),
        row("a", host("s2", Some("h2:7687"), "primary", false, "online")),
        row("a", host("s3", Some("h3:7687"), "secondary", false, "online")),
    ]);
    assert_eq!(
        db[0].topology(),
        Topology {
            primaries: 2,
            secondaries: 1
        }
    );
}

#[test]
fn uri_addresses() {
    for (uri, want) in [
        ("bolt://db1:7687", "db1:7687"),
        ("neo4j+s://db.example.com:7690/?policy=x", "db.example.com:7690"),
        ("neo4j://db1", "db1:7687"),
        ("bolt://127.0.0.1:41234", "127.0.0.1:41234"),
    ] {
        assert_eq!(uri_address(uri), want, "{uri}");
    }
}

#[test]
fn seed_server_is_found_by_id_name_or_address_and_must_be_available() {
    let servers = vec![
        ServerInfo {
            id: "id-1".into(),
            name: "server1".into(),
            address: Some("h1:7687".into()),
            state: "Enabled".into(),
            health: "Available".into(),
        },
        ServerInfo {
            id: "id-2".into(),
            name: "id-2".into(),
            address: Some("h2:7687".into()),
            state: "Enabled".into(),
            health: "Unavailable".into(),
        },
    ];
    for wanted in ["id-1", "server1", "h1:7687"] {
        assert_eq!(seed_server(&servers, wanted).unwrap().id, "id-1", "{wanted}");
    }
    let e = seed_server(&servers, "h9:7687").unwrap_err();
    assert!(e.contains("h9:7687") && e.contains("server1 at h1:7687"), "{e}");
    let e = seed_server(&servers, "h2:7687").unwrap_err();
    assert!(e.contains("Unavailable"), "{e}");
}

#[test]
fn seeding_clause_quotes_only_plain_ids() {
    let mut s = Seeding {
        option: "existingDataSeedServer",
        server_id: "8512c9b9-d9e8-48e6-b037-b15b0004ca18".into(),
        topology: Some(Topology {
            primaries: 3,
            secondaries: 1,
        }),
    };
    assert_eq!(
        s.clause().unwrap(),
        " TOPOLOGY 3 PRIMARIES 1 SECONDARIES OPTIONS {existingData: 'use', existingDataSeedServer: '8512c9b9-d9e8-48e6-b037-b15b0004ca18'}"
    );
    s.topology = None;
    assert!(s.clause().unwrap().starts_with(" OPTIONS {"));
    s.server_id = "x' }) DROP DATABASE y //".into();
    assert_eq!(s.clause(), None);
}
