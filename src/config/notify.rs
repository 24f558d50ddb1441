//! The `[notify]` section: a webhook told about runs (generic JSON POST).

use std::time::Duration;

use serde::Deserialize;

use super::{in_range, ConfigError, OneOrMany};
use crate::notify::WebhookSettings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    webhook_url: Option<String>,
    #[serde(default)]
    on: OneOrMany,
    timeout_secs: Option<u64>,
    max_attempts: Option<u32>,
}

/// Keys of `[notify]` (for env and `--set` validation).
pub(super) const KEYS: &[&str] = &["webhook_url", "on", "timeout_secs", "max_attempts"];

pub(super) fn from_raw(raw: RawNotify) -> Result<WebhookSettings, ConfigError> {
    if let Some(url) = &raw.webhook_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                key: "notify.webhook_url",
                // The URL may hold a token: do not echo it.
                message: "must start with https:// (or http://)".into(),
            });
        }
    }
    let mut on = raw.on.into_vec();
    if on.is_empty() {
        on.push("failure".into());
    }
    let (mut on_success, mut on_failure) = (false, false);
    for event in &on {
        match event.as_str() {
            "success" => on_success = true,
            "failure" => on_failure = true,
            other => {
                return Err(ConfigError::Invalid {
                    key: "notify.on",
                    message: format!("'{other}' is not an event: use \"failure\", \"success\" or both"),
                })
            }
        }
    }
    Ok(WebhookSettings {
        url: raw.webhook_url,
        on_success,
        on_failure,
        timeout: Duration::from_secs(in_range("notify.timeout_secs", raw.timeout_secs, 10, 1..=300, "")?),
        max_attempts: in_range("notify.max_attempts", raw.max_attempts, 4, 1..=20, "")?,
    })
}
