//! A fault-injecting HTTP proxy between graphvault and LocalStack, in the
//! test process (tokio). Every request is forwarded on its own upstream
//! connection (`Connection: close`), so a response is simply the bytes until
//! the upstream closes; that makes it easy to cut, stall or replace.
//!
//! Faults are rules: "the `skip`+1-th to `skip`+`times`-th request matching
//! `op` gets `action`". Every request is recorded (op, range, fault) for the
//! test to look at. `Action::Hold` parks the request and reports it on a
//! channel, so a test can SIGKILL graphvault at exactly that point.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The S3 operation a request is, from its method, path and query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S3Op {
    Put,
    UploadPart,
    CreateMultipart,
    CompleteMultipart,
    AbortMultipart,
    Get,
    Head,
    List,
    Delete,
    Tagging,
    /// GetBucketVersioning (`GET /bucket?versioning`).
    GetVersioning,
    /// GetObjectLockConfiguration (`GET /bucket?object-lock`).
    GetObjectLock,
    /// GetObjectRetention and GetObjectLegalHold (`GET /key?retention`,
    /// `?legal-hold`).
    GetObjectProtection,
    Other,
    /// Matches every request (rules count all of them).
    Any,
}

/// What to do with a matching request.
#[derive(Clone, Debug)]
pub enum Action {
    /// Answer with an S3 error without forwarding.
    Error { status: u16, code: &'static str },
    /// Forward, then send only the first half of the response and reset the
    /// connection (RST).
    ResetMidBody,
    /// Forward, then send the response head and a part of the body, and close
    /// cleanly: fewer bytes than Content-Length.
    Truncate,
    /// Wait this long before forwarding.
    Stall(Duration),
    /// Read half the request body (all of it when there is none), report the
    /// request on the hold channel, and never answer.
    Hold,
}

#[derive(Clone, Debug)]
struct Rule {
    op: S3Op,
    /// Only requests whose target contains this.
    contains: Option<String>,
    skip: usize,
    times: usize,
    seen: usize,
    action: Action,
}

/// One request the proxy saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub index: usize,
    pub op: S3Op,
    pub target: String,
    pub range: Option<String>,
    pub fault: Option<String>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

pub struct S3Proxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    pub held: mpsc::UnboundedReceiver<Seen>,
}

impl S3Proxy {
    /// Starts a proxy to LocalStack (`common::endpoint()`).
    pub async fn start() -> Self {
        let upstream = super::endpoint().trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let (held_tx, held) = mpsc::unbounded_channel();
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (st, upstream, held_tx) = (st.clone(), upstream.clone(), held_tx.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, st, held_tx).await;
                });
            }
        });
        Self { endpoint, state, held }
    }

    /// Requests `skip`+1 … `skip`+`times` matching `op` get `action`.
    pub fn inject(&self, op: S3Op, skip: usize, times: usize, action: Action) {
        self.inject_on(op, "", skip, times, action)
    }

    /// `inject`, counting only requests whose target contains `contains`.
    pub fn inject_on(&self, op: S3Op, contains: &str, skip: usize, times: usize, action: Action) {
        self.state.lock().unwrap().rules.push(Rule {
            op,
            contains: (!contains.is_empty()).then(|| contains.to_string()),
            skip,
            times,
            seen: 0,
            action,
        });
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn faults(&self) -> usize {
        self.seen().iter().filter(|s| s.fault.is_some()).count()
    }
}

