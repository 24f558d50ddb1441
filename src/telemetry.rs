//! Logging: human text or one JSON object per event, always on stderr
//! (stdout is for command output). `GRAPHVAULT_LOG` takes a tracing filter
//! (e.g. `graphvault=debug`) and wins over -v/-q.

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
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
    }
}
