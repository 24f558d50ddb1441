"""Fidelity suite: the official Neo4j Python driver against the Bolt double.

Runs the catalog and alias statements graphvault relies on and checks the
result shapes the Neo4j 5.x Operations Manual documents (column names in
order, value types such as ZONED DATETIME for creationTime), the WAIT row,
and the status codes of the errors. Every check that fails is printed as
`FAIL <what>: <why>`; the exit status is the number of failures (capped).

Sources of the expectations (github.com/neo4j/docs-operations, branch 5.x):
database-administration/standard-databases/listing-databases.adoc,
create-databases.adoc, delete-databases.adoc, naming-databases.adoc,
aliases/manage-aliases-standard-databases.adoc, aliases/naming-aliases.adoc,
clustering/monitoring/show-servers-monitoring.adoc; error codes from the
Neo4j status code list and neo4j-drivers testkit.

Environment: GV_BOLT_URI (bolt://host:port), GV_BOLT_USER, GV_BOLT_PASSWORD.
Only bolt:// is used: the double does not answer ROUTE (neo4j://).
"""

import os
import sys

import neo4j
from neo4j.exceptions import ClientError, TransientError
from neo4j.time import DateTime

FAILURES = []


def check(what, ok, why=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + why))
    if not ok:
        FAILURES.append(what)


def run(driver, query, database="system"):
    """Rows as (keys, records) from an auto-commit query (never retried)."""
    with driver.session(database=database) as session:
        result = session.run(query)
        records = list(result)
        return result.keys(), records


def expect_error(driver, what, query, code, database="system", kind=ClientError):
    try:
        run(driver, query, database)
    except kind as e:
        check(what, e.code == code, f"code {e.code!r}, expected {code!r} ({e.message})")
        return e
    except neo4j.exceptions.Neo4jError as e:
        check(what, False, f"{type(e).__name__} {e.code}: {e.message}, expected {kind.__name__} {code}")
        return e
    else:
        check(what, False, f"no error, expected {code}")
    return None


def types_of(record, expected):
    """Checks each column's Python type; None is allowed where listed."""
    bad = []
    for col, (typ, nullable) in expected.items():
        if col not in record.keys():
            bad.append(f"{col} missing")
            continue
        v = record[col]
        if v is None and nullable:
            continue
        if not isinstance(v, typ):
            bad.append(f"{col}={v!r} is {type(v).__name__}, expected {typ.__name__}")
    return bad


def zoned(v):
    return isinstance(v, DateTime) and v.tzinfo is not None


DB_DEFAULT = ["name", "type", "aliases", "access", "address", "role", "writer",
              "requestedStatus", "currentStatus", "statusMessage", "default",
              "home", "constituents"]
DB_ALL = ["name", "type", "aliases", "access", "databaseID", "serverID",
          "address", "role", "writer", "requestedStatus", "currentStatus",
          "statusMessage", "default", "home", "currentPrimariesCount",
          "currentSecondariesCount", "requestedPrimariesCount",
          "requestedSecondariesCount", "creationTime", "lastStartTime",
          "lastStopTime", "store", "lastCommittedTxn", "replicationLag",
          "constituents", "options"]
ALIAS_DEFAULT = ["name", "composite", "database", "location", "url", "user"]
ALIAS_ALL = ALIAS_DEFAULT + ["driver", "properties"]
SERVER_DEFAULT = ["name", "address", "state", "health", "hosting"]
SERVER_ALL = ["serverId", "name", "address", "httpAddress", "httpsAddress",
              "state", "health", "hosting", "requestedHosting", "tags",
              "allowedDatabases", "deniedDatabases", "modeConstraint", "version"]
WAIT_ROW = ["address", "state", "message", "success"]


