//! The double at the byte level, as a Bolt 5 driver would see it: version
//! negotiation, HELLO/LOGON, the FAILED state, WAIT results, parameters.

use std::collections::BTreeMap;
use std::time::Duration;

use bolt_double::packstream::{encode, map, Decoder, Value};
use bolt_double::wire::MAGIC;
use bolt_double::BoltDouble;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Client {
    sock: TcpStream,
}

impl Client {
    /// Connects and proposes `versions`; returns the client and the answer.
    async fn connect(addr: std::net::SocketAddr, versions: [[u8; 4]; 4]) -> (Self, [u8; 4]) {
        let mut sock = TcpStream::connect(addr).await.unwrap();
        let mut hello = MAGIC.to_vec();
        for v in versions {
            hello.extend(v);
        }
        sock.write_all(&hello).await.unwrap();
        let mut answer = [0u8; 4];
        sock.read_exact(&mut answer).await.unwrap();
        (Self { sock }, answer)
    }

    async fn send(&mut self, tag: u8, fields: Vec<Value>) {
        let mut body = Vec::new();
        encode(&Value::Struct { tag, fields }, &mut body);
        let mut out = (body.len() as u16).to_be_bytes().to_vec();
        out.extend(body);
        out.extend([0, 0]);
        self.sock.write_all(&out).await.unwrap();
    }

    async fn recv(&mut self) -> (u8, Vec<Value>) {
        let mut msg = Vec::new();
        loop {
            let mut len = [0u8; 2];
            self.sock.read_exact(&mut len).await.unwrap();
            let n = u16::from_be_bytes(len) as usize;
            if n == 0 {
                break;
            }
            let start = msg.len();
            msg.resize(start + n, 0);
            self.sock.read_exact(&mut msg[start..]).await.unwrap();
        }
        match Decoder::new(&msg).value().unwrap() {
            Value::Struct { tag, fields } => (tag, fields),
            other => panic!("not a message: {other:?}"),
        }
    }

    async fn run(&mut self, query: &str, params: Value) -> (u8, Vec<Value>) {
        self.send(0x10, vec![query.into(), params, map([("db", "system".into())])])
            .await;
        self.recv().await
    }

    /// RUN + PULL all: rows, or the failure code.
    async fn query(&mut self, query: &str, params: Value) -> Result<Vec<Vec<Value>>, String> {
        let (tag, fields) = self.run(query, params).await;
        if tag == 0x7F {
            return Err(fields[0].get("code").as_str().unwrap().to_string());
        }
        self.send(0x3F, vec![map([("n", Value::Int(-1))])]).await;
        let mut rows = Vec::new();
        loop {
            match self.recv().await {
                (0x71, f) => match &f[0] {
                    Value::List(r) => rows.push(r.clone()),
                    other => panic!("{other:?}"),
                },
                (0x70, _) => return Ok(rows),
                other => panic!("{other:?}"),
            }
        }
    }
}

fn auth(password: &str) -> Value {
    map([
        ("scheme", "basic".into()),
        ("principal", "neo4j".into()),
        ("credentials", password.into()),
        ("user_agent", "test/1".into()),
    ])
}

const NONE: [u8; 4] = [0, 0, 0, 0];

