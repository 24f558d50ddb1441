//! The JSON contract (docs/JSON.md), checked on every run of the binary:
//! a command line that asks for JSON must print a document that validates
//! against its schema, docs/schemas/<name>.json. `common::cli::run` calls
//! [`check_output`], so every `--json` output the suite produces is checked.

use std::path::PathBuf;

use clap::Parser;
use graphvault::cli::Cli;
use graphvault::json::JsonDocument;

/// docs/schemas/ of this checkout.
pub fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/schemas")
}

/// Validates `value` against the schema of `doc`; the error says where and why.
pub fn validate(doc: JsonDocument, value: &serde_json::Value) -> Result<(), String> {
    validate_against(&format!("{}.json", doc.name()), value)
}

/// Validates `value` against docs/schemas/`file` (with its `$ref`s).
pub fn validate_against(file: &str, value: &serde_json::Value) -> Result<(), String> {
    let path = schema_dir().join(file);
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let index = compiler
        .compile(&path.display().to_string(), &mut schemas)
        .map_err(|e| format!("schema {} does not compile: {e:#}", path.display()))?;
    schemas
        .validate(value, index)
        .map_err(|e| format!("does not match {}: {e:#}", path.display()))
}

/// The document `args` (the command line, without the program) print on
/// stdout, if they ask for JSON and parse.
pub fn expected_document(args: &[String]) -> Option<JsonDocument> {
    let cli = Cli::try_parse_from(std::iter::once("graphvault".to_string()).chain(args.iter().cloned())).ok()?;
    JsonDocument::printed_by(&cli)
}

/// Panics unless the output of a run with `args` keeps the contract: a run
/// asking for JSON prints one document of its kind, valid against its
/// schema (or, having failed, nothing).
pub fn check_output(args: &[String], code: i32, stdout: &str, explain: impl Fn() -> String) {
    let Some(doc) = expected_document(args) else {
        return;
    };
    if stdout.is_empty() && code != 0 {
        return;
    }
    let value: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("--json printed no JSON document ({e}): {}", explain()));
    if doc.enveloped() {
        assert_eq!(
            value["schema"],
            doc.id(),
            "--json printed another document than {}: {}",
            doc.id(),
            explain()
        );
    }
    if let Err(e) = validate(doc, &value) {
        panic!("the {} document {e}\n{}", doc.name(), explain());
    }
}

/// The list `field` of the document `stdout` holds (`findings`, `backups`, …).
pub fn items(stdout: &str, field: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not a JSON document ({e}):\n{stdout}"));
    match &doc[field] {
        serde_json::Value::Array(items) => items.clone(),
        _ => panic!("no list {field:?} in:\n{doc:#}"),
    }
}
