//! One client connection: handshake, authentication, then the Bolt server
//! state machine (READY → STREAMING / TX_READY, FAILED until RESET) as
//! Neo4j 5 runs it, answering RUN with the results of `state.rs`.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::cypher;
use crate::packstream::{map, Value};
use crate::server::Shared;
use crate::state::{failure, Failure};
use crate::temporal;
use crate::wire::{self, frame, parse_message, read_message, Version};

// Request signatures.
const HELLO: u8 = 0x01;
const GOODBYE: u8 = 0x02;
const RESET: u8 = 0x0F;
const RUN: u8 = 0x10;
const BEGIN: u8 = 0x11;
const COMMIT: u8 = 0x12;
const ROLLBACK: u8 = 0x13;
const DISCARD: u8 = 0x2F;
const PULL: u8 = 0x3F;
const TELEMETRY: u8 = 0x54;
const ROUTE: u8 = 0x66;
const LOGON: u8 = 0x6A;
const LOGOFF: u8 = 0x6B;
// Response signatures.
const SUCCESS: u8 = 0x70;
const RECORD: u8 = 0x71;
const IGNORED: u8 = 0x7E;
const FAILURE: u8 = 0x7F;

const SERVER_AGENT: &str = "Neo4j/5.26.0";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for HELLO.
    Connected,
    /// Bolt 5.1+: HELLO done, waiting for LOGON.
    Authentication,
    Ready,
    Failed,
}

struct Session {
    shared: Arc<Shared>,
    version: Version,
    phase: Phase,
    /// Date-times go out as the UTC structure (Bolt 5, or 4.4 with the
    /// `utc` patch); otherwise as the legacy one (`temporal.rs`).
    utc_datetimes: bool,
    /// Database of the open explicit transaction, if any.
    tx_db: Option<String>,
    /// Records of the last RUN not yet pulled.
    pending: VecDeque<Vec<Value>>,
    streaming: bool,
    db_of_stream: String,
    out: Vec<u8>,
}

/// Serves one connection until the client leaves or authentication fails.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut sock: S, shared: Arc<Shared>) -> std::io::Result<()> {
    let Some(version) = wire::handshake(&mut sock).await? else {
        return Ok(()); // refused: Neo4j 5 closes the connection
    };
    let mut s = Session {
        shared,
        version,
        phase: Phase::Connected,
        utc_datetimes: version.major >= 5,
        tx_db: None,
        pending: VecDeque::new(),
        streaming: false,
        db_of_stream: String::new(),
        out: Vec::new(),
    };
    while let Some(bytes) = read_message(&mut sock).await? {
        let keep_open = match parse_message(&bytes) {
            Ok((tag, fields)) => s.handle(tag, fields).await,
            Err(e) => {
                s.fail(failure("Neo.ClientError.Request.Invalid", e));
                true
            }
        };
        sock.write_all(&s.out).await?;
        sock.flush().await?;
        s.out.clear();
        if !keep_open {
            break;
        }
    }
    Ok(())
}

impl Session {
    fn reply(&mut self, tag: u8, fields: Vec<Value>) {
        frame(tag, fields, &mut self.out);
    }

    fn success(&mut self, meta: Value) {
        self.reply(SUCCESS, vec![meta]);
    }

    fn fail(&mut self, f: Failure) {
        self.reply(
            FAILURE,
            vec![map([("code", f.code.into()), ("message", f.message.into())])],
        );
        self.phase = Phase::Failed;
        self.pending.clear();
        self.streaming = false;
        self.tx_db = None;
    }

    /// Checks basic credentials; `false` closes the connection.
    fn authenticate(&mut self, auth: &Value) -> bool {
        let ok = auth.get("scheme").as_str() == Some("basic")
            && auth.get("principal").as_str() == Some(self.shared.user.as_str())
            && auth.get("credentials").as_str() == Some(self.shared.password.as_str());
        if !ok {
            self.fail(failure(
                "Neo.ClientError.Security.Unauthorized",
                "The client is unauthorized due to authentication failure.",
            ));
        }
        ok
    }