async fn server() -> bolt_double::Running {
    BoltDouble::builder()
        .password("pw")
        .database("customer1-1700000000")
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn bolt_4_0_to_4_3_and_3_are_refused_and_the_connection_closed() {
    let s = server().await;
    let (mut c, answer) = Client::connect(s.addr(), [[0, 0, 3, 4], [0, 0, 1, 4], [0, 0, 0, 4], [0, 0, 0, 3]]).await;
    assert_eq!(answer, [0, 0, 0, 0]);
    let mut buf = [0u8; 1];
    assert_eq!(c.sock.read(&mut buf).await.unwrap(), 0, "closed after refusing");
}

#[tokio::test]
async fn a_5_x_range_gets_5_4_and_5_1_plus_authenticates_with_logon() {
    let s = server().await;
    let (mut c, answer) = Client::connect(s.addr(), [[0, 8, 8, 5], [0, 0, 4, 4], NONE, NONE]).await;
    assert_eq!(answer, [0, 0, 4, 5]);
    c.send(0x01, vec![map([("user_agent", "test/1".into())])]).await;
    let (tag, meta) = c.recv().await;
    assert_eq!(tag, 0x70);
    assert_eq!(meta[0].get("server").as_str(), Some("Neo4j/5.26.0"));
    // Before LOGON nothing else is allowed.
    c.send(0x6A, vec![auth("pw")]).await;
    assert_eq!(c.recv().await.0, 0x70);
    let rows = c.query("RETURN 1 AS ok", map([])).await.unwrap();
    assert_eq!(rows, vec![vec![Value::Int(1)]]);
}

#[tokio::test]
async fn a_wrong_password_fails_unauthorized_and_closes() {
    let s = server().await;
    let (mut c, answer) = Client::connect(s.addr(), [[0, 0, 4, 4], NONE, NONE, NONE]).await;
    assert_eq!(answer, [0, 0, 4, 4]);
    c.send(0x01, vec![auth("nope")]).await;
    let (tag, fields) = c.recv().await;
    assert_eq!(tag, 0x7F);
    assert_eq!(
        fields[0].get("code").as_str(),
        Some("Neo.ClientError.Security.Unauthorized")
    );
    let mut buf = [0u8; 1];
    assert_eq!(c.sock.read(&mut buf).await.unwrap(), 0);
}

async fn ready(s: &bolt_double::Running) -> Client {
    let (mut c, _) = Client::connect(s.addr(), [[0, 0, 4, 4], NONE, NONE, NONE]).await;
    c.send(0x01, vec![auth("pw")]).await;
    assert_eq!(c.recv().await.0, 0x70);
    c
}

#[tokio::test]
async fn after_a_failure_everything_is_ignored_until_reset() {
    let s = server().await;
    let mut c = ready(&s).await;
    assert_eq!(
        c.query("DROP DATABASE `nope-1`", map([])).await,
        Err("Neo.ClientError.Database.DatabaseNotFound".into())
    );
    c.send(0x3F, vec![map([("n", Value::Int(-1))])]).await;
    assert_eq!(c.recv().await.0, 0x7E, "IGNORED");
    assert_eq!(c.run("SHOW DATABASES", map([])).await.0, 0x7E, "IGNORED");
    c.send(0x0F, vec![]).await;
    assert_eq!(c.recv().await.0, 0x70);
    assert!(c.query("SHOW DATABASES", map([])).await.unwrap().len() >= 3);
}

#[tokio::test]
async fn names_come_quoted_or_as_parameters_and_errors_carry_neo4j_codes() {
    let s = server().await;
    let mut c = ready(&s).await;
    let params = Value::Map(BTreeMap::from([
        ("a".to_string(), Value::from("customer1")),
        ("d".to_string(), Value::from("customer1-1700000000")),
    ]));
    c.query("CREATE ALIAS $a FOR DATABASE $d", params.clone())
        .await
        .unwrap();
    assert_eq!(
        s.aliases(),
        [("customer1".to_string(), "customer1-1700000000".to_string())]
    );
    assert_eq!(
        c.query("CREATE ALIAS $a FOR DATABASE $d", params).await,
        Err("Neo.ClientError.Database.ExistingDatabaseFound".into())
    );
    c.send(0x0F, vec![]).await;
    c.recv().await;
    for (q, code) in [
        (
            "CREATE DATABASE `customer1-1700000000`",
            "Neo.ClientError.Database.ExistingDatabaseFound",
        ),
        ("CREATE DATABASE `bad_name`", "Neo.ClientError.Statement.ArgumentError"),
        (
            "ALTER ALIAS `nope` SET DATABASE TARGET neo4j",
            "Neo.ClientError.Database.DatabaseNotFound",
        ),
        (
            "CREATE ALIAS x1y FOR DATABASE `missing-1`",
            "Neo.ClientError.Database.DatabaseNotFound",
        ),
        (
            "DROP DATABASE `customer1-1700000000`",
            "Neo.ClientError.Statement.ArgumentError",
        ),
        ("MATCH (n) RETURN count(n)", "Neo.ClientError.Statement.SyntaxError"),
    ] {
        assert_eq!(c.query(q, map([])).await, Err(code.to_string()), "{q}");
        c.send(0x0F, vec![]).await;
        c.recv().await;
    }
    c.query("DROP DATABASE `customer1-1700000000` CASCADE ALIASES", map([]))
        .await
        .unwrap();
    assert!(s.aliases().is_empty());
}

#[tokio::test]
async fn create_database_wait_returns_the_wait_row_once_online() {
    let s = BoltDouble::builder()
        .password("pw")
        .online_delay(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let mut c = ready(&s).await;
    c.query("CREATE DATABASE `c2-1` NOWAIT", map([])).await.unwrap();
    let status = c
        .query("SHOW DATABASE `c2-1` YIELD currentStatus", map([]))
        .await
        .unwrap();
    assert_eq!(status, vec![vec![Value::from("starting")]]);
    let rows = c
        .query("CREATE DATABASE `c3-1` WAIT 10 SECONDS", map([]))
        .await
        .unwrap();
    assert_eq!(rows[0][3], Value::Bool(true), "{rows:?}");
    let rows = c
        .query("CREATE DATABASE `c4-1` IF NOT EXISTS WAIT 0 SECONDS", map([]))
        .await
        .unwrap();
    assert_eq!(rows[0][3], Value::Bool(false), "timed out: {rows:?}");
    let status = c
        .query("SHOW DATABASE `c2-1` YIELD currentStatus", map([]))
        .await
        .unwrap();
    assert_eq!(status, vec![vec![Value::from("online")]]);
}

/// The tag of `creationTime` in `SHOW DATABASE neo4j YIELD creationTime`
/// on a connection of Bolt `version`, with `patch_bolt` in HELLO.
async fn creation_time_tag(version: [u8; 4], patch_bolt: Option<&str>) -> (u8, Value) {
    let s = server().await;
    let (mut c, answer) = Client::connect(s.addr(), [version, NONE, NONE, NONE]).await;
    assert_eq!(answer, version);
    let mut hello = auth("pw");
    if let (Some(p), Value::Map(m)) = (patch_bolt, &mut hello) {
        m.insert("patch_bolt".into(), Value::List(vec![p.into()]));
    }
    c.send(0x01, vec![hello]).await;
    let (tag, meta) = c.recv().await;
    assert_eq!(tag, 0x70, "{meta:?}");
    let rows = c
        .query("SHOW DATABASE neo4j YIELD creationTime", map([]))
        .await
        .unwrap();
    match &rows[0][0] {
        Value::Struct { tag, fields } => {
            assert_eq!(fields.len(), 3, "seconds, nanoseconds, offset");
            assert_eq!(fields[2], Value::Int(0), "UTC");
            (*tag, meta[0].get("patch_bolt").clone())
        }
        other => panic!("creationTime is not a DateTime structure: {other:?}"),
    }
}

#[tokio::test]
async fn zoned_datetimes_use_the_utc_structure_on_bolt_5_and_on_4_4_with_the_utc_patch() {
    assert_eq!(creation_time_tag([0, 0, 0, 5], None).await, (0x49, Value::Null));
    // Bolt 4.4: the legacy structure unless the client asked for `utc`,
    // which the server then confirms in HELLO's SUCCESS.
    assert_eq!(creation_time_tag([0, 0, 4, 4], None).await, (0x46, Value::Null));
    assert_eq!(
        creation_time_tag([0, 0, 4, 4], Some("utc")).await,
        (0x49, Value::List(vec!["utc".into()]))
    );
}
