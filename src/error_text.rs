//! An error and its causes as one line: each cause appended once, unless the
//! text so far already says it (many messages quote their cause, which the
//! chain of sources repeats).

/// `err` and its sources, joined with ": ", without repeats.
pub fn join_causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}
