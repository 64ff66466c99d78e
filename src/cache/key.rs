//! The cache [`Key`] (a blake3 of canonical bytes, 64 hex digits), its text and serde forms,
//! and the constants of the key scheme. Keys never depend on `std::hash`, field order, YAML
//! formatting or file paths, only on values and file contents: what is hashed is settled by
//! [`key_of`](super::explain::key_of), and [`KeyBuilder`](super::KeyBuilder) collects it. A
//! leaf of `cache`: imports `error` only.
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The key scheme: version 2 keys files by content only (version 1 also hashed a pipeline's
/// absolute paths) and stage parameters without paths. Part of every key and explanation.
pub const KEY_SCHEME: u32 = 2;
/// Domain prefix of the hashed key document; changing the scheme means changing this.
pub(super) const KEY_DOMAIN: &str = "l2tww cache key v2\n";

/// A content address: the blake3 of a stage's canonical description, shown as 64 lowercase hex
/// digits (also the name of its entry folder).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub(super) [u8; 32]);

impl Key {
    /// The key whose bytes are the blake3 of `bytes` (no domain prefix).
    pub fn of_bytes(bytes: &[u8]) -> Key {
        Key(*blake3::hash(bytes).as_bytes())
    }

    /// The first 12 hex digits, for messages.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(blake3::Hash::from_bytes(self.0).to_hex().as_str())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

impl FromStr for Key {
    type Err = Error;

    /// Parses exactly 64 lowercase hex digits.
    fn from_str(s: &str) -> Result<Key> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let hash = ok.then(|| blake3::Hash::from_hex(s).ok()).flatten();
        hash.map(|h| Key(*h.as_bytes())).ok_or_else(|| {
            Error::Invalid(format!(
                "`{s}` is not a cache key (64 lowercase hex digits)"
            ))
        })
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Key, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_its_text_and_rejects_anything_else() {
        let k = Key::of_bytes(b"x");
        assert_eq!(k.to_string().parse::<Key>().unwrap(), k);
        assert_eq!(k.short().len(), 12);
        for bad in ["", "abc", &k.to_string().to_uppercase(), &format!("{k}0")] {
            assert!(bad.parse::<Key>().is_err(), "{bad}");
        }
        let zs = "z".repeat(64);
        assert!(zs.parse::<Key>().is_err());
    }

    #[test]
    fn a_key_serialises_as_its_hex_text() {
        let k = Key::of_bytes(b"y");
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, format!("\"{k}\""));
        assert_eq!(serde_json::from_str::<Key>(&json).unwrap(), k);
        assert!(serde_json::from_str::<Key>("\"nothex\"").is_err());
    }
}
