//! Bolt on the wire: the version handshake and chunked message framing.
//!
//! Like Neo4j 5, the double speaks Bolt 5.0 to 5.4 and 4.4 and refuses
//! anything older (4.0 to 4.3, 3.x): it answers `00 00 00 00` and closes.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::packstream::{encode, Decoder, Value};

/// The handshake preamble every Bolt client sends first.
pub const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];

/// A Bolt protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What the double offers, best first.
pub const SUPPORTED: [Version; 6] = [
    Version { major: 5, minor: 4 },
    Version { major: 5, minor: 3 },
    Version { major: 5, minor: 2 },
    Version { major: 5, minor: 1 },
    Version { major: 5, minor: 0 },
    Version { major: 4, minor: 4 },
];

impl Version {
    /// 5.1 moved credentials from HELLO into LOGON.
    pub fn has_logon(self) -> bool {
        self >= Version { major: 5, minor: 1 }
    }
}

/// Picks a version from the client's four proposals `[0, range, minor,
/// major]`, in the client's order of preference; `None` if none overlaps.
pub fn negotiate(proposals: &[[u8; 4]; 4]) -> Option<Version> {
    for p in proposals {
        let (range, minor, major) = (p[1], p[2], p[3]);
        if major == 0 {
            continue;
        }
        let lowest = minor.saturating_sub(range);
        let hit = SUPPORTED
            .iter()
            .find(|v| v.major == major && v.minor <= minor && v.minor >= lowest);
        if let Some(v) = hit {
            return Some(*v);
        }
    }
    None
}

/// Reads the preamble and proposals, answers, and returns the version (or
/// `None` after refusing).
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> std::io::Result<Option<Version>> {
    let mut buf = [0u8; 20];
    s.read_exact(&mut buf).await?;
    if buf[..4] != MAGIC {
        return Ok(None);
    }
    let mut proposals = [[0u8; 4]; 4];
    for (i, p) in proposals.iter_mut().enumerate() {
        p.copy_from_slice(&buf[4 + 4 * i..8 + 4 * i]);
    }
    let chosen = negotiate(&proposals);
    let reply = chosen.map_or([0, 0, 0, 0], |v| [0, 0, v.minor, v.major]);
    s.write_all(&reply).await?;
    s.flush().await?;
    Ok(chosen)
}

/// Largest message the double accepts (admin commands are small).
const MAX_MESSAGE: usize = 16 << 20;

/// Reads one message (chunks up to the `00 00` end marker; NOOP chunks
/// between messages are skipped). `Ok(None)` on a clean end of stream.
pub async fn read_message<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Option<Vec<u8>>> {
    let mut msg = Vec::new();
    loop {
        let mut len = [0u8; 2];
        match s.read_exact(&mut len).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && msg.is_empty() => return Ok(None),
            Err(e) => return Err(e),
        }
        let n = u16::from_be_bytes(len) as usize;
        if n == 0 {
            if msg.is_empty() {
                continue; // NOOP (keep-alive)
            }
            return Ok(Some(msg));
        }
        if msg.len() + n > MAX_MESSAGE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "message too large",
            ));
        }
        let start = msg.len();
        msg.resize(start + n, 0);
        s.read_exact(&mut msg[start..]).await?;
    }
}

/// Splits a message into a structure: signature and fields.
pub fn parse_message(bytes: &[u8]) -> Result<(u8, Vec<Value>), String> {
    let mut d = Decoder::new(bytes);
    match d.value() {
        Ok(Value::Struct { tag, fields }) if d.at_end() => Ok((tag, fields)),
        Ok(_) => Err("a Bolt message must be one structure".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Encodes and chunks one response message into `out`.
pub fn frame(tag: u8, fields: Vec<Value>, out: &mut Vec<u8>) {
    let mut body = Vec::new();
    encode(&Value::Struct { tag, fields }, &mut body);
    for chunk in body.chunks(0xFFFF) {
        out.extend((chunk.len() as u16).to_be_bytes());
        out.extend(chunk);
    }
    out.extend([0, 0]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u8, minor: u8) -> Version {
        Version { major, minor }
    }

    #[test]
    fn negotiation_follows_neo4j_5() {
        let none = [0, 0, 0, 0];
        // neo4rs 0.9 offers 4.4, 4.3, 4.1, 4.0.
        assert_eq!(
            negotiate(&[[0, 0, 4, 4], [0, 0, 3, 4], [0, 0, 1, 4], [0, 0, 0, 4]]),
            Some(v(4, 4))
        );
        // A 5.x driver: 5.8 down to 5.0 as a range, then 4.4.
        assert_eq!(negotiate(&[[0, 8, 8, 5], [0, 0, 4, 4], none, none]), Some(v(5, 4)));
        assert_eq!(negotiate(&[[0, 0, 2, 5], none, none, none]), Some(v(5, 2)));
        // Only 4.0 to 4.3, or 3: refused.
        assert_eq!(
            negotiate(&[[0, 0, 3, 4], [0, 0, 1, 4], [0, 0, 0, 4], [0, 0, 0, 3]]),
            None
        );
        assert_eq!(negotiate(&[[0, 3, 3, 4], none, none, none]), None);
        // A 4.x range reaching 4.4.
        assert_eq!(negotiate(&[[0, 2, 4, 4], none, none, none]), Some(v(4, 4)));
    }

    #[test]
    fn frames_are_chunked_and_end_with_a_zero_chunk() {
        let mut out = Vec::new();
        frame(0x70, vec![Value::Map(Default::default())], &mut out);
        assert_eq!(out, [0, 3, 0xB1, 0x70, 0xA0, 0, 0]);
    }
}
