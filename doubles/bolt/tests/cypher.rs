//! The double's Cypher parser: the admin commands graphvault sends, and
//! refusals for anything else.

use std::collections::BTreeMap;

use bolt_double::cypher::{parse, Command, Name, OptionValue, Topology, Wait, Which, Yield};

fn lit(s: &str) -> Name {
    Name::Literal(s.into())
}

#[test]
fn admin_commands_parse() {
    for (q, expected) in [
        (
            "SHOW ALIASES FOR DATABASE",
            Command::ShowAliases { yields: Yield::Default },
        ),
        (
            "show databases yield *",
            Command::ShowDatabases {
                which: Which::All,
                yields: Yield::All,
            },
        ),
        (
            "SHOW DATABASE `customer1-1` YIELD name, currentStatus",
            Command::ShowDatabases {
                which: Which::One(lit("customer1-1")),
                yields: Yield::Columns(vec!["name".into(), "currentStatus".into()]),
            },
        ),
        (
            "CREATE DATABASE `c-2` IF NOT EXISTS WAIT 30 SECONDS",
            Command::CreateDatabase {
                name: lit("c-2"),
                or_replace: false,
                if_not_exists: true,
                topology: None,
                options: BTreeMap::new(),
                wait: Wait::Secs(30),
            },
        ),
        (
            "CREATE OR REPLACE DATABASE $db OPTIONS {existingData: 'use', seedURI: \"s3://x\"} WAIT",
            Command::CreateDatabase {
                name: Name::Param("db".into()),
                or_replace: true,
                if_not_exists: false,
                topology: None,
                options: BTreeMap::from([
                    ("existingData".to_string(), OptionValue::Text("use".into())),
                    ("seedURI".to_string(), OptionValue::Text("s3://x".into())),
                ]),
                wait: Wait::Secs(300),
            },
        ),
        (
            "CREATE DATABASE x1 TOPOLOGY 3 PRIMARIES 1 SECONDARY OPTIONS {existingData: 'use', existingDataSeedServer: 'abc'} WAIT 5 SECONDS",
            Command::CreateDatabase {
                name: lit("x1"),
                or_replace: false,
                if_not_exists: false,
                topology: Some(Topology {
                    primaries: 3,
                    secondaries: Some(1),
                }),
                options: BTreeMap::from([
                    ("existingData".to_string(), OptionValue::Text("use".into())),
                    ("existingDataSeedServer".to_string(), OptionValue::Text("abc".into())),
                ]),
                wait: Wait::Secs(5),
            },
        ),
        ("SHOW SERVERS YIELD *", Command::ShowServers { yields: Yield::All }),
        (
            "DROP DATABASE `c-1` IF EXISTS DESTROY DATA WAIT",
            Command::DropDatabase {
                name: lit("c-1"),
                if_exists: true,
                cascade: false,
                destroy: true,
                wait: Wait::Secs(300),
            },
        ),
        (
            "DROP DATABASE x CASCADE ALIASES NOWAIT",
            Command::DropDatabase {
                name: lit("x"),
                if_exists: false,
                cascade: true,
                destroy: false,
                wait: Wait::No,
            },
        ),
        (
            "CREATE ALIAS `a.b` FOR DATABASE `c-1`",
            Command::CreateAlias {
                name: lit("a.b"),
                target: lit("c-1"),
                or_replace: false,
                if_not_exists: false,
            },
        ),
        (
            "ALTER ALIAS customer1 SET DATABASE TARGET `customer1-2`",
            Command::AlterAlias {
                name: lit("customer1"),
                if_exists: false,
                target: lit("customer1-2"),
            },
        ),
        (
            "DROP ALIAS a.b IF EXISTS FOR DATABASE",
            Command::DropAlias {
                name: lit("a.b"),
                if_exists: true,
            },
        ),
        (
            "STOP DATABASE `x-1` WAIT",
            Command::StopDatabase {
                name: lit("x-1"),
                wait: Wait::Secs(300),
            },
        ),
        (
            "RETURN 1 AS ok",
            Command::Return {
                value: 1,
                column: "ok".into(),
            },
        ),
    ] {
        assert_eq!(parse(q), Ok(expected), "{q}");
    }
}

#[test]
fn backticks_escape_by_doubling_and_unsupported_input_is_refused() {
    assert_eq!(
        parse("DROP ALIAS `we``ird` FOR DATABASE"),
        Ok(Command::DropAlias {
            name: lit("we`ird"),
            if_exists: false
        })
    );
    for bad in [
        "MATCH (n) RETURN n",
        "SHOW DATABASES WHERE name = 'x'",
        "CREATE DATABASE customer1-2",
        "DROP DATABASE",
        "CREATE ALIAS a FOR DATABASE `unterminated",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}
