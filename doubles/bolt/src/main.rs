//! `bolt-double`: the Bolt server double as a process, for shell-level tests
//! and the quickstart. Prints `listening on ADDR` once bound, logs queries on
//! stderr, keeps its state in `--state FILE` across restarts.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// A stand-in for a Neo4j 5 server's Bolt endpoint (system database admin commands only).
#[derive(Debug, Parser)]
#[command(name = "bolt-double", version)]
struct Args {
    /// Address to listen on (port 0: any free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:7687")]
    listen: String,
    #[arg(long, default_value = "neo4j")]
    user: String,
    /// File holding the password (trailing newline ignored).
    #[arg(long)]
    password_file: PathBuf,
    /// JSON state file: loaded if present, rewritten after every change.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Milliseconds a created or started database takes to come online.
    #[arg(long, default_value_t = 0)]
    online_delay_ms: u64,
    /// Databases to create at start (repeatable).
    #[arg(long = "database")]
    databases: Vec<String>,
    /// ALIAS=DATABASE to create at start (repeatable).
    #[arg(long = "alias")]
    aliases: Vec<String>,
    /// Act as a cluster of N servers (this one and N-1 reported ones).
    #[arg(long, default_value_t = 1)]
    cluster: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let password = match std::fs::read_to_string(&args.password_file) {
        Ok(p) => p.trim_end_matches(['\n', '\r']).to_string(),
        Err(e) => {
            eprintln!("bolt-double: cannot read {}: {e}", args.password_file.display());
            return std::process::ExitCode::from(2);
        }
    };
    let mut b = bolt_double::BoltDouble::builder()
        .listen(&args.listen)
        .user(&args.user)
        .password(&password)
        .online_delay(Duration::from_millis(args.online_delay_ms))
        .cluster(args.cluster)
        .echo_queries(true);
    if let Some(s) = args.state {
        b = b.state_file(s);
    }
    for d in &args.databases {
        b = b.database(d);
    }
    for a in &args.aliases {
        let Some((alias, db)) = a.split_once('=') else {
            eprintln!("bolt-double: --alias wants ALIAS=DATABASE, got '{a}'");
            return std::process::ExitCode::from(2);
        };
        b = b.alias(alias, db);
    }
    let server = match b.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bolt-double: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    println!("listening on {}", server.addr());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bolt-double: cannot handle SIGTERM: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}