def show_databases(driver):
    keys, rows = run(driver, "SHOW DATABASES")
    check("SHOW DATABASES default columns", keys == DB_DEFAULT, f"{keys}")
    check("SHOW DATABASES lists system and neo4j",
          {"system", "neo4j"} <= {r["name"] for r in rows}, f"{[r['name'] for r in rows]}")
    keys, rows = run(driver, "SHOW DATABASES YIELD *")
    check("SHOW DATABASES YIELD * columns in the manual's order", keys == DB_ALL, f"{keys}")
    neo = next(r for r in rows if r["name"] == "neo4j")
    bad = types_of(neo, {
        "name": (str, False), "type": (str, False), "aliases": (list, False),
        "access": (str, False), "databaseID": (str, True), "serverID": (str, False),
        "address": (str, True), "role": (str, True), "writer": (bool, False),
        "requestedStatus": (str, False), "currentStatus": (str, False),
        "statusMessage": (str, False), "default": (bool, False), "home": (bool, False),
        "currentPrimariesCount": (int, False), "currentSecondariesCount": (int, False),
        "requestedPrimariesCount": (int, False), "requestedSecondariesCount": (int, False),
        "store": (str, True), "lastCommittedTxn": (int, True), "replicationLag": (int, True),
        "constituents": (list, False), "options": (dict, False),
    })
    check("SHOW DATABASES YIELD * value types", not bad, "; ".join(bad))
    for col in ("creationTime", "lastStartTime"):
        v = neo.get(col)
        check(f"{col} is a ZONED DATETIME", zoned(v), f"{v!r} ({type(v).__name__})")
    check("lastStopTime of a running database is null", neo.get("lastStopTime") is None, f"{neo.get('lastStopTime')!r}")
    keys, _ = run(driver, "SHOW DEFAULT DATABASE")
    check("SHOW DEFAULT DATABASE has no default/home columns",
          "default" not in keys and "home" not in keys, f"{keys}")


def show_servers(driver):
    keys, rows = run(driver, "SHOW SERVERS")
    check("SHOW SERVERS default columns", keys == SERVER_DEFAULT, f"{keys}")
    keys, rows = run(driver, "SHOW SERVERS YIELD *")
    check("SHOW SERVERS YIELD * columns", keys == SERVER_ALL, f"{keys}")
    bad = types_of(rows[0], {
        "serverId": (str, False), "name": (str, False), "address": (str, True),
        "httpAddress": (str, False), "httpsAddress": (str, True), "state": (str, False),
        "health": (str, False), "hosting": (list, False), "requestedHosting": (list, False),
        "tags": (list, False), "allowedDatabases": (list, False),
        "deniedDatabases": (list, False), "modeConstraint": (str, False), "version": (str, False),
    })
    check("SHOW SERVERS YIELD * value types", not bad, "; ".join(bad))


def databases_and_aliases(driver):
    keys, rows = run(driver, "CREATE DATABASE `fidelity-1` WAIT 10 SECONDS")
    check("CREATE DATABASE … WAIT returns one row", keys == WAIT_ROW and len(rows) == 1, f"{keys} {rows}")
    if rows:
        bad = types_of(rows[0], {"address": (str, False), "state": (str, False),
                                 "message": (str, False), "success": (bool, False)})
        check("the WAIT row's types, success true", not bad and rows[0]["success"] is True,
              "; ".join(bad) or f"{rows[0]}")
    run(driver, "CREATE DATABASE `fidelity-2` WAIT")
    keys, rows = run(driver, "CREATE ALIAS `fidelity` FOR DATABASE `fidelity-1`")
    check("CREATE ALIAS returns no rows", rows == [], f"{rows}")
    run(driver, "ALTER ALIAS `fidelity` SET DATABASE TARGET `fidelity-2`")
    keys, rows = run(driver, "SHOW ALIASES FOR DATABASE")
    check("SHOW ALIASES default columns", keys == ALIAS_DEFAULT, f"{keys}")
    mine = [r for r in rows if r["name"] == "fidelity"]
    check("ALTER ALIAS moved the alias",
          len(mine) == 1 and mine[0]["database"] == "fidelity-2" and mine[0]["location"] == "local"
          and mine[0]["composite"] is None and mine[0]["url"] is None,
          f"{[dict(r) for r in mine]}")
    keys, rows = run(driver, "SHOW ALIASES FOR DATABASE YIELD *")
    check("SHOW ALIASES YIELD * columns", keys == ALIAS_ALL, f"{keys}")
    mine = [r for r in rows if r["name"] == "fidelity"]
    check("a local alias has driver null and properties {}",
          mine and mine[0]["driver"] is None and mine[0]["properties"] == {}, f"{[dict(r) for r in mine]}")
    keys, rows = run(driver, "SHOW DATABASE fidelity YIELD name, aliases")
    check("SHOW DATABASE <alias> shows the target with its aliases",
          [(r["name"], r["aliases"]) for r in rows] == [("fidelity-2", ["fidelity"])], f"{rows}")
    e = expect_error(driver, "DROP DATABASE of an alias target is refused",
                     "DROP DATABASE `fidelity-2`", "Neo.ClientError.Statement.ArgumentError")
    if e is not None:
        check("the refusal names the alias", "fidelity" in (e.message or ""), f"{e.message}")
    run(driver, "DROP ALIAS `fidelity` FOR DATABASE")
    keys, rows = run(driver, "DROP DATABASE `fidelity-2` WAIT")
    check("DROP DATABASE … WAIT returns the WAIT row", keys == WAIT_ROW, f"{keys}")
    run(driver, "DROP DATABASE `fidelity-1`")
    _, rows = run(driver, "SHOW DATABASES YIELD name")
    check("dropped databases are gone",
          not {"fidelity-1", "fidelity-2"} & {r["name"] for r in rows}, f"{rows}")


