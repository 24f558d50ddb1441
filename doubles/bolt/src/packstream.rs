//! PackStream, Bolt's binary value format: the subset of values a Neo4j 5
//! server exchanges for admin commands (null, booleans, integers, floats,
//! strings, bytes, lists, maps and structures).

use std::collections::BTreeMap;

/// A PackStream value. Maps keep key order sorted (Bolt does not care).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Struct { tag: u8, fields: Vec<Value> },
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// `map[key]` for a map value, else `Null`.
    pub fn get(&self, key: &str) -> &Value {
        self.as_map().and_then(|m| m.get(key)).unwrap_or(&Value::Null)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}

/// Builds a map value from pairs.
pub fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn header(out: &mut Vec<u8>, len: usize, tiny: u8, markers: [u8; 3]) {
    match len {
        0..=15 => out.push(tiny | len as u8),
        16..=0xFF => out.extend([markers[0], len as u8]),
        0x100..=0xFFFF => {
            out.push(markers[1]);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(markers[2]);
            out.extend((len as u32).to_be_bytes());
        }
    }
}

/// Appends the encoding of `v`.
pub fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0xC0),
        Value::Bool(false) => out.push(0xC2),
        Value::Bool(true) => out.push(0xC3),
        Value::Int(i) => match *i {
            -16..=127 => out.push(*i as i8 as u8),
            -128..=-17 => out.extend([0xC8, *i as i8 as u8]),
            -32768..=32767 => {
                out.push(0xC9);
                out.extend((*i as i16).to_be_bytes());
            }
            -2147483648..=2147483647 => {
                out.push(0xCA);
                out.extend((*i as i32).to_be_bytes());
            }
            _ => {
                out.push(0xCB);
                out.extend(i.to_be_bytes());
            }
        },
        Value::Float(f) => {
            out.push(0xC1);
            out.extend(f.to_be_bytes());
        }
        Value::String(s) => {
            header(out, s.len(), 0x80, [0xD0, 0xD1, 0xD2]);
            out.extend(s.as_bytes());
        }
        Value::Bytes(b) => {
            match b.len() {
                0..=0xFF => out.extend([0xCC, b.len() as u8]),
                0x100..=0xFFFF => {
                    out.push(0xCD);
                    out.extend((b.len() as u16).to_be_bytes());
                }
                n => {
                    out.push(0xCE);
                    out.extend((n as u32).to_be_bytes());
                }
            }
            out.extend(b);
        }
        Value::List(items) => {
            header(out, items.len(), 0x90, [0xD4, 0xD5, 0xD6]);
            for i in items {
                encode(i, out);
            }
        }
        Value::Map(m) => {
            header(out, m.len(), 0xA0, [0xD8, 0xD9, 0xDA]);
            for (k, v) in m {
                encode(&Value::String(k.clone()), out);
                encode(v, out);
            }
        }
        Value::Struct { tag, fields } => {
            out.push(0xB0 | fields.len() as u8);
            out.push(*tag);
            for f in fields {
                encode(f, out);
            }
        }
    }
}

/// Malformed PackStream input.
#[derive(Debug, thiserror::Error)]
#[error("malformed PackStream at byte {at}: {what}")]
pub struct DecodeError {
    pub at: usize,
    pub what: &'static str,
}

/// A reader over one message's bytes.
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError { at: self.pos, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| self.err("truncated"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn uint(&mut self, bytes: usize) -> Result<usize, DecodeError> {
        Ok(self.take(bytes)?.iter().fold(0usize, |a, b| (a << 8) | *b as usize))
    }

    fn string(&mut self, len: usize) -> Result<String, DecodeError> {
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.err("string is not UTF-8"))
    }

    /// Decodes the next value; `depth` guards against hostile nesting.
    pub fn value(&mut self) -> Result<Value, DecodeError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > 64 {
            return Err(self.err("nested too deeply"));
        }
        let m = self.take(1)?[0];
        let v = match m {
            0x00..=0x7F => Value::Int(m as i64),
            0xF0..=0xFF => Value::Int(m as i8 as i64),
            0xC0 => Value::Null,
            0xC2 => Value::Bool(false),
            0xC3 => Value::Bool(true),
            0xC8 => Value::Int(self.take(1)?[0] as i8 as i64),
            0xC9 => Value::Int(i16::from_be_bytes(self.take(2)?.try_into().unwrap_or_default()) as i64),
            0xCA => Value::Int(i32::from_be_bytes(self.take(4)?.try_into().unwrap_or_default()) as i64),
            0xCB => Value::Int(i64::from_be_bytes(self.take(8)?.try_into().unwrap_or_default())),
            0xC1 => Value::Float(f64::from_be_bytes(self.take(8)?.try_into().unwrap_or_default())),
            0x80..=0x8F => Value::String(self.string((m & 0x0F) as usize)?),
            0xD0..=0xD2 => {
                let n = self.uint(1 << (m - 0xD0))?;
                Value::String(self.string(n)?)
            }
            0xCC..=0xCE => {
                let n = self.uint(1 << (m - 0xCC))?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            0x90..=0x9F | 0xD4 | 0xD5 | 0xD6 => {
                let n = if m <= 0x9F {
                    (m & 0x0F) as usize
                } else {
                    self.uint(1 << (m - 0xD4))?
                };
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(self.value_at(depth + 1)?);
                }
                Value::List(items)
            }
            0xA0..=0xAF | 0xD8 | 0xD9 | 0xDA => {
                let n = if m <= 0xAF {
                    (m & 0x0F) as usize
                } else {
                    self.uint(1 << (m - 0xD8))?
                };
                let mut entries = BTreeMap::new();
                for _ in 0..n {
                    let Value::String(k) = self.value_at(depth + 1)? else {
                        return Err(self.err("map key is not a string"));
                    };
                    entries.insert(k, self.value_at(depth + 1)?);
                }
                Value::Map(entries)
            }
            0xB0..=0xBF => {
                let n = (m & 0x0F) as usize;
                let tag = self.take(1)?[0];
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    fields.push(self.value_at(depth + 1)?);
                }
                Value::Struct { tag, fields }
            }
            _ => return Err(self.err("unknown marker")),
        };
        Ok(v)
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let long = "x".repeat(300);
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Int(-16),
            Value::Int(-17),
            Value::Int(127),
            Value::Int(128),
            Value::Int(-40000),
            Value::Int(1 << 40),
            Value::Float(1.5),
            Value::from("customer1-1700000000"),
            Value::from(long.as_str()),
            Value::Bytes(vec![1, 2, 3]),
            Value::List((0..20).map(Value::Int).collect()),
            map([("a", Value::Int(1)), ("b", Value::List(vec![]))]),
            Value::Struct {
                tag: 0x70,
                fields: vec![map([])],
            },
        ] {
            let mut out = Vec::new();
            encode(&v, &mut out);
            let mut d = Decoder::new(&out);
            assert_eq!(d.value().unwrap(), v);
            assert!(d.at_end());
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[0xD2, 0xFF, 0xFF, 0xFF, 0xFF][..],
            &[0xE0],
            &[0xA1, 0x01, 0x01],
            &[0xB1],
        ] {
            assert!(Decoder::new(bad).value().is_err(), "{bad:?}");
        }
    }
}
