//! The tokenizer of the double's Cypher subset: words, backtick-quoted
//! names (backticks escaped by doubling), `$parameters`, integers, string
//! literals (only found inside OPTIONS maps) and a few symbols.

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Word(String),
    Quoted(String),
    Param(String),
    Int(i64),
    /// A string literal, quotes removed (only found in OPTIONS maps).
    Str(String),
    Sym(char),
}

pub(crate) fn tokenize(q: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let cs: Vec<char> = q.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() || c == ';' {
            i += 1;
        } else if c == '`' {
            let mut s = String::new();
            i += 1;
            loop {
                match cs.get(i) {
                    None => return Err("unterminated backtick-quoted name".into()),
                    Some('`') if cs.get(i + 1) == Some(&'`') => {
                        s.push('`');
                        i += 2;
                    }
                    Some('`') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Quoted(s));
        } else if c == '$' {
            let start = i + 1;
            i = start;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Param(cs[start..i].iter().collect()));
        } else if c.is_ascii_digit() || (c == '-' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            i += 1;
            while i < cs.len() && cs[i].is_ascii_digit() {
                i += 1;
            }
            let text: String = cs[start..i].iter().collect();
            out.push(Tok::Int(
                text.parse().map_err(|_| format!("integer out of range: {text}"))?,
            ));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(cs[start..i].iter().collect()));
        } else if "{}(),.*:'\"".contains(c) {
            if c == '\'' || c == '"' {
                let end = cs[i + 1..].iter().position(|x| *x == c).ok_or("unterminated string")?;
                out.push(Tok::Str(cs[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            } else {
                out.push(Tok::Sym(c));
                i += 1;
            }
        } else {
            return Err(format!("Invalid input '{c}'"));
        }
    }
    Ok(out)
}
