//! The pure half of doctor's bucket checks: versioning and object lock as
//! read (or stated in config), and what a delete probe says about these
//! credentials. A setting that could not be read is reported as unknown, an
//! error, and never as "off".

use crate::ops::bucket_settings::{Known, Setting};
use crate::store::StoreError;

use super::judge::{finding, Finding, Severity};

fn state(setting: Setting, known: &Known) -> String {
    match known {
        Known::Read(v) => on(*v).to_string(),
        Known::Stated { value, .. } => format!("{} (as retention.{} states)", on(*value), setting.config_key()),
        Known::Unknown(_) => "unknown".to_string(),
    }
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// The `bucket` finding: ok when both settings were read; an error when
/// one is unknown; a warning when config had to state one.
pub fn judge_bucket(versioning: &Known, object_lock: &Known) -> Finding {
    let settings = [(Setting::Versioning, versioning), (Setting::ObjectLock, object_lock)];
    let mut message = format!(
        "versioning {}, object lock {}",
        state(Setting::Versioning, versioning),
        state(Setting::ObjectLock, object_lock)
    );
    let causes: Vec<String> = settings
        .iter()
        .filter_map(|(_, k)| match k {
            Known::Stated { cause, .. } | Known::Unknown(cause) => Some(cause.to_string()),
            Known::Read(_) => None,
        })
        .collect();
    if causes.is_empty() {
        return finding("bucket", Severity::Ok, message, None);
    }
    message.push_str(": ");
    message.push_str(&causes.join("; "));
    let unread: Vec<Setting> = settings
        .iter()
        .filter(|(_, k)| !matches!(k, Known::Read(_)))
        .map(|(s, _)| *s)
        .collect();
    let permissions: Vec<&str> = unread.iter().map(|s| s.permission()).collect();
    let keys: Vec<String> = unread
        .iter()
        .map(|s| format!("{} = true|false", s.config_key()))
        .collect();
    let (severity, fix) = if settings.iter().any(|(_, k)| matches!(k, Known::Unknown(_))) {
        (
            Severity::Error,
            format!(
                "grant this role {} (prune deletes nothing until it can read them), or, if you know the bucket's \
                 settings, state them in config: [retention] {}",
                permissions.join(" and "),
                keys.join(", ")
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "grant this role {} so that the bucket's own answer is used instead of the config's",
                permissions.join(" and ")
            ),
        )
    };
    Finding {
        fix: Some(fix),
        ..finding("bucket", severity, message, None)
    }
}

/// The `credentials` finding from a DELETE of a key that does not exist
/// (it changes nothing) and what is known of object lock.
pub fn judge_delete(probe: Result<(), StoreError>, object_lock: Option<bool>) -> Finding {
    match (probe, object_lock) {
        (Ok(()), Some(false)) => finding(
            "credentials",
            Severity::Warning,
            "these credentials can delete objects and the bucket has no object lock: whoever takes this host can erase the backups",
            Some("give backup hosts the writer role (put/list, no delete) and run prune elsewhere, or enable object lock"),
        ),
        (Ok(()), Some(true)) => finding("credentials", Severity::Ok, "can delete, but object lock protects objects", None),
        (Ok(()), None) => finding(
            "credentials",
            Severity::Warning,
            "these credentials can delete objects, and whether object lock protects them is unknown (the bucket's object lock setting could not be read)",
            Some("grant s3:GetBucketObjectLockConfiguration so that doctor can tell; give backup hosts the writer role (put/list, no delete)"),
        ),
        (Err(StoreError::AccessDenied { .. }), _) => {
            finding("credentials", Severity::Ok, "these credentials cannot delete (writer role)", None)
        }
        (Err(e), _) => finding("credentials", Severity::Warning, format!("delete permission unknown: {e}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(op: &'static str) -> StoreError {
        StoreError::AccessDenied {
            op,
            detail: "HTTP 403 AccessDenied".into(),
        }
    }

    #[test]
    fn an_unreadable_setting_is_an_error_saying_unknown_never_off() {
        let f = judge_bucket(
            &Known::Unknown(denied("GetBucketVersioning")),
            &Known::Unknown(StoreError::Unsupported {
                op: "GetObjectLockConfiguration",
                detail: "HTTP 501 NotImplemented".into(),
            }),
        );
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .starts_with("versioning unknown, object lock unknown: access denied during GetBucketVersioning"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("HTTP 501 NotImplemented") && !f.message.contains("off"),
            "{}",
            f.message
        );
        let fix = f.fix.unwrap();
        assert!(
            fix.contains("s3:GetBucketVersioning and s3:GetBucketObjectLockConfiguration"),
            "{fix}"
        );

        let f = judge_bucket(
            &Known::Read(true),
            &Known::Unknown(denied("GetObjectLockConfiguration")),
        );
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message.starts_with("versioning on, object lock unknown: "),
            "{}",
            f.message
        );
        assert!(f.fix.unwrap().contains("assume_object_lock = true|false"));
    }

    #[test]
    fn read_settings_are_ok_and_stated_ones_a_warning_naming_the_key() {
        let f = judge_bucket(&Known::Read(true), &Known::Read(false));
        assert_eq!(
            (f.severity, f.message.as_str()),
            (Severity::Ok, "versioning on, object lock off")
        );
        let stated = Known::Stated {
            value: false,
            cause: denied("GetBucketVersioning"),
        };
        let f = judge_bucket(&stated, &Known::Read(false));
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.message
                .starts_with("versioning off (as retention.assume_versioning states), object lock off: access denied"),
            "{}",
            f.message
        );
    }

    #[test]
    fn delete_permission_is_judged_with_what_is_known_of_object_lock() {
        let cases = [
            (Ok(()), Some(false), Severity::Warning, "no object lock"),
            (Ok(()), Some(true), Severity::Ok, "object lock protects"),
            (
                Ok(()),
                None,
                Severity::Warning,
                "whether object lock protects them is unknown",
            ),
            (Err(denied("DeleteObject")), None, Severity::Ok, "cannot delete"),
        ];
        for (probe, lock, severity, says) in cases {
            let f = judge_delete(probe, lock);
            assert_eq!(f.severity, severity, "{f:?}");
            assert!(f.message.contains(says), "{f:?}");
        }
    }
}
