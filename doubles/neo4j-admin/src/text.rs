//! Usage texts, laid out as picocli prints them for neo4j-admin.
//!
//! Synopses are copied from the Neo4j Operations Manual pages of each command;
//! option descriptions are shortened. 5.x sub-commands use the `USAGE` /
//! `DESCRIPTION` / `PARAMETERS` / `OPTIONS` headings of `org.neo4j.cli.AbstractCommand`.

use crate::config::Version;

const ENV_FOOTER: &str = "
Environment variables:
  NEO4J_CONF    Path to directory which contains neo4j.conf.
  NEO4J_DEBUG   Set to anything to enable debug output.
  NEO4J_HOME    Neo4j home directory.
  HEAP_SIZE     Set JVM maximum heap size during command execution. Takes a number and a unit, for example 512m.
  JAVA_OPTS     Used to pass custom setting to Java Virtual Machine executing the command. Refer to JVM documentation \
about the exact format. This variable is incompatible with HEAP_SIZE and takes precedence over HEAP_SIZE.
";

/// `neo4j-admin` with no or an unknown command (5.x / 2025.x).
pub fn root(v: &Version) -> String {
    let backup = if v.has_backup_category() {
        "  backup    Backup administration tasks.\n"
    } else {
        ""
    };
    format!(
        "Usage: neo4j-admin [-hV] [--expand-commands] [--verbose] [COMMAND]
Neo4j database administration tool.
      --expand-commands   Allow command expansion in config value evaluation.
      --verbose           Prints additional information.
  -h, --help              Show this help message and exit.
  -V, --version           Print version information and exit.
Commands:
  version   Print version information and exit.
  help      Display help information about the specified command.
  dbms      DBMS administration tasks.
  server    Server administration tasks.
  database  Database administration tasks.
{backup}{ENV_FOOTER}"
    )
}

/// `neo4j-admin` of 4.x: one level of commands, no categories.
pub fn legacy_root() -> String {
    format!(
        "Usage: neo4j-admin [-hV] [--expand-commands] [--verbose] [COMMAND]
Neo4j database administration tool.
      --expand-commands      Allow command expansion in config value evaluation.
      --verbose              Prints additional information.
  -h, --help                 Show this help message and exit.
  -V, --version              Print version information and exit.
Commands:
  help                  Displays help information about the specified command
  check-consistency     Check the consistency of a database.
  report                Produces a zip/tar of the most common information needed for remote assessments.
  store-info            Print information about a Neo4j database store.
  memrec                Print Neo4j heap and pagecache memory settings recommendations.
  import                Import a collection of CSV files.
  dump                  Dump a database into a single-file archive.
  load                  Load a database from an archive created with the dump command.
  set-default-admin     Sets the default admin user.
  set-initial-password  Sets the initial password of the initial admin user ('neo4j').
  backup                Perform an online backup from a running Neo4j enterprise server.
  restore               Restore a backed up database.
  unbind                Removes cluster state data for the specified database.
  copy                  Copy a database and optionally apply filters.
  push-to-cloud         Push your local database to a Neo4j Aura instance.
{ENV_FOOTER}"
    )
}

/// `neo4j-admin database` group help.
pub fn database_group() -> String {
    "Usage: neo4j-admin database [-h] [COMMAND]
Database administration tasks.
  -h, --help   Show this help message and exit.
Commands:
  aggregate-backup  Aggregates a chain of backup artifacts into a single artifact.
  backup            Perform an online backup from a running Neo4j enterprise server.
  check             Check the consistency of a database.
  copy              Copy a database and optionally apply filters.
  dump              Dump a database into a single-file archive.
  help              Display help information about the specified command.
  import            Import a collection of CSV files.
  info              Print information about a Neo4j database store.
  load              Load a database from an archive created with the dump command.
  migrate           Migrate a database
  restore           Restore a backed up database.
  upload            Push a local database to a Neo4j Aura instance.
"
    .to_string()
}

