//! The `graphvault` binary: parse, set up logging, run, map the error to an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

use graphvault::cli::LogFormat;
use graphvault::exit::{classify, render, Exit};

fn main() -> ExitCode {
    let cli = graphvault::help_text::parse();
    graphvault::telemetry::init(cli.log_format, cli.verbose, cli.quiet);
    // rustls needs one process-wide crypto provider. The AWS SDK brings
    // aws-lc-rs, other TLS users (e.g. the Bolt client, neo4rs) bring ring;
    // with both compiled in and none chosen, rustls panics at the first TLS
    // connection. An Err only means one was installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let log_format = cli.log_format;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("graphvault: error: cannot start the async runtime: {e}");
            return Exit::Internal.into();
        }
    };
    match runtime.block_on(graphvault::app::run(cli)) {
        Ok(()) => Exit::Ok.into(),
        Err(err) => {
            let code = classify(&err);
            if log_format == LogFormat::Json {
                tracing::error!(exit_code = code as u8, error = render(&err), "graphvault failed");
            } else {
                eprintln!("graphvault: error: {}", render(&err));
            }
            code.into()
        }
    }
}
