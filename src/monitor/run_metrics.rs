//! The textfile metrics of `verify`, `prune` and `drill` runs, in one shape:
//!
//! - `graphvault_<job>_run_timestamp_seconds`: when the last run ended;
//! - `graphvault_<job>_run_success`: 1 if it passed, 0 if not (or it failed
//!   before it could judge anything);
//! - `graphvault_<job>_run_last_success_timestamp_seconds`: when a run last
//!   passed, carried over from the previous file while runs fail;
//! - `graphvault_<job>_<counted>{result="…"}`: what the run counted;
//! - per alias (verify, drill): `graphvault_<job>_success{alias}`,
//!   `graphvault_<job>_last_success_timestamp_seconds{alias}` (carried over),
//!   and for drills `graphvault_drill_recovery_seconds{alias}` and
//!   `graphvault_drill_unchecked{alias}`.
//!
//! The callers turn their reports into a [`JobRun`]; nothing here knows
//! their types.

use super::textfile::{self, Textfile};

/// Which command ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Verify,
    Prune,
    Drill,
}

impl Job {
    pub fn as_str(self) -> &'static str {
        match self {
            Job::Verify => "verify",
            Job::Prune => "prune",
            Job::Drill => "drill",
        }
    }
}

/// One alias's result in a verify or drill run.
#[derive(Clone, Debug, PartialEq)]
pub struct AliasRun {
    pub alias: String,
    pub ok: bool,
    /// A drill's measured recovery time.
    pub recovery_seconds: Option<f64>,
    /// A drill that restored but checked nothing.
    pub unchecked: bool,
}

