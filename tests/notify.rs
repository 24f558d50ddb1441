//! Webhook delivery against a small HTTP server in the test: retries on 5xx,
//! gives up at once on 4xx, and never shows the URL's secret path.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use graphvault::notify::{send, WebhookSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `statuses` in turn (then 200), recording each request body.
async fn server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
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
                seen.lock().unwrap().push(body);
            }
            let status = statuses.next().unwrap_or(200);
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    (format!("http://{addr}/hooks/T000/SECRET-TOKEN"), bodies)
}

fn settings(url: &str) -> WebhookSettings {
    WebhookSettings {
        url: Some(url.to_string()),
        on_success: true,
        on_failure: true,
        timeout: Duration::from_secs(5),
        max_attempts: 3,
    }
}

#[tokio::test]
async fn a_5xx_is_retried_and_the_json_arrives() {
    let (url, bodies) = server(vec![503]).await;
    send(
        &settings(&url),
        &serde_json::json!({"event": "backup", "outcome": "partial"}),
    )
    .await
    .unwrap();
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one retry after the 503");
    let json: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap();
    assert_eq!(json["outcome"], "partial");
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_the_error_hides_the_secret() {
    let (url, bodies) = server(vec![403]).await;
    let err = send(&settings(&url), &serde_json::json!({})).await.unwrap_err();
    assert_eq!(bodies.lock().unwrap().len(), 1);
    let text = format!("{err} {err:?}");
    assert!(text.contains("403") && text.contains("127.0.0.1"), "{text}");
    assert!(!text.contains("SECRET-TOKEN"), "{text}");
}

#[tokio::test]
async fn an_unreachable_receiver_fails_after_the_attempts() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = settings(&format!("http://127.0.0.1:{port}/x/SECRET-TOKEN"));
    s.max_attempts = 2;
    let err = send(&s, &serde_json::json!({})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("2 attempt") && !text.contains("SECRET-TOKEN"), "{text}");
}
