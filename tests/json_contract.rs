//! The JSON contract itself (docs/JSON.md): every command line that takes
//! `--json` has a documented, versioned schema; every schema compiles and
//! names its version; every example in docs/JSON.md is valid. That each
//! output the suite produces validates is checked where the binary runs
//! (tests/common/json_contract.rs).

mod common;

use clap::CommandFactory;
use common::json_contract::{expected_document, schema_dir, validate, validate_against};
use graphvault::cli::Cli;
use graphvault::json::JsonDocument;

fn json_md() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/JSON.md")).unwrap()
}

/// Every subcommand path (`["drill", "history"]`, …) that has a `--json` flag.
fn paths_with_json(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
    if cmd.get_arguments().any(|a| a.get_long() == Some("json")) {
        out.push(path.clone());
    }
    for sub in cmd.get_subcommands() {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        paths_with_json(sub, p, out);
    }
}

#[test]
fn every_command_with_json_has_a_schema() {
    let mut paths = Vec::new();
    paths_with_json(&Cli::command(), Vec::new(), &mut paths);
    assert!(paths.len() >= 11, "{paths:?}");
    let mut lines: Vec<Vec<String>> = paths
        .into_iter()
        .map(|mut p| {
            p.push("--json".into());
            p
        })
        .collect();
    // The flags that change which document a command prints.
    let variant = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    lines.push(variant(&[
        "backup",
        "--database",
        "db",
        "--artifact",
        "db.backup",
        "--json",
    ]));
    lines.push(variant(&["restore", "--to-dir", "/tmp/x", "--json"]));
    for line in lines {
        let doc = expected_document(&line)
            .unwrap_or_else(|| panic!("`graphvault {}` has no JSON document (src/json/mod.rs)", line.join(" ")));
        assert!(
            schema_dir().join(format!("{}.json", doc.name())).is_file(),
            "`graphvault {}` prints {} but docs/schemas/{}.json is missing",
            line.join(" "),
            doc.id(),
            doc.name()
        );
    }
}

#[test]
fn every_document_has_a_schema_that_names_its_version_and_a_section_in_json_md() {
    let doc_text = json_md();
    for doc in JsonDocument::ALL {
        let path = schema_dir().join(format!("{}.json", doc.name()));
        let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if doc.enveloped() {
            assert_eq!(
                schema["properties"]["schema"]["const"],
                doc.id(),
                "{} must require schema = {}",
                path.display(),
                doc.id()
            );
        }
        assert!(
            doc_text.contains(&format!("\n### `{}`\n", doc.name())),
            "docs/JSON.md has no section ### `{}`",
            doc.name()
        );
    }
}

#[test]
fn every_schema_file_is_a_document_or_shared_by_them() {
    for entry in std::fs::read_dir(schema_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let stem = name
            .strip_suffix(".json")
            .unwrap_or_else(|| panic!("{name} in docs/schemas/"));
        assert!(
            ["common", "manifest"].contains(&stem) || JsonDocument::ALL.iter().any(|d| d.name() == stem),
            "docs/schemas/{name} belongs to no document"
        );
    }
}

#[test]
fn every_example_in_json_md_is_valid() {
    let text = json_md();
    let mut checked = Vec::new();
    for block in text.split("```json\n").skip(1) {
        let body = block.split("```").next().unwrap();
        let value: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("docs/JSON.md example is not JSON ({e}):\n{body}"));
        let id = value["schema"].as_str().unwrap_or("graphvault.lifecycle-suggest/1");
        let doc = JsonDocument::ALL
            .into_iter()
            .find(|d| d.id() == id)
            .unwrap_or_else(|| panic!("docs/JSON.md example of unknown schema {id}"));
        validate(doc, &value).unwrap_or_else(|e| panic!("docs/JSON.md example of {id} {e}"));
        checked.push(doc);
    }
    for doc in JsonDocument::ALL {
        assert!(checked.contains(&doc), "docs/JSON.md has no example of {}", doc.id());
    }
}

#[test]
fn the_schemas_refuse_what_the_contract_forbids() {
    let list = |time: &str, extra: Option<(&str, serde_json::Value)>| {
        let mut b = serde_json::json!({
            "backup_id": "20261124T020000Z-3fa91c", "alias": "c1", "database": "c1-1", "time": time,
            "labels": [], "manifest_key": "k", "signed": true, "untrusted": false,
        });
        if let Some((k, v)) = extra {
            b[k] = v;
        }
        serde_json::json!({"schema": "graphvault.list/1", "backups": [b]})
    };
    assert!(validate(JsonDocument::List, &list("2026-11-24T02:00:00Z", None)).is_ok());
    for bad in [
        "2026-11-24T02:00:00+00:00",
        "2026-11-24T02:00:00.5Z",
        "2026-11-24 02:00:00",
    ] {
        assert!(validate(JsonDocument::List, &list(bad, None)).is_err(), "{bad}");
    }
    let undocumented = list("2026-11-24T02:00:00Z", Some(("colour", "red".into())));
    assert!(
        validate(JsonDocument::List, &undocumented).is_err(),
        "an undocumented field"
    );
    let bare_array = serde_json::json!([]);
    assert!(validate(JsonDocument::List, &bare_array).is_err(), "a bare array");
    let old_word = serde_json::json!({
        "schema": "graphvault.backup/1", "outcome": "all_failed", "databases": [],
        "skipped_unaliased": [], "skipped_aliases": [],
    });
    assert!(
        validate(JsonDocument::Backup, &old_word).is_err(),
        "all_failed is failed now"
    );
    assert!(validate_against("common.json#/$defs/outcome", &"unchecked".into()).is_ok());
}
