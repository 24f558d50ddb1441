//! `graphvault report --html`: one self-contained page an operator opens in
//! a browser or attaches to a ticket. Inline CSS and inline SVG only: no
//! script, no font, no image, no URL is fetched, so it renders the same
//! offline, in a mail client's viewer, or years later.
//!
//! Per alias: stored and plain size over time with anomalies marked, the
//! seal-and-upload duration of each backup, and the recovery time of each
//! drill. Pure: the caller reads manifests and drill reports and hands the
//! points in.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

/// One backup as the report draws it.
#[derive(Clone, Debug)]
pub struct BackupPoint {
    pub at: DateTime<Utc>,
    pub plain: u64,
    pub stored: u64,
    pub seconds: f64,
    pub full: bool,
    /// Anomaly kinds, empty when the backup looks like its history.
    pub anomalies: Vec<String>,
}

/// One drill of an alias.
#[derive(Clone, Debug)]
pub struct DrillPoint {
    pub at: DateTime<Utc>,
    pub recovery_seconds: f64,
    pub passed: bool,
}

/// Everything the page shows of one alias, points oldest first.
#[derive(Clone, Debug, Default)]
pub struct AliasReport {
    pub alias: String,
    pub backups: Vec<BackupPoint>,
    pub drills: Vec<DrillPoint>,
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d232a;background:#fff}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\
.muted{color:#57606a;font-size:13px}table{border-collapse:collapse;font-size:13px;margin:8px 0 16px}\
td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:right}th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}\
.charts{display:flex;flex-wrap:wrap;gap:16px}svg{background:#fbfcfd;border:1px solid #d0d7de}\
.bad{color:#b42318;font-weight:600}.ok{color:#1a7f37}";

/// The whole page.
pub fn render(title: &str, generated: DateTime<Utc>, aliases: &[AliasReport]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n\
         <h1>{t}</h1><p class=\"muted\">Generated {g} · {n} alias(es) · sizes in binary units · times in UTC</p>\n",
        t = esc(title),
        g = generated.format("%Y-%m-%d %H:%M UTC"),
        n = aliases.len()
    );
    out.push_str(&summary_table(aliases));
    for a in aliases {
        out.push_str(&alias_section(a));
    }
    out.push_str("</body></html>\n");
    out
}

fn summary_table(aliases: &[AliasReport]) -> String {
    let mut out = String::from(
        "<table><tr><th>alias</th><th>backups</th><th>newest (UTC)</th><th>stored</th><th>plain</th>\
         <th>anomalies</th><th>last drill</th></tr>\n",
    );
    for a in aliases {
        let newest = a.backups.last();
        let anomalous = a.backups.iter().filter(|b| !b.anomalies.is_empty()).count();
        let drill = match a.drills.last() {
            Some(d) if d.passed => format!("<span class=\"ok\">passed</span> {}", d.at.format("%Y-%m-%d")),
            Some(d) => format!("<span class=\"bad\">failed</span> {}", d.at.format("%Y-%m-%d")),
            None => "none".into(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td></tr>",
            esc(&a.alias),
            a.backups.len(),
            newest.map_or("-".into(), |b| b.at.format("%Y-%m-%d %H:%M").to_string()),
            newest.map_or("-".into(), |b| bytes(b.stored as f64)),
            newest.map_or("-".into(), |b| bytes(b.plain as f64)),
            if anomalous > 0 { " class=\"bad\"" } else { "" },
            anomalous,
            drill
        );
    }
    out.push_str("</table>\n");
    out
}

fn alias_section(a: &AliasReport) -> String {
    let mut out = format!("<h2 id=\"{0}\">{0}</h2>\n<div class=\"charts\">\n", esc(&a.alias));
    // A ring on the chart of the measure that is off: durations on the
    // duration chart, sizes and ratios on the size chart.
    let marks = |b: &BackupPoint, of_time: bool| {
        let kinds: Vec<&str> = b
            .anomalies
            .iter()
            .filter(|k| k.starts_with("duration") == of_time)
            .map(String::as_str)
            .collect();
        (!kinds.is_empty()).then(|| kinds.join(", "))
    };
    // Fulls and differentials differ by an order of magnitude and are
    // judged apart: one line each, so neither hides the other's trend.
    let sizes = |full: bool| -> Vec<Point> {
        a.backups
            .iter()
            .filter(|b| b.full == full)
            .map(|b| (b.at, b.stored as f64, marks(b, false)))
            .collect()
    };
    let (fulls, diffs) = (sizes(true), sizes(false));
    out.push_str(&chart(
        "Stored size: full (blue), differential (purple)",
        &[(&fulls, "#0969da", false), (&diffs, "#8250df", true)],
        bytes,
    ));
    let secs: Vec<Point> = a.backups.iter().map(|b| (b.at, b.seconds, marks(b, true))).collect();
    out.push_str(&chart("Backup duration", &[(&secs, "#bf8700", false)], duration));
    let drills: Vec<Point> = a
        .drills
        .iter()
        .map(|d| {
            (
                d.at,
                d.recovery_seconds,
                (!d.passed).then(|| "drill failed".to_string()),
            )
        })
        .collect();
    if drills.is_empty() {
        out.push_str("<p class=\"muted\">No drill of this alias yet.</p>");
    } else {
        out.push_str(&chart("Drill recovery time", &[(&drills, "#1a7f37", false)], duration));
    }
    out.push_str("</div>\n");
    let fulls = a.backups.iter().filter(|b| b.full).count();
    let _ = writeln!(
        out,
        "<p class=\"muted\">{} backup(s): {} full, {} differential. Red rings: anomalies or failed drills (hover for the kind).</p>",
        a.backups.len(),
        fulls,
        a.backups.len() - fulls
    );
    out
}

/// (time, value, why it is marked).
type Point = (DateTime<Utc>, f64, Option<String>);

const W: f64 = 460.0;
const H: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 34.0;

/// A line chart of one or more series sharing axes, as inline SVG.
fn chart(title: &str, series: &[(&[Point], &str, bool)], fmt: fn(f64) -> String) -> String {
    let all: Vec<&Point> = series.iter().flat_map(|(s, _, _)| s.iter()).collect();
    let mut out = format!(
        "<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"{LEFT}\" y=\"18\" font-size=\"13\" font-weight=\"600\">{t}</text>",
        t = esc(title)
    );
    let (Some(t0), Some(t1)) = (all.iter().map(|p| p.0).min(), all.iter().map(|p| p.0).max()) else {
        out.push_str("<text x=\"70\" y=\"110\" font-size=\"12\">no data</text></svg>\n");
        return out;
    };
    let max = all.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE) * 1.1;
    let span = (t1 - t0).num_seconds().max(1) as f64;
    let x = |t: DateTime<Utc>| {
        if t1 == t0 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (t - t0).num_seconds() as f64 / span * (W - LEFT - RIGHT)
        }
    };
    let y = |v: f64| TOP + (1.0 - v / max) * (H - TOP - BOTTOM);
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e6e9ed\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#57606a\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 3.0,
            esc(&fmt(v)),
            y = y(v)
        );
    }
    // Days apart: dates; within two days: times too.
    let short = (t1 - t0) < chrono::Duration::days(2);
    let date = |t: DateTime<Utc>| {
        t.format(if short { "%Y-%m-%d %H:%M:%S" } else { "%Y-%m-%d" })
            .to_string()
    };
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"10\" fill=\"#57606a\">{}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\" fill=\"#57606a\">{}</text>",
        H - 12.0,
        date(t0),
        W - RIGHT,
        H - 12.0,
        date(t1)
    );
    for (points, colour, dashed) in series {
        let path: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1))).collect();
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{} points=\"{}\"/>",
            if *dashed { " stroke-dasharray=\"5 4\"" } else { "" },
            path.join(" ")
        );
        for p in points.iter() {
            let (cx, cy) = (x(p.0), y(p.1));
            let label = format!("{} {}", p.0.format("%Y-%m-%d %H:%M"), fmt(p.1));
            match &p.2 {
                Some(why) => {
                    let _ = write!(
                        out,
                        "<circle class=\"anomaly\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"7\" fill=\"none\" stroke=\"#d1242f\" stroke-width=\"2.5\"><title>{}: {}</title></circle>",
                        esc(&label),
                        esc(why)
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"2.5\" fill=\"{colour}\"><title>{}</title></circle>",
                        esc(&label)
                    );
                }
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Bytes in binary units, three significant figures.
fn bytes(v: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = v;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn duration(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else if s >= 1.0 || s == 0.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.0} ms", s * 1000.0)
    }
}

/// HTML text and attribute escaping.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
