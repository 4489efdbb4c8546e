//! Identifiers: [`ConnId`] (one tracked connection) and [`NodeId`] (the process that owns it).
//!
//! Both are random 128-bit values so they stay unique across processes sharing one backend, and both
//! travel as 32-digit lowercase hex strings (JSON numbers above 2^53 do not survive JavaScript).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An identifier string that is not 32 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an id: expected 32 hexadecimal digits")]
pub struct ParseIdError {
    input: String,
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u128);

        impl $name {
            /// A fresh random id (128 bits from the thread-local CSPRNG: collisions are not a concern).
            pub fn random() -> Self {
                Self(rand::random())
            }

            /// The id with this exact value (for tests and for ids decoded elsewhere).
            pub const fn from_u128(value: u128) -> Self {
                Self(value)
            }

            /// The id's value.
            pub const fn as_u128(self) -> u128 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:032x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:032x})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                // `from_str_radix` alone would accept a leading `+` and shorter strings.
                if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ParseIdError { input: s.to_owned() });
                }
                u128::from_str_radix(s, 16)
                    .map(Self)
                    .map_err(|_| ParseIdError { input: s.to_owned() })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_id!(
    /// The unique ref of one tracked connection (one browser tab's live-view socket, say).
    ///
    /// A connection may be tracked on several keys; it belongs to one user per key.
    ConnId
);

hex_id!(
    /// The id of the process (node) that owns a connection. Every connection entry records its node so
    /// that, with a shared backend, the connections of a crashed node can be dropped
    /// ([`Presence::remove_node`](crate::Presence::remove_node)).
    NodeId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let id = ConnId::from_u128(0xabc);
        assert_eq!(id.to_string(), "00000000000000000000000000000abc");
        assert_eq!(id.to_string().parse::<ConnId>(), Ok(id));
        let random = NodeId::random();
        assert_eq!(random.to_string().parse::<NodeId>(), Ok(random));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "abc",
            "+0000000000000000000000000000abc",
            &"g".repeat(32),
            &"0".repeat(33),
        ] {
            assert!(bad.parse::<ConnId>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn random_ids_differ_and_serialize_as_hex_strings() {
        let (a, b) = (ConnId::random(), ConnId::random());
        assert_ne!(a, b);
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json, serde_json::Value::String(a.to_string()));
        assert_eq!(serde_json::from_value::<ConnId>(json).unwrap(), a);
        assert!(serde_json::from_value::<ConnId>(serde_json::json!(7)).is_err());
    }
}