    /// Handles one request; returns whether the connection stays open.
    async fn handle(&mut self, tag: u8, fields: Vec<Value>) -> bool {
        let first = fields.first().cloned().unwrap_or(Value::Null);
        match (self.phase, tag) {
            (_, GOODBYE) => return false,
            (Phase::Connected, HELLO) => {
                let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
                // Bolt 4.3/4.4: a client asks for UTC date-times with
                // `patch_bolt: ["utc"]`; the server agrees by echoing it.
                let wants_utc =
                    matches!(first.get("patch_bolt"), Value::List(p) if p.iter().any(|x| x.as_str() == Some("utc")));
                let patched = self.version.major == 4 && wants_utc;
                self.utc_datetimes |= patched;
                if self.version.has_logon() {
                    self.phase = Phase::Authentication;
                } else if self.authenticate(&first) {
                    self.phase = Phase::Ready;
                } else {
                    return false;
                }
                let mut meta = map([
                    ("server", SERVER_AGENT.into()),
                    ("connection_id", format!("bolt-{id}").into()),
                    ("hints", map([])),
                ]);
                if let (true, Value::Map(m)) = (patched, &mut meta) {
                    m.insert("patch_bolt".into(), Value::List(vec!["utc".into()]));
                }
                self.success(meta);
            }
            (Phase::Authentication, LOGON) => {
                if !self.authenticate(&first) {
                    return false;
                }
                self.phase = Phase::Ready;
                self.success(map([]));
            }
            (Phase::Connected | Phase::Authentication, _) => {
                self.fail(failure(
                    "Neo.ClientError.Request.Invalid",
                    "Message received before authentication",
                ));
                return false;
            }
            (_, RESET) => {
                self.phase = Phase::Ready;
                self.pending.clear();
                self.streaming = false;
                self.tx_db = None;
                self.success(map([]));
            }
            (Phase::Failed, _) => self.reply(IGNORED, vec![]),
            (Phase::Ready, LOGOFF) if self.version.has_logon() => {
                self.phase = Phase::Authentication;
                self.success(map([]));
            }
            (Phase::Ready, TELEMETRY) => self.success(map([])),
            (Phase::Ready, ROUTE) => self.fail(failure(
                "Neo.ClientError.Request.Invalid",
                "ROUTE is not supported by the test double (use bolt://, not neo4j://)",
            )),
            (Phase::Ready, BEGIN) => {
                let db = first.get("db").as_str().unwrap_or("neo4j").to_string();
                // Neo4j refuses a transaction on a missing or stopped database at BEGIN.
                let unusable = self.shared.state().unusable(&db.to_ascii_lowercase());
                match unusable {
                    Some(f) => self.fail(f),
                    None => {
                        self.tx_db = Some(db);
                        self.success(map([]));
                    }
                }
            }
            (Phase::Ready, COMMIT) if self.tx_db.is_some() => {
                self.tx_db = None;
                self.success(map([("bookmark", "FB:graphvault-double".into())]));
            }
            (Phase::Ready, ROLLBACK) if self.tx_db.is_some() => {
                self.tx_db = None;
                self.success(map([]));
            }
            (Phase::Ready, RUN) => self.run(fields).await,
            (Phase::Ready, PULL) if self.streaming => self.pull(first.get("n").as_int().unwrap_or(-1)),
            (Phase::Ready, DISCARD) if self.streaming => {
                self.pending.clear();
                self.end_stream();
            }
            (Phase::Ready, other) => self.fail(failure(
                "Neo.ClientError.Request.Invalid",
                format!("Message 0x{other:02X} cannot be handled by a session in this state"),
            )),
        }
        true
    }

    fn pull(&mut self, n: i64) {
        let take = if n < 0 {
            self.pending.len()
        } else {
            (n as usize).min(self.pending.len())
        };
        for _ in 0..take {
            if let Some(r) = self.pending.pop_front() {
                let mut record = Value::List(r);
                if !self.utc_datetimes {
                    temporal::to_legacy(&mut record);
                }
                self.reply(RECORD, vec![record]);
            }
        }
        if self.pending.is_empty() {
            self.end_stream();
        } else {
            self.success(map([("has_more", true.into())]));
        }
    }

    fn end_stream(&mut self) {
        self.streaming = false;
        let db = std::mem::take(&mut self.db_of_stream);
        let mut meta = map([("t_last", 0.into()), ("type", "s".into()), ("db", db.into())]);
        if self.tx_db.is_none() {
            if let Value::Map(m) = &mut meta {
                m.insert("bookmark".into(), "FB:graphvault-double".into());
            }
        }
        self.success(meta);
    }

    async fn run(&mut self, fields: Vec<Value>) {
        let query = fields.first().and_then(Value::as_str).unwrap_or_default().to_string();
        let params = fields.get(1).cloned().unwrap_or(Value::Map(Default::default()));
        let extra = fields.get(2).cloned().unwrap_or(Value::Null);
        let db = match &self.tx_db {
            Some(db) => db.clone(),
            None => extra.get("db").as_str().unwrap_or("neo4j").to_string(),
        };
        self.shared.log_query(&db, &query, &params);
        if self.shared.stall.load(Ordering::Relaxed) {
            // Never answers: the client's own timeout must end the wait.
            std::future::pending::<()>().await;
        }
        if let Some(f) = self.shared.take_injected_failure() {
            return self.fail(f);
        }
        let unusable = self.shared.state().unusable(&db.to_ascii_lowercase());
        if let Some(f) = unusable {
            return self.fail(f);
        }
        let result = match self.shared.canned(&db, &query) {
            Some(rows) => Ok((rows, None)),
            None => match cypher::parse(&query) {
                Ok(cmd) => self.shared.apply(&cmd, &params, &db),
                Err(e) => Err(failure("Neo.ClientError.Statement.SyntaxError", e)),
            },
        };
        let (mut rows, wait) = match result {
            Ok(r) => r,
            Err(f) => return self.fail(f),
        };
        if let Some(w) = wait {
            let deadline = Instant::now() + w.limit;
            if let Some(at) = self.shared.online_at(&w.database) {
                tokio::time::sleep_until(at.min(deadline).into()).await;
            }
            rows = self.shared.wait_result(&w.database);
        }
        let columns: Vec<Value> = rows.columns.iter().map(|c| Value::from(c.as_str())).collect();
        let mut meta = map([("fields", Value::List(columns)), ("t_first", 0.into())]);
        if self.tx_db.is_some() {
            if let Value::Map(m) = &mut meta {
                m.insert("qid".into(), 0.into());
            }
        }
        self.pending = rows.rows.into();
        self.streaming = true;
        self.db_of_stream = db;
        self.success(meta);
    }
}
