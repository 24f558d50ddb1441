//! Logging: human text or one JSON object per event, always on stderr
//! (stdout is for command output). `GRAPHVAULT_LOG` takes a tracing filter
//! (e.g. `graphvault=debug`) and wins over -v/-q. Text logs are coloured
//! only on a terminal, and never when `NO_COLOR` is set and not empty
//! (https://no-color.org; clap's help and errors honour it too).

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber; call once, first thing in `main`.
pub fn init(format: LogFormat, verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "info,graphvault=debug",
        _ => "debug,graphvault=trace",
    };
    let filter = std::env::var("GRAPHVAULT_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Text => builder
            .with_ansi(colour(
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
    }
}

/// Whether to colour text logs: on a terminal, unless `NO_COLOR` is present
/// and not empty.
pub fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::colour;
    use std::ffi::OsStr;

    #[test]
    fn no_color_present_and_not_empty_turns_colour_off() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(true, Some(OsStr::new("false"))));
        assert!(!colour(false, None));
    }
}
