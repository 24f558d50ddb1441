//! A webhook receiver for tests: a small HTTP server that records each
//! request body and answers with the statuses it is given. A body that says
//! it is a graphvault document is checked against its schema (docs/JSON.md).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `statuses` in turn (then 200), recording each request body.
pub async fn receiver(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        let mut statuses = statuses.into_iter();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read headers, then Content-Length bytes of body.
            let body = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(text[end + 4..end + 4 + len].to_string());
                    }
                }
            };
            if let Some(body) = body {
                check_document(&body);
                seen.lock().unwrap().push(body);
            }
            let status = statuses.next().unwrap_or(200);
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    (format!("http://{addr}/hooks/T000/SECRET-TOKEN"), bodies)
}

/// Panics (failing the test) if `body` claims to be `graphvault.webhook`
/// and does not match its schema.
fn check_document(body: &str) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return;
    };
    if value["schema"].as_str().is_some_and(|s| s.starts_with("graphvault.")) {
        let doc = graphvault::json::JsonDocument::Webhook;
        if let Err(e) = super::json_contract::validate(doc, &value) {
            panic!("the webhook body {e}\n{body}");
        }
    }
}
