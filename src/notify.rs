//! Webhook notifications: one JSON POST per run (backup, drill), on failure
//! and/or success, retried with backoff on network errors and 5xx. The body
//! is the `graphvault.webhook` document (docs/JSON.md): the run's outcome,
//! and its `--json` report as it is.
//!
//! The URL often carries a secret token (Slack, PagerDuty, ...): it is never
//! logged, only its host is. A notification that cannot be delivered is
//! logged as an error; it never changes the run's exit code, which already
//! says what happened.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::json::{JsonDocument, Outcome};

/// What a webhook says about one run (docs/JSON.md, `webhook`).
#[derive(Clone, Debug, Serialize)]
pub struct Notification {
    /// `backup` or `drill`.
    pub event: &'static str,
    pub outcome: Outcome,
    pub host: String,
    #[serde(with = "crate::json::timestamp")]
    pub finished_at: DateTime<Utc>,
    pub graphvault_version: &'static str,
    /// Why the run could not start (then there is no report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The run's `--json` document, as `--json` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
}

impl Notification {
    /// A run that ended now on `host`, with `report`.
    pub fn new(event: &'static str, outcome: Outcome, host: String, report: serde_json::Value) -> Self {
        Self {
            event,
            outcome,
            host,
            finished_at: Utc::now(),
            graphvault_version: crate::VERSION,
            error: None,
            report: Some(report),
        }
    }

    /// A run that could not start: `failed`, with the error and no report.
    pub fn not_started(event: &'static str, host: String, error: String) -> Self {
        Self {
            error: Some(error),
            report: None,
            ..Self::new(event, Outcome::Failed, host, serde_json::Value::Null)
        }
    }

    /// The POST body.
    pub fn body(&self) -> serde_json::Value {
        crate::json::value(JsonDocument::Webhook, self).unwrap_or_default()
    }
}

/// `[notify]` settings.
#[derive(Clone, Debug, Default)]
pub struct WebhookSettings {
    pub url: Option<String>,
    pub on_success: bool,
    pub on_failure: bool,
    pub timeout: Duration,
    pub max_attempts: u32,
}

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("webhook to {host}: {detail} (after {attempts} attempt(s))")]
    Failed {
        host: String,
        detail: String,
        attempts: u32,
    },
}

/// The host of a URL, for logs (never the path or query: they hold tokens).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(String::from))
        .unwrap_or_else(|| "(invalid url)".into())
}

/// Whether a run with this result should be announced.
pub fn wanted(settings: &WebhookSettings, success: bool) -> bool {
    settings.url.is_some()
        && if success {
            settings.on_success
        } else {
            settings.on_failure
        }
}

/// POSTs `payload` as JSON, retrying transient failures.
pub async fn send<T: Serialize + ?Sized>(settings: &WebhookSettings, payload: &T) -> Result<(), NotifyError> {
    let Some(url) = settings.url.as_deref() else {
        return Ok(());
    };
    let host = host_of(url);
    let fail = |detail: String, attempts| NotifyError::Failed {
        host: host.clone(),
        detail,
        attempts,
    };
    // reqwest takes rustls's process-wide provider; main installs it, but a
    // library caller may not have (an Err only means one is installed).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(settings.timeout)
        .user_agent(concat!("graphvault/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(e.to_string(), 0))?;
    let attempts = settings.max_attempts.max(1);
    let mut delay = Duration::from_millis(500);
    for attempt in 1..=attempts {
        let outcome = client.post(url).json(payload).send().await;
        let retry = match outcome {
            Ok(r) if r.status().is_success() => {
                tracing::info!(host = %host, status = r.status().as_u16(), "webhook delivered");
                return Ok(());
            }
            // 4xx: the receiver refuses this request; sending it again won't help.
            Ok(r) if r.status().is_client_error() && r.status().as_u16() != 429 => {
                return Err(fail(format!("refused with HTTP {}", r.status()), attempt));
            }
            Ok(r) => format!("HTTP {}", r.status()),
            // reqwest errors can include the URL: keep only their kind.
            Err(e) => {
                if e.is_timeout() {
                    "timed out".to_string()
                } else if e.is_connect() {
                    "cannot connect".to_string()
                } else {
                    "request failed".to_string()
                }
            }
        };
        if attempt == attempts {
            return Err(fail(retry, attempt));
        }
        tracing::warn!(host = %host, attempt, error = %retry, "webhook not delivered; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
    Err(fail("no attempt made".into(), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_of_a_url_is_shown() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T000/B000/SECRET"),
            "hooks.slack.com"
        );
        assert_eq!(host_of("not a url"), "(invalid url)");
    }

    #[test]
    fn wanted_follows_the_settings() {
        let mut s = WebhookSettings {
            url: Some("http://x".into()),
            on_failure: true,
            ..WebhookSettings::default()
        };
        assert!(wanted(&s, false) && !wanted(&s, true));
        s.on_success = true;
        assert!(wanted(&s, true));
        s.url = None;
        assert!(!wanted(&s, false));
    }
}
