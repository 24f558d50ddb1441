//! Bad input, table-driven: each row runs the real `graphvault` binary with
//! one thing wrong (config, keys, storage, names, files, Neo4j, ids, times)
//! and checks the documented exit code (docs/EXIT_CODES.md), that stderr
//! names the problem and the fix, that nothing panicked, and that nothing was
//! lost (no manifest written, artifacts and existing files untouched).
//!
//! The rows and the messages the binary printed make `docs/FAILURES.md`; the
//! test fails when that file differs from what it observed, unless
//! `UPDATE_FAILURES=1` is set, in which case it rewrites the file.
//!
//! LocalStack must be running (`localstack/up.sh`); the test fails without it.

mod common;
#[path = "common/bad_input.rs"]
mod harness;

use harness::{Case, Check, Edit, Prep, World};

const USAGE: i32 = 2;
const INTEGRITY: i32 = 4;
const KEY: i32 = 6;
const STORAGE: i32 = 5;
const NOT_FOUND: i32 = 7;
const LOCAL_IO: i32 = 8;
const NEO4J_UNAVAILABLE: i32 = 9;
const NEO4J_FAILED: i32 = 10;
const ALL_FAILED: i32 = 11;
const BUSY: i32 = 12;
const PROTECTION_UNKNOWN: i32 = 15;

/// A case with the defaults (working config, no files, no environment).
const fn case(
    id: &'static str,
    what: &'static str,
    command: &'static [&'static str],
    expect_code: i32,
    must_mention: &'static [&'static str],
) -> Case {
    Case {
        id,
        case: what,
        config: &[],
        prep: &[],
        env: &[],
        command,
        expect_code,
        must_mention,
        check: &[],
    }
}

/// Seals the shared artifact (its database is customer1-1800000000).
const BACKUP_ARTIFACT: &[&str] = &[
    "backup",
    "--artifact",
    "<artifact>",
    "--database",
    "customer1-1800000000",
];
/// Restores the committed backup into `<tmp>/out`.
const RESTORE_TO_OUT: &[&str] = &[
    "restore",
    "--backup",
    "<id>",
    "--to-dir",
    "<tmp>/out",
    "--identity",
    "<identity>",
];
const RESTORE_WITH_TMP_IDENTITY: &[&str] = &[
    "restore",
    "--backup",
    "<id>",
    "--to-dir",
    "<tmp>/out",
    "--identity",
    "<tmp>/identity.txt",
];
/// `RESTORE_TO_OUT` accepting unsigned manifests.
const RESTORE_TO_OUT_UNSIGNED: &[&str] = &[
    "--allow-unsigned",
    "restore",
    "--backup",
    "<id>",
    "--to-dir",
    "<tmp>/out",
    "--identity",
    "<identity>",
];
/// A made-up age secret key (the shape `age-keygen` writes), mis-pasted.
const SECRET_KEY_BODY: &str = "1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE6MU";
/// A Neo4j-driven backup of the alias customer1.
const BACKUP_ALIAS: &[&str] = &["backup", "--alias", "customer1"];
const OUT_EMPTY: &[Check] = &[Check::Absent("out")];

