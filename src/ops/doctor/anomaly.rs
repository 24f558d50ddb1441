//! Doctor's view of anomalies: the newest backup of each alias judged
//! against its alias's recent history (src/monitor/anomaly.rs). An anomaly
//! is a warning, not an error: the backup may be legitimate, and doctor's
//! exit code is for what must be fixed.

use crate::monitor::Judgement;
use crate::ops::annotated::AnnotatedBackup;

use super::judge::{finding, Finding, Severity};

/// Findings for the newest backup of each alias (`newest`: one per alias).
pub fn judge_newest(newest: &[AnnotatedBackup]) -> Vec<Finding> {
    let mut out = Vec::new();
    let (mut normal, mut not_judged) = (0, 0);
    for b in newest {
        match &b.judgement {
            Some(Judgement::Anomalous(a)) => {
                let what: Vec<String> = a.iter().map(ToString::to_string).collect();
                out.push(finding(
                    "anomaly",
                    Severity::Warning,
                    format!(
                        "{}: newest backup {}: {}",
                        b.key.alias,
                        b.key.backup_id,
                        what.join("; ")
                    ),
                    Some("check that backup (`graphvault list --alias ALIAS`, `graphvault verify --backup ID`) and the database; if the change is real, later backups become the new normal"),
                ));
            }
            Some(Judgement::Normal) => normal += 1,
            Some(Judgement::TooLittleHistory { .. }) | None => not_judged += 1,
        }
    }
    if out.is_empty() {
        out.push(finding(
            "anomaly",
            Severity::Ok,
            format!(
                "newest backups within their usual size and time: {normal} alias(es); too little history to judge: {not_judged}"
            ),
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManifestKey;
    use crate::monitor::{Anomaly, AnomalyKind};

    fn newest(alias: &str, judgement: Option<Judgement>) -> AnnotatedBackup {
        AnnotatedBackup {
            key: ManifestKey::parse(&format!(
                "manifests/{alias}/20261124T020000Z-3fa91c~{alias}-1~FULL.json"
            ))
            .unwrap(),
            signed: true,
            sample: None,
            parent: None,
            judgement,
        }
    }

    #[test]
    fn an_anomalous_newest_backup_is_a_warning_naming_alias_and_backup() {
        let shrank = Judgement::Anomalous(vec![Anomaly {
            kind: AnomalyKind::SizeShrank,
            value: 4096.0,
            median: 2e9,
            of: 4,
        }]);
        let f = judge_newest(&[newest("c1", Some(Judgement::Normal)), newest("c2", Some(shrank))]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].message
                .starts_with("c2: newest backup 20261124T020000Z-3fa91c: anomaly (size_shrank)"),
            "{}",
            f[0].message
        );
        let f = judge_newest(&[
            newest("c1", Some(Judgement::Normal)),
            newest("c2", Some(Judgement::TooLittleHistory { have: 1, need: 3 })),
        ]);
        assert_eq!(f[0].severity, Severity::Ok);
        assert!(
            f[0].message.ends_with("1 alias(es); too little history to judge: 1"),
            "{}",
            f[0].message
        );
    }
}
