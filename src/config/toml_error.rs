//! TOML errors told without the text they point at.
//!
//! The toml crate's own message quotes the offending line, and serde's type
//! errors quote the offending value (`invalid type: string "…"`). A config
//! file holds secrets (a password, or an age secret key pasted where a
//! recipient belongs), so graphvault says where the problem is and what is
//! wrong, and replaces every quoted value with `"…"`.

/// "line L, column C: what is wrong", with quoted values hidden. `text` is
/// the file's text, for the position; overrides have none.
pub fn describe(e: &toml::de::Error, text: Option<&str>) -> String {
    match (e.span(), text) {
        (Some(span), Some(text)) => {
            let (line, column) = position(text, span.start);
            format!("line {line}, column {column}: {}", hide_quoted(e.message().trim()))
        }
        // Without source text the full message quotes no line, and it
        // names the key (`in retention.assume_versioning`).
        _ => hide_quoted(e.to_string().trim()).replace('\n', " "),
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Replaces the contents of every double-quoted run with `…`. Names in
/// backquotes (serde's "unknown field `x`") are kept: they are keys, and
/// the user needs them to find the mistake.
fn hide_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        match (c, inside) {
            ('"', false) => {
                out.push_str("\"…");
                inside = true;
            }
            ('"', true) => {
                out.push('"');
                inside = false;
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    if inside {
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";

    fn error_for(text: &str) -> String {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            recipients: Option<Vec<String>>,
            port: Option<u16>,
        }
        let e = toml::from_str::<Doc>(text).unwrap_err();
        describe(&e, Some(text))
    }

    #[test]
    fn no_part_of_a_value_is_told_only_where_and_what() {
        let cases = [
            // An unterminated string: the toml crate would quote the line.
            (format!("port = 1\nrecipients = [\"{SECRET}]\n"), "line 2, column"),
            // A string where a list belongs: serde would quote the value.
            (
                format!("recipients = \"{SECRET}\"\n"),
                "line 1, column 14: invalid type: string \"…\"",
            ),
            (format!("port = \"{SECRET}\"\n"), "expected u16"),
        ];
        for (text, expected) in cases {
            let told = error_for(&text);
            assert!(told.contains(expected), "{told}");
            for window in SECRET.as_bytes().windows(6).skip(15) {
                let w = std::str::from_utf8(window).unwrap();
                assert!(!told.contains(w), "{w} of the secret in: {told}");
            }
        }
    }

    #[test]
    fn keys_stay_named() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Doc {
            url: Option<String>,
        }
        let text = "urll = \"s3://b\"\n";
        let e = toml::from_str::<Doc>(text).unwrap_err();
        let told = describe(&e, Some(text));
        assert!(told.contains("`urll`"), "{told}");
        assert!(told.starts_with("line 1, column 1"), "{told}");
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(position("a\nbé c", 6), (2, 4));
        assert_eq!(position("", 0), (1, 1));
        assert_eq!(hide_quoted("a \"b\" c \"d"), "a \"…\" c \"…\"");
    }
}