/// `neo4j-admin backup` group help (5.25+).
pub fn backup_group() -> String {
    "Usage: neo4j-admin backup [-h] [COMMAND]
Backup administration tasks.
  -h, --help   Show this help message and exit.
Commands:
  aggregate  Aggregates a chain of backup artifacts into a single artifact.
  help       Display help information about the specified command.
  inspect    Command to read the backup metadata.
"
    .to_string()
}

fn command(synopsis: &str, description: &str, parameters: &str, options: &str) -> String {
    let common = "      --additional-config=<file>
                                Configuration file with additional configuration.
      --expand-commands         Allow command expansion in config value evaluation.
  -h, --help                    Show this help message and exit.
      --verbose                 Enable verbose output.
";
    format!(
        "\nUSAGE\n\n{synopsis}\n\nDESCRIPTION\n\n{description}\n\nPARAMETERS\n\n{parameters}\n\nOPTIONS\n\n{common}{options}"
    )
}

/// `neo4j-admin database backup --help`.
pub fn backup(v: &Version) -> String {
    let temp = if v.has_backup_temp_path() {
        "      --temp-path=<path>        Provide a path to a temporary empty directory for storing backup files until
                                  the command is completed. The files will be deleted once the command is finished.\n"
    } else {
        ""
    };
    command(
        "neo4j-admin database backup [-h] [--expand-commands] [--verbose] [--compress[=true|false]]
                            [--keep-failed[=true|false]] [--parallel-recovery[=true|false]]
                            [--additional-config=<file>] [--include-metadata=none|all|users|roles]
                            [--inspect-path=<path>] [--pagecache=<size>] [--temp-path=<path>]
                            [--to-path=<path>] [--type=<type>] [--from=<host:port>[,<host:port>...]]...
                            [<database>...]",
        "Perform an online backup from a running Neo4j enterprise server. Neo4j's backup service must have been
configured on the server beforehand.",
        "      [<database>...]           Name(s) of the remote database(s) to backup. Supports globbing inside of double
                                  quotes, for example, \"data*\". (<database> is required unless `--inspect-path`
                                  is used).
                                  Default: neo4j",
        &format!(
            "      --compress[=true|false]   Request backup artifact to be compressed.
                                  Default: true
      --from=<host:port>[,<host:port>...]
                                Comma-separated list of host and port of Neo4j instances, each of which are tried
                                  in order.
      --include-metadata=none|all|users|roles
                                Include metadata in file. Can't be used for backing system database.
                                  Default: all
      --inspect-path=<path>     List and show the metadata of the backup artifact(s). Accepts a folder or a file.
      --keep-failed[=true|false]
                                Request failed backup to be preserved for further post-failure analysis. If
                                  enabled, a directory with the failed backup database is preserved.
                                  Default: false
      --pagecache=<size>        The size of the page cache to use for the backup process.
      --parallel-recovery[=true|false]
                                Allow multiple threads to apply pulled transactions to a backup in parallel.
                                  Default: false
{temp}      --to-path=<path>          Directory to place backup in (required unless `--inspect-path` is used).
      --type=<type>             Type of backup to perform. Possible values are: FULL, DIFF, AUTO. If none is
                                  specified, the type is automatically determined based on the existing backups.
                                  Default: AUTO
"
        ),
    )
}

/// `neo4j-admin database restore --help`.
pub fn restore(v: &Version) -> String {
    let source = if v.has_restore_source_database() {
        "      --source-database[=source-database-name]\n                                A source database name.\n"
    } else {
        ""
    };
    command(
        "neo4j-admin database restore [-h] [--expand-commands] [--verbose] [--overwrite-destination[=true|false]]
                             [--source-database[=source-database-name]] [--additional-config=<file>]
                             --from-path=<path>[,<path>...] [--restore-until=<recovery-criteria>]
                             [--temp-path=<path>] [--to-path-data=<path>] [--to-path-txn=<path>] [<database>]",
        "Restore a backed up database.",
        "      [<database>]              Name of the database after restore. Usage of this parameter is only allowed if
                                  the --from-path option points to a path to a single artifact.",
        &format!(
            "      --from-path=<path>[,<path>...]
                                Path to a backup artifact, a folder of artifacts or a comma-separated list of
                                  artifacts.
      --overwrite-destination[=true|false]
                                If an existing database should be replaced.
                                  Default: false
      --restore-until=<recovery-criteria>
                                Restore until a transaction id (123) or a UTC date (2021-09-11 10:15:30).
{source}      --temp-path=<path>        Path to a temporary empty directory for storing backup files.
      --to-path-data=<path>     Base directory for databases.
      --to-path-txn=<path>      Base directory for transaction logs.
"
        ),
    )
}

