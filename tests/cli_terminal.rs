//! The binary on a terminal: coloured output unless `NO_COLOR` is set and
//! not empty (https://no-color.org), for both the logs and clap's errors.
//! A real pseudo-terminal comes from `script` (util-linux), so the test
//! sees what an operator would.

mod common;

use common::cli::{graphvault, run, Run};

const ESC: char = '\u{1b}';

/// `graphvault ARGS` on a pseudo-terminal with NO_COLOR set to `no_color`
/// (unset for `None`); both output streams, as the terminal shows them.
fn on_a_terminal(args: &str, no_color: Option<&str>) -> Run {
    let mut cmd = graphvault();
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_graphvault"));
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    // An operator's terminal says what it is; CI may run with no TERM at
    // all, and a terminal of unknown type gets no colour.
    script.env("TERM", "xterm-256color");
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    run(script)
}

#[test]
fn no_color_turns_colour_off_in_logs_and_errors() {
    let store = tempfile::tempdir().unwrap();
    // A WARN log line (unsigned manifests allowed), and a clap error.
    let log = format!(
        "--allow-unsigned --set storage.url=file://{} list",
        store.path().display()
    );
    for args in [log.as_str(), "--no-such-flag"] {
        let coloured = on_a_terminal(args, None);
        assert!(
            coloured.stdout.contains(ESC),
            "{args}: no colour on a terminal\n{}",
            coloured.explain()
        );
        let empty = on_a_terminal(args, Some(""));
        assert!(
            empty.stdout.contains(ESC),
            "{args}: an empty NO_COLOR keeps colour\n{}",
            empty.explain()
        );
        let plain = on_a_terminal(args, Some("1"));
        assert!(
            !plain.stdout.contains(ESC),
            "{args}: colour despite NO_COLOR\n{}",
            plain.explain()
        );
        assert!(
            plain.stdout.contains("WARN") || plain.stdout.contains("error:"),
            "{}",
            plain.explain()
        );
    }
}
