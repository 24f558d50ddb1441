//! The token-level parser the double's Cypher subset is read with: words,
//! names, `WAIT`, `YIELD`, `TOPOLOGY` and `OPTIONS` maps. `cypher.rs` builds
//! commands from these pieces.

use std::collections::BTreeMap;

use crate::cypher::{Name, OptionValue, Topology, Wait, Yield};
use crate::lex::Tok;

pub(crate) struct P {
    pub(crate) toks: Vec<Tok>,
    pub(crate) pos: usize,
}

impl P {
    pub(crate) fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    pub(crate) fn eat(&mut self, w: &str) -> bool {
        let hit = self.peek_word(w);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub(crate) fn eat_all(&mut self, ws: &[&str]) -> bool {
        let save = self.pos;
        if ws.iter().all(|w| self.eat(w)) {
            true
        } else {
            self.pos = save;
            false
        }
    }

    pub(crate) fn expect(&mut self, w: &str) -> Result<(), String> {
        if self.eat(w) {
            Ok(())
        } else {
            Err(format!("Invalid input '{}': expected '{w}'", self.here()))
        }
    }

    pub(crate) fn here(&self) -> String {
        match self.toks.get(self.pos) {
            None => "<EOF>".into(),
            Some(Tok::Word(w) | Tok::Quoted(w)) => w.clone(),
            Some(Tok::Str(s)) => format!("'{s}'"),
            Some(Tok::Param(p)) => format!("${p}"),
            Some(Tok::Int(i)) => i.to_string(),
            Some(Tok::Sym(c)) => c.to_string(),
        }
    }

    pub(crate) fn sym(&mut self, c: char) -> bool {
        let hit = self.toks.get(self.pos) == Some(&Tok::Sym(c));
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// `name`, `` `quoted` ``, `$param`, or dotted plain parts `a.b`.
    pub(crate) fn name(&mut self) -> Result<Name, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Quoted(s)) => {
                self.pos += 1;
                Ok(Name::Literal(s))
            }
            Some(Tok::Param(p)) => {
                self.pos += 1;
                Ok(Name::Param(p))
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                let mut s = w;
                while self.toks.get(self.pos) == Some(&Tok::Sym('.')) {
                    match self.toks.get(self.pos + 1).cloned() {
                        Some(Tok::Word(w) | Tok::Quoted(w)) => {
                            s.push('.');
                            s.push_str(&w);
                            self.pos += 2;
                        }
                        _ => return Err("Invalid input '.': a name cannot end with a dot".into()),
                    }
                }
                Ok(Name::Literal(s))
            }
            _ => Err(format!(
                "Invalid input '{}': expected a database or alias name",
                self.here()
            )),
        }
    }

    pub(crate) fn wait(&mut self) -> Result<Wait, String> {
        if self.eat("NOWAIT") {
            return Ok(Wait::No);
        }
        if !self.eat("WAIT") {
            return Ok(Wait::No);
        }
        let mut secs = 300;
        if let Some(Tok::Int(n)) = self.toks.get(self.pos).cloned() {
            self.pos += 1;
            secs = u64::try_from(n).map_err(|_| "Invalid input: WAIT needs a positive number".to_string())?;
            let _ = self.eat("SEC") || self.eat("SECOND") || self.eat("SECONDS");
        }
        Ok(Wait::Secs(secs))
    }

    pub(crate) fn yields(&mut self) -> Result<Yield, String> {
        if !self.eat("YIELD") {
            return Ok(Yield::Default);
        }
        if self.sym('*') {
            return Ok(Yield::All);
        }
        let mut cols = Vec::new();
        loop {
            match self.toks.get(self.pos).cloned() {
                Some(Tok::Word(w) | Tok::Quoted(w)) => {
                    self.pos += 1;
                    cols.push(w);
                }
                _ => return Err(format!("Invalid input '{}': expected a column name", self.here())),
            }
            if !self.sym(',') {
                return Ok(Yield::Columns(cols));
            }
        }
    }

    /// `TOPOLOGY n PRIMAR{Y|IES} [m SECONDAR{Y|IES}]` (Operations Manual,
    /// "Create databases": the clause comes before OPTIONS and WAIT).
    pub(crate) fn topology(&mut self) -> Result<Option<Topology>, String> {
        if !self.eat("TOPOLOGY") {
            return Ok(None);
        }
        let mut t = Topology::default();
        let mut seen = false;
        while let Some(Tok::Int(n)) = self.toks.get(self.pos).cloned() {
            self.pos += 1;
            let n = u32::try_from(n).map_err(|_| "Invalid input: a topology count must be positive".to_string())?;
            if self.eat("PRIMARY") || self.eat("PRIMARIES") {
                t.primaries = n;
            } else if self.eat("SECONDARY") || self.eat("SECONDARIES") {
                t.secondaries = Some(n);
            } else {
                return Err(format!(
                    "Invalid input '{}': expected PRIMARIES or SECONDARIES",
                    self.here()
                ));
            }
            seen = true;
        }
        if !seen || t.primaries == 0 {
            return Err("Invalid input: TOPOLOGY needs at least 1 PRIMARY".into());
        }
        Ok(Some(t))
    }

    /// `OPTIONS { key: 'text' | 123 | true | false, … }`.
    pub(crate) fn options(&mut self) -> Result<BTreeMap<String, OptionValue>, String> {
        let mut out = BTreeMap::new();
        if !self.eat("OPTIONS") {
            return Ok(out);
        }
        if !self.sym('{') {
            return Err("Invalid input: OPTIONS needs a map".into());
        }
        if self.sym('}') {
            return Ok(out);
        }
        loop {
            let key = match self.toks.get(self.pos).cloned() {
                Some(Tok::Word(k) | Tok::Quoted(k)) => k,
                _ => return Err(format!("Invalid input '{}': expected an option name", self.here())),
            };
            self.pos += 1;
            if !self.sym(':') {
                return Err(format!("Invalid input '{}': expected ':'", self.here()));
            }
            let value = match self.toks.get(self.pos).cloned() {
                Some(Tok::Str(s)) => OptionValue::Text(s),
                Some(Tok::Int(n)) => OptionValue::Int(n),
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => OptionValue::Bool(true),
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => OptionValue::Bool(false),
                _ => return Err(format!("Invalid input '{}': expected an option value", self.here())),
            };
            self.pos += 1;
            out.insert(key, value);
            if self.sym('}') {
                return Ok(out);
            }
            if !self.sym(',') {
                return Err(format!("Invalid input '{}': expected ',' or '}}'", self.here()));
            }
        }
    }

    pub(crate) fn done(&self) -> Result<(), String> {
        match self.pos < self.toks.len() {
            true => Err(format!(
                "Invalid input '{}': the double does not support this clause",
                self.here()
            )),
            false => Ok(()),
        }
    }
}