/// `neo4j-admin database check --help`.
pub fn check() -> String {
    command(
        "neo4j-admin database check [-h] [--expand-commands] [--force] [--verbose]
                           [--check-counts[=true|false]] [--check-graph[=true|false]]
                           [--check-indexes[=true|false]] [--check-property-owners[=true|false]]
                           [--additional-config=<file>] [--max-off-heap-memory=<size>]
                           [--report-path=<path>] [--threads=<number of threads>]
                           [[--from-path-data=<path> --from-path-txn=<path>] | [--from-path=<path>
                           [--temp-path=<path>]]] <database>",
        "This command allows for checking the consistency of a database, or a dump or backup thereof.
It cannot be used with a database which is currently in use.",
        "      <database>                Name of the database to check.",
        "      --force                   Force a consistency check to be run, despite resources, and may run a more
                                  thorough check.
      --check-indexes[=true|false]
                                Perform consistency checks on indexes.
                                  Default: true
      --check-graph[=true|false]
                                Perform consistency checks between nodes, relationships, properties, types, and
                                  tokens.
                                  Default: true
      --check-counts[=true|false]
                                Perform consistency checks on the counts.
      --check-property-owners[=true|false]
                                Perform consistency checks on the ownership of properties.
                                  Default: false
      --report-path=<path>      Path to where a consistency report will be written.
                                  Default: .
      --max-off-heap-memory=<size>
                                Maximum memory that neo4j-admin can use for various data structures and caching.
                                  Default: 90%
      --threads=<number of threads>
                                Number of threads used to check the consistency.
      --from-path-data=<path>   Path to the databases directory, containing the database directory to source from.
      --from-path-txn=<path>    Path to the transactions directory, containing the transaction directory for the
                                  database to source from.
      --from-path=<path>        Path to the directory containing dump/backup artifacts that need to be checked for
                                  consistency. If the directory contains multiple backups, it will select the most
                                  recent backup chain, based on the transaction IDs found, to perform the
                                  consistency check.
      --temp-path=<path>        Path to directory to be used as a staging area to extract dump/backup artifacts,
                                  if needed.
                                  Default:  <from-path>
",
    )
}

/// `neo4j-admin backup inspect --help` (5.25+).
pub fn inspect(v: &Version) -> String {
    let show = if v.inspect_metadata_by_default() {
        ""
    } else {
        "      --show-metadata           Show the backup metadata.\n                                  Default: false\n"
    };
    command(
        "neo4j-admin backup inspect [-h] [--empty] [--expand-commands] [--latest-backup] [--latest-chain]
                           [--show-metadata] [--verbose] [--additional-config=<file>] [--database=<database>]
                           [--format=<value>] <backup-path>",
        "Command to read the backup metadata.",
        "      <backup-path>             Path denoting either a directory where backups are stored or a single backup to
                                  inspect.",
        &format!(
            "      --database=<database>     Name of the database to inspect.
      --empty                   Include empty backups.
                                  Default: false
      --format=<value>          Format of the output of the command. Possible values are: 'JSON, TABULAR'
                                  Default: TABULAR
      --latest-backup           Show only the latest backup.
                                  Default: false
      --latest-chain            List the full backup chain ending with the latest downloaded backup.
                                  Default: false
{show}"
        ),
    )
}
