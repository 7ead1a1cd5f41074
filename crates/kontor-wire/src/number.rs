//! Integers in URLs (path segments and query values), accepted in one
//! spelling only: optional `-`, then decimal digits without leading zeros.
//!
//! Rust's `str::parse` also takes `+1` and `007`, so `/messages/+1` and
//! `/messages/001` named message 1. One resource should have one URL: caches,
//! logs and audit trails that compare URLs must not see two names for it,
//! and a filter in front of the server that looks for `/messages/1` must not
//! be walked around.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// What a refused spelling is told.
pub const SPELLING: &str = "a number written as plain decimal digits (no '+', no leading zeros)";

/// `s` as a `T` when it is written canonically (`0`, `42`, `-7`), else `None`.
pub fn parse_canonical<T: FromStr>(s: &str) -> Option<T> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    if canonical { s.parse().ok() } else { None }
}

/// A path id (`/conversations/{id}`), refused unless written canonically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Id(pub i64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        d.deserialize_str(Strict::<i64>(PhantomData)).map(Id)
    }
}

/// For `#[serde(default, deserialize_with = "crate::number::optional")]` on
/// an optional integer query parameter.
pub fn optional<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
{
    d.deserialize_str(Strict::<T>(PhantomData)).map(Some)
}

struct Strict<T>(PhantomData<T>);

impl<T: FromStr> Visitor<'_> for Strict<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SPELLING)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        parse_canonical(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_canonical;

    #[test]
    fn one_spelling_per_number() {
        assert_eq!(parse_canonical::<i64>("0"), Some(0));
        assert_eq!(parse_canonical::<i64>("42"), Some(42));
        assert_eq!(parse_canonical::<i64>("-7"), Some(-7));
        for bad in [
            "+1", "01", "00", "-0", "-01", "", "-", " 1", "1 ", "1e3", "0x1",
        ] {
            assert_eq!(parse_canonical::<i64>(bad), None, "{bad:?}");
        }
        // Out of range stays refused.
        assert_eq!(parse_canonical::<u32>("4294967296"), None);
        assert_eq!(parse_canonical::<u32>("-1"), None);
    }
}
