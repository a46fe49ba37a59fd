//! Values Roster stores as text and reads back as one of a closed set (statuses,
//! kinds): one mapping both ways, which refuses a stored value it does not know rather
//! than guessing one. An entity's column holds the enum itself
//! (`#[derive(sea_orm::DeriveValueType)]` with `from_str = "roster_contracts::from_text"`
//! and `to_str = "roster_contracts::StoredText::text"`), so a row that holds anything
//! else fails to load, naming the value.

/// An enum stored as text.
pub trait StoredText: Sized {
    /// Its text, as stored.
    fn text(&self) -> &'static str;
    /// The value stored as `text`, if it is one.
    fn parse_text(text: &str) -> Option<Self>;
}

/// A stored text that is none of its type's values.
#[derive(Debug, thiserror::Error)]
#[error("{value:?} is no {what}")]
pub struct UnknownText {
    pub what: &'static str,
    pub value: String,
}

/// The value stored as `text`, or why it is none.
pub fn from_text<T: StoredText>(text: &str) -> Result<T, UnknownText> {
    T::parse_text(text).ok_or_else(|| UnknownText {
        what: std::any::type_name::<T>(),
        value: text.to_owned(),
    })
}

/// Implements [`StoredText`] for an enum with `as_str(self)` and `parse(&str)`.
#[macro_export]
macro_rules! stored_text {
    ($type:ty) => {
        impl $crate::StoredText for $type {
            fn text(&self) -> &'static str {
                self.as_str()
            }

            fn parse_text(text: &str) -> Option<Self> {
                Self::parse(text)
            }
        }
    };
}

/// Defines an enum stored as text, each variant with its text, which is its JSON too:
/// `ALL`, `as_str`, `parse`, [`StoredText`], and the column mapping
/// (`sea_orm::DeriveValueType` over [`from_text`]), so that an entity's column holds
/// the enum. The crate using it depends on serde, utoipa and sea-orm.
#[macro_export]
macro_rules! stored_enum {
    // Each text is a `tt`, not a `literal`: a `literal` reaches the derives wrapped in
    // an invisible group, which utoipa does not read as a rename.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:tt),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema,
            ::sea_orm::DeriveValueType,
        )]
        #[sea_orm(
            value_type = "String",
            from_str = "roster_contracts::from_text",
            to_str = "roster_contracts::StoredText::text"
        )]
        $vis enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// Its text, as stored and in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value whose text is `value`, if it is one.
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        $crate::stored_text!($name);
    };
}

stored_text!(roster_tokens::Role);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Light {
        On,
        Off,
    }

    impl Light {
        fn as_str(self) -> &'static str {
            match self {
                Self::On => "on",
                Self::Off => "off",
            }
        }

        fn parse(text: &str) -> Option<Self> {
            [Self::On, Self::Off]
                .into_iter()
                .find(|l| l.as_str() == text)
        }
    }

    stored_text!(Light);

    #[test]
    fn a_known_text_reads_back_and_an_unknown_one_is_refused_by_name() {
        assert_eq!(from_text::<Light>("off").unwrap(), Light::Off);
        assert_eq!(Light::On.text(), "on");
        let unknown = from_text::<Light>("dim").unwrap_err();
        assert!(
            unknown.to_string().starts_with("\"dim\" is no "),
            "{unknown}"
        );
        assert!(unknown.to_string().ends_with("Light"), "{unknown}");
    }
}
