//! The Cypher the double understands: the `system` database's commands for
//! databases and aliases, plus `RETURN <int>`. A small tokenizer and a
//! recursive-descent parser; anything else is a syntax error, as a real
//! server's error would be for a typo.

use crate::lex::{tokenize, Tok};

/// A name as written: plain, backtick-quoted, or a `$parameter`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Name {
    Literal(String),
    Param(String),
}

/// `WAIT [n [SEC[OND[S]]]]` or `NOWAIT` (the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    No,
    Secs(u64),
}

/// `YIELD *`, `YIELD a, b`, or nothing (the default columns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Yield {
    Default,
    All,
    Columns(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Which {
    All,
    One(Name),
    Default,
    Home,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    ShowAliases {
        yields: Yield,
    },
    ShowDatabases {
        which: Which,
        yields: Yield,
    },
    CreateDatabase {
        name: Name,
        or_replace: bool,
        if_not_exists: bool,
        wait: Wait,
    },
    DropDatabase {
        name: Name,
        if_exists: bool,
        cascade: bool,
        destroy: bool,
        wait: Wait,
    },
    CreateAlias {
        name: Name,
        target: Name,
        or_replace: bool,
        if_not_exists: bool,
    },
    AlterAlias {
        name: Name,
        if_exists: bool,
        target: Name,
    },
    DropAlias {
        name: Name,
        if_exists: bool,
    },
    StartDatabase {
        name: Name,
        wait: Wait,
    },
    StopDatabase {
        name: Name,
        wait: Wait,
    },
    Return {
        value: i64,
        column: String,
    },
}

struct P {
    toks: Vec<Tok>,
    pos: usize,
}

impl P {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn eat(&mut self, w: &str) -> bool {
        let hit = self.peek_word(w);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_all(&mut self, ws: &[&str]) -> bool {
        let save = self.pos;
        if ws.iter().all(|w| self.eat(w)) {
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn expect(&mut self, w: &str) -> Result<(), String> {
        if self.eat(w) {
            Ok(())
        } else {
            Err(format!("Invalid input '{}': expected '{w}'", self.here()))
        }
    }

    fn here(&self) -> String {
        match self.toks.get(self.pos) {
            None => "<EOF>".into(),
            Some(Tok::Word(w) | Tok::Quoted(w)) => w.clone(),
            Some(Tok::Param(p)) => format!("${p}"),
            Some(Tok::Int(i)) => i.to_string(),
            Some(Tok::Sym(c)) => c.to_string(),
        }
    }

    fn sym(&mut self, c: char) -> bool {
        let hit = self.toks.get(self.pos) == Some(&Tok::Sym(c));
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// `name`, `` `quoted` ``, `$param`, or dotted plain parts `a.b`.
    fn name(&mut self) -> Result<Name, String> {
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

    fn wait(&mut self) -> Result<Wait, String> {
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

    fn yields(&mut self) -> Result<Yield, String> {
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

    /// Skips `OPTIONS { … }` (accepted, ignored).
    fn options(&mut self) -> Result<(), String> {
        if !self.eat("OPTIONS") {
            return Ok(());
        }
        if !self.sym('{') {
            return Err("Invalid input: OPTIONS needs a map".into());
        }
        let mut depth = 1;
        while depth > 0 {
            match self.toks.get(self.pos) {
                None => return Err("Invalid input: unterminated OPTIONS map".into()),
                Some(Tok::Sym('{')) => depth += 1,
                Some(Tok::Sym('}')) => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn done(&self) -> Result<(), String> {
        match self.pos < self.toks.len() {
            true => Err(format!(
                "Invalid input '{}': the double does not support this clause",
                self.here()
            )),
            false => Ok(()),
        }
    }
}

/// Parses one statement.
pub fn parse(query: &str) -> Result<Command, String> {
    let mut p = P {
        toks: tokenize(query)?,
        pos: 0,
    };
    let cmd = if p.eat("SHOW") {
        if p.eat("ALIASES") || p.eat("ALIAS") {
            let _ = p.eat_all(&["FOR", "DATABASES"]) || p.eat_all(&["FOR", "DATABASE"]);
            Command::ShowAliases { yields: p.yields()? }
        } else if p.eat("DATABASES") {
            Command::ShowDatabases {
                which: Which::All,
                yields: p.yields()?,
            }
        } else if p.eat_all(&["DEFAULT", "DATABASE"]) {
            Command::ShowDatabases {
                which: Which::Default,
                yields: p.yields()?,
            }
        } else if p.eat_all(&["HOME", "DATABASE"]) {
            Command::ShowDatabases {
                which: Which::Home,
                yields: p.yields()?,
            }
        } else if p.eat("DATABASE") {
            let name = p.name()?;
            Command::ShowDatabases {
                which: Which::One(name),
                yields: p.yields()?,
            }
        } else {
            return Err(format!(
                "Invalid input '{}': the double supports SHOW DATABASE(S) and SHOW ALIASES",
                p.here()
            ));
        }
    } else if p.eat("CREATE") {
        let or_replace = p.eat_all(&["OR", "REPLACE"]);
        if p.eat("DATABASE") {
            let name = p.name()?;
            let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
            p.options()?;
            let wait = p.wait()?;
            Command::CreateDatabase {
                name,
                or_replace,
                if_not_exists,
                wait,
            }
        } else if p.eat("ALIAS") {
            let name = p.name()?;
            let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
            p.expect("FOR")?;
            p.expect("DATABASE")?;
            let target = p.name()?;
            Command::CreateAlias {
                name,
                target,
                or_replace,
                if_not_exists,
            }
        } else {
            return Err(format!("Invalid input '{}': expected DATABASE or ALIAS", p.here()));
        }
    } else if p.eat("DROP") {
        let _ = p.eat("COMPOSITE");
        if p.eat("DATABASE") {
            let name = p.name()?;
            let if_exists = p.eat_all(&["IF", "EXISTS"]);
            let cascade = if p.eat("CASCADE") {
                let _ = p.eat("ALIAS") || p.eat("ALIASES");
                true
            } else {
                let _ = p.eat("RESTRICT");
                false
            };
            let destroy = if p.eat("DESTROY") {
                let _ = p.eat("DATA");
                true
            } else {
                let _ = p.eat("DUMP") && p.eat("DATA");
                false
            };
            let wait = p.wait()?;
            Command::DropDatabase {
                name,
                if_exists,
                cascade,
                destroy,
                wait,
            }
        } else if p.eat("ALIAS") {
            let name = p.name()?;
            let if_exists = p.eat_all(&["IF", "EXISTS"]);
            p.expect("FOR")?;
            p.expect("DATABASE")?;
            Command::DropAlias { name, if_exists }
        } else {
            return Err(format!("Invalid input '{}': expected DATABASE or ALIAS", p.here()));
        }
    } else if p.eat("ALTER") {
        p.expect("ALIAS")?;
        let name = p.name()?;
        let if_exists = p.eat_all(&["IF", "EXISTS"]);
        p.expect("SET")?;
        p.expect("DATABASE")?;
        p.expect("TARGET")?;
        let target = p.name()?;
        Command::AlterAlias {
            name,
            if_exists,
            target,
        }
    } else if p.eat("START") || p.peek_word("STOP") {
        let stop = p.eat("STOP");
        p.expect("DATABASE")?;
        let name = p.name()?;
        let wait = p.wait()?;
        if stop {
            Command::StopDatabase { name, wait }
        } else {
            Command::StartDatabase { name, wait }
        }
    } else if p.eat("RETURN") {
        let Some(Tok::Int(value)) = p.toks.get(p.pos).cloned() else {
            return Err("Invalid input: the double only supports RETURN <integer> [AS name]".into());
        };
        p.pos += 1;
        let column = if p.eat("AS") {
            match p.name()? {
                Name::Literal(s) => s,
                Name::Param(_) => return Err("Invalid input: a column name cannot be a parameter".into()),
            }
        } else {
            value.to_string()
        };
        Command::Return { value, column }
    } else {
        return Err(format!(
            "Invalid input '{}': the double does not support this statement",
            p.here()
        ));
    };
    p.done()?;
    Ok(cmd)
}
