//! PATCH bodies: telling a field that is absent (keep the value) from one that is
//! `null` (clear it).

use serde::{Deserialize, Deserializer};

/// Use as `#[serde(default, deserialize_with = "roster_http::patch::nullable")]` on an
/// `Option<Option<T>>`: absent is `None`, `null` is `Some(None)`, a value `Some(Some(v))`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Change {
        #[serde(default, deserialize_with = "super::nullable")]
        parent_id: Option<Option<u32>>,
    }

    #[test]
    fn absent_null_and_value_differ() {
        let parse = |s: &str| serde_json::from_str::<Change>(s).unwrap().parent_id;
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"parent_id": null}"#), Some(None));
        assert_eq!(parse(r#"{"parent_id": 7}"#), Some(Some(7)));
    }
}
