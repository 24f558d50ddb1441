//! Progress of long transfers: a bar on a terminal, a log line every N
//! seconds otherwise (cron, systemd, `--log-format json`), nothing with `-q`.
//!
//! The pipeline only bumps an `AtomicU64` of bytes done; a task here reads it
//! and reports, so the hot path never formats or locks anything.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressStyle {
    /// An animated bar on stderr (a terminal, text logs).
    Bar,
    /// An info log event every `every` (no animation).
    Lines { every: Duration },
    #[default]
    Off,
}

impl ProgressStyle {
    /// A bar when stderr is a terminal and logs are text, log lines when it
    /// is not (or logs are JSON), nothing when quiet.
    pub fn detect(json_logs: bool, quiet: bool, every: Duration) -> Self {
        if quiet {
            Self::Off
        } else if !json_logs && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            Self::Bar
        } else {
            Self::Lines { every }
        }
    }
}

/// Reports the progress of one transfer until finished or dropped.
pub struct Tracker {
    counter: Arc<AtomicU64>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Tracker {
    /// Starts reporting `label` of `total` bytes.
    pub fn start(style: ProgressStyle, label: &str, total: u64) -> Self {
        let counter = Arc::new(AtomicU64::new(0));
        let task = match style {
            ProgressStyle::Off => None,
            ProgressStyle::Lines { every } => {
                Some(tokio::spawn(lines(counter.clone(), label.to_string(), total, every)))
            }
            ProgressStyle::Bar => Some(tokio::spawn(bar(counter.clone(), label.to_string(), total))),
        };
        Self { counter, task }
    }

    /// The counter the pipeline adds bytes to.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.counter.clone()
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Rate and ETA from bytes done since `started`.
fn rate_eta(done: u64, total: u64, started: Instant) -> (f64, Option<u64>) {
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    let rate = done as f64 / secs;
    let eta = (rate > 0.0).then(|| (total.saturating_sub(done) as f64 / rate).ceil() as u64);
    (rate, eta)
}

async fn lines(counter: Arc<AtomicU64>, label: String, total: u64, every: Duration) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(every);
    tick.tick().await; // the first tick is immediate
    loop {
        tick.tick().await;
        let done = counter.load(Ordering::Relaxed);
        let (rate, eta) = rate_eta(done, total, started);
        tracing::info!(
            artifact = %label,
            bytes_done = done,
            bytes_total = total,
            percent = format!("{:.1}", done as f64 * 100.0 / total.max(1) as f64),
            mib_per_s = format!("{:.1}", rate / (1 << 20) as f64),
            eta_secs = eta,
            "progress"
        );
    }
}

async fn bar(counter: Arc<AtomicU64>, label: String, total: u64) {
    let pb = indicatif::ProgressBar::new(total);
    let style =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(label);
    // Finishes the bar even when the task is aborted at the end.
    struct Clear(indicatif::ProgressBar);
    impl Drop for Clear {
        fn drop(&mut self) {
            self.0.finish_and_clear();
        }
    }
    let pb = Clear(pb);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        pb.0.set_position(counter.load(Ordering::Relaxed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_turns_progress_off_and_json_never_animates() {
        let every = Duration::from_secs(30);
        assert_eq!(ProgressStyle::detect(false, true, every), ProgressStyle::Off);
        assert_eq!(
            ProgressStyle::detect(true, false, every),
            ProgressStyle::Lines { every }
        );
    }

    #[test]
    fn eta_follows_the_rate() {
        let started = Instant::now() - Duration::from_secs(10);
        let (rate, eta) = rate_eta(100, 300, started);
        assert!((rate - 10.0).abs() < 0.5, "{rate}");
        assert!(matches!(eta, Some(20..=21)), "{eta:?}");
        assert_eq!(rate_eta(0, 300, started).1, None);
    }

    #[tokio::test]
    async fn lines_report_until_the_tracker_is_dropped() {
        let t = Tracker::start(
            ProgressStyle::Lines {
                every: Duration::from_millis(10),
            },
            "a",
            10,
        );
        t.counter().fetch_add(5, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let task = t.task.as_ref().map(|h| !h.is_finished());
        assert_eq!(task, Some(true));
        drop(t);
    }
}