static CASES: &[Case] = &[
    // --- config file, environment, --set: exit 2 -------------------------
    Case {
        config: &[Edit::NoFile],
        ..case(
            "config-missing",
            "config file does not exist",
            &["list"],
            USAGE,
            &["cannot read config file", "graphvault.toml"],
        )
    },
    Case {
        config: &[Edit::Whole("[storage\nurl = \"s3://<bucket>/gv\"\n")],
        ..case(
            "config-invalid-toml",
            "config file is not valid TOML",
            &["list"],
            USAGE,
            &["is invalid: line 1, column 9: invalid table header"],
        )
    },
    Case {
        config: &[Edit::Put(
            "encryption.recipients",
            "[\"AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE6MU]",
        )],
        check: &[Check::NotEchoed(SECRET_KEY_BODY)],
        ..case(
            "config-toml-error-near-a-secret",
            "a syntax error on a line holding a secret (the line is never quoted, only its position)",
            &["list"],
            USAGE,
            &["is invalid: line", "column", "invalid basic string"],
        )
    },
    Case {
        config: &[Edit::Put(
            "storage.list_page_size",
            "\"AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE6MU\"",
        )],
        check: &[Check::NotEchoed(SECRET_KEY_BODY)],
        ..case(
            "config-type-error-on-a-secret",
            "a secret pasted where a number belongs (serde would quote the value; graphvault does not)",
            &["list"],
            USAGE,
            &["is invalid: line", "invalid type: string \"…\", expected"],
        )
    },
    Case {
        config: &[Edit::Put("storage.bukket", "\"oops\"")],
        ..case(
            "config-unknown-key",
            "unknown key in a section",
            &["list"],
            USAGE,
            &["unknown field `bukket`", "expected one of"],
        )
    },
    Case {
        config: &[Edit::Append("[storge]\nurl = \"s3://x/y\"\n")],
        ..case(
            "config-unknown-section",
            "unknown section",
            &["list"],
            USAGE,
            &["unknown field `storge`", "expected one of"],
        )
    },
    Case {
        env: &[("GRAPHVAULT_STORGE_URL", "s3://x/y")],
        ..case(
            "env-unknown",
            "unknown `GRAPHVAULT_*` environment variable",
            &["list"],
            USAGE,
            &[
                "GRAPHVAULT_STORGE_URL",
                "is not a known setting",
                "docs/CONFIGURATION.md",
            ],
        )
    },
    case(
        "set-out-of-range",
        "value out of range",
        &["--set", "upload.part_size_mib=1", "list"],
        USAGE,
        &["upload.part_size_mib", "outside 5..=5120"],
    ),
    case(
        "set-no-equals",
        "`--set` without `=value`",
        &["--set", "storage.url", "list"],
        USAGE,
        &["--set storage.url", "expected SECTION.KEY=VALUE"],
    ),
    case(
        "set-password",
        "password on the command line",
        &["--set", "neo4j.password=secret", "list"],
        USAGE,
        &["must not be given on the command line", "password_file"],
    ),
    case(
        "url-scheme",
        "`storage.url` with an unsupported scheme",
        &["--set", "storage.url=ftp://bucket/prefix", "list"],
        USAGE,
        &["storage.url", "s3://"],
    ),
    case(
        "url-query-string",
        "`storage.url` with a query string pasted into the prefix",
        &["--set", "storage.url=s3://bucket/gv?x=1", "list"],
        USAGE,
        &["storage.url", "contains '?'", "letters, digits"],
    ),
    case(
        "url-space",
        "`storage.url` with a space in the prefix",
        &["--set", "storage.url=s3://bucket/g v", "list"],
        USAGE,
        &["storage.url", "contains ' '", "letters, digits"],
    ),
    case(
        "endpoint-no-scheme",
        "`storage.endpoint` without `http://`",
        &["--set", "storage.endpoint=127.0.0.1:4566", "list"],
        USAGE,
        &["storage.endpoint", "must start with http:// or https://"],
    ),
    Case {
        config: &[Edit::Drop("storage.url")],
        ..case(
            "url-missing",
            "`storage.url` not set",
            &["list"],
            USAGE,
            &["storage.url is not set", "GRAPHVAULT_STORAGE_URL"],
        )
    },
    // --- encryption keys: exit 6 ------------------------------------------
    case(
        "recipient-invalid",
        "recipient is not an age recipient",
        &[
            "--set",
            "encryption.recipients=[\"age1notarecipient\"]",
            "backup",
            "--artifact",
            "<artifact>",
            "--database",
            "customer1-1800000000",
        ],
        KEY,
        &["recipient #1", "is not an age X25519 recipient"],
    ),
    Case {
        config: &[Edit::Put(
            "encryption.recipients",
            "[\"AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE6MU\"]",
        )],
        check: &[Check::NotEchoed(SECRET_KEY_BODY)],
        ..case(
            "recipient-secret-key",
            "an age secret key pasted into `recipients` (never echoed, not even partly)",
            BACKUP_ARTIFACT,
            KEY,
            &[
                "recipient #1",
                "this looks like an age secret key (identity); put the public key (age1…) here",
            ],
        )
    },
    case(
        "recipients-empty",
        "no recipients on backup",
        &[
            "--set",
            "encryption.recipients=[]",
            "backup",
            "--artifact",
            "<artifact>",
            "--database",
            "customer1-1800000000",
        ],
        KEY,
        &["no age recipients configured", "graphvault key generate"],
    ),
    Case {
        prep: &[Prep::IdentityMode(0o644)],
        check: OUT_EMPTY,
        ..case(
            "identity-mode",
            "identity file readable by others (0644)",
            RESTORE_WITH_TMP_IDENTITY,
            KEY,
            &["identity.txt", "chmod 600"],
        )
    },
    Case {
        prep: &[Prep::File("identity.txt", "this is not an age identity\n")],
        check: OUT_EMPTY,
        ..case(
            "identity-garbage",
            "identity file holds no identity",
            RESTORE_WITH_TMP_IDENTITY,
            KEY,
            &["identity.txt", "holds no usable age"],
        )
    },
    Case {
        prep: &[Prep::StrangerIdentity],
        check: OUT_EMPTY,
        ..case(
            "identity-wrong",
            "wrong identity on restore",
            RESTORE_WITH_TMP_IDENTITY,
            KEY,
            &["encrypted to: <recipient>", "use the identity that matches"],
        )
    },
    Case {
        check: OUT_EMPTY,
        ..case(
            "identity-none",
            "restore without any identity",
            &["restore", "--backup", "<id>", "--to-dir", "<tmp>/out"],
            KEY,
            &["identity", "--identity"],
        )
    },
    // --- signing: exit 6 (key file) or 2 (config) -------------------------
    Case {
        prep: &[Prep::SigningKeyMode(0o644)],
        config: &[Edit::Put("signing.key_file", "\"<tmp>/signing.key\"")],
        ..case(
            "signing-key-mode",
            "signing key file readable by others (0644)",
            BACKUP_ARTIFACT,
            KEY,
            &["signing.key", "chmod 600"],
        )
    },
    Case {
        prep: &[Prep::File("signing.key", "not a minisign key\n")],
        config: &[Edit::Put("signing.key_file", "\"<tmp>/signing.key\"")],
        ..case(
            "signing-key-garbage",
            "signing key file is not a key",
            BACKUP_ARTIFACT,
            KEY,
            &["signing.key", "key generate-signing"],
        )
    },
    case(
        "trusted-key-invalid",
        "trusted key is not a minisign public key",
        &["--set", "signing.trusted_keys=[\"RWnotakey\"]", "list"],
        USAGE,
        &["signing.trusted_keys", "graphvault key generate-signing"],
    ),
    Case {
        config: &[Edit::Drop("signing.key_file")],
        ..case(
            "signing-key-none",
            "backup without a signing key",
            BACKUP_ARTIFACT,
            USAGE,
            &["key_file", "key generate-signing"],
        )
    },
    Case {
        config: &[Edit::Drop("signing.key_file"), Edit::Drop("signing.trusted_keys")],
        check: OUT_EMPTY,
        ..case(
            "trusted-keys-none",
            "restore without trusted keys",
            RESTORE_TO_OUT,
            USAGE,
            &["trusted_keys", "--allow-unsigned"],
        )
    },
    // --- the store: exit 5 --------------------------------------------------
    case(
        "bucket-missing",
        "bucket does not exist",
        &["--set", "storage.url=s3://gv-no-such-bucket-bad-input/gv", "list"],
        STORAGE,
        &["bucket 'gv-no-such-bucket-bad-input' does not exist", "fix storage.url"],
    ),
    case(
        "endpoint-down",
        "S3 endpoint not listening",
        &[
            "--set",
            "storage.endpoint=http://127.0.0.1:9",
            "--set",
            "storage.connect_timeout_secs=1",
            "backup",
            "--artifact",
            "<artifact>",
            "--database",
            "customer1-1800000000",
        ],
        STORAGE,
        &["lease on s3://<bucket>/gv", "Connection refused"],
    ),
    // --- names: exit 2 ------------------------------------------------------
    case(
        "db-quote",
        "database name with a quote",
        &["backup", "--artifact", "<artifact>", "--database", "customer1'x"],
        USAGE,
        &[
            "'customer1'x' is not a valid database or alias name",
            "use 1-63 ASCII letters",
        ],
    ),
    case(
        "db-backtick",
        "database name with a backtick",
        &["backup", "--database", "customer1`x"],
        USAGE,
        &[
            "'customer1`x' is not a valid Neo4j database name",
            "only ASCII letters, digits, '.' and '-' are allowed",
        ],
    ),
    case(
        "db-space",
        "database name with a space",
        &["backup", "--database", "customer 1"],
        USAGE,
        &[
            "'customer 1' is not a valid Neo4j database name",
            "only ASCII letters, digits, '.' and '-' are allowed",
        ],
    ),
    case(
        "db-too-long",
        "database name of 64 characters",
        &[
            "backup",
            "--database",
            "c123456789012345678901234567890123456789012345678901234567890123",
        ],
        USAGE,
        &[
            "is not a valid Neo4j database name",
            "it must be 3 to 63 characters long",
        ],
    ),
    case(
        "db-leading-digit",
        "database name starting with a digit",
        &["backup", "--database", "1customer"],
        USAGE,
        &[
            "'1customer' is not a valid Neo4j database name",
            "it must start with an ASCII letter",
        ],
    ),
    Case {
        check: OUT_EMPTY,
        ..case(
            "restore-as-invalid",
            "`restore --as` with an invalid name",
            &[
                "restore",
                "--database",
                "customer1",
                "--as",
                "new db",
                "--identity",
                "<identity>",
            ],
            USAGE,
            &[
                "'new db' is not a valid Neo4j database name",
                "only ASCII letters, digits, '.' and '-' are allowed",
            ],
        )
    },
    case(
        "label-invalid",
        "`--label` not a lowercase word",
        &[
            "backup",
            "--artifact",
            "<artifact>",
            "--database",
            "customer1-1800000000",
            "--label",
            "Pre Deploy",
        ],
        USAGE,
        &["'Pre Deploy' is not a valid label", "lowercase letters"],
    ),
    case(
        "artifact-no-database",
        "`--artifact` without `--database`",
        &["backup", "--artifact", "<artifact>"],
        USAGE,
        &["--artifact needs exactly one --database"],
    ),
    case(
        "flag-typo",
        "misspelt flag",
        &["backup", "--artifcat", "<artifact>"],
        USAGE,
        &[
            "unexpected argument '--artifcat'",
            "a similar argument exists: '--artifact'",
        ],
    ),
    // --- local files: exit 8 ------------------------------------------------
    case(
        "artifact-missing",
        "artifact does not exist",
        &[
            "backup",
            "--artifact",
            "<tmp>/customer1-1800000000-2026-11-24T02-00-00.backup",
            "--database",
            "customer1-1800000000",
        ],
        LOCAL_IO,
        &["customer1-1800000000-2026-11-24T02-00-00.backup", "No such file"],
    ),
    case(
        "artifact-unreadable",
        "the second of two artifacts cannot be read (fails at its first byte)",
        &[
            "backup",
            "--artifact",
            "<artifact>",
            "--artifact",
            "/proc/self/mem",
            "--database",
            "customer1-1800000000",
        ],
        LOCAL_IO,
        &["/proc/self/mem", "cannot be read", "owner and mode"],
    ),
    Case {
        prep: &[Prep::Dir("customer1-1800000000-2026-11-24T02-00-00.backup")],
        ..case(
            "artifact-dir",
            "artifact is a directory",
            &[
                "backup",
                "--artifact",
                "<tmp>/customer1-1800000000-2026-11-24T02-00-00.backup",
                "--database",
                "customer1-1800000000",
            ],
            LOCAL_IO,
            &["not a regular file"],
        )
    },
    Case {
        prep: &[Prep::ArtifactCopy("customer1 copy (2).backup")],
        check: &[Check::Exists("customer1 copy (2).backup")],
        ..case(
            "artifact-name",
            "artifact file name graphvault cannot store",
            &[
                "backup",
                "--artifact",
                "<tmp>/customer1 copy (2).backup",
                "--database",
                "customer1-1800000000",
            ],
            LOCAL_IO,
            &["customer1 copy (2).backup", "letters, digits"],
        )
    },
    Case {
        prep: &[Prep::File(
            "out/customer1-1800000000-2026-11-24T02-00-00.backup",
            "keep me\n",
        )],
        check: &[Check::FileIs(
            "out/customer1-1800000000-2026-11-24T02-00-00.backup",
            "keep me\n",
        )],
        ..case(
            "to-dir-occupied",
            "`--to-dir` already holds the artifact",
            RESTORE_TO_OUT,
            LOCAL_IO,
            &["already exists", "restore into an empty directory"],
        )
    },
    // --- forged objects in the bucket: exit 4/12 ----------------------------
    Case {
        config: &[Edit::Put("storage.url", "\"s3://<bucket>/gv-forged-parent\"")],
        prep: &[Prep::ForgedBackup {
            prefix: "gv-forged-parent",
            name: "../escaped.backup",
            signed: true,
            size: None,
        }],
        check: &[Check::Absent("out"), Check::Absent("escaped.backup")],
        ..case(
            "manifest-name-parent",
            "a signed manifest names an artifact `../escaped.backup` (outside `--to-dir`)",
            RESTORE_TO_OUT,
            INTEGRITY,
            &[
                "\"../escaped.backup\" is not a plain file name",
                "nothing was downloaded or written",
            ],
        )
    },
    Case {
        config: &[Edit::Put("storage.url", "\"s3://<bucket>/gv-forged-absolute\"")],
        prep: &[Prep::ForgedBackup {
            prefix: "gv-forged-absolute",
            name: "<tmp>/absolute.backup",
            signed: false,
            size: None,
        }],
        check: &[Check::Absent("out"), Check::Absent("absolute.backup")],
        ..case(
            "manifest-name-absolute",
            "an unsigned manifest names an artifact by an absolute path, restored with `--allow-unsigned`",
            RESTORE_TO_OUT_UNSIGNED,
            INTEGRITY,
            &[
                "\"<tmp>/absolute.backup\" is not a plain file name",
                "nothing was downloaded or written",
            ],
        )
    },
    Case {
        config: &[Edit::Put("storage.url", "\"s3://<bucket>/gv-forged-deep\"")],
        prep: &[Prep::ForgedBackup {
            prefix: "gv-forged-deep",
            name: "../escaped.backup",
            signed: true,
            size: None,
        }],
        ..case(
            "manifest-name-verify-deep",
            "`verify --deep` of a signed manifest naming an artifact `../escaped.backup` (outside staging)",
            &["verify", "--backup", "<id>", "--deep", "--identity", "<identity>"],
            INTEGRITY,
            &[
                "../escaped.backup",
                "is not a plain file name",
                "backup FAILED verification",
            ],
        )
    },
    Case {
        config: &[Edit::Put("storage.url", "\"s3://<bucket>/gv-huge\"")],
        prep: &[Prep::ForgedBackup {
            prefix: "gv-huge",
            name: "customer1-1800000000-2026-11-24T02-00-00.backup",
            signed: true,
            size: Some(1 << 60),
        }],
        check: OUT_EMPTY,
        ..case(
            "restore-to-dir-no-room",
            "`restore --to-dir` of a backup larger than the free space there",
            &[
                "restore",
                "--backup",
                "<id>",
                "--to-dir",
                "<tmp>/out",
                "--identity",
                "<identity>",
            ],
            LOCAL_IO,
            &["<tmp>/out", "free but restoring backup", "1.0 EiB", "larger disk"],
        )
    },
    Case {
        config: &[Edit::Put("storage.url", "\"s3://<bucket>/gv-unsigned-only\"")],
        prep: &[Prep::ForgedBackup {
            prefix: "gv-unsigned-only",
            name: "customer1-1800000000-2026-11-24T02-00-00.backup",
            signed: false,
            size: None,
        }],
        check: OUT_EMPTY,
        ..case(
            "latest-unsigned-only",
            "`restore --database` when the alias's only backup has no signature",
            &[
                "restore",
                "--database",
                "customer1",
                "--to-dir",
                "<tmp>/out",
                "--identity",
                "<identity>",
            ],
            INTEGRITY,
            &[
                "no trusted, complete backup of 'customer1'",
                "has no signature",
                "graphvault verify --all",
            ],
        )
    },
    Case {
        config: &[Edit::Put("storage.url", "\"s3://<bucket>/gv-stuck-lease\"")],
        prep: &[Prep::LeaseUntil9999 {
            prefix: "gv-stuck-lease",
        }],
        ..case(
            "lease-until-9999",
            "a lease object claiming to be held until the year 9999",
            BACKUP_ARTIFACT,
            BUSY,
            &[
                "until 9999-12-31",
                "longer than lease_max_ttl_secs",
                "graphvault doctor",
            ],
        )
    },
    // --- staging and Neo4j: exit 8/9/10/11 ----------------------------------
    Case {
        prep: &[Prep::File("file", "a regular file\n")],
        check: &[Check::FileIs("file", "a regular file\n")],
        ..case(
            "staging-not-dir",
            "staging dir under a regular file (unwritable; tests run as root)",
            &[
                "--set",
                "backup.staging_dir=<tmp>/file/staging",
                "backup",
                "--alias",
                "customer1",
            ],
            LOCAL_IO,
            &[
                "cannot lock <tmp>/file/staging/.graphvault.lock",
                "check [backup] staging_dir",
            ],
        )
    },
    case(
        "staging-full",
        "staging has less free space than `min_free_mib`",
        &[
            "--set",
            "backup.min_free_mib=10000000",
            "backup",
            "--alias",
            "customer1",
        ],
        ALL_FAILED,
        &["needs about", "min_free_mib"],
    ),
    Case {
        prep: &[Prep::File("staging/.neo4j-admin-runs/4242.json", "{not json")],
        check: &[Check::FileIs("staging/.neo4j-admin-runs/4242.json", "{not json")],
        ..case(
            "run-record-unreadable",
            "a neo4j-admin run record in staging that is not JSON (a stray neo4j-admin could not be ruled out)",
            &[
                "--set",
                "backup.staging_dir=<tmp>/staging",
                "backup",
                "--alias",
                "customer1",
            ],
            ALL_FAILED,
            &["cannot read the neo4j-admin run record", "4242.json", "then delete"],
        )
    },
    case(
        "admin-missing",
        "neo4j-admin not found",
        &[
            "--set",
            "neo4j.admin_path=<tmp>/bin/neo4j-admin",
            "backup",
            "--alias",
            "customer1",
        ],
        NEO4J_FAILED,
        &["neo4j-admin not found at <tmp>/bin/neo4j-admin", "admin_path"],
    ),
    Case {
        env: &[("NEO4J_ADMIN_DOUBLE_VERSION", "4.4.30")],
        ..case(
            "admin-4x",
            "neo4j-admin is 4.x",
            BACKUP_ALIAS,
            NEO4J_FAILED,
            &["neo4j-admin 4.4.30", "needs Neo4j 5.x or 2025.x"],
        )
    },
    Case {
        config: &[Edit::Put(
            "neo4j.admin_env",
            "{ NEO4J_ADMIN_DOUBLE_SIZE = \"20000\", NEO4J_ADMIN_DOUBLE_FAIL = \"*:exit1\" }",
        )],
        ..case(
            "admin-fails",
            "neo4j-admin fails for every database",
            BACKUP_ALIAS,
            ALL_FAILED,
            &[
                "neo4j-admin database backup failed (exit 1)",
                "Connection reset by peer",
            ],
        )
    },
    Case {
        prep: &[Prep::File("pw", "wrong")],
        ..case(
            "bolt-password",
            "wrong Bolt password",
            &[
                "--set",
                "neo4j.password_file=<tmp>/pw",
                "backup",
                "--alias",
                "customer1",
            ],
            NEO4J_UNAVAILABLE,
            &["refused the credentials", "password_file"],
        )
    },
    case(
        "bolt-down",
        "Bolt endpoint not listening",
        &[
            "--set",
            "neo4j.bolt_uri=bolt://127.0.0.1:9",
            "backup",
            "--alias",
            "customer1",
        ],
        NEO4J_UNAVAILABLE,
        &["cannot reach Neo4j at bolt://127.0.0.1:9", "bolt_uri"],
    ),
    case(
        "alias-unknown",
        "alias Neo4j does not have",
        &["backup", "--alias", "customer9"],
        NOT_FOUND,
        &["customer9", "alias list"],
    ),
    // --- backup ids and times -------------------------------------------------
    Case {
        check: OUT_EMPTY,
        ..case(
            "id-unknown",
            "backup id that does not exist",
            &[
                "restore",
                "--backup",
                "20200101T000000Z-abcdef",
                "--to-dir",
                "<tmp>/out",
                "--identity",
                "<identity>",
            ],
            NOT_FOUND,
            &["20200101T000000Z-abcdef", "graphvault list"],
        )
    },
    Case {
        check: OUT_EMPTY,
        ..case(
            "id-malformed",
            "malformed backup id",
            &[
                "restore",
                "--backup",
                "not-an-id",
                "--to-dir",
                "<tmp>/out",
                "--identity",
                "<identity>",
            ],
            USAGE,
            &["'not-an-id' is not a backup id", "expected YYYYMMDDTHHMMSSZ-xxxxxx"],
        )
    },
    Case {
        check: OUT_EMPTY,
        ..case(
            "restore-no-backups",
            "restore of an alias without backups",
            &[
                "restore",
                "--database",
                "customer9",
                "--to-dir",
                "<tmp>/out",
                "--identity",
                "<identity>",
            ],
            NOT_FOUND,
            &["customer9", "Aliases with backups there: customer1"],
        )
    },
    Case {
        check: OUT_EMPTY,
        ..case(
            "at-unparsable",
            "`restore --at` not a time",
            &[
                "restore",
                "--database",
                "customer1",
                "--at",
                "yesterday",
                "--to-dir",
                "<tmp>/out",
                "--identity",
                "<identity>",
            ],
            USAGE,
            &["yesterday", "2026-11-24T02:00:00Z"],
        )
    },
    Case {
        check: OUT_EMPTY,
        ..case(
            "at-before-first",
            "`restore --at` before the first backup",
            &[
                "restore",
                "--database",
                "customer1",
                "--at",
                "2000-01-01T00:00:00Z",
                "--to-dir",
                "<tmp>/out",
                "--identity",
                "<identity>",
            ],
            NOT_FOUND,
            &["2000-01-01", "graphvault list"],
        )
    },
    Case {
        check: OUT_EMPTY,
        ..case(
            "list-since-unparsable",
            "`list --since` not a time",
            &["list", "--since", "yesterday"],
            USAGE,
            &["--since", "yesterday", "2026-11-24T02:00:00Z"],
        )
    },
    Case {
        config: &[Edit::Put("monitor.history", "3"), Edit::Put("monitor.min_history", "5")],
        check: OUT_EMPTY,
        ..case(
            "monitor-min-history-above-history",
            "`[monitor] min_history` above `history`",
            &["list"],
            USAGE,
            &["monitor.min_history", "at most monitor.history"],
        )
    },
    case(
        "verify-id-unknown",
        "`verify` of a backup id that does not exist",
        &["verify", "--backup", "20200101T000000Z-abcdef"],
        NOT_FOUND,
        &["20200101T000000Z-abcdef", "graphvault list"],
    ),
    case(
        "prune-database-unknown",
        "`prune --database` of a name with no backups (a typo)",
        &["prune", "--dry-run", "--database", "customer9"],
        NOT_FOUND,
        &[
            "no backup of alias or database 'customer9'",
            "Aliases with backups there: customer1",
        ],
    ),
    // --- typos in names and prefixes read as mistakes, not as "0 backup(s)" --
    case(
        "list-database-typo",
        "`list --database` of a misspelt alias",
        &["list", "--database", "custmer1"],
        NOT_FOUND,
        &["no backup of alias or database 'custmer1'", "did you mean 'customer1'?"],
    ),
    case(
        "list-alias-is-a-database",
        "`list --alias` given a database name",
        &["list", "--alias", "customer1-1800000000"],
        NOT_FOUND,
        &["no backup of alias 'customer1-1800000000'", "did you mean 'customer1'?"],
    ),
    case(
        "stats-database-typo",
        "`stats --database` of a misspelt alias",
        &["stats", "--database", "custmer1"],
        NOT_FOUND,
        &["'custmer1'", "did you mean 'customer1'?"],
    ),
    case(
        "verify-database-typo",
        "`verify --database` of a misspelt alias",
        &["verify", "--database", "custmer1"],
        NOT_FOUND,
        &["'custmer1'", "did you mean 'customer1'?"],
    ),
    Case {
        config: &[Edit::Put("encryption.identity_file", "\"<identity>\"")],
        ..case(
            "drill-alias-typo",
            "`drill --database` of a misspelt alias",
            &["drill", "--database", "custmer1"],
            NOT_FOUND,
            &["no backup of alias 'custmer1'", "did you mean 'customer1'?"],
        )
    },
    case(
        "storage-prefix-typo",
        "`storage.url` with a misspelt prefix next to the repository",
        &["--set", "storage.url=s3://<bucket>/gw", "list"],
        NOT_FOUND,
        &[
            "s3://<bucket>/gw holds no graphvault repository",
            "this location holds one: s3://<bucket>/gv",
            "fix storage.url",
        ],
    ),
    // --- credentials: exit 5, told once, not retried ---------------------------
    Case {
        prep: &[Prep::File("aws-empty", "# no profiles\n")],
        env: &[
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_SHARED_CREDENTIALS_FILE", "<tmp>/aws-empty"),
            ("AWS_CONFIG_FILE", "<tmp>/aws-empty"),
        ],
        ..case(
            "credentials-missing",
            "no AWS credentials anywhere in the chain",
            &["list"],
            STORAGE,
            &[
                "no AWS credentials found",
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                "AWS_PROFILE",
                "instance or task role",
            ],
        )
    },
    Case {
        config: &[Edit::Put("storage.endpoint", "\"<no-versioning-endpoint>\"")],
        ..case(
            "prune-versioning-unreadable",
            "`prune` by a role without s3:GetBucketVersioning",
            &["prune"],
            PROTECTION_UNKNOWN,
            &[
                "prune deleted nothing",
                "GetBucketVersioning: HTTP 403 AccessDenied",
                "grant this role s3:GetBucketVersioning",
                "assume_versioning = true|false",
            ],
        )
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_with_its_exit_code_a_clear_message_and_loses_nothing() {
    assert!(CASES.len() >= 35, "at least 35 cases");
    let mut ids: Vec<&str> = CASES.iter().map(|c| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), CASES.len(), "case ids are unique");

    let started = std::time::Instant::now();
    let world = World::new().await;
    let mut failed = Vec::new();
    let mut rows = Vec::new();
    for case in CASES {
        let outcome = harness::run_case(&world, case).await;
        eprintln!(
            "{:<24} exit {:>2} in {:>5.2}s  {}",
            case.id,
            outcome.run.code,
            outcome.elapsed.as_secs_f64(),
            outcome.message
        );
        // BAD_INPUT_SHOW=<case id> prints that case's whole output.
        if std::env::var("BAD_INPUT_SHOW").as_deref() == Ok(case.id) {
            eprintln!("{}", outcome.run.explain());
        }
        if !outcome.failures.is_empty() {
            failed.push(format!(
                "[{}] {}:\n  - {}\n  message: {}\n{}",
                case.id,
                case.case,
                outcome.failures.join("\n  - "),
                outcome.message,
                outcome.run.explain()
            ));
        }
        rows.push((case, outcome.message));
    }
    eprintln!("{} cases in {:.1}s", CASES.len(), started.elapsed().as_secs_f64());
    assert!(
        failed.is_empty(),
        "{} of {} bad-input cases failed:\n\n{}",
        failed.len(),
        CASES.len(),
        failed.join("\n\n")
    );

    let generated = harness::failures_md(&rows);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/FAILURES.md");
    if std::env::var_os("UPDATE_FAILURES").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(generated.lines().count()));
        panic!(
            "docs/FAILURES.md is out of date (first difference at line {}):\n  committed: {}\n  observed:  {}\n\
             If the new messages are intended, regenerate it with `UPDATE_FAILURES=1 cargo test --test bad_input` \
             and review the diff.",
            first + 1,
            committed.lines().nth(first).unwrap_or("<end of file>"),
            generated.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}
