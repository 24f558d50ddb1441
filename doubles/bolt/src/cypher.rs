//! The Cypher the double understands: the `system` database's commands for
//! databases and aliases, plus `RETURN <int>`. A small tokenizer and a
//! recursive-descent parser; anything else is a syntax error, as a real
//! server's error would be for a typo.

use std::collections::BTreeMap;

use crate::lex::{tokenize, Tok};
use crate::parser::P;

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

/// `TOPOLOGY n PRIMARIES [m SECONDARIES]` of `CREATE DATABASE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    pub primaries: u32,
    pub secondaries: Option<u32>,
}

/// A value in an `OPTIONS { … }` map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
    Text(String),
    Int(i64),
    Bool(bool),
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
    ShowServers {
        yields: Yield,
    },
    CreateDatabase {
        name: Name,
        or_replace: bool,
        if_not_exists: bool,
        topology: Option<Topology>,
        options: BTreeMap<String, OptionValue>,
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
        } else if p.eat("SERVERS") || p.eat("SERVER") {
            Command::ShowServers { yields: p.yields()? }
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
                "Invalid input '{}': the double supports SHOW DATABASE(S), SHOW SERVERS and SHOW ALIASES",
                p.here()
            ));
        }
    } else if p.eat("CREATE") {
        let or_replace = p.eat_all(&["OR", "REPLACE"]);
        if p.eat("DATABASE") {
            let name = p.name()?;
            let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
            let topology = p.topology()?;
            let options = p.options()?;
            let wait = p.wait()?;
            Command::CreateDatabase {
                name,
                or_replace,
                if_not_exists,
                topology,
                options,
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
