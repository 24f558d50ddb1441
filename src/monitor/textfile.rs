//! Prometheus textfile-collector files: one writer for backup, verify, prune
//! and drill metrics.
//!
//! A file is replaced atomically (a temporary file in the same directory,
//! then rename), so node_exporter never reads half of it. Timestamps that
//! alerts rely on ("last success") are carried over from the previous file
//! by a stable key (the alias, or the whole run), so a failed run never
//! makes a series disappear and an "older than 26 h" alert keeps working.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// One gauge: its samples as (rendered label set, value).
#[derive(Debug)]
struct Gauge {
    name: String,
    help: &'static str,
    samples: Vec<(String, String)>,
}

/// The gauges of one file, in the order they were first named.
#[derive(Debug, Default)]
pub struct Textfile {
    gauges: Vec<Gauge>,
}

impl Textfile {
    /// Adds a sample to gauge `name` (declared with `help` on first use).
    pub fn sample(&mut self, name: &str, help: &'static str, labels: &[(&str, &str)], value: impl ToString) {
        self.declare(name, help);
        if let Some(g) = self.gauges.iter_mut().find(|g| g.name == name) {
            g.samples.push((label_set(labels), value.to_string()));
        }
    }

    /// Declares a gauge that may have no sample this time (it still shows
    /// with its HELP, so a dashboard knows the metric exists).
    pub fn declare(&mut self, name: &str, help: &'static str) {
        if !self.gauges.iter().any(|g| g.name == name) {
            self.gauges.push(Gauge {
                name: name.to_string(),
                help,
                samples: Vec::new(),
            });
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for g in &self.gauges {
            let _ = writeln!(out, "# HELP {} {}\n# TYPE {} gauge", g.name, g.help, g.name);
            for (labels, value) in &g.samples {
                let _ = writeln!(out, "{}{labels} {value}", g.name);
            }
        }
        out
    }
}

/// `{a="…",b="…"}` with Prometheus escaping; "" for no labels.
fn label_set(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", esc(v))).collect();
    format!("{{{}}}", inner.join(","))
}

/// The value of label `key` in a rendered label set (`{a="x",b="y"}`).
fn label_value(set: &str, key: &str) -> Option<String> {
    let inner = set.strip_prefix('{')?.strip_suffix('}')?;
    let mut rest = inner;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        if name == key {
            return Some(value);
        }
        rest = after[end + 1..].trim_start_matches(',');
    }
    None
}

/// The newest value of `metric` per value of label `key` in an earlier
/// file (`key` None: the unlabelled sample, under ""). Several label sets
/// with the same key (an older file labelled by alias *and* database) give
/// their largest value.
pub fn carried(previous: &str, metric: &str, key: Option<&str>) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for line in previous.lines() {
        let Some(rest) = line.strip_prefix(metric) else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let id = match key {
            None if labels.is_empty() => String::new(),
            Some(k) if labels.starts_with('{') => match label_value(labels, k) {
                Some(v) => v,
                None => continue,
            },
            _ => continue,
        };
        let slot = out.entry(id).or_insert(value);
        *slot = slot.max(value);
    }
    out
}

/// Writes `text` to `path` atomically, mode 0644 (node_exporter runs as
/// another user; nothing in a metrics file is secret).
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".graphvault-metrics")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The previous file's text ("" when there is none or it cannot be read).
pub fn previous(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_help_type_and_escaped_labels() {
        let mut t = Textfile::default();
        t.sample("m", "A gauge.", &[("alias", "a\"b"), ("kind", "x")], 1);
        t.sample("m", "A gauge.", &[], 2.5);
        t.declare("empty", "Nothing yet.");
        assert_eq!(
            t.render(),
            "# HELP m A gauge.\n# TYPE m gauge\nm{alias=\"a\\\"b\",kind=\"x\"} 1\nm 2.5\n\
             # HELP empty Nothing yet.\n# TYPE empty gauge\n"
        );
    }

    #[test]
    fn carried_values_are_keyed_by_one_label_and_keep_the_largest() {
        let old = "# HELP m x\nm{alias=\"c1\",database=\"c1-1\"} 100\nm{alias=\"c1\",database=\"c1-2\"} 200\n\
                   m{database=\"lone\"} 7\nm{alias=\"c,2\\\"\"} 50\nm_other{alias=\"c3\"} 9\nm 42\nm{alias=\"bad\"} x\n";
        let by_alias = carried(old, "m", Some("alias"));
        assert_eq!(
            by_alias.into_iter().collect::<Vec<_>>(),
            vec![("c,2\"".to_string(), 50.0), ("c1".to_string(), 200.0)]
        );
        assert_eq!(carried(old, "m", None).get(""), Some(&42.0));
        assert!(carried("", "m", None).is_empty());
    }

    #[test]
    fn label_values_are_read_back_as_written() {
        for v in ["plain", "with \"quotes\"", "back\\slash", "new\nline", "a,b=c"] {
            let set = label_set(&[("x", "1"), ("alias", v)]);
            assert_eq!(label_value(&set, "alias").as_deref(), Some(v), "{set}");
        }
        assert_eq!(label_value("{x=\"1\"}", "alias"), None);
    }

    #[test]
    fn write_replaces_the_file_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.prom");
        write(&p, "a 1\n").unwrap();
        write(&p, "a 2\n").unwrap();
        assert_eq!(previous(&p), "a 2\n");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
