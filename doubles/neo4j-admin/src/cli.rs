//! A small picocli-alike: parses `--opt=value` / `--opt value` / boolean options
//! with an optional value, and words its errors like picocli 4 does.
//!
//! neo4j-admin 5.x commands declare `exitCodeOnInvalidInput = ExitCode.USAGE` (64)
//! in `org.neo4j.cli.AbstractCommand`; the caller prints [`UsageError::message`]
//! and then the command's usage on stderr, as picocli's default handler does.

/// How an option takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Boolean without a value (`--verbose`): picocli arity 0.
    Flag,
    /// Boolean with an optional value (`--compress[=true|false]`): arity 0..1.
    Bool,
    /// Requires a value (`--to-path=<path>`).
    Value,
}

/// One option of a command.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub repeatable: bool,
}

pub const fn flag(name: &'static str) -> Opt {
    Opt {
        name,
        label: "",
        kind: Kind::Flag,
        repeatable: false,
    }
}

pub const fn boolean(name: &'static str) -> Opt {
    Opt {
        name,
        label: "<true|false>",
        kind: Kind::Bool,
        repeatable: false,
    }
}

pub const fn value(name: &'static str, label: &'static str) -> Opt {
    Opt {
        name,
        label,
        kind: Kind::Value,
        repeatable: false,
    }
}

pub const fn repeated(name: &'static str, label: &'static str) -> Opt {
    Opt {
        name,
        label,
        kind: Kind::Value,
        repeatable: true,
    }
}

/// Options every neo4j-admin 5.x command has (`AbstractCommand`, `AbstractAdminCommand`).
pub const COMMON: [Opt; 3] = [
    flag("--verbose"),
    boolean("--expand-commands"),
    value("--additional-config", "<file>"),
];

/// A picocli parse error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl UsageError {
    pub fn message(&self) -> &str {
        &self.0
    }

    pub fn missing_option(name: &str, label: &str) -> Self {
        Self(format!("Missing required option: '{name}={label}'"))
    }

    pub fn missing_parameter(label: &str) -> Self {
        Self(format!("Missing required parameter: '{label}'"))
    }

    pub fn invalid_enum(option: &str, allowed: &[&str], got: &str) -> Self {
        Self(format!(
            "Invalid value for option '{option}': expected one of [{}] (case-insensitive) but was '{got}'",
            allowed.join(", ")
        ))
    }
}

/// The result of a successful parse.
#[derive(Debug, Default)]
pub struct Parsed {
    values: Vec<(&'static str, String)>,
    pub positionals: Vec<String>,
    pub help: bool,
}

impl Parsed {
    /// The last value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean option: its value, or `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> bool {
        self.get(name).map_or(default, |v| v == "true")
    }

    /// An enum option checked case-insensitively against `allowed`, upper-cased.
    pub fn choice(&self, name: &str, allowed: &[&str], default: &str) -> Result<String, UsageError> {
        match self.get(name) {
            None => Ok(default.to_string()),
            Some(v) => allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(v))
                .map(|a| a.to_string())
                .ok_or_else(|| UsageError::invalid_enum(name, allowed, v)),
        }
    }
}

fn parse_bool(option: &str, v: &str) -> Result<String, UsageError> {
    match v.to_ascii_lowercase().as_str() {
        b @ ("true" | "false") => Ok(b.to_string()),
        _ => Err(UsageError(format!(
            "Invalid value for option '{option}': '{v}' is not a boolean"
        ))),
    }
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
}

/// Parses `args` against `opts` (plus `-h/--help`), allowing at most `max_positionals`.
pub fn parse(opts: &[Opt], args: &[String], max_positionals: usize) -> Result<Parsed, UsageError> {
    let mut parsed = Parsed::default();
    let mut unknown = Vec::new();
    let mut positional_idx = Vec::new();
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if options_done || !arg.starts_with('-') || arg == "-" {
            positional_idx.push(i - 1);
            parsed.positionals.push(arg.clone());
            continue;
        }
        if arg == "--" {
            options_done = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            parsed.help = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let Some(opt) = opts.iter().find(|o| o.name == name) else {
            unknown.push(arg.clone());
            continue;
        };
        let val = match (opt.kind, inline) {
            (Kind::Flag, Some(v)) => {
                return Err(UsageError(format!(
                    "option '{name}' should be specified without '{v}' parameter"
                )))
            }
            (Kind::Flag, None) => "true".to_string(),
            (Kind::Bool, Some(v)) => parse_bool(name, &v)?,
            (Kind::Bool, None) => match args.get(i) {
                Some(next) if next.eq_ignore_ascii_case("true") || next.eq_ignore_ascii_case("false") => {
                    i += 1;
                    next.to_ascii_lowercase()
                }
                _ => "true".to_string(),
            },
            (Kind::Value, Some(v)) => v,
            (Kind::Value, None) => match args.get(i) {
                Some(next)
                    if !opts
                        .iter()
                        .any(|o| next == o.name || next.starts_with(&format!("{}=", o.name))) =>
                {
                    i += 1;
                    next.clone()
                }
                _ => {
                    return Err(UsageError(format!(
                        "Missing required parameter for option '{name}' ({})",
                        opt.label
                    )))
                }
            },
        };
        if !opt.repeatable && opt.kind == Kind::Value && parsed.get(opt.name).is_some() {
            return Err(UsageError(format!(
                "option '{name}' ({}) should be specified only once",
                opt.label
            )));
        }
        parsed.values.push((opt.name, val));
    }
    if !unknown.is_empty() {
        let noun = if unknown.len() == 1 { "option" } else { "options" };
        return Err(UsageError(format!("Unknown {noun}: {}", quoted(&unknown))));
    }
    if parsed.positionals.len() > max_positionals {
        let extra = &parsed.positionals[max_positionals..];
        let at = positional_idx[max_positionals];
        return Err(UsageError(if extra.len() == 1 {
            format!("Unmatched argument at index {at}: {}", quoted(extra))
        } else {
            format!("Unmatched arguments from index {at}: {}", quoted(extra))
        }));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: [Opt; 4] = [
        value("--to-path", "<path>"),
        boolean("--compress"),
        repeated("--from", "<host:port>[,<host:port>...]"),
        flag("--verbose"),
    ];

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_picocli_style_options() {
        let p = parse(
            &OPTS,
            &args("--to-path /x --compress false --from=a:1 --from b:2 --verbose db"),
            5,
        )
        .unwrap();
        assert_eq!(p.get("--to-path"), Some("/x"));
        assert!(!p.bool("--compress", true));
        assert_eq!(p.all("--from"), vec!["a:1", "b:2"]);
        assert!(p.bool("--verbose", false));
        assert_eq!(p.positionals, vec!["db"]);
        assert!(parse(&OPTS, &args("--compress db"), 5)
            .unwrap()
            .bool("--compress", false));
    }

    #[test]
    fn words_errors_like_picocli() {
        let err = |s: &str, max| parse(&OPTS, &args(s), max).unwrap_err().0;
        assert_eq!(err("--bogus db", 5), "Unknown option: '--bogus'");
        assert_eq!(err("--a --b", 5), "Unknown options: '--a', '--b'");
        assert_eq!(
            err("--to-path", 5),
            "Missing required parameter for option '--to-path' (<path>)"
        );
        assert_eq!(
            err("--compress=maybe", 5),
            "Invalid value for option '--compress': 'maybe' is not a boolean"
        );
        assert_eq!(err("--to-path=a x y", 1), "Unmatched argument at index 2: 'y'");
        assert_eq!(
            err("--verbose=yes", 1),
            "option '--verbose' should be specified without 'yes' parameter"
        );
    }
}
