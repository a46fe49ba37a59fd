//! Cursor pagination: `?limit=` (default 50, at most 200) and an opaque `?cursor=`;
//! answers `{ "items": [...], "next_cursor": "..." | null }`.
//!
//! A cursor is the sort key of the last item of a page, encoded so that clients treat it
//! as opaque. Lists are ordered by a unique key (UUID v7 ids sort by creation), so a page
//! is `WHERE key > cursor ORDER BY key LIMIT limit + 1`: stable under inserts, no offsets.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// The pagination part of a list's query string.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200; 50 when absent.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<K> {
    pub limit: u32,
    /// The key after which the page starts.
    pub after: Option<K>,
}

impl PageParams {
    /// Checks the limit and decodes the cursor into the list's key type.
    pub fn parse<K: DeserializeOwned>(&self) -> Result<Cursor<K>, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = self
            .cursor
            .as_deref()
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request("cursor", "is not a cursor this list gave out")
                    })
            })
            .transpose()?;
        Ok(Cursor { limit, after })
    }
}

impl<K> Cursor<K> {
    /// How many rows to fetch: one more than the page, to learn whether another follows.
    pub fn fetch(&self) -> u64 {
        u64::from(self.limit) + 1
    }
}

impl Cursor<uuid::Uuid> {
    /// The page of `query` in id order (UUID v7 ids sort by creation): the rows after
    /// the cursor, one more than the page so the caller knows whether another follows.
    pub fn page_by<E: sea_orm::EntityTrait>(
        &self,
        query: sea_orm::Select<E>,
        id: impl sea_orm::ColumnTrait,
    ) -> sea_orm::Select<E> {
        use sea_orm::{QueryFilter as _, QueryOrder as _, QuerySelect as _};
        let query = match self.after {
            Some(after) => query.filter(id.gt(after)),
            None => query,
        };
        query.order_by_asc(id).limit(self.fetch())
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `cursor.fetch()` rows in key order.
    pub fn from_rows<K: Serialize>(
        mut rows: Vec<T>,
        cursor: &Cursor<impl Sized>,
        key: impl Fn(&T) -> K,
    ) -> Self {
        let limit = cursor.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().and_then(|last| {
                serde_json::to_vec(&key(last))
                    .ok()
                    .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
            })
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    /// [`Page::map`] with a conversion that may fail: the first error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_chain_through_their_cursors() {
        let all: Vec<u32> = (1..=5).collect();
        let params = PageParams {
            limit: Some(2),
            cursor: None,
        };
        let mut seen = Vec::new();
        let mut params = params;
        loop {
            let cursor: Cursor<u32> = params.parse().unwrap();
            let rows: Vec<u32> = all
                .iter()
                .copied()
                .filter(|n| cursor.after.is_none_or(|a| *n > a))
                .take(cursor.fetch() as usize)
                .collect();
            let page = Page::from_rows(rows, &cursor, |n| *n);
            seen.extend(page.items);
            match page.next_cursor {
                Some(next) => params.cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, all);
    }

    #[test]
    fn limits_and_cursors_are_checked() {
        let over = PageParams {
            limit: Some(201),
            cursor: None,
        };
        assert!(matches!(
            over.parse::<u32>(),
            Err(ApiError::BadRequest { .. })
        ));
        let garbage = PageParams {
            limit: None,
            cursor: Some("!!".to_owned()),
        };
        assert!(matches!(
            garbage.parse::<u32>(),
            Err(ApiError::BadRequest { .. })
        ));
        assert_eq!(PageParams::default().parse::<u32>().unwrap().limit, 50);
    }
}