/// A run as its metrics see it.
#[derive(Clone, Debug)]
pub struct JobRun {
    pub job: Job,
    /// The run as a whole passed.
    pub ok: bool,
    /// What `counts` counts (`backups`, `aliases`), and the counts by result.
    pub counted: &'static str,
    pub counts: Vec<(&'static str, usize)>,
    pub aliases: Vec<AliasRun>,
}

impl JobRun {
    /// A run that failed before it could judge anything (no store, no
    /// lease, unreadable bucket settings).
    pub fn failed_early(job: Job) -> JobRun {
        JobRun {
            job,
            ok: false,
            counted: "",
            counts: Vec::new(),
            aliases: Vec::new(),
        }
    }
}

/// The metrics text of `run`, ended at `now`, given the previous file.
pub fn render(run: &JobRun, now: i64, previous: &str) -> String {
    let job = run.job.as_str();
    let name = |suffix: &str| format!("graphvault_{job}_{suffix}");
    let mut t = Textfile::default();
    t.sample(
        &name("run_timestamp_seconds"),
        "When the last run ended (Unix time).",
        &[],
        now,
    );
    t.sample(
        &name("run_success"),
        "1 if the last run passed, else 0.",
        &[],
        u8::from(run.ok),
    );
    let run_last = name("run_last_success_timestamp_seconds");
    let carried_run = textfile::carried(previous, &run_last, None).remove("");
    let last = if run.ok { Some(now as f64) } else { carried_run };
    t.declare(&run_last, "When a run last passed (Unix time).");
    if let Some(v) = last {
        t.sample(&run_last, "", &[], v);
    }
    for (result, n) in &run.counts {
        t.sample(
            &name(run.counted),
            "What the last run counted, by result.",
            &[("result", result)],
            n,
        );
    }
    if matches!(run.job, Job::Verify | Job::Drill) {
        alias_gauges(&mut t, run, now, previous);
    }
    t.render()
}

/// Per-alias gauges; every alias of the previous file keeps its last
/// success time (an alias this run did not reach is not "never passed").
fn alias_gauges(t: &mut Textfile, run: &JobRun, now: i64, previous: &str) {
    let job = run.job.as_str();
    let last_name = format!("graphvault_{job}_last_success_timestamp_seconds");
    let mut last = textfile::carried(previous, &last_name, Some("alias"));
    t.declare(&last_name, "When the alias last passed (Unix time).");
    for a in &run.aliases {
        t.sample(
            &format!("graphvault_{job}_success"),
            "1 if the alias passed in the last run, else 0.",
            &[("alias", &a.alias)],
            u8::from(a.ok),
        );
        if a.ok {
            last.insert(a.alias.clone(), now as f64);
        }
        if let Some(s) = a.recovery_seconds {
            t.sample(
                &format!("graphvault_{job}_recovery_seconds"),
                "Measured recovery time (download, verify, restore, online) in the last drill.",
                &[("alias", &a.alias)],
                format!("{s:.3}"),
            );
        }
        if run.job == Job::Drill {
            t.sample(
                "graphvault_drill_unchecked",
                "1 if the alias's last drill restored but checked nothing (no configured check, no counts).",
                &[("alias", &a.alias)],
                u8::from(a.unchecked),
            );
        }
    }
    for (alias, v) in &last {
        t.sample(&last_name, "", &[("alias", alias)], v);
    }
}

/// Writes the metrics of `run` to `path`, atomically.
pub fn write(path: &std::path::Path, run: &JobRun, now: i64) -> std::io::Result<()> {
    let text = render(run, now, &textfile::previous(path));
    textfile::write(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify_run(ok: bool) -> JobRun {
        JobRun {
            job: Job::Verify,
            ok,
            counted: "backups",
            counts: vec![("ok", 3), ("failed", usize::from(!ok))],
            aliases: vec![AliasRun {
                alias: "customer1".into(),
                ok,
                recovery_seconds: None,
                unchecked: false,
            }],
        }
    }

    fn has(text: &str, line: &str) -> bool {
        text.lines().any(|l| l == line)
    }

    #[test]
    fn a_failed_run_keeps_the_last_success_times() {
        let t1 = render(&verify_run(true), 1000, "");
        let t2 = render(&verify_run(false), 2000, &t1);
        for line in [
            "graphvault_verify_run_timestamp_seconds 2000",
            "graphvault_verify_run_success 0",
            "graphvault_verify_run_last_success_timestamp_seconds 1000",
            "graphvault_verify_backups{result=\"failed\"} 1",
            "graphvault_verify_success{alias=\"customer1\"} 0",
            "graphvault_verify_last_success_timestamp_seconds{alias=\"customer1\"} 1000",
        ] {
            assert!(has(&t2, line), "missing {line}:\n{t2}");
        }
        let t3 = render(&JobRun::failed_early(Job::Verify), 3000, &t2);
        assert!(
            has(&t3, "graphvault_verify_run_last_success_timestamp_seconds 1000"),
            "{t3}"
        );
        assert!(
            has(
                &t3,
                "graphvault_verify_last_success_timestamp_seconds{alias=\"customer1\"} 1000"
            ),
            "{t3}"
        );
        assert!(has(&t3, "graphvault_verify_run_success 0"), "{t3}");
    }

    #[test]
    fn a_first_failed_run_has_no_last_success_but_declares_it() {
        let t = render(&JobRun::failed_early(Job::Prune), 1000, "");
        assert!(
            t.contains("# TYPE graphvault_prune_run_last_success_timestamp_seconds gauge"),
            "{t}"
        );
        assert!(
            !t.lines()
                .any(|l| l.starts_with("graphvault_prune_run_last_success_timestamp_seconds ")),
            "{t}"
        );
        assert!(!t.contains("{alias="), "prune has no per-alias gauges: {t}");
    }

    #[test]
    fn drills_report_recovery_time_and_unchecked_aliases() {
        let run = JobRun {
            job: Job::Drill,
            ok: true,
            counted: "aliases",
            counts: vec![("passed", 1), ("unchecked", 1), ("failed", 0)],
            aliases: vec![
                AliasRun {
                    alias: "customer1".into(),
                    ok: true,
                    recovery_seconds: Some(12.25),
                    unchecked: false,
                },
                AliasRun {
                    alias: "customer2".into(),
                    ok: true,
                    recovery_seconds: Some(3.0),
                    unchecked: true,
                },
            ],
        };
        let t = render(&run, 5000, "");
        for line in [
            "graphvault_drill_recovery_seconds{alias=\"customer1\"} 12.250",
            "graphvault_drill_unchecked{alias=\"customer2\"} 1",
            "graphvault_drill_unchecked{alias=\"customer1\"} 0",
            "graphvault_drill_aliases{result=\"unchecked\"} 1",
            "graphvault_drill_last_success_timestamp_seconds{alias=\"customer2\"} 5000",
        ] {
            assert!(has(&t, line), "missing {line}:\n{t}");
        }
    }
}