def names(driver):
    run(driver, "CREATE DATABASE `names-1` WAIT")
    for alias in ("`my alias_1`", "`1st.alias`", "customer_1", "`" + "a" * 100 + "`"):
        try:
            run(driver, f"CREATE ALIAS {alias} FOR DATABASE `names-1`")
            check(f"alias name {alias[:20]} is accepted", True)
        except neo4j.exceptions.Neo4jError as e:
            check(f"alias name {alias[:20]} is accepted", False, f"{e.code}: {e.message}")
    for alias in ("`_internal`", "`system-x`", "`ends.with.dot.`"):
        expect_error(driver, f"alias name {alias} is refused",
                     f"CREATE ALIAS {alias} FOR DATABASE `names-1`", "Neo.ClientError.Statement.ArgumentError")
    for db in ("`trailing-`", "`trailing.`", "`9starts-with-digit`", "`with_underscore`", "ab", "`" + "a" * 64 + "`",
               "`system-db`"):
        expect_error(driver, f"database name {db[:20]} is refused",
                     f"CREATE DATABASE {db}", "Neo.ClientError.Statement.ArgumentError")
    run(driver, "DROP DATABASE `names-1` CASCADE ALIASES")


def errors(driver):
    expect_error(driver, "a query on a missing database: DatabaseNotFound", "RETURN 1",
                 "Neo.ClientError.Database.DatabaseNotFound", database="no-such-db")
    run(driver, "CREATE DATABASE `stopped-1` WAIT")
    run(driver, "STOP DATABASE `stopped-1`")
    _, rows = run(driver, "SHOW DATABASE `stopped-1` YIELD currentStatus, lastStopTime, databaseID")
    check("a stopped database is offline with a zoned lastStopTime and no databaseID",
          rows and rows[0]["currentStatus"] == "offline" and zoned(rows[0]["lastStopTime"])
          and rows[0]["databaseID"] is None, f"{[dict(r) for r in rows]}")
    expect_error(driver, "a query on a stopped database: DatabaseUnavailable", "RETURN 1",
                 "Neo.TransientError.Database.DatabaseUnavailable", database="stopped-1", kind=TransientError)
    run(driver, "DROP DATABASE `stopped-1`")


def main():
    uri = os.environ["GV_BOLT_URI"]
    auth = (os.environ["GV_BOLT_USER"], os.environ["GV_BOLT_PASSWORD"])
    print(f"neo4j driver {neo4j.__version__} against {uri}")
    with neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=10) as driver:
        info = driver.get_server_info()
        print(f"server agent {info.agent}, Bolt {info.protocol_version}")
        check("the driver negotiates Bolt 5.4", info.protocol_version == (5, 4), f"{info.protocol_version}")
        for part in (show_databases, show_servers, databases_and_aliases, names, errors):
            try:
                part(driver)
            except Exception as e:  # a crash in one part must not hide the others
                check(part.__name__, False, f"{type(e).__name__}: {e}")
    print(f"{len(FAILURES)} check(s) failed" if FAILURES else "all checks passed")
    return min(len(FAILURES), 100)


if __name__ == "__main__":
    sys.exit(main())