fn classify(method: &str, target: &str) -> S3Op {
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let has = |k: &str| query.split('&').any(|p| p == k || p.starts_with(&format!("{k}=")));
    match method {
        "PUT" if has("tagging") => S3Op::Tagging,
        "PUT" if has("partNumber") => S3Op::UploadPart,
        "PUT" => S3Op::Put,
        "POST" if has("uploads") => S3Op::CreateMultipart,
        "POST" if has("uploadId") => S3Op::CompleteMultipart,
        "DELETE" if has("uploadId") => S3Op::AbortMultipart,
        "DELETE" => S3Op::Delete,
        "HEAD" => S3Op::Head,
        "GET" if has("list-type") || has("uploads") || has("versions") => S3Op::List,
        "GET" if has("tagging") => S3Op::Tagging,
        "GET" if has("versioning") => S3Op::GetVersioning,
        "GET" if has("object-lock") => S3Op::GetObjectLock,
        "GET" if has("retention") || has("legal-hold") => S3Op::GetObjectProtection,
        "GET" => S3Op::Get,
        _ => S3Op::Other,
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    state: Arc<Mutex<State>>,
    held_tx: mpsc::UnboundedSender<Seen>,
) -> std::io::Result<()> {
    // The request head.
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (
        first.next().unwrap_or("").to_string(),
        first.next().unwrap_or("").to_string(),
    );
    assert!(
        header(&head, "transfer-encoding").is_none(),
        "s3_proxy: chunked request bodies are not supported: {head}"
    );
    let length: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let op = classify(&method, &target);
    let (index, action) = {
        let mut st = state.lock().unwrap();
        let action = st
            .rules
            .iter_mut()
            .filter(|r| r.op == op || r.op == S3Op::Any)
            .filter(|r| r.contains.as_ref().is_none_or(|c| target.contains(c.as_str())))
            .find_map(|r| {
                r.seen += 1;
                (r.seen > r.skip && r.seen <= r.skip + r.times).then(|| r.action.clone())
            });
        let index = st.seen.len();
        st.seen.push(Seen {
            index,
            op,
            target: target.clone(),
            range: header(&head, "range").map(String::from),
            fault: action.as_ref().map(|a| format!("{a:?}")),
        });
        (index, action)
    };
    let seen = state.lock().unwrap().seen[index].clone();

    match &action {
        Some(Action::Hold) => {
            let want = head_end + length / 2;
            while buf.len() < want {
                let mut chunk = [0u8; 65536];
                let n = client.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let _ = held_tx.send(seen);
            std::future::pending::<()>().await;
        }
        Some(Action::Error { status, code }) => {
            read_body(&mut client, &mut buf, head_end + length).await?;
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected by the test proxy</Message><RequestId>proxy</RequestId></Error>"
            );
            let reason = match status {
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                403 => "Forbidden",
                501 => "Not Implemented",
                _ => "Error",
            };
            let response = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(response.as_bytes()).await?;
            return client.shutdown().await;
        }
        Some(Action::Stall(d)) => tokio::time::sleep(*d).await,
        _ => {}
    }
    read_body(&mut client, &mut buf, head_end + length).await?;

    // Forward with `Connection: close`.
    let mut forwarded = String::new();
    for (i, line) in head[..head_end - 4].split("\r\n").enumerate() {
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        forwarded.push_str(line);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(forwarded.as_bytes()).await?;
    up.write_all(&buf[head_end..]).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    let response = with_connection_close(response);

    match action {
        Some(Action::ResetMidBody) | Some(Action::Truncate) => {
            let body_start = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |p| p + 4);
            let cut = body_start + (response.len() - body_start) / 2;
            client.write_all(&response[..cut]).await?;
            if matches!(action, Some(Action::ResetMidBody)) {
                // Linger 0: close with RST at once (so dropping does not block).
                #[allow(deprecated)]
                client.set_linger(Some(Duration::ZERO))?;
                drop(client);
                return Ok(());
            }
            client.shutdown().await
        }
        _ => {
            client.write_all(&response).await?;
            client.shutdown().await
        }
    }
}

/// The response with `Connection: close` in its head, so that the client
/// never reuses the connection this proxy closes.
fn with_connection_close(response: Vec<u8>) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response;
    };
    let head = String::from_utf8_lossy(&response[..end]).to_string();
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&response[end + 4..]);
    bytes
}

async fn read_body(client: &mut TcpStream, buf: &mut Vec<u8>, total: usize) -> std::io::Result<()> {
    while buf.len() < total {
        let mut chunk = [0u8; 65536];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}
