//! What travels on the channel: `"{node} {epoch} {seq} {payload}"`.
//!
//! The header is written by the Lua scripts (they assign `seq` atomically with the hash write), the payload
//! by the sending process. `seq` numbers one process's messages from 1 within one `epoch`; a receiver that
//! sees a gap, or a new epoch, re-reads the process's hash instead of guessing (see `peers`).

use djust_presence::{ConnChange, NodeId};
use serde::{Deserialize, Serialize};

/// The body of a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum Payload {
    /// The process (re)registered: its hash was rewritten under a new epoch.
    Hello,
    /// The process left cleanly: its connections are gone.
    Bye,
    /// Connection-level changes, in the order the process applied them.
    Changes {
        /// The changes.
        changes: Vec<ConnChange>,
    },
}

/// The payloads the Lua scripts write themselves; `tests::script_literals_match_serde` keeps them in step
/// with [`Payload`].
pub(crate) const HELLO_JSON: &str = r#"{"t":"hello"}"#;
pub(crate) const BYE_JSON: &str = r#"{"t":"bye"}"#;

/// Who sent a message, and its place in that process's sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub node: NodeId,
    pub epoch: u64,
    pub seq: u64,
}

/// A message that is not ours or is corrupt.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("malformed message header")]
    Header,
    #[error("malformed message payload: {0}")]
    Payload(#[from] serde_json::Error),
}

/// The JSON of a changes payload.
pub(crate) fn encode_changes(changes: &[ConnChange]) -> String {
    #[derive(Serialize)]
    #[serde(tag = "t", rename = "changes")]
    struct Borrowed<'a> {
        changes: &'a [ConnChange],
    }
    // A `ConnChange` is plain data (maps with string keys, finite numbers): serializing cannot fail.
    serde_json::to_string(&Borrowed { changes }).unwrap_or_default()
}

/// Splits a message into its header and payload.
pub(crate) fn decode(message: &[u8]) -> Result<(Header, Payload), WireError> {
    let mut parts = message.splitn(4, |&b| b == b' ');
    let mut field = || {
        parts
            .next()
            .and_then(|p| std::str::from_utf8(p).ok())
            .ok_or(WireError::Header)
    };
    let node = field()?.parse().map_err(|_| WireError::Header)?;
    let epoch = field()?.parse().map_err(|_| WireError::Header)?;
    let seq = field()?.parse().map_err(|_| WireError::Header)?;
    let payload = parts.next().ok_or(WireError::Header)?;
    let payload = serde_json::from_slice(payload)?;
    Ok((Header { node, epoch, seq }, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn script_literals_match_serde() {
        assert_eq!(serde_json::to_string(&Payload::Hello).unwrap(), HELLO_JSON);
        assert_eq!(serde_json::to_string(&Payload::Bye).unwrap(), BYE_JSON);
    }

    #[test]
    fn a_message_round_trips() {
        let change = ConnChange::Broadcast {
            node: NodeId::from_u128(7),
            key: "doc:1".into(),
            event: "ping".into(),
            payload: Arc::new(serde_json::json!({"a": "b c"})),
        };
        let body = encode_changes(std::slice::from_ref(&change));
        let message = format!("{} 42 3 {body}", NodeId::from_u128(7));
        let (header, payload) = decode(message.as_bytes()).unwrap();
        assert_eq!(
            header,
            Header {
                node: NodeId::from_u128(7),
                epoch: 42,
                seq: 3
            }
        );
        assert_eq!(
            payload,
            Payload::Changes {
                changes: vec![change]
            }
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"hello",
            b"zz 1 1 {}",
            b"00000000000000000000000000000001 x 1 {}",
            b"00000000000000000000000000000001 1 1",
            b"00000000000000000000000000000001 1 1 {\"t\":\"nope\"}",
            b"00000000000000000000000000000001 1 1 \xff",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
