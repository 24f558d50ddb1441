//! Webhook delivery against a small HTTP server in the test: retries on 5xx,
//! gives up at once on 4xx, and never shows the URL's secret path.

use std::time::Duration;

mod common;

use common::webhook::receiver as server;
use graphvault::notify::{send, WebhookSettings};

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
